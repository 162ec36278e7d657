"""Which ICP model the stored scores came from, per org, and the customer-insights report of
the run that scored every contact.

A run scores only the contacts it can change unless the model changed since the stored
scores were computed; then every contact is scored again. The hash is staged by the scoring
step (`batch_icp_model`) and written by publish in the same transaction as the scores, so it
never claims scores that were not applied.
"""

from __future__ import annotations

import json

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


def _keep_staged(con: duckdb.DuckDBPyConnection, staged: str, ddl: str, table: str) -> None:
    """Inside the publish transaction: the staged row, if a step staged one, into `table`
    (created by `ddl`), replacing the org's previous one."""
    if not batch.exists(con, staged):
        return
    con.execute(ddl)
    con.execute(f"INSERT OR REPLACE INTO {table} BY NAME SELECT * FROM {staged}")


def apply_model_hash(con: duckdb.DuckDBPyConnection) -> None:
    """Inside the publish transaction: remember the staged model hash."""
    _keep_staged(con, "batch_icp_model", _DDL, "icp_model_state")


# The customer-insights report a scoring pass over every contact computed, handed to the
# insights asset of the same run (staged as `batch_icp_insights`, written by publish with the
# scores): scoring every contact again after publishing would repeat that pass.
_INSIGHTS_DDL = """CREATE TABLE IF NOT EXISTS icp_insights (
    org_id VARCHAR PRIMARY KEY, run_id VARCHAR NOT NULL, model_hash VARCHAR NOT NULL,
    report VARCHAR NOT NULL)"""


def stage_insights(
    con: duckdb.DuckDBPyConnection,
    org: str,
    run_id: str,
    model_hash: str,
    report: dict[str, object] | None,
) -> None:
    """Stage this run's report (plain values, see `insights_of_run`), or none."""
    if report is None:
        con.execute("DROP TABLE IF EXISTS batch_icp_insights")
        return
    frame = pl.DataFrame(
        {
            "org_id": [org],
            "run_id": [run_id],
            "model_hash": [model_hash],
            "report": [json.dumps(report)],
        }
    )
    batch.replace(con, "batch_icp_insights", frame)


def apply_insights(con: duckdb.DuckDBPyConnection) -> None:
    """Inside the publish transaction: keep the staged report."""
    _keep_staged(con, "batch_icp_insights", _INSIGHTS_DDL, "icp_insights")


def insights_of_run(
    con: duckdb.DuckDBPyConnection, org: str, run_id: str, model_hash: str
) -> dict[str, object] | None:
    """The report the scoring step of run `run_id` computed with this model, if it did."""
    con.execute(_INSIGHTS_DDL)
    rows = con.execute(
        "SELECT report FROM icp_insights WHERE org_id = ? AND run_id = ? AND model_hash = ?",
        [org, run_id, model_hash],
    ).fetchall()
    return json.loads(rows[0][0]) if rows else None
