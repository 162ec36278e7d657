"""Connected components over integer nodes.

Exact-key resolution is a graph problem: records, the keys they share and the existing
entities that own those keys are nodes, and a record (or entity) is connected to each of its
keys. Every connected component is one entity. Callers number the nodes `0 … size-1`; the
components come from scipy's compiled routine, so a million-record batch takes well under a
second.
"""

from __future__ import annotations

import numpy as np


def component_roots(src: np.ndarray, dst: np.ndarray, size: int) -> np.ndarray:
    """For each node `0 … size-1`, the smallest node of its component (int64 array): two nodes
    share the root exactly when a path of edges `src[i] — dst[i]` joins them. Roots depend only
    on the numbering, never on scipy's, so callers that number older records first get each
    component's oldest record as its root."""
    if size == 0 or len(src) == 0:
        return np.arange(size, dtype=np.int64)
    # imported on use: scipy.sparse adds half a second to every process that loads the graph
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    graph = coo_array((np.ones(len(src), dtype=bool), (src, dst)), shape=(size, size))
    _, labels = connected_components(graph.tocsr(), directed=False)
    # the first node carrying each label is the smallest one of its component
    _, first = np.unique(labels, return_index=True)
    return first[labels].astype(np.int64)
