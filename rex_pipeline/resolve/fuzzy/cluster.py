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
themselves. The winner of a cluster is its oldest node already in the warehouse, else its
oldest node (created_at, then its oldest record's id: new nodes of one batch share created_at
and their ids are minted at random).

Where nothing can be refused (no never/conflict link, spelt-name edge or must pair in a
connected component of the merge edges) the greedy's clusters are the components themselves:
those are read off in numpy (`_Graph`), and `_greedy` runs only on the few other components.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
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
from rex_pipeline.resolve.graph import component_roots

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

    def __call__(self, membership: pl.DataFrame) -> set[tuple[str, str]]:
        """Conflicting pairs inside the clusters of `membership` (root, node_id: clusters of
        3+ nodes). The comparisons count over the nodes of all these clusters together, so
        every cluster of the partition is passed each round, never only the changed ones."""
        if membership.is_empty():
            return set()
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
    published: pl.Series | None = None,
) -> pl.DataFrame:
    """Map every node to its cluster's winner (profiles.CLUSTER_COLUMNS).

    `published` lists the node ids the warehouse already holds: a cluster holding one is won
    by the oldest of those, so a node minted in this batch never retires an id analysts have
    seen (only two existing entities merging does, as the contract allows).

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
    edges = _sorted_edges(nodes, pairs)
    graph = _Graph(edges, resolved.must, _links(resolved.never), _nameless(nodes))
    found_conflicts: set[tuple[str, str]] = set()
    find_conflicts = _ConflictFinder(nodes)
    for _ in range(MAX_ROUNDS):
        graph.settle(_links(found_conflicts))
        new = find_conflicts(graph.membership()) - found_conflicts
        if not new:
            break
        found_conflicts |= new
        graph.constrain([n for pair in new for n in pair])
    else:
        log.warning("clustering stopped after %d rounds with conflicts left", MAX_ROUNDS)
    log.info(
        "clusters: %d edges, %d refused by conflicts/never_merge, %d conflicts found in chains",
        edges.height,
        graph.refused(),
        len(found_conflicts),
    )
    roots, best = graph.frames()
    return _assign(nodes, roots, best, published)


def _sorted_edges(nodes: pl.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
    """Merge-grade edges (node_a, node_b, score, spelt), strongest first.

    Equal scores (a node fitting two namesakes equally well) go to the pair whose nodes are
    older, then to the pair of older first records: never to the order of the ids (a batch's
    new ids are minted at random, so two runs would differ)."""
    age = nodes.select("node_id", "created_at", "first_record")
    return (
        pairs.filter(pl.col("decision") == "merge")
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
    )


class _Graph:
    """The greedy union-find of `_greedy`, run only where something can be refused.

    Without a refusal the greedy over edges sorted strongest first joins every edge whose
    ends are apart, so its clusters are the connected components of the merge edges, and a
    node's best edge is the first edge in that order that touches it (the node is still
    alone then, so the union is accepted; later edges score no more, and `best` moves only
    on a strictly greater score). A refusal needs a never_merge or conflict link inside the
    component, an edge by a spelt name, or a must_merge pair (joined first, with its own
    rule): such components are "constrained" and go through `_greedy` with their own edges
    in the same order (a component's result depends on no edge outside it). All other
    components are read off in numpy. A component gains constraints as conflicts are found,
    and only the components a new conflict touches are run again."""

    def __init__(
        self,
        edges: pl.DataFrame,
        must: Sequence[tuple[str, str]],
        never: dict[str, set[str]],
        nameless: frozenset[str],
    ) -> None:
        self.never, self.nameless = never, nameless
        must_a = pl.Series([a for a, _ in must], dtype=pl.String)
        must_b = pl.Series([b for _, b in must], dtype=pl.String)
        ends = [edges["node_a"].cast(pl.String), edges["node_b"].cast(pl.String)]
        ids = pl.concat([*ends, must_a, must_b]).unique().sort()
        self.ids = ids
        self.a = self._code(edges["node_a"])
        self.b = self._code(edges["node_b"])
        self.score = edges["score"].to_numpy()
        self.spelt = edges["spelt"].to_numpy()
        self.edges = edges
        self.must = list(must)
        must_codes = (self._code(must_a), self._code(must_b))
        self.comp = component_roots(
            np.concatenate([self.a, must_codes[0]]),
            np.concatenate([self.b, must_codes[1]]),
            len(ids),
        )
        self.must_roots: list[int] = self.comp[must_codes[0]].tolist()
        self.size = np.bincount(self.comp, minlength=len(ids))
        # per component root: read off by `_greedy` (a forest in `forests`) since a `settle`
        self.constrained = np.zeros(len(ids), dtype=bool)
        self.dirty: set[int] = set()
        self.forests: dict[int, _Forest] = {}
        self.constrain(list(never))
        self._mark(np.concatenate([*must_codes, self.a[self.spelt]]))

    def _code(self, values: pl.Series) -> np.ndarray:
        """Positions in the sorted `ids` of these ids (each one of them)."""
        return self.ids.search_sorted(values.cast(pl.String)).to_numpy().astype(np.int64)

    def _mark(self, codes: np.ndarray) -> None:
        """The components of these nodes go through `_greedy` from the next `settle` on
        (until then they keep what the last one gave them)."""
        self.dirty.update(np.unique(self.comp[codes]).tolist())

    def constrain(self, node_ids: Sequence[str]) -> None:
        """The components of these nodes (never/conflict links) are run by `_greedy`."""
        if not node_ids or self.ids.is_empty():
            return
        wanted = pl.Series(node_ids, dtype=pl.String)
        codes = np.minimum(self._code(wanted), len(self.ids) - 1)
        self._mark(codes[(self.ids.gather(codes) == wanted).to_numpy()])

    def settle(self, conflicts: dict[str, set[str]]) -> None:
        """Run `_greedy` on the components whose constraints changed since the last call."""
        if not self.dirty:
            return
        dirty = np.zeros(len(self.ids), dtype=bool)
        dirty[list(self.dirty)] = True
        self.dirty.clear()
        self.constrained |= dirty
        by_comp: dict[int, list[tuple[str, str, float, bool]]] = {}
        rows = np.flatnonzero(dirty[self.comp[self.a]])
        picked = self.edges[rows]
        for root, edge in zip(self.comp[self.a[rows]].tolist(), picked.iter_rows(), strict=True):
            by_comp.setdefault(root, []).append(edge)
        must: dict[int, list[tuple[str, str]]] = {}
        for root, pair in zip(self.must_roots, self.must, strict=True):
            if dirty[root]:
                must.setdefault(root, []).append(pair)
        for root in np.flatnonzero(dirty).tolist():
            self.forests[root] = _greedy(
                must.get(root, []), by_comp.get(root, []), self.never, conflicts, self.nameless
            )

    def refused(self) -> int:
        return sum(forest.refused for forest in self.forests.values())

    def _free(self) -> np.ndarray:
        """Codes of the nodes in components read off as they are."""
        return np.flatnonzero(~self.constrained[self.comp])

    def membership(self) -> pl.DataFrame:
        """root, node_id of every cluster of 3+ nodes."""
        free = self._free()
        free = free[self.size[self.comp[free]] >= 3]
        frames = [
            pl.DataFrame(
                {"root": self.ids.gather(self.comp[free]), "node_id": self.ids.gather(free)}
            )
        ]
        frames.append(_forest_membership(self.forests.values()))
        return pl.concat(frames, how="vertical_relaxed")

    def frames(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """roots (node_id, root) of every node of an edge or must pair, and best (node_id,
        score, rule, via) of every node an accepted union joined."""
        free = self._free()
        roots = [
            pl.DataFrame(
                {"node_id": self.ids.gather(free), "root": self.ids.gather(self.comp[free])}
            )
        ]
        # best: the first edge (row of the sorted edges) touching the node, self-loops aside
        apart = np.flatnonzero(self.a != self.b)
        none = len(self.a)
        first = np.full(len(self.ids), none, dtype=np.int64)
        np.minimum.at(first, self.a[apart], apart)
        np.minimum.at(first, self.b[apart], apart)
        joined = free[first[free] < none]
        row = first[joined]
        via = np.where(self.a[row] == joined, self.b[row], self.a[row])
        best = [
            pl.DataFrame(
                {
                    "node_id": self.ids.gather(joined),
                    "score": self.score[row],
                    "rule": pl.repeat("fuzzy", len(joined), dtype=pl.String, eager=True),
                    "via": self.ids.gather(via),
                }
            )
        ]
        forest_roots, forest_best = _forest_frames(self.forests.values())
        roots.append(forest_roots)
        best.append(forest_best)
        return pl.concat(roots, how="vertical_relaxed"), pl.concat(best, how="vertical_relaxed")


def _forest_membership(forests: Iterable[_Forest]) -> pl.DataFrame:
    """root, node_id of the forests' clusters of 3+ nodes."""
    groups = [(r, m) for forest in forests for r, m in forest.members.items() if len(m) >= 3]
    return pl.DataFrame(
        {
            "root": [r for r, m in groups for _ in m],
            "node_id": [n for _, m in groups for n in m],
        },
        schema={"root": pl.String, "node_id": pl.String},
    )


def _forest_frames(forests: Iterable[_Forest]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """roots (node_id, root) of every node the forests touched, best (node_id, score, rule,
    via) of every node they joined."""
    forests = list(forests)
    touched = [(n, forest.find(n)) for forest in forests for n in list(forest.parent)]
    best = [(n, *v) for forest in forests for n, v in forest.best.items()]
    roots = pl.DataFrame(touched, schema={"node_id": pl.String, "root": pl.String}, orient="row")
    return roots, pl.DataFrame(best, schema=_BEST, orient="row")


_BEST = {"node_id": pl.String, "score": pl.Float64, "rule": pl.String, "via": pl.String}


def _suffixed(age: pl.DataFrame, side: str) -> pl.DataFrame:
    """node_id, created_at, first_record as node_<side>, created_at_<side>, ..."""
    return age.select(pl.all().name.suffix(f"_{side}")).rename({f"node_id_{side}": f"node_{side}"})


def _assign(
    nodes: pl.DataFrame,
    roots: pl.DataFrame,
    best: pl.DataFrame,
    published: pl.Series | None = None,
) -> pl.DataFrame:
    """Rows of CLUSTER_COLUMNS for every node of `nodes`: the cluster's winner is its oldest
    published node, else its oldest node; attached nodes say how they joined (their `best`
    edge)."""
    known = pl.Series("known", [] if published is None else published, dtype=pl.String)
    winners = (
        roots.join(nodes.select("node_id", "created_at", "first_record"), on="node_id", how="left")
        .with_columns(minted=~pl.col("node_id").is_in(known.implode()))
        .sort(["minted", "created_at", "first_record", "node_id"], nulls_last=True)
        .group_by("root", maintain_order=True)
        .agg(pl.col("node_id").first().alias("winner"))
    )
    # every node with a best edge has a root: one join with the (many more) nodes
    touched = roots.join(winners, on="root").join(
        best.cast(_BEST),  # type: ignore[arg-type]
        on="node_id",
        how="left",
    )
    out = nodes.select("node_id").join(
        touched.drop("root"), on="node_id", how="left", maintain_order="left"
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
