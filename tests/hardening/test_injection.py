"""Hostile input against every input of the query module and the `rex` CLI.

Each payload (SQL injection, path traversal, JSON-path tricks, NUL bytes, 10k characters,
unpaired surrogates, unicode) goes into every input: as a value it must return exactly the rows
that literally match it (checked against a Python reading of the same data), as a name (field,
sort, op, custom path, resource) it must be refused with the module's InvalidRequest naming the
bad part. Nothing is ever written: the warehouse file keeps its bytes. Cursors that were edited,
truncated, re-signed or made for another query are refused. Both ways of answering are tried:
the plain scan and the derived tables a publish adds.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from rex_pipeline import warehouse
from rex_pipeline.cli import main
from rex_pipeline.publish import derived
from rex_pipeline.query import InvalidCursor, InvalidRequest, NotFound, QueryError, Warehouse
from rex_pipeline.query.cursor import encode_cursor
from rex_pipeline.query.smartlist import _CUSTOM_KEY
from tests.query.conftest import ORG, build_world

REPO = Path(__file__).resolve().parents[2]

PAYLOADS = [
    "' OR 1=1 --",
    '"; DROP TABLE contacts; --',
    "x') UNION SELECT id, email FROM contacts --",
    "'; ATTACH '/tmp/evil.duckdb' AS evil; --",
    "'); COPY contacts TO '/tmp/leak.csv'; --",
    "' || (SELECT string_agg(email, ',') FROM contacts) || '",
    "../../etc/passwd",
    "..\\..\\windows\\system32",
    "custom.a'b",
    "custom.$..x",
    "$.*",
    "a\x00b",
    "\x00",
    "x" * 10_000,
    "\ud800",
    "Ünïcödé ✓ 🚀 中文 \u202e",
    "%",
    "_",
    "\\",
    "NULL",
    "globex' --",
    "1; SELECT 1",
]
TOO_LONG = 500  # the longest text value a filter takes


def _surrogate(value: str) -> bool:
    try:
        value.encode()
    except UnicodeEncodeError:
        return True
    return False


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the warehouse, with and without derived tables ------------------------------------------


@pytest.fixture(scope="module", params=["plain", "derived"])
def built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """The query tests' warehouse; its bytes must be the same after every test of the module."""
    path = tmp_path_factory.mktemp(f"injection-{request.param}") / "rex.duckdb"
    build_world(path)
    if request.param == "derived":
        with duckdb.connect(str(path)) as conn:
            catalog = str(warehouse.scalar(conn, "SELECT current_database()"))
            derived.build_derived_tables(conn, catalog)
    before = _digest(path)
    yield path
    assert _digest(path) == before, "a query changed the warehouse file"
    assert not path.with_name(path.name + ".wal").exists()


@pytest.fixture(scope="module")
def data(built: Path) -> dict[str, list[dict[str, Any]]]:
    """Every row of the tables the oracles need, read directly."""
    with duckdb.connect(str(built), read_only=True) as conn:

        def rows(sql: str) -> list[dict[str, Any]]:
            cursor = conn.execute(sql)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

        return {
            "contacts": rows(
                "SELECT c.*, co.name AS company_name,"
                " (SELECT list(email) FROM contact_emails e WHERE e.contact_id = c.id"
                "  AND e.org_id = c.org_id AND NOT e.is_primary) AS other_emails"
                f" FROM contacts c LEFT JOIN companies co ON co.id = c.company_id"
                f" WHERE c.org_id = '{ORG}'"
            ),
            "companies": rows(f"SELECT * FROM companies WHERE org_id = '{ORG}'"),
            "activities": rows(f"SELECT * FROM activities WHERE org_id = '{ORG}'"),
            "deals": rows(f"SELECT * FROM deals WHERE org_id = '{ORG}'"),
        }


@pytest.fixture
def wh(built: Path) -> Iterator[Warehouse]:
    with Warehouse(built, org_id=ORG) as warehouse_:
        yield warehouse_


