"""The work database's tables: every step's connection creates the missing ones and leaves the
others (and their rows) alone, judging by the tables of the work database itself."""

from __future__ import annotations

from pathlib import Path

import duckdb

from rex_pipeline import warehouse


def _tables(con: duckdb.DuckDBPyConnection, catalog: str) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main'",
        [catalog],
    ).fetchall()
    return {name for (name,) in rows}


def test_dropped_tables_come_back_and_kept_ones_keep_their_rows(tmp_path: Path) -> None:
    published = tmp_path / "rex.duckdb"
    with warehouse.connect_work(published) as con:
        everything = _tables(con, "rex")
        con.execute("INSERT INTO identity_keys VALUES ('o', 'contact', 'email:a@x.io', 'c1', NULL)")
        con.execute("DROP TABLE stg_contacts")
        con.execute("DROP TABLE contacts")
        con.execute("DROP TABLE known_files")
    with warehouse.connect_work(published) as con:
        assert _tables(con, "rex") == everything
        assert con.execute("SELECT key FROM identity_keys").fetchall() == [("email:a@x.io",)]
        assert con.execute("SELECT count(*) FROM stg_contacts").fetchall() == [(0,)]


def test_a_table_of_that_name_elsewhere_does_not_count(tmp_path: Path) -> None:
    """An attached database (the published file during a publish) or a temporary table with a
    work table's name must not stop the work database from getting its own."""
    published = tmp_path / "rex.duckdb"
    with warehouse.connect_work(published) as con:
        con.execute("DROP TABLE stg_contacts")
        con.execute("DROP TABLE manifest")
        con.execute(f"ATTACH '{tmp_path / 'other.duckdb'}' AS other")
        con.execute("CREATE TABLE other.main.stg_contacts (x INTEGER)")
        con.execute("CREATE TEMP TABLE manifest (x INTEGER)")
        warehouse.ensure_schema(con)
        assert {"stg_contacts", "manifest"} <= _tables(con, "rex")
