"""The derived contact tables of an updated copy are updated in place (publish/derived_update.py):
after several publishes adding contacts at the top, middle and end of every order, deleting and
changing some, renaming a company and changing secondary emails, every page and cursor of the
lists and searches must be what a file written afresh answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from rex_pipeline import warehouse
from rex_pipeline.publish import derived, derived_update
from rex_pipeline.query import Warehouse as Reader
from rex_pipeline.schema import CONTACT_SEARCH, CONTACTS_BY, OWNER_RECORDS
from tests.ops.ops_warehouse import Warehouse

LAST_NAMES = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Knuth", "Liskov")
FIRST_NAMES = ("Ada", "Grace", "Alan", "Edsger", "Donald", "Barbara", "Ana")
SORTS = (None, "created_at", "-icp_score", "icp_score", "last_name", "-last_name", "first_name")
SEARCHES = ("a", "lovelace", "initech", "second.example")


def _contacts(first: int, count: int, created: str, last: str, given: str, score: str) -> str:
    """`count` contacts numbered from `first` (ids rise with the number), in both orgs, with
    the SQL expressions (of i) given for created_at, last_name, first_name and icp_score."""
    return f"""
        INSERT INTO contacts (id, org_id, email, first_name, last_name, company_id, owner_id,
                              icp_score, metadata, created_at, updated_at)
        SELECT 'cont_' || lpad(i::VARCHAR, 26, '0'),
               CASE WHEN i % 4 = 0 THEN 'beta' ELSE 'acme' END,
               'person' || i || '@example.com', {given}, {last},
               CASE WHEN i % 3 = 0 THEN 'comp_acme_' || (i % 5) END,
               CASE i % 3 WHEN 0 THEN 'own_a' WHEN 1 THEN 'own_b' END, {score},
               json_object('tier', 'tier' || (i % 4)), {created}, TIMESTAMPTZ '2024-06-01'
        FROM range({first}, {first + count}) AS t(i);
        INSERT INTO contact_emails
        SELECT id, org_id, email, true FROM contacts
        WHERE id >= 'cont_' || lpad('{first}', 26, '0')
          AND id < 'cont_' || lpad('{first + count}', 26, '0');
        INSERT INTO activities (id, org_id, type, status, subject, contact_id, occurred_at)
        SELECT 'act_' || substr(id, 6), org_id, 'email', 'completed', 'Hello', id,
               TIMESTAMPTZ '2024-03-01' + INTERVAL (hash(id) % 1000) MINUTE
        FROM contacts WHERE id >= 'cont_' || lpad('{first}', 26, '0')
          AND id < 'cont_' || lpad('{first + count}', 26, '0') AND hash(id) % 2 = 0
    """


def _names(names: tuple[str, ...], prefix: str = "") -> str:
    listed = ", ".join(f"'{n}'" for n in names)
    return f"CASE WHEN i % 11 = 5 THEN NULL ELSE '{prefix}' || [{listed}][i % {len(names)} + 1] END"


_BASE = _contacts(
    1000,
    240,
    "CASE WHEN i % 17 = 3 THEN NULL"
    " ELSE TIMESTAMPTZ '2024-01-01' + INTERVAL (i * 37 % 240) HOUR END",
    _names(LAST_NAMES),
    _names(FIRST_NAMES),
    "CASE WHEN i % 9 = 4 THEN NULL ELSE (i * 7 % 101)::INTEGER END",
)
_COMPANIES = """
    INSERT INTO companies (id, org_id, name, created_at, updated_at)
    SELECT 'comp_acme_' || i, org, 'Company ' || i, TIMESTAMPTZ '2024-01-01',
           TIMESTAMPTZ '2024-01-01'
    FROM range(5) AS t(i), (VALUES ('acme'), ('beta')) AS o(org)
