"""Two orgs in one warehouse: the real pipeline runs twice into the same file, once per
REX_ORG_ID, with the same people (same emails, same company domains, even the same owner
mailbox) in both inboxes. Records never merge across orgs, the second org's run leaves the
first org's rows as they were, and every public query, scoped to one org (or one owner),
returns only that org's (or owner's) rows, while the two orgs together account for every row.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from rex_pipeline.cli import main
from rex_pipeline.query import NotFound, Warehouse
from rex_pipeline.query.layout import FULL
from tests.conftest import REPO, Env

pytestmark = pytest.mark.integration

ACME, GLOBEX = "acme-org", "globex-org"
MARIA, TOM = "maria.lopez@northwind-labs.io", "tom.becker@northwind-labs.io"
SHARED_EMAILS = ["ada.lovelace@acme-robotics.com", "grace.hopper@globex.com"]

HUBSPOT = (
    "Record ID",
    "First Name",
    "Last Name",
    "Email",
    "Phone Number",
    "Contact owner",
    "Primary Associated Company ID",
    "Last Activity Date",
    "Lead Status",
    "Marketing contact status",
    "Create Date",
    "Associated Company",
)
HUBSPOT_DEALS = (
    "Record ID",
    "Deal Name",
    "Deal Stage",
    "Pipeline",
    "Amount",
    "Close Date",
    "Deal owner",
    "Create Date",
    "Associated Contact",
    "Associated Company",
)
ACTIVITIES = (
    "Activity Type",
    "Subject",
    "Activity Date",
    "Contact Email",
    "Company Domain",
    "Notes",
    "Duration (seconds)",
    "Direction",
    "Activity Owner",
)
TASKS = ("Task Title", "Due Date", "Priority", "Status", "Contact email", "Assigned To")
MC = "Marketing contact"


def csv_text(header: tuple[str, ...], rows: list[tuple[str, ...]], quote_all: bool) -> str:
    """A CSV export as the CRM writes it (HubSpot quotes every field)."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    writer.writerows([header, *rows])
    return out.getvalue()


