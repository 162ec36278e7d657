"""Connected components need no scipy: every process resolving a batch would pay its import."""

from __future__ import annotations

import numpy as np

from rex_pipeline.resolve.graph import component_roots
from tests.fresh_imports import imports_module


def test_components_of_a_star_and_a_reversed_chain() -> None:
    # node 9 joins 5..8 (a star), and 0-1-2-3 come as a chain listed from its far end
    src = np.array([3, 2, 1, 9, 9, 9, 9])
    dst = np.array([2, 1, 0, 5, 6, 7, 8])
    assert component_roots(src, dst, 10).tolist() == [0, 0, 0, 0, 4, 5, 5, 5, 5, 5]


def test_resolving_components_imports_no_scipy() -> None:
    script = (
        "import numpy as np\n"
        "from rex_pipeline.resolve.graph import component_roots\n"
        "assert component_roots(np.array([0, 2]), np.array([1, 1]), 3).tolist() == [0, 0, 0]"
    )
    assert not imports_module(script, "scipy")
