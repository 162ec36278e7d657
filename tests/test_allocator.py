"""polars' allocator keeps freed memory for 10 s in a process that imports rex_pipeline first,
unless the user chose otherwise. Checked on the allocator itself: jemalloc prints the options
it runs with (`stats_print`) when the process exits."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from rex_pipeline.allocator import POLARS_ALLOCATOR_ENV

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="polars uses jemalloc on Linux"
)


def _decay_in_effect(script: str, user_setting: str | None = None) -> int:
    """polars' dirty_decay_ms after `script` ran in a fresh interpreter and polars loaded."""
    env = {k: v for k, v in os.environ.items() if k != POLARS_ALLOCATOR_ENV}
    if user_setting is not None:
        env[POLARS_ALLOCATOR_ENV] = user_setting
    code = (
        f"{script}\nimport os\n"
        f"chosen = [os.environ.get({POLARS_ALLOCATOR_ENV!r}, ''), 'stats_print:true']\n"
        f"os.environ[{POLARS_ALLOCATOR_ENV!r}] = ','.join(filter(None, chosen))\n"
        "import polars\npolars.Series(range(3)).sum()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    found = re.search(r"opt\.dirty_decay_ms: (-?\d+)", out.stdout + out.stderr)
    assert found, "jemalloc printed no options"
    return int(found.group(1))


def test_importing_rex_pipeline_first_keeps_freed_memory_for_ten_seconds() -> None:
    assert _decay_in_effect("import rex_pipeline") == 10_000


def test_polars_alone_returns_freed_memory_after_half_a_second() -> None:
    # what the setting changes: polars' own choice
    assert _decay_in_effect("") == 500


def test_polars_own_setting_inherited_from_a_parent_process_is_replaced() -> None:
    # a benchmark or notebook that imported polars passes polars' setting on to the pipeline
    # processes it starts: it is nobody's choice
    parent = "dirty_decay_ms:500,muzzy_decay_ms:1000"
    assert _decay_in_effect("import rex_pipeline", user_setting=parent) == 10_000


def test_our_setting_passed_on_to_a_worker_process_is_kept() -> None:
    parent = "dirty_decay_ms:500,muzzy_decay_ms:1000,dirty_decay_ms:10000,muzzy_decay_ms:10000"
    assert _decay_in_effect("import rex_pipeline", user_setting=parent) == 10_000


def test_a_users_own_setting_is_kept() -> None:
    assert _decay_in_effect("import rex_pipeline", user_setting="dirty_decay_ms:2000") == 2_000