"""


def _increment(first: int) -> list[str]:
    """Contacts at the top, in the middle and at the end of every order."""
    return [
        _contacts(  # newest, first names, highest scores
            first, 12, "TIMESTAMPTZ '2025-01-01' + INTERVAL (i) MINUTE",
            _names(("Aaron", "Abe"), "A"), _names(("Zed", "Zoe"), "Z"), "100"
        ),
        _contacts(  # in between everything
            first + 100, 12, "TIMESTAMPTZ '2024-01-05' + INTERVAL (i) SECOND",
            _names(LAST_NAMES), _names(FIRST_NAMES), "50",
        ),
        _contacts(  # oldest, no names or scores (last in both directions)
            first + 200, 12, "CASE WHEN i % 2 = 0 THEN NULL ELSE TIMESTAMPTZ '2020-01-01' END",
            "NULL", "NULL", "NULL",
        ),
    ]  # fmt: skip


_CHANGES = [
    "DELETE FROM contacts WHERE id IN (SELECT id FROM contacts WHERE hash(id) % 9 = 0)",
    "UPDATE contacts SET owner_id = 'own_a' WHERE hash(id) % 9 = 3",  # their records move
    "DELETE FROM activities WHERE hash(id) % 7 = 0",
    "UPDATE contacts SET icp_score = 3, last_name = 'Moved' WHERE hash(id) % 9 = 1",
    "UPDATE companies SET name = 'Initech' WHERE id = 'comp_acme_2'",
    "INSERT INTO contact_emails SELECT id, org_id, 'other' || id || '@second.example', false"
    " FROM contacts WHERE hash(id) % 9 = 2",
    "DELETE FROM contact_emails WHERE NOT is_primary AND hash(contact_id) % 2 = 0",
]


def _pages(path: Path, org: str, owner: str | None = None) -> list[Any]:
    """Every page (ids and cursor) of every sorted list and search, page by page."""
    answers: list[Any] = []
    with Reader(path, org_id=org, owner_id=owner) as reader:
        assert reader.layout.contact_search and reader.layout.contacts_by
        requests: list[tuple[str, dict[str, Any]]] = [
            ("list", {"sort": sort}) for sort in SORTS
        ] + [("list", {"search": word}) for word in SEARCHES]
        requests += [("search", {"q": word}) for word in SEARCHES]
        if owner is not None:  # owner_records: the activities of the member's contacts
            requests += [("activities", {}), ("activities", {"sort": "occurred_at"})]
        for kind, request in requests:
            cursor = None
            while True:
                if kind == "list":
                    page = reader.list_contacts(limit=30, cursor=cursor, **request)
                elif kind == "activities":
                    page = reader.list_activities(limit=30, cursor=cursor, **request)
                else:
                    page = reader.search(limit=30, cursor=cursor, **request)
                answers.append((kind, request, [row["id"] for row in page["data"]], cursor))
                cursor = page["next_cursor"]
                if cursor is None:
                    break
    return answers


def _fresh(built: Warehouse, folder: Path) -> Warehouse:
    folder.mkdir()
    fresh = built.copy_to(folder)
    with warehouse.connect_work(fresh.published) as con:
        assert warehouse.publish(con, fresh.published, force=True) == "written"
    return fresh


def _publish(built: Warehouse, *statements: str) -> None:
    built.change_work(*statements)
    with warehouse.connect_work(built.published) as con:
        warehouse.mark_changed(con)
        assert warehouse.publish(con, built.published) == "updated"


@pytest.fixture
def in_place(monkeypatch: pytest.MonkeyPatch) -> list[set[str]]:
    """What each publish asks `update_derived_tables` to update and has left to build."""
    seen: list[set[str]] = []
    update = derived_update.update_derived_tables

    def spy(con: duckdb.DuckDBPyConnection, catalog: str, stale: set[str]) -> set[str]:
        todo = update(con, catalog, stale)
        seen.append(stale & {*derived.CONTACT_TABLES, OWNER_RECORDS.name} - todo)
        return todo

    monkeypatch.setattr(warehouse, "update_derived_tables", spy)
    return seen


def test_pages_after_updates_in_place_are_those_of_a_fresh_file(
    tmp_path: Path, in_place: list[set[str]]
) -> None:
    built = Warehouse.build(tmp_path / "a")
    built.change_work(_COMPANIES, _BASE)
    with warehouse.connect_work(built.published) as con:
        warehouse.mark_changed(con)
        assert warehouse.publish(con, built.published) == "updated"
    steps = [_increment(2000), [*_CHANGES, *_increment(3000)], _increment(4000)]
    for number, statements in enumerate(steps):
        _publish(built, *statements)
        fresh = _fresh(built, tmp_path / f"fresh{number}")
        for org, owner in (("acme", None), ("beta", None), ("acme", "own_a")):
            assert _pages(built.published, org, owner) == _pages(fresh.published, org, owner)
    # the first publish brought a new org (built again); the others updated every table in place
    assert in_place[1:] == [{*derived.CONTACT_TABLES, OWNER_RECORDS.name}] * len(steps)


def _orders(con: duckdb.DuckDBPyConnection) -> list[list[tuple[Any, ...]]]:
    """Each position column's rows in position order, with what they say about the contact."""
    search = f'SELECT * EXCLUDE (position, contact_row) FROM "{CONTACT_SEARCH.name}"'
    orders = [con.execute(f"{search} ORDER BY position").fetchall()]
    for table in CONTACTS_BY.values():
        for column in ("pos_asc", "pos_desc"):
            orders.append(
                con.execute(
                    f'SELECT * EXCLUDE (pos_asc, pos_desc, contact_row) FROM "{table.name}"'
                    f" ORDER BY {column}"
                ).fetchall()
            )
    owners = f'SELECT * EXCLUDE (record_row) FROM "{OWNER_RECORDS.name}" ORDER BY ALL'
    return [*orders, con.execute(owners).fetchall()]


