"""Publishing by updating a copy of the last published file: it must hold exactly what writing
the file afresh would, and it is only used when the old file is the one the pipeline wrote."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from rex_pipeline import warehouse
from rex_pipeline.publish.delta import apply_table_delta, same_columns
from rex_pipeline.schema import CANONICAL_TABLES, CONTACT_EMAILS, DERIVED_TABLES
from tests.ops.ops_warehouse import Warehouse

ROW_ID_COLUMNS = {"contact_row", "record_row"}  # rowids: equal content, other positions


def _rows(con: duckdb.DuckDBPyConnection, catalog: str, table: str) -> list[tuple[object, ...]]:
    return sorted(con.execute(f'SELECT * FROM "{catalog}".main."{table}"').fetchall(), key=repr)


def test_delta_turns_the_old_rows_into_the_new_ones_as_a_multiset() -> None:
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS pub")
    for catalog in ("memory", "pub"):
        con.execute(CONTACT_EMAILS.create_sql(catalog))
    con.execute(
        """INSERT INTO pub.main.contact_emails VALUES
             ('acme', 'cont_a', 'ada@acme.com', true), ('acme', 'cont_b', 'bob@acme.com', true),
             ('acme', 'cont_b', 'bob@acme.com', true), ('acme', 'cont_c', 'cy@acme.com', true);
           INSERT INTO memory.main.contact_emails VALUES
             ('acme', 'cont_a', 'ada@acme.com', true), ('acme', 'cont_b', 'bob@acme.com', true),
             ('acme', 'cont_c', 'cy@acme.com', false), ('acme', 'cont_d', 'di@acme.com', false);"""
    )
    delta = apply_table_delta(con, "pub", "memory", CONTACT_EMAILS)
    assert (delta.deleted, delta.inserted) == (2, 2)  # one bob copy and the old cy; new cy, d
    assert _rows(con, "pub", "contact_emails") == _rows(con, "memory", "contact_emails")
    again = apply_table_delta(con, "pub", "memory", CONTACT_EMAILS)
    assert (again.deleted, again.inserted) == (0, 0)


def test_a_table_of_another_shape_is_not_updated_in_place() -> None:
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS pub")
    con.execute(CONTACT_EMAILS.create_sql("memory"))
    con.execute(CONTACT_EMAILS.create_sql("pub"))
    assert same_columns(con, "pub", "memory", CONTACT_EMAILS)
    con.execute("ALTER TABLE pub.main.contact_emails ADD COLUMN note VARCHAR")
    assert not same_columns(con, "pub", "memory", CONTACT_EMAILS)
    con.execute("DROP TABLE pub.main.contact_emails")
    assert not same_columns(con, "pub", "memory", CONTACT_EMAILS)


def _publish(built: Warehouse) -> str | None:
    with warehouse.connect_work(built.published) as con:
        warehouse.mark_changed(con)
        return warehouse.publish(con, built.published)


def _change(built: Warehouse) -> None:
    i = built.ids
    built.change_work(
        f"UPDATE contacts SET title = 'CTO', icp_score = 91 WHERE id = '{i.ada}'",
        f"DELETE FROM contact_emails WHERE contact_id = '{i.grace}'",
        f"DELETE FROM contacts WHERE id = '{i.linus}'",
        "INSERT INTO companies (id, org_id, name, domain, created_at, updated_at) VALUES"
        " ('comp_01jx0000000000000000000000', 'acme', 'Initech', 'initech.com',"
        " TIMESTAMPTZ '2024-06-01 00:00:00+00', TIMESTAMPTZ '2024-06-01 00:00:00+00')",
    )


def test_an_updated_copy_holds_what_a_fresh_file_would(tmp_path: Path) -> None:
    built = Warehouse.build(tmp_path / "a")
    _change(built)
    assert _publish(built) == "updated"
    (tmp_path / "b").mkdir()
    fresh = built.copy_to(tmp_path / "b")
    with warehouse.connect_work(fresh.published) as con:  # a copied file is not reused
        assert warehouse.publish(con, fresh.published, force=True) == "written"

    con = duckdb.connect()
    con.execute(f"ATTACH '{built.published}' AS updated (READ_ONLY)")
    con.execute(f"ATTACH '{fresh.published}' AS fresh (READ_ONLY)")
    for table in (*CANONICAL_TABLES, *DERIVED_TABLES):
        columns = ", ".join(f'"{c}"' for c in table.column_names if c not in ROW_ID_COLUMNS)
        query = f'SELECT {columns} FROM "{{db}}".main."{table.name}"'
        assert sorted(con.execute(query.format(db="updated")).fetchall(), key=repr) == sorted(
            con.execute(query.format(db="fresh")).fetchall(), key=repr
        ), table.name
    titles = con.execute("SELECT title FROM updated.main.contacts WHERE title = 'CTO'").fetchall()
    assert titles == [("CTO",)]
    assert con.execute("SELECT count(*) FROM updated.main.contacts").fetchall() == [(2,)]


def test_a_file_not_written_by_the_last_publish_is_written_afresh(tmp_path: Path) -> None:
    built = Warehouse.build(tmp_path)
    with duckdb.connect(str(built.published)) as con:  # someone changed the analysts' file
        con.execute("DELETE FROM contacts")
    _change(built)
    assert _publish(built) == "written"
    with duckdb.connect(str(built.published), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM contacts").fetchall() == [(2,)]


def test_a_copy_grown_past_the_limit_is_written_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = Warehouse.build(tmp_path)
    _change(built)
    monkeypatch.setattr(warehouse, "GROWTH_LIMIT", 0.5)
    assert _publish(built) == "written"
    monkeypatch.setattr(warehouse, "GROWTH_LIMIT", 2.0)
    built.change_work(f"UPDATE contacts SET title = 'CEO' WHERE id = '{built.ids.ada}'")
    assert _publish(built) == "updated"
