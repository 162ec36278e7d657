"""Whether running a snippet in a fresh interpreter imports a module: start-up cost tests (a
module already imported by the test session would hide the import being checked)."""

from __future__ import annotations

import subprocess
import sys


def imports_module(script: str, module: str) -> bool:
    """Run `script` in a new Python process and say whether `module` was imported by then."""
    code = f"{script}\nimport sys\nprint({module!r} in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip() == "True"
