"""cluster() reads unconstrained components off in numpy and runs the greedy union-find only
where something can be refused: it must give what the greedy over every edge gives, row for
row (node_id, cluster_id, rule, score, via), and report the same refusals."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from rex_pipeline.resolve.fuzzy import Overrides, cluster
from rex_pipeline.resolve.fuzzy.overrides import resolve_overrides
from rex_pipeline.resolve.fuzzy.profiles import COMPANY_PROFILE, CONTACT_PROFILE, conform
from tests.resolve_fuzzy.fuzzy_factory import contacts, person

mod = sys.modules["rex_pipeline.resolve.fuzzy.cluster"]
PROPERTY = settings(
    max_examples=250,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
REAL = settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SPELT = "made from the other's name"
DATES = [datetime(2019, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC)]
NAMES = [("Ada", "Lovelace"), ("Ada", "Lovelace"), (None, None), ("Sam", "Reyes")]
SCORES = [0.93, 0.95, 0.95, 0.99]  # ties included


def reference(
    nodes: pl.DataFrame, pairs: pl.DataFrame, overrides: Overrides | None = None
) -> tuple[pl.DataFrame, str]:
    """The clustering as it was: `_greedy` over every edge, every conflict round."""
    nodes = conform(nodes, CONTACT_PROFILE if mod._is_contacts(nodes) else COMPANY_PROFILE)
    resolved = resolve_overrides(overrides, nodes)
    edges = list(mod._sorted_edges(nodes, pairs).iter_rows())
    never = mod._links(resolved.never)
    nameless = mod._nameless(nodes)
    found: set[tuple[str, str]] = set()
    finder = mod._ConflictFinder(nodes)
    for _ in range(mod.MAX_ROUNDS):
        forest = mod._greedy(resolved.must, edges, never, mod._links(found), nameless)
        new = finder(mod._forest_membership([forest])) - found
        if not new:
            break
        found |= new
    roots, best = mod._forest_frames([forest])
    summary = (
        f"clusters: {len(edges)} edges, {forest.refused} refused by conflicts/never_merge, "
        f"{len(found)} conflicts found in chains"
    )
    return mod._assign(nodes, roots, best), summary


@contextmanager
def _summaries() -> Iterator[list[str]]:
    """The 'clusters: …' log lines of cluster() while inside."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("clusters:"):
                lines.append(record.getMessage())

    handler, level = Keep(), mod.log.level
    mod.log.addHandler(handler)
    mod.log.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        mod.log.removeHandler(handler)
        mod.log.setLevel(level)


def _assert_same(nodes: pl.DataFrame, pairs: pl.DataFrame, overrides: Overrides | None) -> None:
    expected, summary = reference(nodes, pairs, overrides)
    with _summaries() as lines:
        got = cluster(nodes, pairs, overrides)
    assert_frame_equal(got, expected)
    assert lines == [summary]


class _StubFinder:
    """Conflicts are the `bad` pairs whose nodes share a cluster of 3+ (as the real finder,
    which compares only inside those clusters)."""

    def __init__(self, bad: list[tuple[str, str]]) -> None:
        self.bad = bad

    def __call__(self, membership: pl.DataFrame) -> set[tuple[str, str]]:
        root = dict(membership.select("node_id", "root").iter_rows())
        return {(a, b) for a, b in self.bad if a in root and root[a] == root.get(b)}


def _pairs(edges: list[tuple[str, str, float, bool, bool]]) -> pl.DataFrame:
    """Scored pairs (node_a, node_b, score, decision, evidence.email.level)."""
    rows = [
        (a, b, s, "merge" if merge else "review", None, "test", SPELT if spelt else "exact")
        for a, b, s, spelt, merge in edges
    ]
    frame = pl.DataFrame(
        rows,
        schema={
            "node_a": pl.String,
            "node_b": pl.String,
            "score": pl.Float64,
            "decision": pl.String,
            "conflict": pl.String,
            "reasons": pl.String,
            "level": pl.String,
        },
        orient="row",
    )
    email = pl.struct(level="level", weight=pl.lit(1.0), similarity=pl.lit(None, pl.Float64))
    return frame.with_columns(evidence=pl.struct(email.alias("email"))).drop("level")


