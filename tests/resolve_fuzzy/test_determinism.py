"""Ties are broken by the nodes' records, never by their ids: a batch's new node ids are
minted at random, so the same input must give the same clusters whatever ids it got."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from rex_pipeline.resolve.fuzzy import cluster, find_candidate_pairs
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
