"""On the first run into an empty staged table, the batch's record table becomes the staged
table (a rename) instead of being copied into it, but only when that changes nothing: the
same columns and types in the same order, and every assigned record there."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from rex_pipeline import warehouse
from rex_pipeline.publish.apply import _take_over

COLUMNS = [("org_id", "VARCHAR"), ("record_id", "VARCHAR"), ("entity_id", "VARCHAR")]


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    c = duckdb.connect(str(tmp_path / "work.duckdb"))
    c.execute("CREATE TABLE stg (org_id VARCHAR, record_id VARCHAR, entity_id VARCHAR)")
    c.execute("CREATE TABLE records AS SELECT * FROM stg LIMIT 0")
    c.execute("INSERT INTO records VALUES ('acme', 'r1', 'cont_1'), ('acme', 'r2', 'cont_2')")
    c.execute("CREATE TABLE assigned AS SELECT record_id FROM records")
    return c


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}


def test_an_empty_staged_table_takes_the_records_over(con: duckdb.DuckDBPyConnection) -> None:
    assert _take_over(con, "stg", "records", "assigned")
    assert _tables(con) == {"stg", "assigned"}
    assert con.execute("SELECT record_id FROM stg ORDER BY 1").fetchall() == [("r1",), ("r2",)]
    assert (
        warehouse.execute(
            con,
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'stg'"
            " ORDER BY column_index",
        )
        == COLUMNS
    )


@pytest.mark.parametrize(
    "change",
    [
        "INSERT INTO stg VALUES ('other-org', 'x1', 'cont_x')",  # another org's records
        "ALTER TABLE records ADD COLUMN raw VARCHAR",  # a column the staged table lacks
        "ALTER TABLE records ALTER entity_id TYPE BLOB",  # another type
        "INSERT INTO assigned VALUES ('r3')",  # an assigned record missing
    ],
)
def test_anything_else_is_left_to_the_copy(con: duckdb.DuckDBPyConnection, change: str) -> None:
    con.execute(change)
    before = con.execute("SELECT count(*) FROM stg").fetchall()
    assert not _take_over(con, "stg", "records", "assigned")
    assert _tables(con) == {"stg", "records", "assigned"}
    assert con.execute("SELECT count(*) FROM stg").fetchall() == before