@st.composite
def graphs(draw: Callable[..., Any], real: bool = False) -> dict[str, Any]:
    """Nodes (ages and first records with ties, nameless ones), merge and review edges (tied
    scores, spelt names, repeats, self-loops), never and must pairs, and stub conflicts."""
    size = draw(st.integers(2, 7 if real else 12))
    ids = [f"n{i}" for i in draw(st.permutations(range(size)))]
    node = st.sampled_from(ids)
    rows = []
    for i, node_id in enumerate(ids):
        first, last = draw(st.sampled_from(NAMES))
        extra: dict[str, Any] = {
            "created_at": draw(st.sampled_from(DATES)),
            "first_record": draw(st.sampled_from(["r0", "r1", "r2"])),
        }
        if real:
            extra["linkedin_url"] = draw(
                st.sampled_from(
                    [None, None, "https://www.linkedin.com/in/a", "https://www.linkedin.com/in/b"]
                )
            )
            extra["phones"] = draw(st.sampled_from([[], ["+14155550123"], ["+14155550199"]]))
        rows.append(person(node_id, first, last, f"x{i}@mail{i}.com", **extra))
    edge = st.tuples(
        node,
        node,
        st.sampled_from(SCORES),
        st.booleans(),
        st.sampled_from([True, True, True, False]),
    )
    edges = draw(st.lists(edge, max_size=3 * size))
    links = st.lists(st.tuples(node, node).filter(lambda p: p[0] != p[1]), max_size=2)
    never, must = draw(links), draw(links)
    bad = draw(st.lists(st.tuples(node, node).filter(lambda p: p[0] != p[1]), max_size=4))
    return {
        "nodes": contacts(*rows),
        "pairs": _pairs(edges),
        "overrides": Overrides(never_merge=tuple(never), must_merge=tuple(must))
        if never or must
        else None,
        "bad": bad,
        "rounds": draw(st.sampled_from([1, 2, mod.MAX_ROUNDS])),  # also stopped with conflicts left
    }


@PROPERTY
@given(graphs())
def test_components_give_what_the_greedy_over_every_edge_gives(case: dict[str, Any]) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mod, "_ConflictFinder", lambda _nodes: _StubFinder(case["bad"]))
        patch.setattr(mod, "MAX_ROUNDS", case["rounds"])
        _assert_same(case["nodes"], case["pairs"], case["overrides"])


@REAL
@given(graphs(real=True))
def test_components_match_the_greedy_with_real_conflicts(case: dict[str, Any]) -> None:
    # two LinkedIn profiles or two personal lines: the real comparisons find the conflicts
    _assert_same(case["nodes"], case["pairs"], case["overrides"])


def test_a_conflict_found_in_one_round_reruns_only_its_component() -> None:
    # a-b-c chain (c conflicts with a) beside an untouched d-e-f chain: the second round
    # splits the first chain at its weakest link and leaves the other as it was
    nodes = contacts(
        *(person(n, "Ada", "Lovelace", f"{n}@x{n}.com") for n in ["a", "b", "c", "d", "e", "f"])
    )
    pairs = _pairs(
        [
            ("a", "b", 0.99, False, True),
            ("b", "c", 0.95, False, True),
            ("d", "e", 0.97, False, True),
            ("e", "f", 0.94, False, True),
        ]
    )
    runs: list[list[tuple[str, str]]] = []
    greedy = mod._greedy

    def spy(must: Any, edges: Any, *args: Any) -> Any:
        runs.append([(a, b) for a, b, *_ in edges])
        return greedy(must, edges, *args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mod, "_ConflictFinder", lambda _nodes: _StubFinder([("a", "c")]))
        _assert_same(nodes, pairs, None)
        patch.setattr(mod, "_greedy", spy)
        got = dict(cluster(nodes, pairs).select("node_id", "cluster_id").iter_rows())
    assert got["b"] == got["a"] != got["c"]
    assert got["d"] == got["e"] == got["f"]
    assert runs == [[("a", "b"), ("b", "c")]]  # round 1 needs no greedy, round 2 one chain


def test_best_edge_is_the_first_in_order_not_the_first_row() -> None:
    # n2 first meets n1 at 0.95 (row 1) but n3 at 0.99 (row 2): via n3, score 0.99
    nodes = contacts(*(person(n, "Ada", "Lovelace", f"{n}@x{n}.com") for n in ["n1", "n2", "n3"]))
    pairs = _pairs([("n1", "n2", 0.95, False, True), ("n2", "n3", 0.99, False, True)])
    _assert_same(nodes, pairs, None)
    row = cluster(nodes, pairs).filter(pl.col("node_id") == "n2").row(0, named=True)
    assert (row["score"], row["via"]) == (0.99, "n3")


def test_no_merge_edges_leave_every_node_alone() -> None:
    nodes = contacts(person("a", "Ada", "Lovelace", "a@x.com"), person("b", None, None, "b@y.com"))
    pairs = _pairs([("a", "b", 0.8, False, False)])
    _assert_same(nodes, pairs, None)
    assert cluster(nodes, pairs)["cluster_id"].to_list() == ["a", "b"]


def test_clusters_stopped_with_conflicts_left_are_the_last_rounds() -> None:
    # the last round allowed finds a conflict: the clusters stay as that round made them
    nodes = contacts(*(person(n, "Ada", "Lovelace", f"{n}@x{n}.com") for n in ["a", "b", "c"]))
    pairs = _pairs([("a", "b", 0.93, False, True), ("a", "c", 0.93, False, True)])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mod, "_ConflictFinder", lambda _nodes: _StubFinder([("a", "b")]))
        patch.setattr(mod, "MAX_ROUNDS", 1)
        _assert_same(nodes, pairs, None)
        assert set(cluster(nodes, pairs)["cluster_id"]) == {"a"}
