"""Connected components over an edge list.

Exact-key resolution is a graph problem: records and the keys they carry (email keys, LinkedIn
URL, natural source ids, existing entity ids) are nodes, and a record is connected to each of
its keys. Every connected component is one entity. Nodes are coded as integers in polars and the
components come from scipy's compiled graph routine, so a million-record batch takes well under
a second.
"""

from __future__ import annotations

import numpy as np
import polars as pl


def connected_components(edges: pl.DataFrame) -> pl.DataFrame:
    """Map each node of `edges` (columns `a`, `b`, strings) to a component number (UInt32):
    two nodes share the number exactly when a path of edges joins them. Numbers are the smallest
    node (in sort order) of each component, so they are deterministic. Returns `node`,
    `component`."""
    # imported on use: scipy.sparse adds half a second to every process that loads the graph
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components as scipy_components

    names = pl.concat([edges["a"], edges["b"]]).unique().sort().rename("node").to_frame()
    names = names.with_row_index("n")
    coded = edges.join(names, left_on="a", right_on="node").join(
        names, left_on="b", right_on="node", suffix="_b"
    )
    size = names.height
    src = coded["n"].to_numpy()
    dst = coded["n_b"].to_numpy()
    graph = coo_array((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(size, size))
    _, labels = scipy_components(graph.tocsr(), directed=False)
    # relabel each component by its smallest node number: independent of scipy's numbering
    frame = names.with_columns(label=pl.Series(labels, dtype=pl.UInt32))
    return frame.select("node", component=pl.col("n").min().over("label").cast(pl.UInt32))
