"""A run's peak memory is its own, not the benchmark process's: a child started by
vfork/exec reports its parent's RSS as its wait4 `ru_maxrss`, which once made an unchanged
inbox's re-run look like 1 GB after the benchmark had generated an increment."""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks.bench import run_child

CHILD = "import time; x = bytearray(40 * 2**20); x[::4096] = b'1' * len(x[::4096]); time.sleep(0.4)"


def test_peak_is_the_child_own_high_water_mark(tmp_path: Path) -> None:
    parent = bytearray(300 * 2**20)
    parent[::4096] = b"1" * len(parent[::4096])  # touch it: resident
    run = run_child([sys.executable, "-c", CHILD], {}, tmp_path / "child.log")
    assert run.returncode == 0
    assert 40 < run.peak_rss_mb < 200  # 40 MB and an interpreter; the parent's 300 MB not
    del parent
