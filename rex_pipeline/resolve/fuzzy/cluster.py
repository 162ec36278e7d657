"""Safe clustering of scored pairs: a greedy union-find with cannot-links.

Merge-grade edges are taken strongest first; two clusters join only if no pair across them
is a never-merge override or a conflict (compare.conflict_expr: two LinkedIn profiles, two
personal phones with dissimilar names, two mailboxes at one work domain with dissimilar or
look-alike names or one a numbered copy of the other, two given names at one company). A chain
A–B–C therefore cannot drag together an A and C that conflict: after each pass every cluster
of three or more nodes is checked pair by pair with the same comparisons, newly found
conflicts become cannot-links, and the pass is repeated, so the cluster splits at its
weakest link. must_merge overrides join first and ignore conflicts (not never_merge).
A nameless node linked only by an address that spells a name (adalovelace@gmail.com) joins at
most one named cluster: the address says which name, not which of its namesakes, so it never
bridges two named clusters (two Ada Lovelaces at two companies) that did not merge by
themselves. The winner of a cluster is its oldest node (created_at, then its oldest record's
id: new nodes of one batch share created_at and their ids are minted at random).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import polars as pl

from rex_pipeline.config import Settings
from rex_pipeline.resolve.fuzzy.companies import company_features, score_company_pairs
from rex_pipeline.resolve.fuzzy.compare import score_pairs
from rex_pipeline.resolve.fuzzy.features import (
    contact_features,
    profile_spellings,
    shared_phones,
)
from rex_pipeline.resolve.fuzzy.overrides import Overrides, resolve_overrides
from rex_pipeline.resolve.fuzzy.profiles import (
    CLUSTER_COLUMNS,
    COMPANY_PROFILE,
    CONTACT_PROFILE,
    conform,
)
from rex_pipeline.resolve.fuzzy.spelling import SpellingCounts

log = logging.getLogger(__name__)

MAX_ROUNDS = 10


@dataclass
class _Forest:
    parent: dict[str, str] = field(default_factory=dict)
    members: dict[str, list[str]] = field(default_factory=dict)
    # per root: nodes it must avoid (only roots that have any: most have none)
    never: dict[str, set[str]] = field(default_factory=dict)
    conflicts: dict[str, set[str]] = field(default_factory=dict)
    best: dict[str, tuple[float, str, str]] = field(default_factory=dict)  # score, rule, via
    named: dict[str, bool] = field(default_factory=dict)  # per root: holds a named node
    refused: int = 0

    def find(self, node: str) -> str:
        parent = self.parent.setdefault(node, node)
        while parent != node:
            grand = self.parent[parent]
            self.parent[node] = grand
            node, parent = parent, grand
        return node

    def root_of(
        self,
        node: str,
        never: dict[str, set[str]],
        conflicts: dict[str, set[str]],
        nameless: frozenset[str] = frozenset(),
    ) -> str:
        root = self.find(node)
        if root not in self.members:
            self.members[root] = [root]
            if root in never:
                self.never[root] = set(never[root])
            if root in conflicts:
                self.conflicts[root] = set(conflicts[root])
            self.named[root] = root not in nameless
        return root

    def union(
        self,
        a: str,
        b: str,
        score: float,
        rule: str,
        never: dict[str, set[str]],
        conflicts: dict[str, set[str]],
        nameless: frozenset[str] = frozenset(),
        by_spelt_name: bool = False,
    ) -> bool:
        ra = self.root_of(a, never, conflicts, nameless)
        rb = self.root_of(b, never, conflicts, nameless)
        if ra == rb:
            return False
        big, small = (ra, rb) if len(self.members[ra]) >= len(self.members[rb]) else (rb, ra)
        tables = (self.never,) if rule == "must_merge" else (self.never, self.conflicts)
        avoid = [blocked for table in tables if (blocked := table.get(big))]
        bridges = by_spelt_name and self.named[ra] and self.named[rb]
        if bridges or any(m in blocked for blocked in avoid for m in self.members[small]):
            self.refused += 1
            return False
        self.parent[small] = big
        self.members[big] += self.members.pop(small)
        for table in (self.never, self.conflicts):
            if moved := table.pop(small, None):
                table.setdefault(big, set()).update(moved)
        self.named[big] = self.named[big] or self.named.pop(small)
        for node, other in ((a, b), (b, a)):
            if node not in self.best or self.best[node][0] < score:
                self.best[node] = (score, rule, other)
        return True


def _links(pairs: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    links: dict[str, set[str]] = {}
    for a, b in pairs:
        links.setdefault(a, set()).add(b)
        links.setdefault(b, set()).add(a)
    return links


def _greedy(
    must: Sequence[tuple[str, str]],
    edges: Sequence[tuple[str, str, float, bool]],
    never: dict[str, set[str]],
    conflicts: dict[str, set[str]],
    nameless: frozenset[str] = frozenset(),
) -> _Forest:
    forest = _Forest()
    for a, b in must:
        forest.union(a, b, 1.0, "must_merge", never, conflicts, nameless)
    for a, b, score, by_spelt_name in edges:
        forest.union(a, b, score, "fuzzy", never, conflicts, nameless, by_spelt_name)
    return forest


def _by_spelt_name(pairs: pl.DataFrame) -> pl.Expr:
    """Contact pairs linked by an address that spells the other's name (a nameless node)."""
    fields = getattr(pairs.schema.get("evidence"), "fields", [])
    if not any(f.name == "email" for f in fields):
        return pl.lit(False)
    level = pl.col("evidence").struct.field("email").struct.field("level")
    return (level == "made from the other's name").fill_null(False)


