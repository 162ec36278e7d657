"""The warehouse is opened so that nothing can change it, and a missing or incomplete warehouse
is reported as such."""

from __future__ import annotations

import hashlib
import shutil
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from rex_pipeline.query import InvalidRequest, QueryError, Warehouse, WarehouseUnavailable
from rex_pipeline.query.connection import open_readonly

from .conftest import World
from .warehouse_builder import create_warehouse


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_connection_refuses_writes_and_files(world: World, tmp_path: Path) -> None:
    conn = open_readonly(world.path)
    try:
        with pytest.raises(duckdb.Error, match="read-only"):
            conn.execute("DELETE FROM contacts")
        with pytest.raises(duckdb.Error, match="read-only"):
            conn.execute("CREATE TABLE x AS SELECT 1")
        with pytest.raises(duckdb.Error, match="disabled by configuration"):
            conn.execute(f"COPY contacts TO '{tmp_path / 'leak.csv'}'")
        with pytest.raises(duckdb.Error, match="disabled by configuration"):
            conn.execute(f"ATTACH '{tmp_path / 'other.duckdb'}' AS other")
        with pytest.raises(duckdb.Error, match="Cannot enable external access"):
            conn.execute("SET enable_external_access = true")
    finally:
        conn.close()
    assert not (tmp_path / "leak.csv").exists()


@pytest.mark.parametrize("plain_first", [True, False])
def test_a_plain_connection_to_the_same_file_works_in_either_order(
    world: World, tmp_path: Path, plain_first: bool
) -> None:
    """A notebook may open the file itself too: DuckDB refused a second connect to one file
    with another configuration ("different configuration"), whichever came first. The lock-down
    stays ours: the plain connection keeps its own settings."""
    copy = tmp_path / "rex.duckdb"
    shutil.copyfile(world.path, copy)  # no instance of it is open in this process yet
    first_plain = duckdb.connect(str(copy), read_only=True) if plain_first else None
    with Warehouse(copy, org_id="acme-org") as wh:
        plain = first_plain or duckdb.connect(str(copy), read_only=True)
        try:
            assert len(wh.list_contacts()["data"]) == 8
            assert plain.execute("SELECT count(*) FROM contacts").fetchall() == [(9,)]
            plain.execute(f"COPY (SELECT 1) TO '{tmp_path / 'notebook.csv'}'")  # its own rights
            with pytest.raises(duckdb.Error, match="disabled by configuration"):
                wh._conn.execute(f"COPY contacts TO '{tmp_path / 'leak.csv'}'")
        finally:
            plain.close()
    assert (tmp_path / "notebook.csv").exists() and not (tmp_path / "leak.csv").exists()


def test_a_writer_on_the_same_file_in_this_process_is_still_refused(
    world: World, tmp_path: Path
) -> None:
    copy = tmp_path / "rex.duckdb"
    shutil.copyfile(world.path, copy)
    with (
        duckdb.connect(str(copy)),
        pytest.raises(WarehouseUnavailable, match="cannot open warehouse"),
    ):
        Warehouse(copy, org_id="acme-org")


def test_answering_everything_leaves_the_file_unchanged(world: World) -> None:
    before = digest(world.path)
    with world.open() as wh:
        wh.list_contacts(search="ada")
        wh.get_contact(world.ids["ada_old"])
        wh.contact_timeline(world.ids["ada"])
        wh.search({"q": "globex"})
        wh.summary()
    assert digest(world.path) == before


def test_many_readers_at_once(world: World) -> None:
    with world.open() as first, world.open(owner_id="ana@northwind-labs.io") as second:
        assert len(first.list_contacts()["data"]) == 8
        assert len(second.list_contacts()["data"]) == 4


def test_times_are_utc_whatever_the_machine_zone(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "rex.duckdb"
    shutil.copyfile(world.path, copy)  # a fresh database instance picks up the zone
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        with Warehouse(copy, org_id="acme-org") as wh:
            created = wh.get_contact(world.ids["ada"])["data"]["created_at"]
    finally:
        monkeypatch.undo()
        time.tzset()
    assert created.utcoffset() == timedelta(0)
    assert created.hour == 9


def test_a_closed_warehouse_says_so(world: World) -> None:
    wh = world.open()
    wh.close()
    wh.close()  # closing twice is harmless
    with pytest.raises(QueryError, match="this Warehouse is closed"):
        wh.list_contacts()


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(WarehouseUnavailable, match=r"no warehouse at .*run the pipeline first"):
        Warehouse(tmp_path / "nope.duckdb", org_id="acme-org")
    assert not (tmp_path / "nope.duckdb").exists()  # never created by a reader


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "rex.duckdb"
    path.write_text("id,email\n1,a@b.c\n")
    with pytest.raises(WarehouseUnavailable, match="cannot open warehouse"):
        Warehouse(path, org_id="acme-org")


def test_incomplete_warehouse(tmp_path: Path) -> None:
    path = tmp_path / "rex.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE contacts (id VARCHAR)")
    with Warehouse(path, org_id="acme-org") as wh, pytest.raises(QueryError, match="incomplete"):
        wh.list_contacts()


def test_summary_reports_missing_tables_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "rex.duckdb"
    create_warehouse(path)
    with duckdb.connect(str(path)) as conn:
        conn.execute("DROP TABLE possible_duplicates")
    with Warehouse(path, org_id="acme-org") as wh:
        summary = wh.summary()
    assert summary["tables"]["possible_duplicates"] is None
    assert summary["tables"]["contacts"] == 0


def test_settings_name_the_warehouse_and_org(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REX_DUCKDB_PATH", str(world.path))
    monkeypatch.setenv("REX_ORG_ID", "other-org")
    with Warehouse() as wh:
        assert wh.path == world.path
        assert [r["id"] for r in wh.list_contacts()["data"]] == [world.ids["other_ada"]]


@pytest.mark.parametrize("blank", ["", " ", "\t"])
def test_a_blank_org_or_owner_is_refused_never_widened(
    world: World, monkeypatch: pytest.MonkeyPatch, blank: str
) -> None:
    """A blank org used to mean rex.yaml's org (when no path was given), and a blank owner the
    whole org: a member scope that came out empty saw every contact."""
    monkeypatch.setenv("REX_DUCKDB_PATH", str(world.path))
    monkeypatch.setenv("REX_ORG_ID", "acme-org")
    for kwargs in ({}, {"path": world.path}):
        with pytest.raises(InvalidRequest, match=r"^org_id: must not be blank$"):
            Warehouse(**kwargs, org_id=blank)
        with pytest.raises(InvalidRequest, match=r"^owner_id: must not be blank"):
            Warehouse(**kwargs, org_id="acme-org", owner_id=blank)
