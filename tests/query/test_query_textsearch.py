"""Name/email search through the derived contact_search table, and the scan used by warehouses
published before it existed: both give the same answers. Also: publish() builds the table, and
tie-heavy sorts (ICP score) page correctly with their page bound."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from rex_pipeline import warehouse
from rex_pipeline.publish import derived
from rex_pipeline.query import Warehouse, textsearch
from rex_pipeline.query.connection import open_readonly
from rex_pipeline.query.textsearch import SCAN, text_search

from .conftest import ORG, World


def _with_derived_tables(source: Path, target: Path) -> Path:
    shutil.copyfile(source, target)
    with duckdb.connect(str(target)) as conn:
        derived.build_derived_tables(conn, str(warehouse.scalar(conn, "SELECT current_database()")))
    return target


@pytest.fixture(scope="module")
def indexed(world: World, tmp_path_factory: pytest.TempPathFactory) -> World:
    """The test warehouse as publish() now writes it: with contact_search."""
    path = _with_derived_tables(world.path, tmp_path_factory.mktemp("indexed") / "rex.duckdb")
    return World(path, world.ids)


@pytest.fixture(params=["scan", "contact_search"])
def either(request: pytest.FixtureRequest, world: World, indexed: World) -> Any:
    chosen = indexed if request.param == "contact_search" else world
    with chosen.open() as wh:
        yield wh


def test_the_warehouse_says_which_search_it_supports(world: World, indexed: World) -> None:
    with open_readonly(world.path) as old, open_readonly(indexed.path) as new:
        assert text_search(old, ORG) is SCAN
        assert text_search(new, ORG).indexed
        assert text_search(new, ORG).few_matches(["lovelace"]) == [world.ids["ada"]]
        assert text_search(new, ORG).few_matches(["nobody"]) == []


def test_contact_search_holds_lowered_name_and_primary_email(indexed: World) -> None:
    with open_readonly(indexed.path) as conn:
        rows = conn.execute(
            "SELECT s.text FROM contact_search s JOIN contacts c ON c.id = s.contact_id"
            " WHERE c.id = ?",
            [indexed.ids["ada"]],
        ).fetchall()
        missing = conn.execute(
            "SELECT count(*) FROM contacts c WHERE NOT EXISTS"
            " (SELECT 1 FROM contact_search s WHERE s.contact_id = c.id AND s.org_id = c.org_id)"
        ).fetchall()
    assert rows == [("ada lovelace ada@globex.com",)]
    assert missing == [(0,)]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("hopper", {"Grace"}),
        ("ADA LOVE", {"Ada"}),  # every word, any case, first or last name
        ("lovelace ada", {"Ada"}),  # in any order
        ("globex.com", {"Ada", "Margaret"}),  # primary email
        ("o'brien", {"Siobhán"}),
        ("SIOBHÁN", {"Siobhán"}),
        ("lovelaceada", set()),  # a word never spans two fields
        ("' OR 1=1 --", set()),
    ],
)
def test_list_search_gives_the_same_answer_both_ways(
    either: Warehouse, search: str, expected: set[str]
) -> None:
    assert {r["first_name"] for r in either.list_contacts(search=search)["data"]} == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("lovelace", {"Ada"}),
        ("grace globex", set()),
        ("HOPPER", {"Grace"}),
    ],
)
def test_smart_list_free_text_gives_the_same_answer_both_ways(
    either: Warehouse, q: str, expected: set[str]
) -> None:
    assert {r["first_name"] for r in either.search({"q": q})["data"]} == expected


def test_search_stays_in_its_org_and_owner(indexed: World) -> None:
    with indexed.open(org_id="other-org") as other:
        assert [r["id"] for r in other.list_contacts(search="ada")["data"]] == [
            indexed.ids["other_ada"]
        ]
    with indexed.open(owner_id="ben@northwind-labs.io") as ben:
        assert ben.list_contacts(search="lovelace")["data"] == []


def test_search_reads_contact_search_when_present(indexed: World, tmp_path: Path) -> None:
    """Proof the new path is taken: emptying the table empties the results."""
    path = tmp_path / "emptied.duckdb"
    shutil.copyfile(indexed.path, path)
    with duckdb.connect(str(path)) as conn:
        conn.execute("DELETE FROM contact_search")
    with Warehouse(path, org_id=ORG) as wh:
        assert wh.list_contacts(search="lovelace")["data"] == []
        assert wh.list_contacts(stage="lead")["data"]  # other lists do not depend on it


def test_publish_adds_contact_search_with_comments(tmp_path: Path) -> None:
    published = tmp_path / "rex.duckdb"
    with warehouse.connect_work(published) as con:
        con.execute(
            "INSERT INTO contacts (id, org_id, email, first_name, last_name, created_at)"
            " VALUES (?, 'o', 'Zoë.Quinn@Example.com', 'Zoë', 'Quinn', ?),"
            " (?, 'o', NULL, NULL, NULL, ?)",
            [
                "cont_01h455vb4pex5vsknk084sn02q",
                datetime(2024, 1, 1, tzinfo=UTC),
                "cont_01h455vb4pex5vsknk084sn02r",
                datetime(2024, 2, 1, tzinfo=UTC),
            ],
        )
        warehouse.publish(con, published)
    with open_readonly(published) as conn:
        rows = conn.execute("SELECT contact_id, text FROM contact_search").fetchall()
        comment = conn.execute(
            "SELECT comment FROM duckdb_tables() WHERE table_name = 'contact_search'"
        ).fetchall()[0][0]
    assert rows == [  # newest first, like contacts
        ("cont_01h455vb4pex5vsknk084sn02r", ""),
        ("cont_01h455vb4pex5vsknk084sn02q", "zoë quinn zoë.quinn@example.com"),
    ]
    assert "not part of the contract" in comment
    with Warehouse(published, org_id="o") as wh:
        assert [r["first_name"] for r in wh.list_contacts(search="QUINN")["data"]] == ["Zoë"]


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


def test_common_words_fall_back_to_the_scan(
    indexed: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More matches than FEW_MATCHES: the scan answers (and answers the same)."""
    monkeypatch.setattr(textsearch, "FEW_MATCHES", 1)
    with indexed.open() as wh, open_readonly(indexed.path) as conn:
        assert text_search(conn, ORG).few_matches(["globex.com"]) is None
        assert text_search(conn, ORG).few_matches(["hopper"]) == [indexed.ids["grace"]]
        found = {r["first_name"] for r in wh.list_contacts(search="globex.com")["data"]}
    assert found == {"Ada", "Margaret"}
