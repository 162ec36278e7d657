"""The log of touched keys (publish/touched.py): an apply logs every canonical row it changes, a
publish then compares only the logged rows, and the published file must still hold exactly the
work database's tables, through merges, re-read files, relinks and rescoring. A change the log
cannot vouch for (made by hand, or a forced publish) makes the publish compare everything."""

from __future__ import annotations

import duckdb
import pytest

from rex_pipeline import warehouse
from rex_pipeline.publish import delta, touched
from rex_pipeline.schema import CANONICAL_TABLES
from tests.conftest import Env
from tests.publish.test_apply_proportional import APOLLO, HUBSPOT, LATER, PRIYA, TASKS

pytestmark = pytest.mark.integration


def _published_equals_work(env: Env) -> None:
    con = duckdb.connect(str(warehouse.work_db_path(env.db)), read_only=True)
    try:
        con.execute(f"ATTACH '{env.db}' AS pub (READ_ONLY)")
        for table in CANONICAL_TABLES:
            columns = ", ".join(f'"{c}"' for c in table.column_names)
            for a, b in (("main", "pub.main"), ("pub.main", "main")):
                extra = con.execute(
                    f'SELECT {columns} FROM {a}."{table.name}"'
                    f' EXCEPT ALL SELECT {columns} FROM {b}."{table.name}"'
                ).fetchall()
                assert extra == [], (table.name, a)
    finally:
        con.close()


def _state(env: Env) -> tuple[object, ...]:
    con = duckdb.connect(str(warehouse.work_db_path(env.db)), read_only=True)
    try:
        return con.execute(
            "SELECT touched_generation = generation, (SELECT count(*) FROM touched_keys)"
            " FROM publish_state"
        ).fetchall()[0]
    finally:
        con.close()


@pytest.fixture
def logged(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """(table, compared by the log) of each delta the publishes apply; the log is used however
    much of these small tables it covers."""
    monkeypatch.setattr(touched, "MOST", float("inf"))
    seen: list[tuple[str, bool]] = []
    apply = delta.apply_table_delta

    def spy(con, published, work, table, keep=(), trust_kept=False, among=None, **files):  # type: ignore[no-untyped-def]
        seen.append((table.name, among is not None))
        return apply(con, published, work, table, keep, trust_kept, among, **files)

    monkeypatch.setattr(warehouse, "apply_table_delta", spy)
    return seen


def test_publishes_by_the_log_hold_the_work_tables(env: Env, logged: list) -> None:  # type: ignore[type-arg]
    env.write("csv/a.csv", "Email,First Name,Last Name\nada@lovelace.dev,Ada,Lovelace\n")
    env.write("csv/b.csv", "Email,First Name,Last Name\nada.lovelace@acme-robotics.com,Ada,L\n")
    env.write("csv/tasks.csv", TASKS)
    assert env.run().success
    assert logged == []  # the first publish writes the file afresh
    trusted, pending = _state(env)
    assert trusted and pending == 0
    _published_equals_work(env)

    steps = [
        ("csv/apollo.csv", APOLLO),  # the two Adas merge
        ("csv/priya.csv", PRIYA),  # the task links up with its new contact
        (  # b.csv read again with another row
            "csv/b.csv",
            "Email,First Name,Last Name\nada.lovelace@acme-robotics.com,Ada,L\n"
            "grace.hopper@globex.com,Grace,Hopper\n",
        ),
    ]
    for path, content in steps:
        logged.clear()
        env.write(path, content)
        assert env.run().success
        assert {t for t, by_log in logged if by_log} == set(touched.TOUCH_KEYS), path
        assert {t for t, by_log in logged if not by_log} == (
            {t.name for t in CANONICAL_TABLES} - set(touched.TOUCH_KEYS)
        )
        trusted, pending = _state(env)
        assert trusted and pending == 0
        _published_equals_work(env)
    assert len(env.sql("SELECT id FROM contacts")) == 3
    assert env.sql("SELECT count(*) FROM tasks WHERE contact_id IS NOT NULL") == [(1,)]


def test_a_log_covering_much_of_a_table_compares_it_whole(
    env: Env,
    logged: list,  # type: ignore[type-arg]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A full refresh logs every row: comparing them all on both sides would cost more than
    hashing the work side against the kept hashes."""
    env.write("csv/a.csv", "Email,First Name,Last Name\nada@lovelace.dev,Ada,Lovelace\n")
    assert env.run().success
    monkeypatch.setattr(touched, "MOST", 0.1)
    env.write("csv/b.csv", "Email,First Name,Last Name\ngrace@globex.com,Grace,Hopper\n")
    assert env.run().success
    assert ("contacts", False) in logged  # 1 of 2 contacts logged: more than a tenth
    assert _state(env) == (True, 0)  # a new log starts with the new file
    _published_equals_work(env)


def test_a_change_the_log_does_not_hold_is_published_by_comparing_everything(
    env: Env,
    logged: list,  # type: ignore[type-arg]
) -> None:
    env.write("csv/a.csv", "Email,First Name,Last Name\nada@lovelace.dev,Ada,Lovelace\n")
    assert env.run().success
    with warehouse.connect_work(env.db) as con:
        con.execute("UPDATE contacts SET title = 'Countess'")  # by hand: not logged
        warehouse.mark_changed(con)
        assert not touched.trusted(con)
        assert warehouse.publish(con, env.db) == "updated"
        assert touched.trusted(con)  # a new log starts with the new file
    assert logged and not any(by_log for _, by_log in logged)
    assert env.sql("SELECT title FROM contacts") == [("Countess",)]
    _published_equals_work(env)

    logged.clear()
    with warehouse.connect_work(env.db) as con:
        con.execute("UPDATE contacts SET title = 'Analyst'")  # by hand, not even marked
        assert touched.trusted(con)
        assert warehouse.publish(con, env.db, force=True) == "updated"
    assert logged and not any(by_log for _, by_log in logged)  # forced: nothing trusted
    assert env.sql("SELECT title FROM contacts") == [("Analyst",)]


def test_lineage_rows_of_the_batch_files_are_compared_not_those_of_their_entity(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A company that gains a record keeps its other lineage rows out of the comparison: the
    new row is logged by its file (a large company has thousands of rows)."""
    monkeypatch.setattr(touched, "MOST", float("inf"))
    env.write("csv/hubspot.csv", HUBSPOT)  # three contacts of Acme Robotics
    assert env.run().success
    compared: dict[tuple[str, str], int] = {}
    apply = delta.apply_table_delta

    def spy(con, published, work, table, keep=(), trust_kept=False, among=None, **files):  # type: ignore[no-untyped-def]
        if among is not None and table.name in touched.BY_FILE:
            for side in (published, work):
                rows = delta._rowids_among(side, table, among, files.get("touched_files"))
                found = con.execute(f"SELECT count(*) FROM ({rows})").fetchall()[0][0]
                compared[table.name, "pub" if side == published else "work"] = found
        return apply(con, published, work, table, keep, trust_kept, among, **files)

    monkeypatch.setattr(warehouse, "apply_table_delta", spy)
    env.write("csv/later.csv", LATER)  # a fourth
    assert env.run().success
    assert compared[("company_sources", "pub")] == 0  # not Acme's three old rows
    assert compared[("company_sources", "work")] == 1
    _published_equals_work(env)
