"""Safe clustering: strongest edges first, no conflicting nodes in one cluster, oldest wins,
overrides honoured."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from rex_pipeline.resolve.fuzzy import (
    Overrides,
    cluster,
    cluster_stats,
    find_candidate_pairs,
    possible_duplicates,
)
from tests.resolve_fuzzy.fuzzy_factory import SETTINGS, contacts, person


def _winners(clusters: pl.DataFrame) -> dict[str, str]:
    return dict(clusters.select("node_id", "cluster_id").iter_rows())


def _edges(*edges: tuple[str, str, float]) -> pl.DataFrame:
    return pl.DataFrame(
        [(a, b, s, "merge", None, "test") for a, b, s in edges],
        schema=["node_a", "node_b", "score", "decision", "conflict", "reasons"],
        orient="row",
    )


def test_chain_splits_at_the_weakest_link() -> None:
    # a - b strong, b - c weaker; a and c have different LinkedIn profiles
    nodes = contacts(
        person("a", "Sam", "Reyes", "sam.reyes@acme.io",
               linkedin_url="https://www.linkedin.com/in/sam-reyes-acme"),
        person("b", "Sam", "Reyes", "sreyes@gmail.com"),
        person("c", "Samantha", "Reyes", "samreyes@outlook.com",
               linkedin_url="https://www.linkedin.com/in/samantha-reyes-9"),
    )  # fmt: skip
    clusters = cluster(nodes, _edges(("a", "b", 0.99), ("b", "c", 0.95)), None, SETTINGS)
    winners = _winners(clusters)
    assert winners["b"] == winners["a"]
    assert winners["c"] == "c"


def test_winner_is_the_oldest_node_and_losers_say_how_they_joined() -> None:
    nodes = contacts(
        person("tmp_9", "Ada", "Lovelace", "ada@engines.co.uk",
               created_at=datetime(2025, 3, 1, tzinfo=UTC)),
        person("cont_z", "Ada", "Lovelace", "ada.lovelace@gmail.com",
               created_at=datetime(2019, 5, 1, tzinfo=UTC)),
    )  # fmt: skip
    clusters = cluster(nodes, _edges(("cont_z", "tmp_9", 0.97)), None, SETTINGS)
    row = clusters.filter(pl.col("node_id") == "tmp_9").row(0, named=True)
    assert row["cluster_id"] == "cont_z"
    assert (row["rule"], row["score"], row["via"]) == ("fuzzy", 0.97, "cont_z")
    winner = clusters.filter(pl.col("node_id") == "cont_z").row(0, named=True)
    assert winner["rule"] is None and winner["cluster_id"] == "cont_z"


def test_a_published_node_wins_over_an_older_one_minted_in_this_batch() -> None:
    """The contract: existing ids never change, unless two existing entities merge. A record
    new to the warehouse whose source says it was created earlier must not retire an id."""
    nodes = contacts(
        person("cont_new", "Ada", "Lovelace", "ada@engines.co.uk",
               created_at=datetime(2019, 5, 1, tzinfo=UTC)),
        person("cont_old", "Ada", "Lovelace", "ada.lovelace@gmail.com",
               created_at=datetime(2025, 3, 1, tzinfo=UTC)),
        person("cont_older", "Ada", "Lovelace", "a.lovelace@gmail.com",
               created_at=datetime(2024, 3, 1, tzinfo=UTC)),
    )  # fmt: skip
    edges = _edges(("cont_new", "cont_old", 0.97))
    assert _winners(cluster(nodes, edges, None, SETTINGS))["cont_old"] == "cont_new"
    published = pl.Series(["cont_old", "cont_older"])
    assert _winners(cluster(nodes, edges, None, SETTINGS, published))["cont_new"] == "cont_old"
    # two published ones: the oldest of them, as before
    edges = _edges(("cont_new", "cont_old", 0.97), ("cont_old", "cont_older", 0.96))
    winners = _winners(cluster(nodes, edges, None, SETTINGS, published))
    assert winners == dict.fromkeys(winners, "cont_older")


def test_never_merge_wins_over_evidence_and_must_merge_joins() -> None:
    nodes = contacts(
        person("cont_1", "Ada", "Lovelace", "ada@engines.co.uk"),
        person("cont_2", "Ada", "Lovelace", "ada.lovelace@gmail.com"),
        person("cont_3", "Charles", "Babbage", "charles@engines.co.uk"),
    )
    overrides = Overrides(
        never_merge=(("cont_1", "ADA.LOVELACE@gmail.com"),),
        must_merge=(("cont_1", "cont_3"),),
    )
    clusters = cluster(nodes, _edges(("cont_1", "cont_2", 0.999)), overrides, SETTINGS)
    winners = _winners(clusters)
    assert winners["cont_2"] == "cont_2"
    assert winners["cont_3"] == winners["cont_1"]
    assert clusters.filter(pl.col("node_id") == "cont_3")["rule"].item() == "must_merge"


def test_never_merge_also_blocks_a_chain_through_a_third_node() -> None:
    nodes = contacts(
        person("a", "Ada", "Lovelace", "ada@engines.co.uk"),
        person("b", "Ada", "Lovelace", "ada.lovelace@gmail.com"),
        person("c", "Ada", "Lovelace", "ada.l@outlook.com"),
    )
    overrides = Overrides(never_merge=(("a", "c"),))
    clusters = cluster(nodes, _edges(("a", "b", 0.99), ("b", "c", 0.98)), overrides, SETTINGS)
    winners = _winners(clusters)
    assert winners["a"] == winners["b"] != winners["c"]


def test_review_pairs_never_merge_and_are_reported_once_per_entity_pair() -> None:
    nodes = contacts(
        person("n1", "Ada", "Lovelace", "ada@engines.co.uk"),
        person("n2", "Ada", "Lovelace", "ada.lovelace@gmail.com"),
        person("n3", "Ada", "Lovelace", "ada.lovelace@yahoo.com"),
    )
    pairs = pl.concat(
        [
            _edges(("n1", "n2", 0.99)),
            _edges(("n1", "n3", 0.80), ("n2", "n3", 0.85)).with_columns(decision=pl.lit("review")),
        ]
    )
    clusters = cluster(nodes, pairs, None, SETTINGS)
    assert _winners(clusters)["n3"] == "n3"
    review = possible_duplicates(pairs, clusters)
    assert review.select("entity_a", "entity_b", "score").rows() == [("n1", "n3", 0.85)]
    assert possible_duplicates(pairs, clusters, never=[("n2", "n3")]).is_empty()


def test_stats_report_sizes_and_flag_large_clusters() -> None:
    ids = [f"n{i}" for i in range(12)]
    nodes = contacts(*(person(i, "Ada", "Lovelace", f"ada{i}@x{i}.com") for i in ids))
    star = _edges(*((ids[0], other, 0.95) for other in ids[1:]))
    clusters = cluster(nodes, star, None, SETTINGS)
    stats = cluster_stats(clusters, star, large_cluster=10)
    assert stats["largest_cluster"] == 12
    assert stats["merged_nodes"] == 11
    assert stats["suspicious_count"] == 1
    assert stats["size_counts"] == {"10+": 1}
    assert stats["merge_pairs_kept_apart"] == 0


def test_end_to_end_colleagues_stay_apart_duplicates_join() -> None:
    profiles = contacts(
        person("n1", "John", "Smith", "john.smith@initech.com", company_key="initech",
               company_domain="initech.com", phones=["+12125550101"]),
        person("n2", "Johnny", "Smith", "jsmith1980@gmail.com", company_key="initech",
               phones=["+12125550101"]),
        person("n3", "Jane", "Smith", "jane.smith@initech.com", company_key="initech",
               company_domain="initech.com", phones=["+12125550177"]),
    )  # fmt: skip
    pairs = find_candidate_pairs(profiles, SETTINGS)
    winners = _winners(cluster(profiles, pairs, None, SETTINGS))
    assert winners["n2"] == winners["n1"]
    assert winners["n3"] == "n3"


def _spelt_edges(*edges: tuple[str, str, float, str]) -> pl.DataFrame:
    """Merge edges with the email level of their evidence."""
    frame = _edges(*((a, b, s) for a, b, s, _ in edges))
    level = pl.Series([lvl for *_, lvl in edges], dtype=pl.String)
    email = pl.struct(level=pl.lit(level), weight=pl.lit(1.0), similarity=pl.lit(None, pl.Float64))
    return frame.with_columns(evidence=pl.struct(email.alias("email")))


def test_an_address_spelling_a_name_never_bridges_two_namesakes() -> None:
    # two Ada Lovelaces at two companies did not merge; adalovelace@gmail.com spells the name
    # of both and may be either one's (or a third's): it joins one of them, not both
    nodes = contacts(
        person("a", "Ada", "Lovelace", "ada@engines.co.uk",
               created_at=datetime(2019, 1, 1, tzinfo=UTC)),
        person("b", "Ada", "Lovelace", "alovelace@analytical.io"),
        person("c", None, None, "adalovelace@gmail.com"),
    )  # fmt: skip
    spelt = "made from the other's name"
    clusters = cluster(nodes, _spelt_edges(("a", "c", 0.9, spelt), ("b", "c", 0.9, spelt)))
    winners = _winners(clusters)
    assert winners["c"] == "a" and winners["b"] == "b"
    # the same two edges by any other evidence chain as before
    clusters = cluster(
        nodes, _spelt_edges(("a", "c", 0.9, "different"), ("b", "c", 0.9, "different"))
    )
    assert set(_winners(clusters).values()) == {"a"}