def every_id(fetch: Callable[..., Any], request: dict[str, Any]) -> set[str]:
    ids, cursor = set(), None
    while True:
        page = fetch({**request, "limit": 200, "cursor": cursor})
        ids |= {row["id"] for row in page["data"]}
        if not page["has_more"]:
            return ids
        cursor = page["next_cursor"]


# --- oracles: what a filter literally means, computed in Python --------------------------------


def _low(value: Any) -> str:
    return "" if value is None else str(value).lower()


def _metadata_values(row: dict[str, Any]) -> list[str]:
    meta = json.loads(row["metadata"]) if row["metadata"] else {}
    if not isinstance(meta, dict):
        return []
    return [v if isinstance(v, str) else json.dumps(v) for v in meta.values() if v is not None]


def search_oracle(row: dict[str, Any], text: str) -> bool:
    fields = [_low(row["first_name"]), _low(row["last_name"]), _low(row["email"])]
    return all(any(w.lower() in f for f in fields) for w in text.split()[:10])


def free_text_oracle(row: dict[str, Any], text: str) -> bool:
    fields = [_low(row["first_name"]), _low(row["last_name"]), _low(row["email"])]
    fields += [_low(e) for e in row["other_emails"] or []]
    fields += [_low(row["company_name"]), *(_low(v) for v in _metadata_values(row))]
    return all(any(w.lower() in f for f in fields) for w in text.split()[:10])


