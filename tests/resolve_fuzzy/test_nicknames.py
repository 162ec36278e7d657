"""Nickname equivalence: related forms match, unrelated formal names, names of two genders
and names that only shorten one rare third name do not."""

from __future__ import annotations

import polars as pl
import pytest

from rex_pipeline.resolve.fuzzy.given_names import same_gender_pairs
from rex_pipeline.resolve.fuzzy.nicknames import (
    first_name_block_keys,
    name_groups,
    name_groups_column,
    nickname_match,
)


def _equivalent(a: str, b: str) -> bool:
    frame = pl.DataFrame({"fa": [a], "fb": [b]})
    frame = frame.with_columns(
        ga=name_groups_column(frame["fa"]), gb=name_groups_column(frame["fb"])
    )
    match = nickname_match(pl.col("fa"), pl.col("fb"), pl.col("ga"), pl.col("gb"))
    return bool(frame.select(match).item())


@pytest.mark.parametrize(
    ("a", "b"),
    [("bob", "robert"), ("bob", "rob"), ("liz", "elizabeth"), ("liz", "beth"),
     ("bill", "william"), ("jimmy", "james"), ("peggy", "margaret"),
     # clipped forms are worn by both genders
     ("chris", "christine"), ("chris", "christopher"), ("alex", "alexandra")],
)  # fmt: skip
def test_related_forms_are_equivalent(a: str, b: str) -> None:
    assert _equivalent(a, b)
    assert _equivalent(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [("robert", "william"), ("john", "jane"), ("ada", "grace"),
     # the package relates Aaron and Erin; a man's name and a woman's are two people
     ("aaron", "erin"),
     # Ana and Anna (and Mary and Paul) only meet in a rare third name (Bryanna, Polly)
     ("ana", "anna"), ("mary", "paul")],
)  # fmt: skip
def test_unrelated_names_are_not(a: str, b: str) -> None:
    assert not _equivalent(a, b)
    assert not _equivalent(b, a)


def test_groups_keep_the_name_and_null_stays_null() -> None:
    assert "erin" in name_groups("erin") and "aaron" not in name_groups("erin")
    assert name_groups_column(pl.Series([None, "bob"], dtype=pl.String)).to_list() == [
        None,
        name_groups("bob"),
    ]
    keys = first_name_block_keys(pl.Series(["bob", "zzyzx", None], dtype=pl.String))
    assert keys.to_list() == [["bob", "robert"], ["zzyzx"], None]


def test_gender_filter_keeps_clippings_and_unknown_names() -> None:
    pairs = pl.DataFrame(
        {
            "a": ["aaron", "christine", "robert", "wei", "andrea"],
            "b": ["erin", "chris", "bob", "erin", "andrew"],
        }
    )
    kept = same_gender_pairs(pairs, "a", "b").sort("a")
    assert kept.rows() == [("christine", "chris"), ("robert", "bob"), ("wei", "erin")]
