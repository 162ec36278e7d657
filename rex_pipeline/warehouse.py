"""The two DuckDB files and how data moves between them.

* The **work database** (`data/.rex.work.duckdb`) is the pipeline's private read-write file: the
  persistent staging tables, the identity map, the file manifest, the per-run batch tables and
  the canonical tables. No analyst opens it, so nobody can hold a lock that blocks a run.
* The **published warehouse** (`data/rex.duckdb`, REX_DUCKDB_PATH) is what analysts open. Each run
  copies the canonical tables into a temporary file and atomically renames it over the old one.
  Readers that have the old file open keep their (consistent) snapshot; new readers see the new
  run. DuckDB's lock is never contended, and a failed run never touches the published file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

from rex_pipeline import records
from rex_pipeline.publish.derived import PUBLISH_ORDER, build_derived_tables
from rex_pipeline.schema import CANONICAL_TABLES, DERIVED_TABLES

# Extra columns the work database keeps on staged records.
_STAGED_EXTRA = {
    "record_id": pl.String(),  # stable id of the input record (hash of its lineage)
    "entity_id": pl.String(),  # the cont_/comp_/act_/deal_/task_ id it resolved to
    "company_id": pl.String(),  # contacts: the company the record names, once resolved
    "match_rule": pl.String(),
    "match_score": pl.Float64(),
    "file_sha": pl.String(),
    "loaded_at": records.UTC_TS,
}

STAGED_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "stg_contacts": {**records.CLEAN_CONTACT, **_STAGED_EXTRA},
    "stg_companies": {**records.CLEAN_COMPANY, **_STAGED_EXTRA},
    "stg_activities": {**records.CLEAN_ACTIVITY, **_STAGED_EXTRA},
    "stg_deals": {**records.CLEAN_DEAL, **_STAGED_EXTRA},
    "stg_tasks": {**records.CLEAN_TASK, **_STAGED_EXTRA},
}

_INTERNAL_DDL = (
    """CREATE TABLE IF NOT EXISTS manifest (
        org_id VARCHAR NOT NULL, source_system VARCHAR NOT NULL, file_name VARCHAR NOT NULL,
        path VARCHAR NOT NULL, size BIGINT, sha256 VARCHAR NOT NULL,
        records_read BIGINT, records_rejected BIGINT, status VARCHAR, error VARCHAR,
        loaded_at TIMESTAMPTZ)""",
    """CREATE TABLE IF NOT EXISTS identity_keys (
        org_id VARCHAR NOT NULL, entity VARCHAR NOT NULL, key VARCHAR NOT NULL,
        entity_id VARCHAR NOT NULL, first_seen_at TIMESTAMPTZ)""",
    """CREATE TABLE IF NOT EXISTS own_addresses (
        org_id VARCHAR NOT NULL, address VARCHAR NOT NULL, source_system VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS run_stats (
        org_id VARCHAR NOT NULL, run_at TIMESTAMPTZ NOT NULL, stats JSON)""",
)


def scalar(con: duckdb.DuckDBPyConnection, query: str, params: object = None) -> object:
    """The first value of a query's result. Fetches the whole (one-row) result: duckdb 2.0
    refuses further work on a connection while a result is half-read."""
    rows = con.execute(query, params).fetchall()
    return rows[0][0] if rows else None


def execute(
    con: duckdb.DuckDBPyConnection, query: str, params: dict[str, object] | None = None
) -> list[tuple[object, ...]]:
    """Run a statement with the named `$parameters` it uses (duckdb rejects unused ones) and
    fetch its whole result."""
    used = {k: v for k, v in (params or {}).items() if f"${k}" in query}
    return con.execute(query, used or None).fetchall()


def work_db_path(published: Path) -> Path:
    return published.with_name(f".{published.stem}.work.duckdb")


def _create_if_missing(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    con.register("__shape", frame)
    try:
        con.execute(f'CREATE TABLE IF NOT EXISTS "{name}" AS SELECT * FROM __shape LIMIT 0')
    finally:
        con.unregister("__shape")


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table the pipeline needs, leaving existing ones (and their data) alone."""
    for table in CANONICAL_TABLES:
        con.execute(table.create_sql(if_not_exists=True))
    for ddl in _INTERNAL_DDL:
        con.execute(ddl)
    for name, schema in STAGED_SCHEMAS.items():
        _create_if_missing(con, name, records.empty(schema))


def _bootstrap_from_published(work: Path, published: Path) -> None:
    """A warehouse copied to a new machine has no work database: start from its canonical
    tables so ids and merges carry over."""
    if work.exists() or not published.exists():
        return
    con = duckdb.connect(str(work))
    try:
        con.execute(f"ATTACH '{published}' AS pub (READ_ONLY)")
        for table in CANONICAL_TABLES:
            exists = scalar(
                con,
                "SELECT count(*) FROM duckdb_tables() WHERE database_name='pub' AND table_name=?",
                [table.name],
            )
            if exists:
                con.execute(f'CREATE TABLE "{table.name}" AS SELECT * FROM pub."{table.name}"')
        con.execute("DETACH pub")
    finally:
        con.close()


@contextmanager
def connect_work(published: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the work database read-write (creating it on first use) and always close it."""
    published.parent.mkdir(parents=True, exist_ok=True)
    work = work_db_path(published)
    _bootstrap_from_published(work, published)
    con = duckdb.connect(str(work))
    try:
        ensure_schema(con)
        yield con
    finally:
        con.close()


def publish(con: duckdb.DuckDBPyConnection, published: Path) -> None:
    """Copy the canonical tables (with their comments) into a fresh file, add the derived
    tables, and atomically swap it in. Open readers keep the old inode; the swap is all or
    nothing."""
    tmp = published.with_name(f"{published.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    work_catalog = scalar(con, "SELECT current_database()")
    con.execute(f"ATTACH '{tmp}' AS pub")
    try:
        for table in CANONICAL_TABLES:
            con.execute(table.create_sql("pub"))
            source = f'"{work_catalog}".main."{table.name}"'
            order = PUBLISH_ORDER.get(table.name, "")
            con.execute(f'INSERT INTO pub.main."{table.name}" SELECT * FROM {source} {order}')
        build_derived_tables(con, "pub")
        con.execute("USE pub")
        try:
            for table in (*CANONICAL_TABLES, *DERIVED_TABLES):
                for stmt in table.comment_sql():
                    con.execute(stmt)
        finally:
            con.execute(f'USE "{work_catalog}"')
    finally:
        con.execute("DETACH pub")
    os.replace(tmp, published)
