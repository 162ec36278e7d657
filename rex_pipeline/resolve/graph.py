"""Connected components over an edge list, vectorised in polars.

Exact-key resolution is a graph problem: records and the keys they carry (email keys, LinkedIn
URL, natural source ids, existing entity ids) are nodes, and a record is connected to each of
its keys. Every connected component is one entity. Nodes are encoded as integers first; then
min-label propagation with pointer jumping converges in a few rounds even on long chains.
"""

from __future__ import annotations

import polars as pl


def connected_components(edges: pl.DataFrame, max_rounds: int = 100) -> pl.DataFrame:
    """Map each node of `edges` (columns `a`, `b`, strings) to a component number (UInt32):
    two nodes share the number exactly when a path of edges joins them. Returns `node`,
    `component`."""
    names = pl.concat([edges["a"], edges["b"]]).unique().sort().rename("node").to_frame()
    names = names.with_row_index("n")
    coded = (
        edges.join(names, left_on="a", right_on="node")
        .rename({"n": "src"})
        .join(names, left_on="b", right_on="node")
        .select("src", dst="n")
    )
    both = pl.concat([coded, coded.select(src="dst", dst="src")]).unique()
    labels = names.select(node="n", label="n")
    for _ in range(max_rounds):
        proposals = (
            both.join(labels, left_on="dst", right_on="node")
            .group_by("src")
            .agg(pl.col("label").min().alias("proposal"))
        )
        updated = labels.join(proposals, left_on="node", right_on="src", how="left").select(
            "node", label=pl.min_horizontal("label", "proposal")
        )
        # pointer jumping: adopt the label's own label, halving long chains each round
        updated = updated.join(
            updated.select(label="node", root="label"), on="label", how="left"
        ).select("node", label=pl.min_horizontal("label", "root"))
        if (updated.sort("node")["label"] == labels.sort("node")["label"]).all():
            return names.join(updated, left_on="n", right_on="node").select(
                "node", component="label"
            )
        labels = updated
    raise RuntimeError(f"connected components did not converge in {max_rounds} rounds")
