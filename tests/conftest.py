"""Shared fixtures: a temporary inbox + warehouse wired through the contract's env vars, and a
helper that runs the whole Dagster graph in-process on them."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from rex_pipeline.resources import RexSettings, WorkDatabase

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO.parent / "shared" / "samples"


def config_naming(overrides: Path) -> Path:
    """A copy of the repository's rex.yaml, beside `overrides`, whose overrides_path is that
    file (so a test's decisions never touch data/overrides.yaml); returns the config's path."""
    config = overrides.with_name("rex.yaml")
    text = (REPO / "rex.yaml").read_text(encoding="utf-8")
    config.write_text(f"overrides_path: {overrides}\n{text}", encoding="utf-8")
    return config


class Env:
    """A throwaway inbox/warehouse, plus helpers to run the graph and read the result."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.inbox = root / "inbox"
        self.db = root / "rex.duckdb"
        for system in ("csv", "gmail", "instantly"):
            (self.inbox / system).mkdir(parents=True, exist_ok=True)

    def write(self, relative: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = self.inbox / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode(encoding))
        return path

    def copy(self, source: Path, relative: str) -> Path:
        target = self.inbox / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return target

    def run(
        self,
        config: dict[str, Any] | None = None,
        assets: list[Any] | None = None,
        instance: dg.DagsterInstance | None = None,
        op_config: dict[str, dict[str, Any]] | None = None,
    ) -> Any:
        """Materialise every asset (or just `assets`) in-process; `config` is SyncConfig (of
        every op; `op_config` sets some ops' apart). Each run has an instance of its own
        unless `instance` (shared runs see each other's history)."""
        from rex_pipeline.definitions import defs

        selected = assets or list(defs.assets or [])
        ops = {a.key.to_python_identifier(): {"config": config or {}} for a in selected}
        for name, own in (op_config or {}).items():
            ops[name] = {"config": {**(config or {}), **own}}
        checks = list(defs.asset_checks or []) if assets is None else []
        return dg.materialize(
            [*selected, *checks],
            resources={"rex_settings": RexSettings(), "work_db": WorkDatabase()},
            run_config={"ops": ops},
            instance=instance or dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
        )

    def sql(self, query: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        con = duckdb.connect(str(self.db), read_only=True)
        try:
            return con.execute(query, params or []).fetchall()
        finally:
            con.close()

    def table(self, name: str, order: str = "ALL") -> list[tuple[Any, ...]]:
        return self.sql(f'SELECT * FROM "{name}" ORDER BY {order}')


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    e = Env(tmp_path)
    monkeypatch.setenv("REX_INBOX_DIR", str(e.inbox))
    monkeypatch.setenv("REX_DUCKDB_PATH", str(e.db))
    monkeypatch.setenv("REX_ORG_ID", "acme-org")
    monkeypatch.setenv("REX_CONFIG", str(REPO / "rex.yaml"))
    monkeypatch.delenv("REX_OWN_DOMAINS", raising=False)
    return e


@pytest.fixture
def samples() -> Path:
    if not SAMPLES.exists():
        pytest.skip("../shared/samples is not beside the repository")
    return SAMPLES
