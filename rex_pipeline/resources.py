"""Dagster resources: where the inbox and warehouse are, and a connection to the work database.

Paths come from rex.yaml and the contract's environment variables at run time (not at import
time), so tests and schedules can point a run at another inbox by setting REX_* variables.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dagster as dg
import duckdb

from rex_pipeline import warehouse
from rex_pipeline.config import Settings, load_settings


class RexSettings(dg.ConfigurableResource):
    """The run's settings: rex.yaml (or REX_CONFIG) plus REX_* environment overrides."""

    config_path: str | None = None

    def load(self, **overrides: Any) -> Settings:
        return load_settings(self.config_path, **overrides)


class WorkDatabase(dg.ConfigurableResource):
    """Read-write connection to the pipeline's private work database (never the analysts'
    file, so an analyst holding the warehouse open can never block a run)."""

    @contextmanager
    def connect(self, settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
        with warehouse.connect_work(settings.duckdb_path) as con:
            yield con