INBOXES: dict[str, dict[str, str]] = {
    ACME: {
        "csv/hubspot_contacts.csv": csv_text(HUBSPOT, [
            ("101", "Ada", "Lovelace", "Ada.Lovelace@acme-robotics.com", "+1 415 555 0101",
             MARIA, "9001", "2024-03-01 10:00", "OPEN", MC, "2023-01-15 09:30", "Acme Robotics"),
            ("102", "Grace", "Hopper", "grace.hopper@globex.com", "(415) 555-0102", TOM, "9002",
             "", "IN_PROGRESS", MC, "2023-02-01 12:00", "Globex"),
            ("103", "Linus", "Torvalds", "linus@initech.com", "", MARIA, "9003", "", "OPEN", MC,
             "2023-02-02 12:00", "Initech"),
            ("104", "Katherine", "Johnson", "katherine.j+crm@gmail.com", "", "", "", "", "", "",
             "2023-02-03 12:00", ""),
        ], quote_all=True),
        "csv/hubspot_deals.csv": csv_text(HUBSPOT_DEALS, [
            ("8801", "Acme Robotics - Pilot", "Closed Won", "Sales Pipeline", "12000",
             "2024-05-01", MARIA, "2024-02-01 10:00",
             "Ada Lovelace (ada.lovelace@acme-robotics.com)", "Acme Robotics"),
            ("8802", "Globex - Annual", "Appointment Scheduled", "Sales Pipeline", "30000",
             "2024-09-01", TOM, "2024-03-01 10:00", "Grace Hopper (grace.hopper@globex.com)",
             "Globex"),
        ], quote_all=True),
        "csv/activities.csv": csv_text(ACTIVITIES, [
            ("Call", "Call with Ada Lovelace", "2024-03-01T10:00:00Z",
             "ada.lovelace@acme-robotics.com", "acme-robotics.com", "", "900", "Outbound", MARIA),
            ("Note", "Note on Grace Hopper", "2024-03-02T11:00:00Z", "grace.hopper@globex.com",
             "globex.com", "Asked about SOC 2.", "", "", TOM),
            ("Meeting", "Demo for Linus", "2024-03-03T12:00:00Z", "linus@initech.com",
             "initech.com", "", "3600", "", MARIA),
        ], quote_all=False),
        "csv/tasks.csv": csv_text(TASKS, [
            ("Send pricing (Ada)", "2024-04-01", "High", "Not started",
             "ada.lovelace@acme-robotics.com", MARIA),
            ("Share case study (Grace)", "2024-04-02", "Low", "Completed",
             "grace.hopper@globex.com", TOM),
        ], quote_all=False),
    },
    GLOBEX: {
        "csv/hubspot_contacts.csv": csv_text(HUBSPOT, [
            ("501", "Ada", "Lovelace-King", "ada.lovelace@acme-robotics.com", "+44 20 7946 0958",
             MARIA, "7001", "", "CONNECTED", MC, "2024-06-01 09:00", "Acme Robotics"),
            ("502", "Grace", "Hopper", "Grace.Hopper@globex.com", "", MARIA, "7002", "", "OPEN",
             MC, "2024-06-02 09:00", "Globex"),
            ("503", "Hedy", "Lamarr", "hedy@acme-robotics.com", "", TOM, "7001", "", "OPEN", MC,
             "2024-06-03 09:00", "Acme Robotics"),
        ], quote_all=True),
        "csv/hubspot_deals.csv": csv_text(HUBSPOT_DEALS, [
            ("9901", "Acme Robotics - Expansion", "Presentation Scheduled", "Renewals", "55000",
             "2025-01-01", MARIA, "2024-07-01 10:00",
             "Ada Lovelace-King (ada.lovelace@acme-robotics.com)", "Acme Robotics"),
        ], quote_all=True),
        "csv/activities.csv": csv_text(ACTIVITIES, [
            ("Call", "Call with Ada", "2024-07-01T10:00:00Z", "ada.lovelace@acme-robotics.com",
             "acme-robotics.com", "", "600", "Inbound", MARIA),
            ("Call", "Call with Hedy", "2024-07-02T10:00:00Z", "hedy@acme-robotics.com",
             "acme-robotics.com", "", "300", "Outbound", TOM),
        ], quote_all=False),
        "csv/tasks.csv": csv_text(TASKS, [
            ("Follow up (Grace)", "2024-08-01", "Medium", "Not started",
             "grace.hopper@globex.com", MARIA),
        ], quote_all=False),
    },
}  # fmt: skip

TABLES = (
    "contacts",
    "contact_emails",
    "companies",
    "activities",
    "deals",
    "tasks",
    "contact_sources",
    "company_sources",
    "contact_merges",
    "company_merges",
    "rejected_records",
    "saved_views",
    "stage_changes",
)
RESOURCES = ("contacts", "companies", "activities", "deals", "tasks")


def _snapshot(env: Env, org: str) -> dict[str, list[tuple[Any, ...]]]:
    return {t: env.sql(f'SELECT * FROM "{t}" WHERE org_id = ? ORDER BY ALL', [org]) for t in TABLES}


