"""The derived tables publish adds for readers (contact_search, contacts_by_…, owner_records) and
the paths
that read them: every answer is the same as the plain scan of a file published without them,
page by page, including when the candidates run out or run long. Also: publish() builds them,
and tie-heavy sorts (ICP score) page correctly with their page bound."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from rex_pipeline import warehouse
from rex_pipeline.publish import derived
from rex_pipeline.query import Warehouse, candidates
from rex_pipeline.query.connection import open_readonly
from rex_pipeline.query.layout import FULL, PLAIN, detect

from .conftest import ANA, BEN, ORG, World


def _with_derived_tables(source: Path, target: Path) -> Path:
    shutil.copyfile(source, target)
    with duckdb.connect(str(target)) as conn:
        derived.build_derived_tables(conn, str(warehouse.scalar(conn, "SELECT current_database()")))
    return target


@pytest.fixture(scope="module")
def indexed(world: World, tmp_path_factory: pytest.TempPathFactory) -> World:
    """The test warehouse as publish() now writes it: with the derived tables."""
    path = _with_derived_tables(world.path, tmp_path_factory.mktemp("indexed") / "rex.duckdb")
    return World(path, world.ids)


def all_pages(fetch: Callable[..., Any], request: dict[str, Any]) -> list[str]:
    """Every id, following next_cursor with small pages."""
    ids, cursor = [], None
    while True:
        page = fetch({**request, "limit": 2, "cursor": cursor})
        ids += [row["id"] for row in page["data"]]
        if not page["has_more"]:
            return ids
        cursor = page["next_cursor"]


@pytest.fixture(scope="module")
def both(world: World, indexed: World) -> Iterator[Callable[..., tuple[Any, Any]]]:
    """The plain and the indexed warehouse opened with the same scope (kept open for the
    module: they are read-only)."""
    opened: dict[tuple[tuple[str, Any], ...], tuple[Warehouse, Warehouse]] = {}

    def open_both(**scope: Any) -> tuple[Warehouse, Warehouse]:
        key = tuple(sorted(scope.items()))
        if key not in opened:
            opened[key] = (world.open(**scope), indexed.open(**scope))
        return opened[key]

    yield open_both
    for pair in opened.values():
        for wh in pair:
            wh.close()


def test_the_warehouse_says_which_derived_tables_it_has(world: World, indexed: World) -> None:
    with open_readonly(world.path) as old, open_readonly(indexed.path) as new:
        assert detect(old) == PLAIN
        assert detect(new) == FULL


def test_a_stale_contact_search_is_not_used(indexed: World, tmp_path: Path) -> None:
    """A contact written to the published file after publish: the search must not miss it."""
    path = tmp_path / "stale.duckdb"
    shutil.copyfile(indexed.path, path)
    with duckdb.connect(str(path)) as conn:
        conn.execute(
            "INSERT INTO contacts (id, org_id, first_name, last_name, created_at)"
            " VALUES ('cont_01h455vb4pex5vsknk084sn02z', ?, 'Edsger', 'Dijkstra', now())",
            [ORG],
        )
    with Warehouse(path, org_id=ORG) as wh:
        assert not wh.layout.contact_search
        assert [r["last_name"] for r in wh.list_contacts(search="dijkstra")["data"]] == ["Dijkstra"]


def test_contact_search_holds_what_search_and_free_text_look_at(indexed: World) -> None:
    with open_readonly(indexed.path) as conn:
        rows = conn.execute(
            "SELECT text, more_values, owner_id FROM contact_search WHERE contact_id = ?",
            [indexed.ids["ada"]],
        ).fetchall()
        order = conn.execute(
            "SELECT contact_id FROM contact_search WHERE org_id = ? ORDER BY rowid", [ORG]
        ).fetchall()
        positions = conn.execute(
            "SELECT list(position ORDER BY rowid) FROM contact_search WHERE org_id = ?", [ORG]
        ).fetchall()[0][0]
        expected = conn.execute(
            "SELECT id FROM contacts WHERE org_id = ? ORDER BY created_at DESC, id DESC", [ORG]
        ).fetchall()
    text, more, owner = rows[0]
    assert text == "ada lovelace ada@globex.com"
    assert more.split(" ", 2)[:2] == ["a.lovelace@analytical-engines.org", "globex"]
    assert "fintech" in more and "open" in more and "87" in more  # custom-field values
    assert owner == ANA
    assert order == expected  # newest first, like the contacts list
    first = positions[0]
    assert positions == [first + i * derived.STRIDE for i in range(len(expected))]  # room between


@pytest.mark.parametrize(
    ("kind", "column"),
    [("activities", "occurred_at"), ("deals", "created_at"), ("tasks", "due_at")],
)
def test_owner_records_are_the_records_of_each_owners_contacts(
    indexed: World, kind: str, column: str
) -> None:
    with open_readonly(indexed.path) as conn:
        derived_rows = conn.execute(
            "SELECT org_id, owner_id, sort_key, record_id, record_row FROM owner_records"
            " WHERE kind = ? ORDER BY ALL",
            [kind],
        ).fetchall()
        joined = conn.execute(
            f"SELECT r.org_id, c.owner_id, r.{column}, r.id, r.rowid FROM {kind} r JOIN contacts c"
            " ON c.org_id = r.org_id AND c.id = r.contact_id WHERE c.owner_id IS NOT NULL"
            " ORDER BY ALL"
        ).fetchall()
    assert derived_rows == joined
    assert {owner for _, owner, *_ in derived_rows} == {ANA, BEN}


def test_sorted_copies_number_each_orgs_contacts_both_ways(indexed: World) -> None:
    """Positions rise a stride apart in each order; each org's span in contact_search_orgs
    covers its rows and no other org's."""
    with open_readonly(indexed.path) as conn:
        for column in ("icp_score", "last_name", "first_name"):
            for position, direction in (("pos_asc", "ASC"), ("pos_desc", "DESC")):
                numbered = conn.execute(
                    f"SELECT org_id, contact_id, {position} FROM contacts_by_{column}"
                    f" ORDER BY {position}"
                ).fetchall()
                expected = conn.execute(
                    f"SELECT org_id, id FROM contacts"
                    f" ORDER BY org_id, {column} {direction} NULLS LAST, id {direction}"
                ).fetchall()
                assert [row[:2] for row in numbered] == expected, (column, direction)
                spans = conn.execute(
                    "SELECT org_id, first_position, last_position FROM contact_search_orgs"
                    " WHERE position_column = ? ORDER BY org_id",
                    [f"contacts_by_{column}.{position}"],
                ).fetchall()
                for org, first, last in spans:
                    mine = [p for o, _, p in numbered if o == org]
                    assert mine == list(range(first, last + 1, derived.STRIDE))
                assert len(spans) == len({org for org, *_ in numbered})


