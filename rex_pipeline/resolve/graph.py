"""Connected components over integer nodes.

Exact-key resolution is a graph problem: records, the keys they share and the existing
entities that own those keys are nodes, and a record (or entity) is connected to each of its
keys. Every connected component is one entity. Callers number the nodes `0 … size-1`; the
components come from a vectorised union-find in numpy (hook each edge's larger root under its
smaller one, then shortcut every node to its root, until the edges agree), so a
million-record batch takes well under a second and no process pays scipy's import (about half
a second) for it.
"""

from __future__ import annotations

import numpy as np


def component_roots(src: np.ndarray, dst: np.ndarray, size: int) -> np.ndarray:
    """For each node `0 … size-1`, the smallest node of its component (int64 array): two nodes
    share the root exactly when a path of edges `src[i] — dst[i]` joins them. Roots depend only
    on the numbering, so callers that number older records first get each component's oldest
    record as its root."""
    roots = np.arange(size, dtype=np.int64)
    if size == 0 or len(src) == 0:
        return roots
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    # invariant: roots[i] <= i and roots[i] is in i's component, so a node that is its own
    # root is the smallest of the nodes pointing to it; at the end that is the component's
    while True:
        lo = np.minimum(roots[src], roots[dst])
        hi = np.maximum(roots[src], roots[dst])
        apart = lo != hi
        if not apart.any():
            return roots
        # hook: every root still apart from a neighbour points at the smallest one offered
        np.minimum.at(roots, hi[apart], lo[apart])
        # shortcut: follow the pointers until every node names a root
        while True:
            hop = roots[roots]
            if np.array_equal(hop, roots):
                break
            roots = hop