@pytest.fixture(scope="module")
def two_orgs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Run the whole graph for ACME, then for GLOBEX (its own inbox), into one warehouse."""
    root = tmp_path_factory.mktemp("two-orgs")
    env = Env(root)
    snapshots: dict[str, Any] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REX_DUCKDB_PATH", str(env.db))
        mp.setenv("REX_CONFIG", str(REPO / "rex.yaml"))
        mp.delenv("REX_OWN_DOMAINS", raising=False)
        for org, files in INBOXES.items():
            inbox = root / f"inbox-{org}"
            for relative, content in files.items():
                (inbox / relative).parent.mkdir(parents=True, exist_ok=True)
                (inbox / relative).write_text(content, encoding="utf-8")
            mp.setenv("REX_INBOX_DIR", str(inbox))
            mp.setenv("REX_ORG_ID", org)
            result = env.run()
            failures = [
                e.event_specific_data
                for e in result.all_events
                if e.event_type_value == "STEP_FAILURE"
            ]
            assert result.success, failures
            snapshots[org] = _snapshot(env, ACME)
        yield {"env": env, "path": env.db, "acme_after_own_run": snapshots[ACME],
               "acme_after_globex_run": snapshots[GLOBEX]}  # fmt: skip


def ids_of(env: Env, table: str, org: str | None = None) -> set[str]:
    where = "" if org is None else " WHERE org_id = ?"
    return {r[0] for r in env.sql(f'SELECT id FROM "{table}"{where}', [org] if org else [])}


def every_row(fetch: Callable[..., Any], request: dict[str, Any] | None = None) -> list[dict]:
    rows, cursor = [], None
    while True:
        page = fetch({**(request or {}), "limit": 200, "cursor": cursor})
        rows += page["data"]
        if not page["has_more"]:
            return rows
        cursor = page["next_cursor"]


# --- the pipeline ------------------------------------------------------------------------------


def test_both_runs_loaded_their_org(two_orgs: dict[str, Any]) -> None:
    env: Env = two_orgs["env"]
    counts = dict(env.sql("SELECT org_id, count(*) FROM contacts GROUP BY 1"))
    assert counts == {ACME: 4, GLOBEX: 3}
    assert {r[0] for r in env.sql("SELECT DISTINCT org_id FROM activities")} == {ACME, GLOBEX}
    with Warehouse(two_orgs["path"], org_id=ACME) as wh:
        assert wh.layout == FULL


def test_the_same_email_is_one_contact_per_org_with_different_ids(
    two_orgs: dict[str, Any],
) -> None:
    env: Env = two_orgs["env"]
    for email in SHARED_EMAILS:
        rows = env.sql("SELECT org_id, id FROM contacts WHERE lower(email) = ?", [email])
        assert sorted(org for org, _ in rows) == [ACME, GLOBEX], email
        assert len({contact_id for _, contact_id in rows}) == 2, email
    domains = env.sql(
        "SELECT domain, list(org_id ORDER BY org_id), count(DISTINCT id) FROM companies"
        " WHERE domain = 'acme-robotics.com' GROUP BY 1"
    )
    assert domains == [("acme-robotics.com", [ACME, GLOBEX], 2)]


def test_no_id_and_no_merge_crosses_orgs(two_orgs: dict[str, Any]) -> None:
    env: Env = two_orgs["env"]
    for table in RESOURCES:
        shared = env.sql(f'SELECT id FROM "{table}" GROUP BY id HAVING count(DISTINCT org_id) > 1')
        assert shared == [], table
    for merges, entities in (("contact_merges", "contacts"), ("company_merges", "companies")):
        crossing = env.sql(
            f'SELECT m.* FROM "{merges}" m WHERE EXISTS (SELECT 1 FROM "{entities}" e'
            " WHERE e.id IN (m.winner_id, m.loser_id) AND e.org_id <> m.org_id)"
        )
        assert crossing == [], merges
    for child, column in (("contact_emails", "contact_id"), ("contact_sources", "contact_id"),
                          ("activities", "contact_id"), ("deals", "contact_id"),
                          ("tasks", "contact_id"), ("contacts", "company_id"),
                          ("activities", "company_id"), ("deals", "company_id")):  # fmt: skip
        parent = "companies" if column == "company_id" else "contacts"
        wrong = env.sql(
            f'SELECT count(*) FROM "{child}" c JOIN "{parent}" p ON p.id = c.{column}'
            " WHERE p.org_id <> c.org_id"
        )
        assert wrong == [(0,)], (child, column)


def test_the_second_orgs_run_leaves_the_first_orgs_rows_alone(two_orgs: dict[str, Any]) -> None:
    before, after = two_orgs["acme_after_own_run"], two_orgs["acme_after_globex_run"]
    assert before["contacts"]  # the snapshot is not empty
    changed = [t for t in TABLES if before[t] != after[t]]
    assert changed == []


# --- every public query, scoped -----------------------------------------------------------------


@pytest.fixture(scope="module")
def org_ids(two_orgs: dict[str, Any]) -> dict[str, dict[str, set[str]]]:
    env: Env = two_orgs["env"]
    return {org: {t: ids_of(env, t, org) for t in RESOURCES} for org in (ACME, GLOBEX)}


@pytest.mark.parametrize("org", [ACME, GLOBEX])
def test_lists_return_only_the_orgs_rows_and_the_orgs_cover_every_row(
    two_orgs: dict[str, Any], org_ids: dict[str, dict[str, set[str]]], org: str
) -> None:
    env: Env = two_orgs["env"]
    assert all(org_ids[org].values())  # every kind of record in both orgs
    with Warehouse(two_orgs["path"], org_id=org) as wh:
        for resource in RESOURCES:
            rows = every_row(lambda r, res=resource: wh.list_records(res, r))
            assert {row["id"] for row in rows} == org_ids[org][resource], resource
            assert all("org_id" not in row for row in rows)
    for resource in RESOURCES:
        union = org_ids[ACME][resource] | org_ids[GLOBEX][resource]
        assert union == ids_of(env, resource), resource


@pytest.mark.parametrize("org", [ACME, GLOBEX])
def test_records_and_their_related_records_stay_in_the_org(
    two_orgs: dict[str, Any], org_ids: dict[str, dict[str, set[str]]], org: str
) -> None:
    other = GLOBEX if org == ACME else ACME
    mine = set().union(*org_ids[org].values())
    env: Env = two_orgs["env"]
    merged = {r[0] for r in env.sql("SELECT loser_id FROM contact_merges WHERE org_id = ?"
                                    " UNION SELECT loser_id FROM company_merges WHERE org_id = ?",
                                    [org, org])}  # fmt: skip
    with Warehouse(two_orgs["path"], org_id=org) as wh:
        for resource in RESOURCES:
            for record_id in org_ids[org][resource]:
                answer = wh.get(resource, record_id)
                assert answer["data"]["id"] == record_id
                assert {item["id"] for item in answer["included"]} <= mine
            for record_id in org_ids[other][resource]:
                with pytest.raises(NotFound):
                    wh.get(resource, record_id)
        for contact_id in org_ids[org]["contacts"]:
            for related in ("deals", "activities", "tasks"):
                rows = every_row(lambda r, c=contact_id, k=related: wh.contact_related(c, k, r))
                assert {row["id"] for row in rows} <= org_ids[org][related]
            events = every_row(lambda r, c=contact_id: wh.contact_timeline(c, r))
            assert {e["record_id"] for e in events} - {None} <= mine | merged
        for company_id in org_ids[org]["companies"]:
            events = every_row(lambda r, c=company_id: wh.company_timeline(c, r))
            assert {e["record_id"] for e in events} - {None} <= mine | merged
        for contact_id in org_ids[other]["contacts"]:
            with pytest.raises(NotFound):
                wh.contact_timeline(contact_id)
            with pytest.raises(NotFound):
                wh.contact_deals(contact_id)


@pytest.mark.parametrize("org", [ACME, GLOBEX])
def test_searches_views_and_summary_stay_in_the_org(
    two_orgs: dict[str, Any], org_ids: dict[str, dict[str, set[str]]], org: str
) -> None:
    env: Env = two_orgs["env"]
    contacts = org_ids[org]["contacts"]
    counts = {
        table: env.sql(f'SELECT count(*) FROM "{table}" WHERE org_id = ?', [org])[0][0]
        for table in TABLES
    }
    view_names = [
        r[0] for r in env.sql("SELECT name FROM saved_views WHERE org_id = ? ORDER BY 1", [org])
    ]
    with Warehouse(two_orgs["path"], org_id=org) as wh:
        for text in ("ada", "lovelace", "acme", "globex.com", "grace hopper"):
            found = {r["id"] for r in every_row(wh.list_contacts, {"search": text})}
            assert found and found <= contacts, text
            free = {r["id"] for r in every_row(wh.search, {"q": text})}
            assert found <= free <= contacts, text
        smart = {
            "query": {
                "groups": [
                    {
                        "conditions": [
                            {"field": "company.domain", "op": "eq", "value": "acme-robotics.com"}
                        ]
                    }
                ]
            }
        }
        assert {r["id"] for r in every_row(wh.search, smart)} <= contacts  # fmt: skip
        views = wh.views()
        assert view_names and [v["name"] for v in views] == view_names
        for view in views:
            assert {r["id"] for r in every_row(lambda r, n=view["name"]: wh.run_view(n, **r))} <= (
                contacts
            )
        summary = wh.summary()
        for table, count in summary["tables"].items():
            assert count == counts.get(table, 0), table
        assert {c["id"] for c in summary["top_contacts"]} <= contacts


@pytest.mark.parametrize("org", [ACME, GLOBEX])
def test_an_owner_sees_only_their_contacts_and_those_contacts_records(
    two_orgs: dict[str, Any], org: str
) -> None:
    """MARIA owns contacts in both orgs: scoped to one org she sees only that org's."""
    env: Env = two_orgs["env"]

    def expected(table: str) -> set[str]:
        if table == "contacts":
            sql = "SELECT id FROM contacts WHERE org_id = ? AND owner_id = ?"
        elif table == "companies":
            sql = "SELECT id FROM companies WHERE org_id = ? AND ? IS NOT NULL"
        else:
            sql = (
                f'SELECT t.id FROM "{table}" t JOIN contacts c'
                " ON c.org_id = t.org_id AND c.id = t.contact_id"
                " WHERE t.org_id = ? AND c.owner_id = ?"
            )
        return {r[0] for r in env.sql(sql, [org, MARIA])}

    wanted = {resource: expected(resource) for resource in RESOURCES}
    mine = wanted["contacts"]
    others = ids_of(env, "contacts") - mine
    assert mine and others  # she owns contacts in this org, and not every contact
    with Warehouse(two_orgs["path"], org_id=org, owner_id=MARIA) as maria:
        for resource in RESOURCES:
            for sort in (None, "created_at"):
                rows = every_row(
                    lambda r, res=resource, s=sort: maria.list_records(res, {**r, "sort": s})
                )
                assert {row["id"] for row in rows} == wanted[resource], (resource, sort)
        assert {r["id"] for r in every_row(maria.list_contacts, {"search": "a"})} <= mine
        assert {r["id"] for r in every_row(maria.search, {"q": "acme"})} <= mine
        for contact_id in others:
            with pytest.raises(NotFound):
                maria.get_contact(contact_id)
        assert set(maria.summary()["tables"].values()) != {0}


