"""Reading attributes out of the JSON metadata sources keep: key preference, odd values, and
bad JSON that must give NULLs rather than an error."""

from __future__ import annotations

import json

import polars as pl

from rex_pipeline.score.metadata import metadata_fields
from rex_pipeline.score.titles import department_of, seniority_of, title_features

FIELDS = {"country": ("Company Country", "Country"), "size": ("# Employees",)}


def test_first_non_blank_key_wins_and_numbers_become_text() -> None:
    metadata = pl.Series(
        [
            json.dumps({"Country": "Germany", "Company Country": "United States"}),
            json.dumps({"Company Country": " ", "Country": "France", "# Employees": 120}),
            None,
            json.dumps({"Apollo Contact Id": "64f0c3"}),
        ]
    )
    out = metadata_fields(metadata, FIELDS)
    assert out.columns == ["country", "size"]
    assert out["country"].to_list() == ["United States", "France", None, None]
    assert out["size"].to_list() == [None, "120", None, None]


def test_bad_json_and_nested_values_give_nulls_not_errors() -> None:
    metadata = pl.Series(
        [
            '{"Country": "Canada"',  # truncated
            json.dumps({"Country": {"name": "Spain"}}),  # nested where a text is expected
            json.dumps(["Country", "Italy"]),  # not an object
            json.dumps({"Country": "Japan"}),
        ]
    )
    out = metadata_fields(metadata, FIELDS)
    assert out["country"].to_list() == [None, None, None, "Japan"]


def test_title_features_match_the_single_parsers() -> None:
    titles = pl.Series(["VP Eng", None, "Head of Growth", "VP Eng", "Wizard", "CFO"])
    both = title_features(titles)
    assert both["seniority"].to_list() == seniority_of(titles).to_list()
    assert both["department"].to_list() == department_of(titles).to_list()