@pytest.mark.parametrize("sort", ["-icp_score", "icp_score", "last_name", "-first_name"])
@pytest.mark.parametrize(
    "request_values",
    [{}, {"stage": "lead", "icp_score_min": 20}, {"owner_id": BEN}],
)
@pytest.mark.parametrize("owner", [None, ANA])
def test_sorted_lists_give_the_same_pages_both_ways(
    both: Callable[..., tuple[Warehouse, Warehouse]],
    sort: str,
    request_values: dict[str, Any],
    owner: str | None,
) -> None:
    plain, fast = both(owner_id=owner)
    request = {**request_values, "sort": sort}
    assert all_pages(fast.list_contacts, request) == all_pages(plain.list_contacts, request)
    smart = {"sort": sort, "query": {"groups": [{"conditions": [
        {"field": "stage", "op": "neq", "value": "churned"}]}]}}  # fmt: skip
    assert all_pages(fast.search, smart) == all_pages(plain.search, smart)


SEARCHES = [
    "hopper",
    "ADA LOVE",  # every word, any case, first or last name
    "lovelace ada",  # in any order
    "globex.com",  # primary email
    "o'brien",
    "SIOBHÁN",
    "lovelaceada",  # a word never spans two fields
    "' OR 1=1 --",
    "a",
    "e n",
]


@pytest.mark.parametrize("search", SEARCHES)
@pytest.mark.parametrize("sort", [None, "-icp_score", "updated_at"])
def test_list_search_gives_the_same_pages_both_ways(
    both: Callable[..., tuple[Warehouse, Warehouse]], search: str, sort: str | None
) -> None:
    plain, fast = both()
    request = {"search": search, "sort": sort}
    assert all_pages(fast.list_contacts, request) == all_pages(plain.list_contacts, request)


FREE_TEXT = [
    "lovelace",
    "grace globex",
    "HOPPER",
    "initech",  # company name
    "navy.mil",  # another email
    "arlington",  # a custom-field value
    "summit 2024",
    "analytical",
    "o",
]