def test_rows_placed_in_place_keep_every_order_and_point_at_their_contacts(
    tmp_path: Path, in_place: list[set[str]]
) -> None:
    """Checked in the updated file itself, before any checkpoint could renumber contacts."""
    built = Warehouse.build(tmp_path / "a")
    built.change_work(_COMPANIES, _BASE)
    _publish(built)
    checked: list[bool] = []
    build = derived.build_derived_tables

    def check_then_build(con: duckdb.DuckDBPyConnection, catalog: str, only: Any = None) -> None:
        build(con, catalog, only)
        work = con.execute("SELECT current_database()").fetchall()[0][0]
        con.execute(f'USE "{catalog}"')
        try:
            updated = _orders(con)
            for table in (CONTACT_SEARCH, *CONTACTS_BY.values()):
                stray = con.execute(
                    f'SELECT count(*) FROM "{table.name}" s LEFT JOIN contacts c'
                    " ON c.rowid = s.contact_row WHERE c.id IS DISTINCT FROM s.contact_id"
                ).fetchall()
                assert stray == [(0,)], table.name
            for kind in derived.OWNER_SORT:
                stray = con.execute(
                    f'SELECT count(*) FROM "{OWNER_RECORDS.name}" s LEFT JOIN "{kind}" r'
                    f" ON r.rowid = s.record_row WHERE s.kind = '{kind}'"
                    " AND r.id IS DISTINCT FROM s.record_id"
                ).fetchall()
                assert stray == [(0,)], kind
            build(con, catalog)
            assert updated == _orders(con)
            checked.append(True)
        finally:
            con.execute(f'USE "{work}"')

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(warehouse, "build_derived_tables", check_then_build)
        _publish(built, *_increment(2000), *_CHANGES)
    assert checked and in_place[-1] == {*derived.CONTACT_TABLES, OWNER_RECORDS.name}


def _placed(rows: list[tuple[int, int | None, int | None]]) -> dict[int, int] | None:
    """`_place` on rows (org, position or None for a new row, new row id) in their order."""
    con = duckdb.connect()
    con.execute("CREATE TABLE r (org BIGINT, p BIGINT, new_row BIGINT, seq BIGINT)")
    con.executemany("INSERT INTO r VALUES (?, ?, ?, ?)", [(*r, at) for at, r in enumerate(rows)])
    window = "OVER (PARTITION BY org ORDER BY seq ROWS BETWEEN {} AND {})"
    con.execute(
        "CREATE TEMP TABLE derived_near AS SELECT * FROM (SELECT org, new_row, seq,"
        f" last_value(p IGNORE NULLS) {window.format('UNBOUNDED PRECEDING', 'CURRENT ROW')} AS lo,"
        f" first_value(p IGNORE NULLS) {window.format('CURRENT ROW', 'UNBOUNDED FOLLOWING')} AS hi"
        " FROM r) WHERE new_row IS NOT NULL"
    )
    con.execute(
        "CREATE TEMP TABLE derived_spans AS SELECT org, min(p) AS first, max(p) AS last"
        " FROM r WHERE p IS NOT NULL GROUP BY org"
    )
    _, query = derived_update._place("position", "n.lo", "n.hi", "n.seq", "first", "last")
    found = con.execute(f"SELECT contact_row, position, bad FROM ({query})").fetchall()
    return None if any(bad for *_, bad in found) else {row: at for row, at, _ in found}


def test_new_rows_share_their_gap_or_extend_their_org_by_a_stride() -> None:
    s = derived.STRIDE
    between = _placed([(1, 0, None), (1, None, 7), (1, None, 8), (1, 3 * s, None)])
    assert between == {7: s, 8: 2 * s}  # evenly, at most a stride apart
    assert _placed([(1, 0, None), (1, None, 7), (1, None, 8), (1, 30, None)]) == {7: 10, 8: 20}
    top = _placed([(1, 10 * s, None), (2, None, 7), (2, None, 8), (2, 100 * s, None)])
    assert top == {7: 98 * s, 8: 99 * s}  # first in org 2: down from its first row
    end = _placed([(1, 10 * s, None), (1, None, 7), (2, 100 * s, None)])
    assert end == {7: 11 * s}  # last in org 1: up from its last row


def test_no_room_or_a_new_org_means_building_again() -> None:
    assert _placed([(1, 0, None), (1, None, 7), (1, None, 8), (1, 2, None)]) is None
    assert _placed([(1, 0, None), (2, None, 7)]) is None