def _nameless(nodes: pl.DataFrame) -> frozenset[str]:
    """Contact nodes with neither a first nor a last name (companies: none)."""
    if not _is_contacts(nodes):
        return frozenset()
    bare = nodes.filter(pl.col("first_name").is_null() & pl.col("last_name").is_null())
    return frozenset(bare["node_id"].to_list())


def _is_contacts(nodes: pl.DataFrame) -> bool:
    return "email_keys" in nodes.columns


class _ConflictFinder:
    """Scores every pair inside clusters of 3+ nodes with the entity's own comparisons."""

    def __init__(self, nodes: pl.DataFrame) -> None:
        self.nodes = nodes
        self._shared: pl.Series | None = None
        self._spellings: SpellingCounts | None = None

    def __call__(self, forest: _Forest) -> set[tuple[str, str]]:
        groups = [(root, m) for root, m in forest.members.items() if len(m) >= 3]
        if not groups:
            return set()
        membership = pl.DataFrame(
            {
                "root": [r for r, m in groups for _ in m],
                "node_id": [n for _, m in groups for n in m],
            },
            schema={"root": pl.String, "node_id": pl.String},
        )
        sub = self.nodes.join(membership.select("node_id"), on="node_id", how="semi")
        index = sub.select("node_id").with_row_index("idx")
        inside = membership.join(index, on="node_id")
        pairs = (
            inside.join(inside, on="root", suffix="_b")
            .filter(pl.col("idx") < pl.col("idx_b"))
            .select(a="idx", b="idx_b")
        )
        if _is_contacts(self.nodes):
            if self._shared is None or self._spellings is None:
                # shared lines and name spellings are those of every node, as when the pairs
                # were scored, not of the few in the clusters
                self._shared = shared_phones(self.nodes)
                self._spellings = profile_spellings(self.nodes)
            feats = contact_features(sub, shared=self._shared)
            scored = score_pairs(feats, pairs, self._spellings)
        else:
            scored = score_company_pairs(company_features(sub), pairs)
        found = scored.filter(pl.col("conflict").is_not_null()).select("a", "b")
        ids = index["node_id"]
        return {(ids[a], ids[b]) for a, b in found.iter_rows()}


