"""Fault injection for crash tests: `crash_point("name")` kills the own process with SIGKILL when
the environment variable REX_CRASH_AT equals that name, and does nothing otherwise.

SIGKILL cannot be caught: no `finally`, no `atexit`, no DuckDB checkpoint runs, exactly as when
the machine or the OOM killer stops a sync. The named points sit where a crash would hurt most
(between parse and stage, inside the apply transaction, between writing the analyst copy and
swapping it in); tests/hardening/test_crash.py kills a real run at each and checks that the
published warehouse is either the old state or the new one and that the next run repairs the
rest. Unset (always, in production) a point costs one dictionary look-up.
"""

from __future__ import annotations

import os
import signal

ENV_VAR = "REX_CRASH_AT"


def crash_point(name: str) -> None:
    """Die here, at once and without cleanup, if REX_CRASH_AT names this point."""
    if os.environ.get(ENV_VAR) == name:
        os.kill(os.getpid(), signal.SIGKILL)
