"""This run's batch: the scratch tables assets hand to each other inside the work database.

Assets never pass data in memory; each writes its batch tables and the next reads them (the
Dagster way for a DuckDB warehouse: `deps=[...]`). Batch tables change nothing durable: only the
publish step applies a batch to the persistent tables, in one transaction, then clears it. A
run that fails half-way therefore leaves the warehouse as it was, and the next run re-parses
the same files (their manifest entries were never written).
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import polars as pl

from rex_pipeline import records
from rex_pipeline.handover import registered
from rex_pipeline.warehouse import scalar


def table(
    con: duckdb.DuckDBPyConnection,
    name: str,
    columns: Sequence[str] | None = None,
    limit: int | None = None,
) -> pl.DataFrame:
    """The batch table as a frame; only `columns` when given (wide tables cost memory), only
    its first `limit` rows when given (a preview of a million-row table reads ten)."""
    wanted = ", ".join(f'"{c}"' for c in columns) if columns else "*"
    head = f" LIMIT {int(limit)}" if limit is not None else ""
    return con.sql(f'SELECT {wanted} FROM "{name}"{head}').pl()


def exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        scalar(
            con,
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name='main' AND table_name=?",
            [name],
        )
    )


_OWNER = "batch_owner"  # the run whose batch this is (`assets.batch_owner`); dropped with it


def owner(con: duckdb.DuckDBPyConnection) -> str | None:
    if not exists(con, _OWNER):
        return None
    value = scalar(con, f"SELECT run_id FROM {_OWNER}")
    return None if value is None else str(value)


def set_owner(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    con.execute(f"CREATE OR REPLACE TABLE {_OWNER} AS SELECT ?::VARCHAR AS run_id", [run_id])


class BatchMissingError(RuntimeError):
    """A step ran without the batch table an earlier step of the same run makes."""


def require(con: duckdb.DuckDBPyConnection, name: str, step: str, made_by: str) -> None:
    """Fail clearly when `name` is missing: the step was selected without `made_by`, or a
    run is re-executed after its batch was published (which drops the batch)."""
    if not exists(con, name):
        raise BatchMissingError(
            f"{step} works on this run's batch, which {made_by} makes, and there is none: "
            f"materialise {step} together with the assets before it (select '*', or "
            "'Materialize all' in the UI), or start a new run rather than re-executing one "
            "whose warehouse step already published"
        )


def replace(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    """Create or replace a batch table with exactly this frame."""
    with registered(con, "__frame", frame):
        con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM __frame')


def replace_rows(
    con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame, where: str, params: list
) -> None:
    """Replace the rows matching `where` (one source system's share) with `frame`."""
    if not exists(con, name):
        replace(con, name, frame)
        return
    with registered(con, "__frame", frame):
        con.execute("BEGIN")
        try:
            con.execute(f'DELETE FROM "{name}" WHERE {where}', params)
            con.execute(f'INSERT INTO "{name}" BY NAME SELECT * FROM __frame')
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise


def append(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    """Add the frame's rows to an existing batch table (columns matched by name): how a large
    file is staged chunk by chunk without ever being held whole."""
    with registered(con, "__frame", frame):
        con.execute(f'INSERT INTO "{name}" BY NAME SELECT * FROM __frame')


def read_or_empty(
    con: duckdb.DuckDBPyConnection, name: str, schema: dict[str, pl.DataType]
) -> pl.DataFrame:
    return table(con, name) if exists(con, name) else records.empty(schema)


def from_reread_file(alias: str) -> str:
    """SQL predicate: the row `alias` comes from a file this run reads again (`batch_files`),
    so the new parse replaces what was staged from it before. Led by a condition it implies
    that DuckDB pushes into the scan as a filter on one column (`source_file IN (...)`): the
    correlated EXISTS alone plans a join fed by three columns of every row (1M warehouse:
    ~0.1 s -> ~0.01 s a table)."""
    return (
        f"({alias}.source_file IN (SELECT file_name FROM batch_files) AND "
        f"EXISTS (SELECT 1 FROM batch_files f WHERE f.org_id = {alias}.org_id "
        f"AND f.source_system = {alias}.source_system AND f.file_name = {alias}.source_file))"
    )


def rereads_known_file(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether this run reads a file again whose records the warehouse holds: one the manifest
    lists (every file a run applied) or `known_files` (those a bootstrap found). A sync of new
    exports reads none."""
    if not all(exists(con, name) for name in ("batch_files", "manifest", "known_files")):
        return True  # nothing to tell by (not a work database): assume the worst
    return bool(
        scalar(
            con,
            """SELECT count(*) FROM batch_files f WHERE EXISTS (
                   SELECT 1 FROM manifest m WHERE m.org_id = f.org_id
                      AND m.source_system = f.source_system AND m.file_name = f.file_name
                   UNION ALL
                   SELECT 1 FROM known_files k WHERE k.org_id = f.org_id
                      AND k.source_system = f.source_system AND k.file_name = f.file_name)""",
        )
    )


def reread_filter(con: duckdb.DuckDBPyConnection, alias: str) -> str:
    """`from_reread_file(alias)`, or FALSE when the run reads no file again
    (`rereads_known_file`): a constant the planner folds away, where the predicate joins every
    row of the table to the batch's files (1M increment: 0.1-0.3 s a query)."""
    return from_reread_file(alias) if rereads_known_file(con) else "FALSE"


def drop_all(con: duckdb.DuckDBPyConnection) -> None:
    """Forget the batch once it has been applied: its tables and views."""
    pattern = "schema_name = 'main' AND {column} LIKE 'batch\\_%' ESCAPE '\\'"
    views = con.execute(
        f"SELECT view_name FROM duckdb_views() WHERE {pattern.format(column='view_name')}"
    ).fetchall()
    for (name,) in views:
        con.execute(f'DROP VIEW "{name}"')
    tables = con.execute(
        f"SELECT table_name FROM duckdb_tables() WHERE {pattern.format(column='table_name')}"
    ).fetchall()
    for (name,) in tables:
        con.execute(f'DROP TABLE "{name}"')