def cluster(
    nodes: pl.DataFrame,
    pairs: pl.DataFrame,
    overrides: Overrides | None = None,
    settings: Settings | None = None,
) -> pl.DataFrame:
    """Map every node to its cluster's winner (profiles.CLUSTER_COLUMNS).

    `nodes` are the profiles of every node the pairs or overrides name (with an index, the
    new profiles plus the existing partners), `pairs` the result of `find_candidate_pairs`
    (or `find_company_pairs`): only pairs with decision "merge" join clusters. Rows are
    returned for every node of `nodes`. `settings` is accepted for symmetry with the other
    entry points; thresholds were applied when the pairs were scored.
    """
    del settings
    nodes = conform(nodes, CONTACT_PROFILE if _is_contacts(nodes) else COMPANY_PROFILE)
    resolved = resolve_overrides(overrides, nodes)
    if resolved.unmatched:
        log.info("overrides: %d references not among this run's nodes", len(resolved.unmatched))
    for a, b in resolved.unsatisfiable:
        log.warning("never_merge %s / %s: both are already one entity by exact keys", a, b)
    # strongest first; equal scores (a node fitting two namesakes equally well) go to the
    # pair whose nodes are older, then to the pair of older first records: never to the order
    # of the ids (a batch's new ids are minted at random, so two runs would differ)
    age = nodes.select("node_id", "created_at", "first_record")
    edges = [
        (a, b, s, spelt)
        for a, b, s, spelt in pairs.filter(pl.col("decision") == "merge")
        .with_columns(spelt=_by_spelt_name(pairs))
        .join(_suffixed(age, "a"), on="node_a", how="left")
        .join(_suffixed(age, "b"), on="node_b", how="left")
        .with_columns(
            newer=pl.max_horizontal("created_at_a", "created_at_b"),
            older=pl.min_horizontal("created_at_a", "created_at_b"),
            first_lo=pl.min_horizontal("first_record_a", "first_record_b"),
            first_hi=pl.max_horizontal("first_record_a", "first_record_b"),
        )
        .sort(
            ["score", "newer", "older", "first_lo", "first_hi", "node_a", "node_b"],
            descending=[True, False, False, False, False, False, False],
            nulls_last=True,
        )
        .select("node_a", "node_b", "score", "spelt")
        .iter_rows()
    ]
    never = _links(resolved.never)
    nameless = _nameless(nodes)
    found_conflicts: set[tuple[str, str]] = set()
    find_conflicts = _ConflictFinder(nodes)
    for _ in range(MAX_ROUNDS):
        forest = _greedy(resolved.must, edges, never, _links(found_conflicts), nameless)
        new = find_conflicts(forest) - found_conflicts
        if not new:
            break
        found_conflicts |= new
    else:
        log.warning("clustering stopped after %d rounds with conflicts left", MAX_ROUNDS)
    log.info(
        "clusters: %d edges, %d refused by conflicts/never_merge, %d conflicts found in chains",
        len(edges),
        forest.refused,
        len(found_conflicts),
    )
    return _assign(nodes, forest)


def _suffixed(age: pl.DataFrame, side: str) -> pl.DataFrame:
    """node_id, created_at, first_record as node_<side>, created_at_<side>, ..."""
    return age.select(pl.all().name.suffix(f"_{side}")).rename({f"node_id_{side}": f"node_{side}"})


def _assign(nodes: pl.DataFrame, forest: _Forest) -> pl.DataFrame:
    touched = list(forest.parent)
    roots = pl.DataFrame(
        {"node_id": touched, "root": [forest.find(n) for n in touched]},
        schema={"node_id": pl.String, "root": pl.String},
    )
    winners = (
        roots.join(nodes.select("node_id", "created_at", "first_record"), on="node_id", how="left")
        .sort(["created_at", "first_record", "node_id"], nulls_last=True)
        .group_by("root", maintain_order=True)
        .agg(pl.col("node_id").first().alias("winner"))
    )
    best = pl.DataFrame(
        {
            "node_id": list(forest.best),
            "score": [v[0] for v in forest.best.values()],
            "rule": [v[1] for v in forest.best.values()],
            "via": [v[2] for v in forest.best.values()],
        },
        schema={"node_id": pl.String, "score": pl.Float64, "rule": pl.String, "via": pl.String},
    )
    out = (
        nodes.select("node_id")
        .join(roots.join(winners, on="root"), on="node_id", how="left", maintain_order="left")
        .join(best, on="node_id", how="left", maintain_order="left")
    )
    attached = pl.col("winner").is_not_null() & (pl.col("winner") != pl.col("node_id"))
    return out.select(
        "node_id",
        cluster_id=pl.coalesce("winner", "node_id"),
        rule=pl.when(attached).then("rule"),
        score=pl.when(attached).then("score"),
        via=pl.when(attached).then("via"),
    ).cast(CLUSTER_COLUMNS)  # type: ignore[arg-type]


