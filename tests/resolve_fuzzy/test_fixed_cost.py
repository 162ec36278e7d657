"""The shortcuts that keep a small batch's fixed cost down give what the plain computation
gives: spelling counts updated for the changed names only, the sources pre-filtered before
looking for spellings one edit apart, and scores alike on one thread or all."""

from __future__ import annotations

import random

import polars as pl
import pytest
from rapidfuzz.distance import OSA

from rex_pipeline.resolve.fuzzy.features import _added
from rex_pipeline.resolve.fuzzy.spelling import _may_be_one_edit_from, one_edit_apart


def _reference_added(counts: pl.DataFrame, change: pl.DataFrame, sign: int) -> pl.DataFrame:
    """The plain way: sum everything by spelling."""
    both = pl.concat(
        [
            counts.select("value", n=pl.col("n").cast(pl.Int64)),
            change.select("value", n=pl.col("n").cast(pl.Int64) * sign),
        ]
    )
    summed = both.group_by("value").agg(pl.col("n").sum()).filter(pl.col("n") > 0)
    return summed.with_columns(pl.col("n").cast(pl.UInt32))


def _counts(pairs: dict[str, int]) -> pl.DataFrame:
    return pl.DataFrame(
        {"value": list(pairs), "n": list(pairs.values())},
        schema={"value": pl.String, "n": pl.UInt32},
    )


@pytest.mark.parametrize("sign", [1, -1])
def test_added_matches_summing_every_spelling(sign: int) -> None:
    rng = random.Random(sign)
    names = [f"name{i}" for i in range(300)]
    counts = _counts({n: rng.randint(1, 5) for n in names})
    # existing spellings, spellings no node carries yet, and (taken away) ones that leave
    change = _counts({**{n: rng.randint(1, 3) for n in rng.sample(names, 40)}, "newname": 2})
    got = _added(counts, change, sign).sort("value")
    assert got.schema == counts.schema
    assert got.equals(_reference_added(counts, change, sign).sort("value"))
    if sign == -1:
        gone = change.join(counts, on="value", suffix="_c").filter(pl.col("n") >= pl.col("n_c"))
        assert not got["value"].is_in(gone["value"].implode()).any()


def _brute_force(values: list[str], sources: list[str]) -> set[tuple[str, str]]:
    return {(v, s) for v in values for s in sources if v != s and OSA.distance(v, s) <= 1}


_LETTERS = "abcdefghijklmnopqrstuvwxyzé"


def _edits(word: str, rng: random.Random) -> list[str]:
    """Every single edit of `word` at every position: a letter dropped, added, replaced, or
    two adjacent ones swapped."""
    out = []
    for i in range(len(word) + 1):
        out.append(word[:i] + rng.choice(_LETTERS) + word[i:])
        if i < len(word):
            out.append(word[:i] + word[i + 1 :])
            out.append(word[:i] + rng.choice(_LETTERS) + word[i + 1 :])
        if i + 1 < len(word):
            out.append(word[:i] + word[i + 1] + word[i] + word[i + 2 :])
    return out


@pytest.mark.parametrize("seed", range(6))
def test_one_edit_apart_finds_every_pair_brute_force_finds(seed: int) -> None:
    rng = random.Random(seed)
    # a few values (as a batch's) of every length, many sources: every edit of them, and
    # unrelated spellings
    values = ["".join(rng.choice(_LETTERS) for _ in range(k)) for k in (1, 2, 3, 4, 5, 6, 7, 9)]
    sources = [s for v in values for s in _edits(v, rng)]
    sources += [
        "".join(rng.choice(_LETTERS) for _ in range(rng.randint(1, 9))) for _ in range(2000)
    ]
    sources = list(dict.fromkeys(["", *sources]))  # an empty spelling is one edit from "a"
    expected = _brute_force(values, sources)
    got = one_edit_apart(pl.Series(values), pl.Series(sources))
    assert set(got.iter_rows()) == expected
    # the pre-filter keeps every source of a pair
    kept = set(_may_be_one_edit_from(pl.Series(values).unique(), pl.Series(sources)))
    assert {s for _, s in expected} <= kept


def test_pre_filter_drops_long_sources_far_from_every_value() -> None:
    sources = pl.Series(
        ["lovelace", "lovelacee", "rovelcae", "hamilton", "ovelace", "lovelac", "smith"]
    )
    kept = _may_be_one_edit_from(pl.Series(["lovelcae"]), sources).to_list()
    assert sorted(kept) == ["lovelac", "lovelace", "lovelacee", "rovelcae"]


def test_pairwise_scores_alike_on_one_thread_or_all(monkeypatch: pytest.MonkeyPatch) -> None:
    from rapidfuzz.distance import JaroWinkler

    from rex_pipeline.resolve.fuzzy import similarity

    rng = random.Random(3)
    words = ["".join(rng.choice(_LETTERS) for _ in range(rng.randint(0, 8))) for _ in range(500)]
    frame = pl.DataFrame({"l": words, "r": [*words[1:], None]})
    scores = []
    for threshold in (0, 10**9):  # every core, then one
        monkeypatch.setattr(similarity, "PARALLEL_PAIRS", threshold)
        scores.append(similarity.pairwise(frame, "l", "r", JaroWinkler.normalized_similarity))
    assert scores[0].equals(scores[1])
    assert scores[0][-1] is None