def _tags(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


# value inputs: (name, how to ask, which rows literally match, the limit on the value)
ValueCase = tuple[str, Callable[[Warehouse, str], set[str]], Callable[[Any, str], set[str]], int]
VALUE_INPUTS: list[ValueCase] = [
    ("contacts.search", lambda wh, p: every_id(wh.list_contacts, {"search": p}),
     lambda d, p: {r["id"] for r in d["contacts"] if search_oracle(r, p)}, TOO_LONG),
    ("contacts.owner_id", lambda wh, p: every_id(wh.list_contacts, {"owner_id": p}),
     lambda d, p: {r["id"] for r in d["contacts"] if r["owner_id"] == p}, TOO_LONG),
    ("contacts.tags", lambda wh, p: every_id(wh.list_contacts, {"tags": p}),
     lambda d, p: {r["id"] for r in d["contacts"]
                   if _tags(p) and all(t in (r["tags"] or []) for t in _tags(p))}, 10**9),
    ("companies.name", lambda wh, p: every_id(wh.list_companies, {"name": p}),
     lambda d, p: {r["id"] for r in d["companies"] if p.lower() in _low(r["name"])}, TOO_LONG),
    ("companies.domain", lambda wh, p: every_id(wh.list_companies, {"domain": p}),
     lambda d, p: {r["id"] for r in d["companies"] if p.lower() == _low(r["domain"])}, TOO_LONG),
    ("companies.industry", lambda wh, p: every_id(wh.list_companies, {"industry": p}),
     lambda d, p: {r["id"] for r in d["companies"] if p.lower() == _low(r["industry"])},
     TOO_LONG),
    ("activities.subtype", lambda wh, p: every_id(wh.list_activities, {"subtype": p}),
     lambda d, p: {r["id"] for r in d["activities"] if p.lower() == _low(r["subtype"])},
     TOO_LONG),
    ("activities.source", lambda wh, p: every_id(wh.list_activities, {"source": p}),
     lambda d, p: {r["id"] for r in d["activities"] if p.lower() == _low(r["source"])},
     TOO_LONG),
    ("activities.owner_id", lambda wh, p: every_id(wh.list_activities, {"owner_id": p}),
     lambda d, p: {r["id"] for r in d["activities"] if r["owner_id"] == p}, TOO_LONG),
    ("deals.pipeline_id", lambda wh, p: every_id(wh.list_deals, {"pipeline_id": p}),
     lambda d, p: {r["id"] for r in d["deals"] if r["pipeline_id"] == p}, TOO_LONG),
    ("deals.stage_id", lambda wh, p: every_id(wh.list_deals, {"stage_id": p}),
     lambda d, p: {r["id"] for r in d["deals"] if r["stage_id"] == p}, TOO_LONG),
    ("search.q", lambda wh, p: every_id(wh.search, {"q": p}),
     lambda d, p: {r["id"] for r in d["contacts"] if free_text_oracle(r, p)}, 200),
    ("search email contains", lambda wh, p: every_id(wh.search, {"query": {"groups": [
        {"conditions": [{"field": "email", "op": "contains", "value": p}]}]}}),
     lambda d, p: {r["id"] for r in d["contacts"] if p and p.lower() in _low(r["email"])},
     TOO_LONG),
    ("search last_name in", lambda wh, p: every_id(wh.search, {"query": {"groups": [
        {"conditions": [{"field": "last_name", "op": "in", "value": [p]}]}]}}),
     lambda d, p: {r["id"] for r in d["contacts"] if p and p.lower() == _low(r["last_name"])},
     TOO_LONG),
    ("search custom.city eq", lambda wh, p: every_id(wh.search, {"query": {"groups": [
        {"conditions": [{"field": "custom.city", "op": "eq", "value": p}]}]}}),
     lambda d, p: {r["id"] for r in d["contacts"]
                   if p and json.loads(r["metadata"] or "{}").get("city", "").lower()
                   == p.lower()}, TOO_LONG),
    ("search company.name starts_with", lambda wh, p: every_id(wh.search, {"query": {"groups": [
        {"conditions": [{"field": "company.name", "op": "starts_with", "value": p}]}]}}),
     lambda d, p: {r["id"] for r in d["contacts"]
                   if p and _low(r["company_name"]).startswith(p.lower())}, TOO_LONG),
    ("search tags contains", lambda wh, p: every_id(wh.search, {"query": {"groups": [
        {"conditions": [{"field": "tags", "op": "contains", "value": p}]}]}}),
     lambda d, p: {r["id"] for r in d["contacts"]
                   if p and any(p.lower() in t.lower() for t in r["tags"] or [])}, TOO_LONG),
]  # fmt: skip


@pytest.mark.parametrize("case", VALUE_INPUTS, ids=[c[0] for c in VALUE_INPUTS])
def test_a_payload_as_a_value_matches_only_itself(
    wh: Warehouse, data: dict[str, Any], case: ValueCase
) -> None:
    name, ask, oracle, longest = case
    for payload in PAYLOADS:
        if _surrogate(payload) or len(payload) > longest:
            with pytest.raises(InvalidRequest):
                ask(wh, payload)
            continue
        assert ask(wh, payload) == oracle(data, payload), (name, payload[:40])


def test_the_oracles_are_not_vacuous(wh: Warehouse, data: dict[str, Any]) -> None:
    """The same checks find the rows of values that are there (so they can fail)."""
    probes = ["globex", "ana@northwind-labs.io", "enterprise", "globex", "globex.com",
              "software", "reply", "gmail", "ben@northwind-labs.io", "sales", "negotiation",
              "arlington", "initech", "Hopper", "dublin", "Glob", "enter"]  # fmt: skip
    for (name, ask, oracle, _), probe in zip(VALUE_INPUTS, probes, strict=True):
        found = ask(wh, probe)
        assert found and found == oracle(data, probe), name


# --- names: refused, with the bad part named ----------------------------------------------------

NAME_INPUTS: list[tuple[str, Callable[[Warehouse, str], Any], str]] = [
    ("sort", lambda wh, p: wh.list_contacts(sort=p), "sort"),
    ("descending sort", lambda wh, p: wh.list_activities(sort="-" + p), "sort"),
    ("fields", lambda wh, p: wh.list_contacts(fields=[p]), "fields"),
    ("smart-list field", lambda wh, p: wh.search({"query": {"groups": [
        {"conditions": [{"field": p, "op": "eq", "value": "x"}]}]}}), "field"),
    ("smart-list op", lambda wh, p: wh.search({"query": {"groups": [
        {"conditions": [{"field": "email", "op": p, "value": "x"}]}]}}), "op"),
    ("smart-list sort", lambda wh, p: wh.search({"sort": p}), "sort"),
    ("smart-list fields", lambda wh, p: wh.search({"fields": [p]}), "fields"),
    ("list resource", lambda wh, p: wh.list_records(p), "resource"),
    ("get resource", lambda wh, p: wh.get(p, "cont_01h455vb4pex5vsknk084sn02q"), "resource"),
    ("timeline resource", lambda wh, p: wh.timeline(p, "cont_01h455vb4pex5vsknk084sn02q"),  # type: ignore[arg-type]
     "timeline"),
    ("related resource", lambda wh, p: wh.contact_related(
        "cont_01h455vb4pex5vsknk084sn02q", p), "contact has no"),  # type: ignore[arg-type]
    ("filter name", lambda wh, p: wh.list_contacts({p: "x"}), "Extra inputs"),
    ("smart-list key", lambda wh, p: wh.search({p: "x"}), "Extra inputs"),
]  # fmt: skip


@pytest.mark.parametrize("case", NAME_INPUTS, ids=[c[0] for c in NAME_INPUTS])
def test_a_payload_as_a_name_is_refused_naming_the_part(
    wh: Warehouse, case: tuple[str, Callable[[Warehouse, str], Any], str]
) -> None:
    name, ask, part = case
    for payload in PAYLOADS:
        with pytest.raises(InvalidRequest) as err:
            ask(wh, payload)
        assert part in str(err.value) or _surrogate(payload), (name, payload[:40], err.value)


def test_custom_field_paths_are_refused_unless_plain_keys(wh: Warehouse) -> None:
    for payload in [*PAYLOADS, "a.b", "a'b", "$.x", "x[0]", "*", "a..b", ""]:
        request = {"query": {"groups": [{"conditions": [
            {"field": f"custom.{payload}", "op": "eq", "value": "x"}]}]}}  # fmt: skip
        if _CUSTOM_KEY.fullmatch(payload):
            assert wh.search(request)["data"] == []  # a key no contact has
        else:
            with pytest.raises(InvalidRequest, match=r"conditions\[0\]\.field: "):
                wh.search(request)


# --- scopes, ids, views, dates, cursors -------------------------------------------------------


def test_a_payload_as_the_org_or_owner_sees_nothing(built: Path) -> None:
    for payload in PAYLOADS:
        if _surrogate(payload):
            with pytest.raises(InvalidRequest, match="org_id"):
                Warehouse(built, org_id=payload)
            with pytest.raises(InvalidRequest, match="owner_id"):
                Warehouse(built, org_id=ORG, owner_id=payload)
            continue
        with Warehouse(built, org_id=payload) as other:
            assert other.list_contacts()["data"] == []
            assert other.search({"q": "ada"})["data"] == []
            assert other.views() == []
            assert set(other.summary()["tables"].values()) <= {0, None}
        with Warehouse(built, org_id=ORG, owner_id=payload) as member:
            assert member.list_contacts()["data"] == []
            assert member.list_activities()["data"] == []
            assert member.list_contacts(search="a")["data"] == []
            assert member.list_deals()["data"] == member.list_tasks()["data"] == []


def test_a_payload_as_an_id_view_name_date_or_cursor_is_refused(wh: Warehouse) -> None:
    for payload in PAYLOADS:
        for resource in ("contacts", "companies", "activities", "deals", "tasks"):
            with pytest.raises(InvalidRequest, match="is not a"):
                wh.get(resource, payload)
        with pytest.raises(InvalidRequest, match="is not a contact id"):
            wh.contact_timeline(payload)
        with pytest.raises(InvalidRequest, match="is not a contact id"):
            wh.contact_deals(payload)
        with pytest.raises(InvalidRequest, match="contact_id"):
            wh.list_activities(contact_id=payload)
        with pytest.raises(InvalidRequest, match="created_after"):
            wh.list_contacts(created_after=payload)
        with pytest.raises(InvalidRequest, match="cursor"):
            wh.list_contacts(cursor=payload)
        with pytest.raises(InvalidRequest, match="cursor"):
            wh.search({"cursor": payload})
        with pytest.raises(InvalidRequest, match="cursor"):
            wh.run_view("hot-prospects", cursor=payload)
        with pytest.raises((NotFound, InvalidRequest), match="view"):
            wh.run_view(payload)


def _edit(token: str, change: Callable[[list[Any]], list[Any]]) -> str:
    import base64

    payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    text = json.dumps(change(payload), separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_tampered_cursors_are_refused(built: Path) -> None:
    with (
        Warehouse(built, org_id=ORG) as wh,
        Warehouse(built, org_id="other-org") as other,
        Warehouse(built, org_id=ORG, owner_id="ana@northwind-labs.io") as ana,
        Warehouse(built, org_id=ORG, cursor_secret="server secret") as signed,
    ):
        cursor = wh.list_contacts(limit=2)["next_cursor"]
        assert cursor and wh.list_contacts(limit=2, cursor=cursor)["data"]
        flipped = [
            cursor[:i] + chr(ord(cursor[i]) ^ 1) + cursor[i + 1 :] for i in range(len(cursor))
        ]
        tampered = [
            *flipped,
            cursor[:-4],  # truncated
            cursor + "==",
            cursor + "\x00",
            _edit(cursor, lambda p: [p[0], "first_name", p[2], p[3]]),  # other sort, old tag
            _edit(cursor, lambda p: [p[0], p[1], ["2099-01-01T00:00:00+00:00", p[2][1]], p[3]]),
            _edit(cursor, lambda p: [p[0], p[1], p[2], "0" * 32]),
            encode_cursor("first_name", ["Ada", "cont_x"]),  # re-signed for another query
            "bm90IGJhc2U2NA==",
            "not base64 at all!",
        ]
        for bad in tampered:
            with pytest.raises(InvalidCursor):
                wh.list_contacts(limit=2, cursor=bad)
        with pytest.raises(InvalidCursor, match="made for sort"):
            wh.list_contacts(limit=2, sort="first_name", cursor=cursor)
        refusals = {
            "another org": lambda: other.list_contacts(limit=2, cursor=cursor),
            "another owner": lambda: ana.list_contacts(limit=2, cursor=cursor),
            "another filter": lambda: wh.list_contacts(limit=2, stage="lead", cursor=cursor),
            "another search": lambda: wh.list_contacts(limit=2, search="a", cursor=cursor),
            "a smart list": lambda: wh.search({"limit": 2, "cursor": cursor}),
            "another kind": lambda: wh.list_companies(limit=2, cursor=cursor),
            "another secret": lambda: signed.list_contacts(limit=2, cursor=cursor),
        }
        for what, ask in refusals.items():
            with pytest.raises(InvalidCursor, match="another org, owner or filter"):
                ask()
            assert what
        # a signed cursor works where it was made, and only there
        signed_cursor = signed.list_contacts(limit=2)["next_cursor"]
        assert signed.list_contacts(limit=2, cursor=signed_cursor)["data"]
        with pytest.raises(InvalidCursor):
            wh.list_contacts(limit=2, cursor=signed_cursor)
        timeline = wh.contact_timeline(
            wh.list_contacts(search="lovelace")["data"][0]["id"], limit=1
        )
        with pytest.raises(InvalidCursor):
            wh.contact_timeline(
                wh.list_contacts(search="hopper")["data"][0]["id"], limit=1,
                cursor=timeline["next_cursor"],
            )  # fmt: skip


# --- the CLI: one clear line, a non-zero exit -------------------------------------------------


@pytest.fixture(scope="module")
def cli_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The CLI is a thin layer over the module tried above: one warehouse (with the derived
    tables) is enough, and its bytes must not change either."""
    path = tmp_path_factory.mktemp("injection-cli") / "rex.duckdb"
    build_world(path)
    with duckdb.connect(str(path)) as conn:
        derived.build_derived_tables(conn, str(warehouse.scalar(conn, "SELECT current_database()")))
    before = _digest(path)
    yield path
    assert _digest(path) == before, "a command changed the warehouse file"


@pytest.fixture
def rex(
    cli_warehouse: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    monkeypatch.setenv("REX_DUCKDB_PATH", str(cli_warehouse))
    monkeypatch.setenv("REX_ORG_ID", ORG)
    monkeypatch.setenv("REX_CONFIG", str(REPO / "rex.yaml"))

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


# A shell cannot pass NUL bytes or unpaired surrogates in arguments.
CLI_PAYLOADS = [p for p in PAYLOADS if "\x00" not in p and not _surrogate(p)]
CLI_NAMES = [
    ["contacts", "list", "--sort", "{}"],
    ["contacts", "list", "--fields", "{}"],
    ["contacts", "get", "{}"],
    ["contacts", "timeline", "{}"],
    ["activities", "list", "--contact-id", "{}"],
    ["contacts", "list", "--cursor", "{}"],
    ["views", "run", "{}"],
    ["deals", "list", "--created-after", "{}"],
]
CLI_VALUES = [
    ["contacts", "list", "--owner-id", "{}", "--format", "json"],
    ["--org", "{}", "contacts", "list", "--format", "json"],
    ["--owner", "{}", "activities", "list", "--format", "json"],
    ["companies", "list", "--domain", "{}", "--format", "json"],
    ["search", "--q", "{} zzqx", "--format", "json"],
]


def _each(commands: list[list[str]], payloads: list[str]) -> Iterator[list[str]]:
    """Commands with payloads in "{}": every command gets the first four payloads (the SQL
    ones), and every payload goes through at least one command (each call pays a CLI start)."""
    for index, payload in enumerate(payloads):
        for number, command in enumerate(commands):
            if index < 4 or index % len(commands) == number:
                yield [part.replace("{}", payload) for part in command]


def test_cli_refuses_hostile_names_in_one_line(rex: Callable[..., tuple[int, str, str]]) -> None:
    for argv in _each(CLI_NAMES, CLI_PAYLOADS):
        code, out, err = rex(*argv)
        assert code != 0, argv
        assert err.startswith("rex: ") and err.count("\n") == 1, (argv, err[:200])
        assert "Traceback" not in err and out == ""


def test_cli_takes_hostile_values_literally(rex: Callable[..., tuple[int, str, str]]) -> None:
    code, _, err = rex("search", "--q", "x" * 10_000)
    assert code == 1 and err.startswith("rex: q:") and err.count("\n") == 1
    for argv in _each(CLI_VALUES, [p for p in CLI_PAYLOADS if len(p) <= 200]):
        code, out, err = rex(*argv)
        assert code == 0 and err == "", (argv, err)
        assert json.loads(out)["data"] == [], argv


def test_cli_filter_file_paths_are_read_as_files_only(
    rex: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    """--filter names a file the user chose; a path to anything that is not a JSON request is
    one line naming the file, never its content."""
    secret = tmp_path / "not-json.txt"
    secret.write_text("password=hunter2\n")
    for path in ("../../etc/passwd", str(secret), str(tmp_path / "missing.json"), str(tmp_path)):
        code, out, err = rex("search", "--filter", path)
        assert code == 1 and err.startswith("rex: ") and err.count("\n") == 1, err
        assert "hunter2" not in err and "root:" not in err and out == ""


def test_errors_are_query_errors(wh: Warehouse) -> None:
    """Every refusal above is a QueryError a caller can catch in one place."""
    assert issubclass(InvalidCursor, InvalidRequest) and issubclass(InvalidRequest, QueryError)
    assert issubclass(NotFound, QueryError)


def test_copying_the_warehouse_leaves_the_original(built: Path, tmp_path: Path) -> None:
    """The module's warehouse really is the file hashed by the fixture (not a copy)."""
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(built, copy)
    assert _digest(copy) == _digest(built)