def possible_duplicates(
    pairs: pl.DataFrame,
    clusters: pl.DataFrame,
    *,
    never: Sequence[tuple[str, str]] = (),
    carry: Sequence[str] = (),
) -> pl.DataFrame:
    """Review items: pairs scored at or above the review threshold whose nodes ended in
    different clusters, as pairs of cluster winners (entity_a < entity_b, best score kept).
    Pairs a person already ruled apart (`never`, node ids) are left out. `carry`: more
    columns of `pairs` (sortable, e.g. evidence as JSON text) to keep, from the same pair.

    Of pairs tied on score between the same two clusters, the one first by reasons, conflict
    and the carried columns is kept: the pick depends on what the pairs say, not on the row
    order or on node ids (a batch's are minted at random), so a rerun gives the same queue."""
    winner = clusters.select("node_id", "cluster_id")
    frame = (
        pairs.join(winner.rename({"node_id": "node_a", "cluster_id": "ca"}), on="node_a")
        .join(winner.rename({"node_id": "node_b", "cluster_id": "cb"}), on="node_b")
        .filter(pl.col("ca") != pl.col("cb"))
        .select(
            pl.min_horizontal("ca", "cb").alias("entity_a"),
            pl.max_horizontal("ca", "cb").alias("entity_b"),
            "score",
            "reasons",
            "conflict",
            *carry,
        )
    )
    if never:
        ruled = pl.DataFrame(
            {"a": [a for a, _ in never], "b": [b for _, b in never]},
            schema={"a": pl.String, "b": pl.String},
        )
        ruled = (
            ruled.join(winner.rename({"node_id": "a", "cluster_id": "ca"}), on="a")
            .join(winner.rename({"node_id": "b", "cluster_id": "cb"}), on="b")
            .select(entity_a=pl.min_horizontal("ca", "cb"), entity_b=pl.max_horizontal("ca", "cb"))
        )
        frame = frame.join(ruled, on=["entity_a", "entity_b"], how="anti")
    order = ["score", "reasons", "conflict", *carry]
    return (
        frame.sort(order, descending=[True] + [False] * (len(order) - 1), nulls_last=True)
        .unique(["entity_a", "entity_b"], keep="first")
        .sort("entity_a", "entity_b")
    )


def cluster_stats(
    clusters: pl.DataFrame, pairs: pl.DataFrame | None = None, *, large_cluster: int = 10
) -> dict[str, object]:
    """Cluster sizes, merges by rule, and suspicious clusters (size >= large_cluster) for
    run metadata; with `pairs`, also how many merge-grade pairs conflicts kept apart."""
    sizes = clusters.group_by("cluster_id").agg(size=pl.len(), weakest=pl.col("score").min())
    multi = sizes.filter(pl.col("size") >= 2)
    buckets = multi.select(
        bucket=pl.when(pl.col("size") >= 10)
        .then(pl.lit("10+"))
        .when(pl.col("size") >= 5)
        .then(pl.lit("5-9"))
        .otherwise(pl.col("size").cast(pl.String))
    )["bucket"].value_counts()
    suspicious = multi.filter(pl.col("size") >= large_cluster).sort("size", descending=True)
    stats: dict[str, object] = {
        "nodes": clusters.height,
        "clusters": sizes.height,
        "merged_nodes": int(clusters.filter(pl.col("rule").is_not_null()).height),
        "multi_node_clusters": multi.height,
        "largest_cluster": int(sizes["size"].max() or 0),
        "mean_multi_node_size": round(float(multi["size"].mean() or 0.0), 3),
        "size_counts": dict(sorted(buckets.iter_rows())),
        "merges_by_rule": dict(
            clusters.filter(pl.col("rule").is_not_null()).group_by("rule").len().iter_rows()
        ),
        "suspicious": [
            {"cluster_id": c, "size": s, "weakest_score": w}
            for c, s, w in suspicious.head(20).select("cluster_id", "size", "weakest").iter_rows()
        ],
        "suspicious_count": suspicious.height,
    }
    if pairs is not None:
        merge = pairs.filter(pl.col("decision") == "merge")
        winner = clusters.select("node_id", "cluster_id")
        apart = (
            merge.join(winner.rename({"node_id": "node_a", "cluster_id": "ca"}), on="node_a")
            .join(winner.rename({"node_id": "node_b", "cluster_id": "cb"}), on="node_b")
            .filter(pl.col("ca") != pl.col("cb"))
        )
        stats["merge_pairs_kept_apart"] = apart.height
    return stats
