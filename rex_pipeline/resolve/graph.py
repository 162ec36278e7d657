"""Connected components over an edge list, vectorised in polars.

Exact-key resolution is a graph problem: records and the keys they carry (email keys, LinkedIn
URL, natural source ids, existing entity ids) are nodes, and a record is connected to each of
its keys. Every connected component is one entity. Min-label propagation converges in as many
rounds as the longest chain, which for real identity graphs is a handful.
"""

from __future__ import annotations

import polars as pl


def connected_components(edges: pl.DataFrame, max_rounds: int = 100) -> pl.DataFrame:
    """Map each node of `edges` (columns `a`, `b`, strings) to its component label: the smallest
    node name in its component. Returns columns `node`, `component`."""
    both = pl.concat([edges.select(src="a", dst="b"), edges.select(src="b", dst="a")]).unique()
    labels = both.select(node="src").unique().with_columns(component=pl.col("node"))
    for _ in range(max_rounds):
        proposals = (
            both.join(labels, left_on="dst", right_on="node")
            .group_by("src")
            .agg(pl.col("component").min().alias("proposal"))
        )
        updated = labels.join(proposals, left_on="node", right_on="src", how="left").select(
            "node", component=pl.min_horizontal("component", "proposal")
        )
        # pointer jumping: a label's own label, which halves long chains each round
        updated = updated.join(
            updated.rename({"node": "component", "component": "root"}), on="component", how="left"
        ).select("node", component=pl.min_horizontal("component", "root"))
        if updated.join(labels, on=["node", "component"], how="anti").is_empty():
            return updated
        labels = updated
    raise RuntimeError(f"connected components did not converge in {max_rounds} rounds")
