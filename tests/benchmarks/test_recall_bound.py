"""The recall bound counts pairs the way the resolution benchmark does: rows of one person in
one cluster are true pairs, chains close through shared nodes, and a cluster holding a person
and their hard negative counts as a hard negative merged; each bucket's share of true pairs is
measured within that bucket only."""

from __future__ import annotations

import polars as pl
import pytest

from benchmarks.recall_bound import bucketed_pairs, pairwise
from benchmarks.resolution_misses import Run

EMPTY = pl.DataFrame()


def _run(scored: pl.DataFrame) -> Run:
    # node 0: two rows of person 0; node 1: one row of person 0; node 2: person 1 (a namesake
    # of person 0); node 3: two rows of person 2
    node_rows = pl.DataFrame(
        {"idx": [0, 1, 2, 3], "person_id": [0, 0, 1, 2], "n": [2, 1, 1, 2]},
        schema={"idx": pl.UInt32, "person_id": pl.Int64, "n": pl.UInt32},
    )
    return Run(
        profiles=EMPTY,
        feats=None,  # type: ignore[arg-type]
        scored=scored,
        owner=node_rows.select("idx", "person_id"),
        node_rows=node_rows,
        clusters=EMPTY,
        merges=EMPTY,
    )


PERSONS = pl.DataFrame({"person_id": [0, 1, 2], "hard_negative_of": [-1, 0, -1]})


def test_chains_close_and_hard_negatives_count() -> None:
    run = _run(EMPTY)
    edges = pl.DataFrame({"a": [0, 1], "b": [1, 2]})  # 0-1 true, 1-2 the namesake
    m = pairwise(run, PERSONS, edges)
    # cluster {0,1,2}: 4 rows, 6 pairs, 3 of person 0; cluster {3}: 1 pair, true
    assert m["precision"] == pytest.approx(4 / 7)
    assert m["recall"] == pytest.approx(1.0)
    assert m["false_pairs"] == 3
    assert m["hard_negatives_merged"] == 1


def test_no_edges_leaves_only_the_pairs_inside_nodes() -> None:
    m = pairwise(
        _run(EMPTY),
        PERSONS,
        pl.DataFrame({"a": [], "b": []}, schema=[("a", pl.Int64), ("b", pl.Int64)]),
    )
    # person 0's 3 rows are split 2 + 1: only 1 of its 3 pairs is found; person 2's 1 pair is
    assert m["recall"] == pytest.approx(2 / 4)
    assert m["precision"] == pytest.approx(1.0)
    assert m["hard_negatives_merged"] == 0


def test_bucket_share_is_the_true_fraction_of_its_own_bucket() -> None:
    scored = pl.DataFrame(
        {
            "a": [0, 0, 1],
            "b": [1, 2, 3],
            "first_name_level": ["exact", "exact", "exact"],
            "last_name_level": ["exact", "exact", "different"],
            "first_name_weight": [6.0, 6.0, 6.0],
            "last_name_weight": [8.0, 8.0, -5.0],
        }
    )
    pairs = bucketed_pairs(_run(scored)).sort("a", "b")
    assert pairs["true"].to_list() == [True, False, False]
    assert pairs["share"].to_list() == [0.5, 0.5, 0.0]