def test_the_cli_answers_for_the_org_it_is_given(
    two_orgs: dict[str, Any],
    org_ids: dict[str, dict[str, set[str]]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("REX_DUCKDB_PATH", str(two_orgs["path"]))
    monkeypatch.setenv("REX_CONFIG", str(REPO / "rex.yaml"))
    monkeypatch.setenv("REX_ORG_ID", ACME)
    for org in (ACME, GLOBEX):
        for argv in (
            ["--org", org, "contacts", "list", "--format", "json"],
            ["--org", org, "search", "--q", "ada", "--format", "json"],
            ["--org", org, "activities", "list", "--format", "json"],
        ):
            assert main(argv) == 0
            data = json.loads(capsys.readouterr().out)["data"]
            resource = "activities" if "activities" in argv else "contacts"
            assert data and {row["id"] for row in data} <= org_ids[org][resource], argv
    assert main(["contacts", "get", next(iter(org_ids[GLOBEX]["contacts"]))]) == 1
    assert "no contact" in capsys.readouterr().err


def test_the_warehouse_file_is_untouched_by_queries(two_orgs: dict[str, Any]) -> None:
    """Run last in this module: every query above opened the file read-only."""
    path: Path = two_orgs["path"]
    with duckdb.connect(str(path), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM contacts").fetchall() == [(7,)]
    assert not path.with_name(path.name + ".wal").exists()
