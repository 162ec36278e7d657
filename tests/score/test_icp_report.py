"""What the scoring asset shows: histogram, top ten with reasons, and the validity check."""

from __future__ import annotations

import warnings

import polars as pl

from rex_pipeline.score.report import (
    check_scores,
    histogram_markdown,
    score_histogram,
    top_contacts,
    top_contacts_markdown,
)
from tests.score.icp_data import NOW, UTC_TS


def _scores(values: list[int | None], reasons: list[str | None] | None = None) -> pl.DataFrame:
    n = len(values)
    return pl.DataFrame(
        {
            "id": [f"cont_{i:02d}" for i in range(n)],
            "icp_score": values,
            "icp_score_reason": reasons or ["VP title (+25)"] * n,
            "icp_scored_at": [NOW] * n,
        },
        schema={
            "id": pl.String,
            "icp_score": pl.Int32,
            "icp_score_reason": pl.String,
            "icp_scored_at": UTC_TS,
        },
    )


def test_histogram_has_ten_buckets_and_counts_100_in_the_last() -> None:
    histogram = score_histogram(pl.Series([0, 9, 10, 55, 90, 99, 100, None]))
    assert histogram["score"].to_list()[0] == "0–9"
    assert histogram["score"].to_list()[-1] == "90–100"
    assert histogram["contacts"].to_list() == [2, 1, 0, 0, 0, 1, 0, 0, 0, 3]


def test_histogram_markdown_draws_bars_relative_to_the_peak() -> None:
    text = histogram_markdown(pl.Series([95] * 4 + [15] * 2))
    lines = {line.split("|")[1].strip(): line for line in text.splitlines() if "–" in line}
    assert "█" * 30 in lines["90–100"]
    assert "█" * 15 in lines["10–19"] and "█" * 16 not in lines["10–19"]


def test_top_contacts_best_first_ties_by_id_with_people() -> None:
    scores = _scores([40, 90, 90, 10])
    people = pl.DataFrame(
        {
            "id": ["cont_00", "cont_01", "cont_02", "cont_03"],
            "first_name": ["Grace", None, "Linus", "Ada"],
            "last_name": ["Hopper", None, "Torvalds", None],
            "email": ["grace@navy.mil", "x@acme.io", None, "ada@example.com"],
            "title": ["Rear Admiral", None, "Founder | CEO", "Analyst"],
        }
    )
    best = top_contacts(scores, people, n=3)
    assert best["id"].to_list() == ["cont_01", "cont_02", "cont_00"]
    assert best["name"].to_list() == [None, "Linus Torvalds", "Grace Hopper"]
    text = top_contacts_markdown(scores, people)
    assert "Linus Torvalds" in text and "VP title (+25)" in text
    assert r"Founder \| CEO" in text  # a pipe in a value cannot split the cell


def test_top_contacts_of_an_unscored_warehouse_is_empty_without_a_warning() -> None:
    for scores in (_scores([]), _scores([None, None])):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # polars warns when compared with a None cutoff
            best = top_contacts(scores)
        assert best.is_empty() and best.columns == ["id", "icp_score", "icp_score_reason"]


def test_check_passes_on_valid_scores() -> None:
    result = check_scores(_scores([0, 50, 100]))
    assert result.passed
    assert result.description.startswith("every score")


def test_check_fails_on_out_of_range_or_missing_reason() -> None:
    result = check_scores(_scores([101, -1, None, 50], ["a", "b", "c", "  "]))
    assert not result.passed
    assert (result.out_of_range, result.missing_reason, result.missing_scored_at) == (3, 1, 0)
    assert result.examples == ("cont_00", "cont_01", "cont_02", "cont_03")
    assert "3 scores outside 0–100 or missing" in result.description
