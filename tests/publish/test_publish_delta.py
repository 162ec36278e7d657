"""Publishing by updating a copy of the last published file: it must hold exactly what writing
the file afresh would, and it is only used when the old file is the one the pipeline wrote."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from rex_pipeline import warehouse
from rex_pipeline.publish import derived
from rex_pipeline.publish.delta import apply_table_delta, same_columns
from rex_pipeline.schema import (
    CANONICAL_TABLES,
    CONTACT_EMAILS,
    CONTACT_SEARCH,
    CONTACTS_BY,
    DERIVED_TABLES,
)
from tests.ops.ops_warehouse import Warehouse

ROW_ID_COLUMNS = {"contact_row", "record_row"}  # rowids: equal content, other positions
# Positions of rows placed in place differ from a fresh build's (only their order must agree:
# test_publish_derived_update.py checks it).
POSITION_COLUMNS = {"position", "pos_asc", "pos_desc", "first_position", "last_position"}


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


def test_copies_of_a_row_pair_up_whichever_side_holds_more() -> None:
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS pub")
    for catalog in ("memory", "pub"):
        con.execute(CONTACT_EMAILS.create_sql(catalog))
    bob, cy = "('acme', 'cont_b', 'bob@acme.com', true)", "('acme', 'cont_c', 'cy@acme.com', true)"
    con.execute(f"INSERT INTO pub.main.contact_emails VALUES {bob}, {cy}")
    con.execute(f"INSERT INTO memory.main.contact_emails VALUES {bob}, {bob}, {bob}, {cy}, {cy}")
    grown = apply_table_delta(con, "pub", "memory", CONTACT_EMAILS)
    assert (grown.deleted, grown.inserted) == (0, 3)  # two more bobs, one more cy
    assert _rows(con, "pub", "contact_emails") == _rows(con, "memory", "contact_emails")
    con.execute("DELETE FROM memory.main.contact_emails")
    con.execute(f"INSERT INTO memory.main.contact_emails VALUES {bob}")
    shrunk = apply_table_delta(con, "pub", "memory", CONTACT_EMAILS)
    assert (shrunk.deleted, shrunk.inserted) == (4, 0)  # two bobs and both cys go
    assert _rows(con, "pub", "contact_emails") == [("acme", "cont_b", "bob@acme.com", True)]


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


def _assert_equal_to_a_fresh_write(built: Warehouse, tmp_path: Path) -> None:
    """Every table of the updated file holds what a fresh write of the same state holds (rowid
    columns aside), and every rowid a derived table keeps points at its row."""
    (tmp_path / "fresh").mkdir()
    fresh = built.copy_to(tmp_path / "fresh")
    with warehouse.connect_work(fresh.published) as con:  # a copied file is not reused
        assert warehouse.publish(con, fresh.published, force=True) == "written"
    con = duckdb.connect()
    con.execute(f"ATTACH '{built.published}' AS updated (READ_ONLY)")
    con.execute(f"ATTACH '{fresh.published}' AS fresh (READ_ONLY)")
    for table in (*CANONICAL_TABLES, *DERIVED_TABLES):
        skip = ROW_ID_COLUMNS | POSITION_COLUMNS
        columns = ", ".join(f'"{c}"' for c in table.column_names if c not in skip)
        query = f'SELECT {columns} FROM "{{a}}".main."{table.name}"'
        for a, b in (("updated", "fresh"), ("fresh", "updated")):
            extra = f"{query.format(a=a)} EXCEPT ALL {query.format(a=b)}"
            assert con.execute(extra).fetchall() == [], (table.name, a)
    for table in (CONTACT_SEARCH, *CONTACTS_BY.values()):
        stray = f"""SELECT s.contact_id FROM updated.main."{table.name}" s
                    LEFT JOIN updated.main.contacts c ON c.rowid = s.contact_row
                    WHERE c.id IS DISTINCT FROM s.contact_id"""
        assert con.execute(stray).fetchall() == [], table.name
    for kind in derived.OWNER_SORT:
        stray = f"""SELECT s.record_id FROM updated.main.owner_records s
                    LEFT JOIN updated.main."{kind}" r ON r.rowid = s.record_row
                    WHERE s.kind = '{kind}' AND r.id IS DISTINCT FROM s.record_id"""
        assert con.execute(stray).fetchall() == [], kind


def test_an_updated_copy_holds_what_a_fresh_file_would(tmp_path: Path) -> None:
    """Deleting rows makes the copy's final checkpoint renumber contacts (small row groups
    merge): the derived tables must point at the renumbered rows."""
    built = Warehouse.build(tmp_path / "a")
    _change(built)
    assert _publish(built) == "updated"
    _assert_equal_to_a_fresh_write(built, tmp_path)
    con = duckdb.connect(str(built.published), read_only=True)
    titles = con.execute("SELECT title FROM contacts WHERE title = 'CTO'").fetchall()
    assert titles == [("CTO",)]
    assert con.execute("SELECT count(*) FROM contacts").fetchall() == [(2,)]


def _record_derived_builds(monkeypatch: pytest.MonkeyPatch) -> list[set[str] | None]:
    """What each publish asks `build_derived_tables` to build (None: all), in order."""
    rebuilt: list[set[str] | None] = []
    build = derived.build_derived_tables
    monkeypatch.setattr(
        warehouse,
        "build_derived_tables",
        lambda con, catalog, only=None: rebuilt.append(only) or build(con, catalog, only),
    )
    return rebuilt


def _edit_an_activity(built: Warehouse) -> None:
    built.change_work(
        f"UPDATE activities SET subject = 'Re: pricing' WHERE id = '{built.ids.email}'"
    )


def test_an_update_rebuilds_only_the_derived_tables_of_changed_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = Warehouse.build(tmp_path / "a")
    _change(built)
    assert _publish(built) == "updated"  # contacts changed: everything is rebuilt
    _edit_an_activity(built)
    rebuilt = _record_derived_builds(monkeypatch)
    assert _publish(built) == "updated"
    assert rebuilt == [set()]  # activities feed owner_records only, updated in place
    _assert_equal_to_a_fresh_write(built, tmp_path)


def test_derived_tables_of_an_older_publish_are_all_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file published before derived tables were built after a checkpoint may hold rowids a
    checkpoint renumbered: its first update rebuilds every derived table."""
    built = Warehouse.build(tmp_path / "a")
    built.change_work("UPDATE publish_state SET derived_checked = NULL")
    _edit_an_activity(built)
    rebuilt = _record_derived_builds(monkeypatch)
    assert _publish(built) == "updated"
    assert rebuilt == [None]


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