@pytest.mark.parametrize("q", FREE_TEXT)
@pytest.mark.parametrize("owner", [None, ANA])
def test_smart_list_free_text_gives_the_same_pages_both_ways(
    both: Callable[..., tuple[Warehouse, Warehouse]], q: str, owner: str | None
) -> None:
    plain, fast = both(owner_id=owner)
    for request in (
        {"q": q},
        {"q": q, "sort": "last_name"},
        {"q": q, "query": {"groups": [{"conditions": [{"field": "stage", "op": "neq",
                                                       "value": "lead"}]}]}},
    ):  # fmt: skip
        assert all_pages(fast.search, request) == all_pages(plain.search, request), request


def test_free_text_finds_every_part(indexed: World) -> None:
    with indexed.open() as wh:

        def names(q: str) -> set[str]:
            return {r["first_name"] for r in wh.search({"q": q})["data"]}

        assert names("initech") == {"Grace", "Siobhán"}
        assert names("navy.mil") == {"Grace"}
        assert names("arlington") == {"Grace"}
        assert names("summit 2024") == {"Katherine"}
        assert names("lovelaceada") == set()


@pytest.mark.parametrize(
    "request_values",
    [
        {},
        {"type": "email"},
        {"after": "2024-02-01"},
        {"sort": "occurred_at"},
        {"sort": "-created_at"},  # not in owner_records: the plain query answers
    ],
)
@pytest.mark.parametrize("owner", [ANA, BEN, "nobody@northwind-labs.io"])
def test_member_activities_are_the_same_both_ways(
    both: Callable[..., tuple[Warehouse, Warehouse]], request_values: dict[str, Any], owner: str
) -> None:
    plain, fast = both(owner_id=owner)
    expected = all_pages(plain.list_activities, request_values)
    assert all_pages(fast.list_activities, request_values) == expected
    if owner == ANA and not request_values:
        assert len(expected) == 5  # Ada's four and Alan's one


@pytest.mark.parametrize(
    ("kind", "request_values"),
    [("deals", {}), ("deals", {"status": "won"}), ("deals", {"sort": "created_at"}),
     ("deals", {"sort": "-value"}), ("tasks", {}), ("tasks", {"sort": "-due_at"}),
     ("tasks", {"status": "pending"}), ("tasks", {"sort": "created_at"})],
)  # fmt: skip
@pytest.mark.parametrize("owner", [ANA, BEN])
def test_member_deals_tasks_timeline_and_summary_are_the_same_both_ways(
    both: Callable[..., tuple[Warehouse, Warehouse]],
    world: World,
    kind: str,
    request_values: dict[str, Any],
    owner: str,
) -> None:
    plain, fast = both(owner_id=owner)
    expected = all_pages(lambda r: plain.list_records(kind, r), request_values)
    assert all_pages(lambda r: fast.list_records(kind, r), request_values) == expected
    assert fast.summary() == plain.summary()
    contact = world.ids["ada" if owner == ANA else "grace"]
    assert fast.contact_timeline(contact) == plain.contact_timeline(contact)


@pytest.mark.parametrize(("growth", "most", "span"), [(2, 3, 1), (8, 4096, 2), (2, 64, 16384)])
def test_windows_that_grow_or_give_up_give_the_same_pages(
    both: Callable[..., tuple[Warehouse, Warehouse]],
    monkeypatch: pytest.MonkeyPatch,
    growth: int,
    most: int,
    span: int,
) -> None:
    """Few candidates per window (a filter the window must grow past), candidates read a few
    positions at a time, and more candidates than allowed (the page joins the matches
    instead): same answers."""
    monkeypatch.setattr(candidates, "WINDOW_GROWTH", growth)
    monkeypatch.setattr(candidates, "MAX_CANDIDATES", most)
    monkeypatch.setattr(candidates, "FIRST_SPAN", span)
    plain, fast = both()
    for request in (
        {"search": "a", "stage": "customer"},
        {"search": "e", "tags": "enterprise"},
        {"search": "o", "sort": "-icp_score"},
        {"search": "a", "sort": "created_at"},
        {"sort": "-icp_score", "stage": "lead"},
        {"sort": "last_name", "tags": "enterprise"},
    ):
        assert all_pages(fast.list_contacts, request) == all_pages(plain.list_contacts, request)
    plain_ana, fast_ana = both(owner_id=ANA)
    for request in ({"type": "call"}, {"direction": "inbound"}):
        expected = all_pages(plain_ana.list_activities, request)
        assert all_pages(fast_ana.list_activities, request) == expected


