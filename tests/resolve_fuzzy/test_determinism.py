"""Ties are broken by the nodes' records, never by their ids: a batch's new node ids are
minted at random, so the same input must give the same clusters (and the same review queue)
whatever ids it got and whatever the order of the rows."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from rex_pipeline.resolve.fuzzy import cluster, find_candidate_pairs, possible_duplicates
from rex_pipeline.resolve.fuzzy_stage import _review_rows
from tests.resolve_fuzzy.fuzzy_factory import SETTINGS, contacts, person

SAME_BATCH = datetime(2025, 6, 1, 9, 30, tzinfo=UTC)  # every node of one batch: a tie of age
PHONE = "+14155550123"


def _batch(x: str, a: str, b: str) -> pl.DataFrame:
    """A new John Smith fitting two namesakes equally well (same mailbox name and number);
    the namesakes have different LinkedIn profiles, so he can join only one of them."""
    return contacts(
        person(x, "John", "Smith", "johnsmith77@gmail.com", first_record="rec_x",
               created_at=SAME_BATCH, phones=[PHONE]),
        person(a, "John", "Smith", "johnsmith77@outlook.com", first_record="rec_a",
               created_at=SAME_BATCH, phones=[PHONE],
               linkedin_url="https://www.linkedin.com/in/john-smith-a"),
        person(b, "John", "Smith", "johnsmith77@yahoo.com", first_record="rec_b",
               created_at=SAME_BATCH, phones=[PHONE],
               linkedin_url="https://www.linkedin.com/in/john-smith-b"),
    )  # fmt: skip


def _partition(profiles: pl.DataFrame) -> tuple[set[frozenset[str]], set[str]]:
    """Clusters and their winners, named by the nodes' first records (not their ids)."""
    clusters = cluster(profiles, find_candidate_pairs(profiles, SETTINGS), None, SETTINGS)
    record = dict(profiles.select("node_id", "first_record").iter_rows())
    groups: dict[str, set[str]] = {}
    for node, winner in clusters.select("node_id", "cluster_id").iter_rows():
        groups.setdefault(winner, set()).add(record[node])
    return {frozenset(g) for g in groups.values()}, {record[w] for w in groups}


@pytest.mark.parametrize(
    "ids", [("n1", "n3", "n2"), ("n3", "n2", "n1"), ("n2", "n1", "n3"), ("n3", "n1", "n2")]
)
def test_equal_scores_and_ages_give_the_same_clusters_whatever_the_ids(
    ids: tuple[str, str, str],
) -> None:
    expected = _partition(_batch("n1", "n2", "n3"))
    assert expected == ({frozenset({"rec_x", "rec_a"}), frozenset({"rec_b"})}, {"rec_a", "rec_b"})
    permuted = _batch(*ids)
    assert _partition(permuted) == expected
    assert _partition(permuted.reverse()) == expected  # nor the order of the profiles


def _tied_pairs() -> pl.DataFrame:
    """Two node pairs between the same two clusters, scored alike, saying different things:
    the review queue must show the same one (with its own evidence) whatever the row order."""
    return pl.DataFrame(
        {
            "node_a": ["a1", "a2"],
            "node_b": ["b1", "b2"],
            "score": [0.85, 0.85],
            "decision": ["review", "review"],
            "conflict": [None, None],
            "reasons": ["phone same number (+10.0)", "email same local part (+10.0)"],
            "evidence": [{"level": "same number"}, {"level": "same local part"}],
        },
        schema_overrides={"conflict": pl.String},
    )


TIED_CLUSTERS = pl.DataFrame(
    {"node_id": ["a1", "a2", "b1", "b2"], "cluster_id": ["a1", "a1", "b1", "b1"]}
)


@pytest.mark.parametrize("reverse", [False, True])
def test_review_item_among_tied_pairs_does_not_depend_on_row_order(reverse: bool) -> None:
    pairs = _tied_pairs().drop("evidence")
    review = possible_duplicates(pairs.reverse() if reverse else pairs, TIED_CLUSTERS)
    assert review.select("entity_a", "entity_b", "reasons").rows() == [
        ("a1", "b1", "email same local part (+10.0)")
    ]


@pytest.mark.parametrize("reverse", [False, True])
def test_review_row_keeps_the_evidence_of_its_own_pair(reverse: bool) -> None:
    pairs = _tied_pairs().reverse() if reverse else _tied_pairs()
    now = datetime(2025, 6, 2, tzinfo=UTC)
    rows = _review_rows(pairs, TIED_CLUSTERS, [], "org_1", now, "contact")
    assert rows.select("id_a", "id_b", "reasons", "evidence").rows() == [
        ("a1", "b1", "email same local part (+10.0)", '{"level":"same local part"}')
    ]
