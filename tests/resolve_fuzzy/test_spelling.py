"""Spellings across the population: a one-off typo of a common name, or a name of its own."""

from __future__ import annotations

import polars as pl

from rex_pipeline.resolve.fuzzy.spelling import (
    both_established,
    spelling_counts,
    typo_of,
    typo_sources,
)


def _counts(**n: int) -> pl.DataFrame:
    return spelling_counts(pl.Series("ln", [name for name, k in n.items() for _ in range(k)]))


def _judge(n_a: int, n_b: int, edits: int) -> tuple[bool, bool]:
    frame = pl.DataFrame({"a": [n_a], "b": [n_b], "e": [edits]})
    row = frame.select(
        typo=typo_of(pl.col("a"), pl.col("b"), pl.col("e")),
        names=both_established(pl.col("a"), pl.col("b")),
    ).row(0)
    return bool(row[0]), bool(row[1])


def test_a_rare_spelling_one_edit_from_a_common_one_is_its_typo() -> None:
    assert _judge(1, 40, 1) == (True, False)  # Smiht next to Smith
    assert _judge(3, 2000, 1) == (True, False)  # a recurring misspelling of James
    assert _judge(1, 40, 2) == (False, False)  # two edits: not one slip of the finger
    assert _judge(1, 1, 1) == (False, False)  # nothing says which one is the name


def test_two_spellings_each_carried_by_several_nodes_are_two_names() -> None:
    assert _judge(17, 390, 1) == (False, True)  # Carl next to Carol
    assert _judge(2, 3, 1) == (False, False)  # Halogard / Harogard: too few to tell


def test_typo_sources_maps_one_off_spellings_to_the_name_they_misspell() -> None:
    counts = _counts(lovelace=4, lovelcae=1, hopper=3, hoper=1, halogard=2, harogard=2, zed=1)
    sources = dict(typo_sources(counts).iter_rows())
    assert sources == {"lovelcae": "lovelace", "hoper": "hopper"}


def test_typo_sources_of_an_empty_population() -> None:
    assert typo_sources(_counts()).is_empty()