def test_a_cursor_whose_row_is_gone_pages_the_same_both_ways(
    world: World, indexed: World, tmp_path: Path
) -> None:
    """A cursor outlives a publish that removed its row: the derived path cannot find the
    row's position, starts from the top, and the cursor clause still gives the right page."""
    with indexed.open() as wh:
        cursor = wh.list_contacts(search="a", limit=2)["next_cursor"]
        gone = wh.list_contacts(search="a", limit=2)["data"][-1]["id"]
    pages = []
    for source, rebuild in ((world.path, False), (indexed.path, True)):
        path = tmp_path / f"{rebuild}.duckdb"
        shutil.copyfile(source, path)
        with duckdb.connect(str(path)) as conn:
            conn.execute("DELETE FROM contacts WHERE id = ?", [gone])
            if rebuild:
                catalog = str(warehouse.scalar(conn, "SELECT current_database()"))
                derived.build_derived_tables(conn, catalog)
        with Warehouse(path, org_id=ORG) as wh:
            assert wh.layout.contact_search is rebuild
            pages.append(wh.list_contacts(search="a", limit=2, cursor=cursor))
    assert pages[0] == pages[1] and pages[0]["data"]


def test_search_stays_in_its_org_and_owner(indexed: World) -> None:
    with indexed.open(org_id="other-org") as other:
        assert [r["id"] for r in other.list_contacts(search="ada")["data"]] == [
            indexed.ids["other_ada"]
        ]
        assert [r["id"] for r in other.search({"q": "globex"})["data"]] == [
            indexed.ids["other_ada"]
        ]
    with indexed.open(owner_id=BEN) as ben:
        assert ben.list_contacts(search="lovelace")["data"] == []
        assert {r["first_name"] for r in ben.search({"q": "initech"})["data"]} == {"Grace"}


def test_search_reads_the_derived_tables_when_present(indexed: World, tmp_path: Path) -> None:
    """Proof the derived paths are taken: blanking them empties the answers."""
    path = tmp_path / "blanked.duckdb"
    shutil.copyfile(indexed.path, path)
    with duckdb.connect(str(path)) as conn:
        conn.execute("UPDATE contact_search SET text = '', more_values = ''")
        conn.execute("DELETE FROM owner_records")
    with Warehouse(path, org_id=ORG) as wh:
        assert wh.list_contacts(search="lovelace")["data"] == []
        assert wh.search({"q": "initech"})["data"] == []
        assert wh.list_contacts(stage="lead")["data"]  # other lists do not depend on them
    with Warehouse(path, org_id=ORG, owner_id=ANA) as ana:
        assert ana.list_activities()["data"] == ana.list_deals()["data"] == []
        assert ana.list_activities(sort="created_at")["data"]
        assert ana.summary()["tables"]["activities"] == 0


def test_publish_adds_the_derived_tables_with_comments(tmp_path: Path) -> None:
    published = tmp_path / "rex.duckdb"
    with warehouse.connect_work(published) as con:
        con.execute(
            "INSERT INTO contacts (id, org_id, email, first_name, last_name, owner_id, metadata,"
            " created_at) VALUES (?, 'o', 'Zoë.Quinn@Example.com', 'Zoë', 'Quinn', 'ana',"
            " '{\"City\": \"Zürich\"}', ?), (?, 'o', NULL, NULL, NULL, NULL, NULL, ?)",
            [
                "cont_01h455vb4pex5vsknk084sn02q",
                datetime(2024, 1, 1, tzinfo=UTC),
                "cont_01h455vb4pex5vsknk084sn02r",
                datetime(2024, 2, 1, tzinfo=UTC),
            ],
        )
        warehouse.publish(con, published)
    with open_readonly(published) as conn:
        rows = conn.execute("SELECT contact_id, text, more_values FROM contact_search").fetchall()
        comments = dict(
            conn.execute(
                "SELECT table_name, comment FROM duckdb_tables()"
                " WHERE table_name IN ('contact_search', 'owner_records')"
            ).fetchall()
        )
    assert rows == [  # newest first, like contacts
        ("cont_01h455vb4pex5vsknk084sn02r", "", ""),
        ("cont_01h455vb4pex5vsknk084sn02q", "zoë quinn zoë.quinn@example.com", "zürich"),
    ]
    assert all("not part of the contract" in c for c in comments.values()) and len(comments) == 2
    with Warehouse(published, org_id="o") as wh:
        assert wh.layout == FULL
        assert [r["first_name"] for r in wh.list_contacts(search="QUINN")["data"]] == ["Zoë"]
        assert [r["first_name"] for r in wh.search({"q": "zürich"})["data"]] == ["Zoë"]


