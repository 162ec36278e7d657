"""Dagster resources: where the inbox and warehouse are, and a connection to the work database.

Paths come from rex.yaml and the contract's environment variables at run time (not at import
time), so tests and schedules can point a run at another inbox by setting REX_* variables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dagster as dg
import duckdb

from rex_pipeline import warehouse
from rex_pipeline.config import ConfigError, Settings, load_settings

MEMORY_LIMIT_ENV = "REX_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "1GB"
"""DuckDB's own default is 80% of RAM, so a million-row run never spilled and grew past 5 GB.
With a limit, large joins, sorts and aggregations spill to `<work database>.tmp/` instead."""


class RexSettings(dg.ConfigurableResource):
    """The run's settings: rex.yaml (or REX_CONFIG) plus REX_* environment overrides."""

    config_path: str | None = None

    def load(self, **overrides: Any) -> Settings:
        return load_settings(self.config_path, **overrides)


def memory_limit(default: str = DEFAULT_MEMORY_LIMIT) -> str:
    """The work database's memory limit: REX_DUCKDB_MEMORY_LIMIT (a DuckDB size such as
    "4GB" or "800MB") when set, for every stage; else the stage's `default`."""
    return os.environ.get(MEMORY_LIMIT_ENV, "").strip() or default


class WorkDatabase(dg.ConfigurableResource):
    """Read-write connection to the pipeline's private work database (never the analysts'
    file, so an analyst holding the warehouse open can never block a run)."""

    @contextmanager
    def connect(
        self, settings: Settings, default_memory_limit: str = DEFAULT_MEMORY_LIMIT
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """The open work database; `default_memory_limit` lets a stage that holds its data
        in polars leave more of the memory to polars."""
        with warehouse.connect_work(settings.duckdb_path) as con:
            limit = memory_limit(default_memory_limit)
            try:
                con.execute("SET memory_limit = ?", [limit])
            except duckdb.Error as exc:
                raise ConfigError(f"{MEMORY_LIMIT_ENV}={limit!r} is not a size: {exc}") from exc
            yield con
