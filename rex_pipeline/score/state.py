"""Which ICP model the stored scores came from, per org.

A run scores only the contacts it can change unless the model changed since the stored
scores were computed; then every contact is scored again. The hash is staged by the scoring
step (`batch_icp_model`) and written by publish in the same transaction as the scores, so it
never claims scores that were not applied.
"""

from __future__ import annotations

import duckdb
import polars as pl

from rex_pipeline import batch

_DDL = """CREATE TABLE IF NOT EXISTS icp_model_state (
    org_id VARCHAR PRIMARY KEY, model_hash VARCHAR NOT NULL)"""


def stored_model_hash(con: duckdb.DuckDBPyConnection, org: str) -> str | None:
    """The hash of the model the org's stored scores came from (None before the first run)."""
    con.execute(_DDL)
    rows = con.execute("SELECT model_hash FROM icp_model_state WHERE org_id = ?", [org]).fetchall()
    return str(rows[0][0]) if rows else None


def stage_model_hash(con: duckdb.DuckDBPyConnection, org: str, model_hash: str) -> None:
    batch.replace(
        con, "batch_icp_model", pl.DataFrame({"org_id": [org], "model_hash": [model_hash]})
    )


def apply_model_hash(con: duckdb.DuckDBPyConnection) -> None:
    """Inside the publish transaction: remember the staged model hash."""
    if not batch.exists(con, "batch_icp_model"):
        return
    con.execute(_DDL)
    con.execute(
        "INSERT OR REPLACE INTO icp_model_state SELECT org_id, model_hash FROM batch_icp_model"
    )