def test_any_case_means_duckdbs_lower_case_on_both_sides(tmp_path: Path) -> None:
    """Python lower-cases 'İ' to 'i̇' and a final 'Σ' to 'ς', DuckDB to 'i' and 'σ': values
    lower-cased in Python would never match text lower-cased in DuckDB."""
    from .warehouse_builder import create_warehouse, insert_rows

    path = tmp_path / "unicode.duckdb"
    create_warehouse(path)
    company = "comp_01h455vb4pex5vsknk084sn02s"
    insert_rows(path, "companies", [{"id": company, "org_id": "o", "name": "ΣΑΣ Lojistik"}])
    insert_rows(path, "contacts", [
        {"id": "cont_01h455vb4pex5vsknk084sn02t", "org_id": "o", "first_name": "İpek",
         "last_name": "Yılmaz", "email": "ipek@sas.com.tr", "company_id": company,
         "created_at": datetime(2024, 1, 1, tzinfo=UTC)},
    ])  # fmt: skip
    indexed = _with_derived_tables(path, tmp_path / "unicode-indexed.duckdb")
    for file in (path, indexed):
        with Warehouse(file, org_id="o") as wh:
            for text in ("İPEK", "ipek", "İpek Yılmaz"):
                assert len(wh.list_contacts(search=text)["data"]) == 1, (file, text)
            assert len(wh.search({"q": "ΣΑΣ"})["data"]) == 1
            assert len(wh.list_companies(name="ΣΑΣ")["data"]) == 1
            condition = {"field": "company.name", "op": "starts_with", "value": "ΣΑΣ"}
            assert len(wh.search({"query": {"groups": [{"conditions": [condition]}]}})["data"])


def test_free_text_matches_custom_values_at_any_depth_never_keys(tmp_path: Path) -> None:
    """Nested custom fields (Instantly's custom_variables) are matched by their values, in both
    files; their key names are not text of the contact (`$.*` handed back the nested object's
    raw JSON, so `employeecount` matched every contact that had one)."""
    from .warehouse_builder import create_warehouse, insert_rows

    path = tmp_path / "nested.duckdb"
    create_warehouse(path)
    metadata = {
        "custom_variables": {"jobTitle": "Founder", "employeeCount": "25", "deep": {"x": "Oslo"}},
        "campaigns": ["Re-engage", {"name": "Q3 Founders"}],
        "said": 'he said "hi"',
        "opted_in": True,
    }
    insert_rows(path, "contacts", [
        {"id": "cont_01h455vb4pex5vsknk084sn02t", "org_id": "o", "first_name": "Ines",
         "metadata": json.dumps(metadata), "created_at": datetime(2024, 1, 1, tzinfo=UTC)},
    ])  # fmt: skip
    indexed = _with_derived_tables(path, tmp_path / "nested-indexed.duckdb")
    for file in (path, indexed):
        with Warehouse(file, org_id="o") as wh:
            for q in ("founder", "25", "oslo", "re-engage", "q3", '"hi"', "true"):
                assert len(wh.search({"q": q})["data"]) == 1, (file, q)
            for q in ("employeecount", "custom_variables", "jobtitle", "deep", "name", "{"):
                assert wh.search({"q": q})["data"] == [], (file, q)


def test_icp_score_pages_with_ties_visit_every_row_once(tmp_path: Path) -> None:
    """Many equal scores: the page bound (the last key of the page) must keep every tie."""
    path = tmp_path / "ties.duckdb"
    with duckdb.connect(str(path)) as conn:
        warehouse.ensure_schema(conn)
        conn.execute(
            "INSERT INTO contacts (id, org_id, icp_score, created_at)"
            " SELECT 'cont_' || lpad(i::VARCHAR, 26, '0'), 'o',"
            " CASE WHEN i % 7 = 0 THEN NULL ELSE i % 3 END, TIMESTAMPTZ '2024-01-01'"
            " FROM range(60) AS r(i)"
        )
    with Warehouse(path, org_id="o") as wh:
        for sort in ("-icp_score", "icp_score"):
            seen, cursor = [], None
            while True:
                page = wh.list_contacts(sort=sort, limit=4, cursor=cursor)
                seen += [(r["icp_score"], r["id"]) for r in page["data"]]
                if not page["has_more"]:
                    break
                cursor = page["next_cursor"]
            scored = sorted((r for r in seen if r[0] is not None), reverse=sort.startswith("-"))
            unscored = sorted((r for r in seen if r[0] is None), reverse=sort.startswith("-"))
            assert sorted(r[1] for r in seen) == [f"cont_{i:026d}" for i in range(60)]
            assert seen == scored + unscored
