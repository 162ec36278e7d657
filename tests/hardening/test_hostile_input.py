"""Hostile and broken input never crashes a run and is never dropped silently.

Each case ends in one precise outcome: records staged, records rejected with a reason, or the
whole file reported unreadable (`UnreadableFileError` from the parser; one rejected row and an
"unreadable" file report from ingest). The small cases live in `corpus/` (see its README); the
big ones (10,000 columns, a 50 MB cell, 1,000 nested MIME parts) are generated here, in
tmp_path. The last test runs the whole corpus through the Dagster graph.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from rex_pipeline import records
from rex_pipeline.config import Settings, load_settings
from rex_pipeline.ingest import SYSTEMS, stage_system
from rex_pipeline.normalise import normalise_contacts, normalise_deals
from rex_pipeline.normalise.linkedin import linkedin_urls
from rex_pipeline.sources.csv import parse_csv_file
from rex_pipeline.sources.gmail import parse_gmail_file
from rex_pipeline.sources.instantly import parse_instantly_file
from rex_pipeline.warehouse import connect_work
from tests.conftest import Env

CORPUS = Path(__file__).resolve().parent / "corpus"
ORG = "hostile-org"
PARSERS: dict[str, Callable[[Path], records.ParsedFile]] = {
    "csv": lambda p: parse_csv_file(p, ORG),
    "gmail": lambda p: parse_gmail_file(p, ORG, [], []),
    "instantly": lambda p: parse_instantly_file(p, ORG),
}
UNCLOSED = "unclosed quote: a quoted value on this line never ends"
INVALID_UTF8 = "invalid UTF-8: the row holds bytes that are not text"


def parse(relative: str) -> records.ParsedFile:
    system = relative.split("/", 1)[0]
    return PARSERS[system](CORPUS / relative)


def rejections(parsed: records.ParsedFile) -> list[tuple[int | None, str]]:
    return parsed.rejected.select("source_row", "reason").rows()


def metadata(frame: pl.DataFrame) -> list[dict[str, object]]:
    return [json.loads(m) for m in frame["metadata"]]


# --- whole files that cannot be read: reported, with the reason ----------------------------

UNREADABLE = [
    ("csv/empty.csv", "empty file"),
    ("csv/binary_garbage.csv", "binary file: contains NUL bytes"),
    ("csv/xlsx_renamed.csv", "binary file: a ZIP archive (an .xlsx workbook?), not CSV"),
    ("gmail/binary_garbage.mbox", "not an mbox file"),
    ("gmail/binary_garbage.json", "not a JSON file"),
    ("gmail/list_of_ints.json", "no Gmail API message found (not a Gmail API message)"),
    ("gmail/nested_garbage.json", "no Gmail API message found (not a Gmail API message)"),
    ("gmail/deep_nesting.json", "not a JSON file (nested too deeply)"),
    ("instantly/empty.json", "empty file"),
    ("instantly/binary_garbage.csv", "binary file: contains NUL bytes"),
    ("instantly/binary_garbage.json", "binary file: contains NUL bytes"),
    ("instantly/list_of_ints.json", "holds no Instantly leads, emails or webhook events"),
    ("instantly/nested_garbage.json", "holds no Instantly leads, emails or webhook events"),
    ("instantly/deep_nesting.json", "nested too deeply to read"),
    ("instantly/huge_number.json", "Exceeds the limit (4300 digits) for integer string"),
    ("instantly/mismatched_quotes.csv", "is not a readable CSV"),
]


@pytest.mark.parametrize(("relative", "reason"), UNREADABLE)
def test_unreadable_file_is_refused_with_its_reason(relative: str, reason: str) -> None:
    with pytest.raises(records.UnreadableFileError) as refused:
        parse(relative)
    assert reason in str(refused.value)
    assert len(str(refused.value)) < 400  # a reason an analyst can read, not a dump


@pytest.mark.parametrize("relative", ["csv/header_only.csv", "gmail/empty.mbox"])
def test_an_export_without_records_loads_as_an_empty_file(relative: str) -> None:
    """A header-only export and an empty mailbox are valid, empty exports (pinned in
    tests/sources): the file loads with 0 records read, visible in the manifest."""
    assert parse(relative).records_read == 0


def test_ingest_reports_every_bad_file_and_stages_the_rest(env: Env) -> None:
    """Through `ingest.stage_system` (Gmail streamed, the others whole): an unreadable file is
    one rejected row plus an "unreadable" report and stages nothing; every loaded file's
    records read equal its staged plus rejected rows in the batch tables."""
    shutil.copytree(CORPUS, env.inbox, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.md"))
    settings = load_settings()
    expected_unreadable = {tuple(r.split("/", 1)) for r, _ in UNREADABLE}
    with connect_work(settings.duckdb_path) as con:
        for system in SYSTEMS:
            batch = stage_system(con, settings, system, force=True)
            names = {p.name for p in (CORPUS / system).iterdir()}
            assert {r.file_name for r in batch.reports} == names  # every file has a report
            for report in batch.reports:
                staged = _staged(con, system, report.file_name)
                if (system, report.file_name) in expected_unreadable:
                    assert report.status == "unreadable" and report.error
                    assert staged == {"records": 0, "rejected": 1}
                    reason = _rejected_reasons(con, system, report.file_name)
                    assert reason == [f"unreadable file: {report.error}"]
                else:
                    assert report.status == "loaded", (report.file_name, report.error)
                    assert report.records_read == staged["records"] + staged["rejected"]
                    assert report.records_rejected == staged["rejected"]


def _staged(con: duckdb.DuckDBPyConnection, system: str, name: str) -> dict[str, int]:
    tables = [f"batch_raw_{e}" for e in ("contacts", "companies", "activities", "deals", "tasks")]
    where = "WHERE source_system = ? AND source_file = ?"
    rows = sum(
        con.execute(f"SELECT count(*) FROM {t} {where}", [system, name]).fetchone()[0]
        for t in tables
    )
    rejected = con.execute(
        f"SELECT count(*) FROM batch_rejected_source {where}", [system, name]
    ).fetchone()[0]
    return {"records": rows, "rejected": rejected}


def _rejected_reasons(con: duckdb.DuckDBPyConnection, system: str, name: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT reason FROM batch_rejected_source WHERE source_system = ? "
            "AND source_file = ? AND source_row IS NULL",
            [system, name],
        ).fetchall()
    ]


# --- CSV: bad rows rejected, the rest intact ---------------------------------------------------


def test_invalid_utf8_rejects_only_its_row_and_keeps_the_accents_elsewhere() -> None:
    parsed = parse("csv/invalid_utf8.csv")
    assert parsed.stats["encoding"] == "utf-8" and parsed.stats["invalid_utf8_sequences"] == 2
    people = parsed.contacts.select("source_row", "first_name", "last_name", "company_name")
    assert people.rows() == [
        (1, "Jörg", "Müller", "Müller Bau GmbH"),
        (3, "Zoë", "O’Neil", "Globex Café"),
    ]
    [(row, reason)] = rejections(parsed)
    assert row == 2 and reason.startswith(INVALID_UTF8)
    assert json.loads(parsed.rejected["raw"][0])["Email"] == "bob.smith@initech.com"


def test_invalid_utf8_in_an_instantly_csv_rejects_only_its_row() -> None:
    parsed = parse("instantly/invalid_utf8.csv")
    assert parsed.contacts.select("source_row", "first_name").rows() == [(1, "Jörg")]
    [(row, reason)] = rejections(parsed)
    assert row == 2 and reason.startswith("invalid UTF-8")


def test_windows_1252_file_is_still_read_as_windows_1252(tmp_path: Path) -> None:
    """The UTF-8-with-bad-bytes rule must not take over real cp1252 exports."""
    path = tmp_path / "outlook.csv"
    path.write_bytes("Email,First Name,Last Name\nj@muller.de,Jörg,Müller\n".encode("cp1252"))
    parsed = parse_csv_file(path, ORG)
    assert parsed.stats["encoding"] == "cp1252"
    assert parsed.contacts.select("first_name", "last_name").row(0) == ("Jörg", "Müller")
    assert parsed.rejected.is_empty()


def test_an_unclosed_quote_costs_its_own_line_only() -> None:
    parsed = parse("csv/mismatched_quotes.csv")
    assert parsed.contacts.select("source_row", "email", "company_name").rows() == [
        (1, "ada.lovelace@acme-robotics.com", "Acme Robotics"),
        (3, "alan.turing@initech.com", "Initech"),
        (4, "katherine.johnson@nasa-contractor.com", "Langley, VA"),  # a quoted comma, fine
    ]
    [(row, reason)] = rejections(parsed)
    assert row == 2 and reason.startswith(UNCLOSED)
    raw = json.loads(parsed.rejected["raw"][0])
    assert raw == {"Email": "grace.hopper@globex.com", "First Name": "Grace,Hopper,Globex"}


def test_two_stray_quotes_do_not_swallow_the_rows_between_them(tmp_path: Path) -> None:
    lines = [f"p{i}@acme.com,P{i},Q{i}" for i in range(1, 9)]
    lines[2], lines[5] = 'p3@acme.com,"P3,Q3', 'p6@acme.com,"P6,Q6'
    path = tmp_path / "two_quotes.csv"
    path.write_text("Email,First Name,Last Name\n" + "\n".join(lines) + "\n", encoding="utf-8")
    parsed = parse_csv_file(path, ORG)
    assert parsed.contacts["source_row"].to_list() == [1, 2, 4, 5, 7, 8]
    assert [(row, reason[:14]) for row, reason in rejections(parsed)] == [
        (3, "unclosed quote"),
        (6, "unclosed quote"),
    ]


def test_duplicate_headers_keep_every_value() -> None:
    parsed = parse("csv/duplicate_headers.csv")
    contact = parsed.contacts.row(0, named=True)
    assert contact["email"] == "ada.lovelace@acme-robotics.com"
    assert contact["other_emails"] == ["ada@lovelace.family"]
    assert contact["first_name"] == "Ada"
    assert json.loads(contact["metadata"]) == {"First Name (2)": "Augusta"}
    assert json.loads(contact["raw"])["Email (2)"] == "ada@lovelace.family"


def test_duplicate_headers_in_an_instantly_csv_keep_every_value() -> None:
    parsed = parse("instantly/duplicate_headers.csv")
    contact = parsed.contacts.row(0, named=True)
    assert (contact["email"], contact["first_name"]) == ("ada.lovelace@acme-robotics.com", "Ada")
    custom = json.loads(contact["metadata"])["custom_variables"]
    assert set(custom.values()) == {"ada@lovelace.family", "Augusta"}


def test_placeholder_and_overflowing_dates_are_not_times_and_are_kept() -> None:
    parsed = parse("csv/bad_dates.csv")
    assert parsed.rejected.is_empty()
    created = dict(parsed.contacts.select("email", "created_at").rows())
    assert created == {
        "year.zero@acme-robotics.com": None,
        "far.future@acme-robotics.com": None,
        "all.zeros@acme-robotics.com": None,
        "epoch.overflow@acme-robotics.com": None,
        "real.date@acme-robotics.com": datetime(2024, 3, 5, tzinfo=UTC),
    }
    kept = [m.get("Create Date") for m in metadata(parsed.contacts)]
    assert kept == ["0000-01-01", "9999-12-31", "0000-00-00", "99999999999999999999", None]


def test_formula_cells_stay_verbatim_text() -> None:
    parsed = parse("csv/formula_injection.csv")
    assert parsed.rejected.is_empty()
    assert parsed.contacts["title"].to_list() == [
        '=HYPERLINK("http://x","y")',
        "+cmd|' /C calc'!A0",
        "@SUM(1)",
        "-2+3",
    ]
    custom = [m["Favourite Formula"] for m in metadata(parsed.contacts)]
    assert custom == ["=1+1", "+1", "@A1", "-1"]
    clean, rejected = normalise_contacts(parsed.contacts, Settings(org_id=ORG))
    assert rejected.is_empty()
    assert clean["title"].to_list() == parsed.contacts["title"].to_list()


def test_quoted_unicode_idn_and_overlong_emails() -> None:
    parsed = parse("csv/odd_emails.csv")
    assert parsed.rejected.is_empty() and parsed.contacts.height == 4  # the parser keeps text
    clean, rejected = normalise_contacts(parsed.contacts, Settings(org_id=ORG))
    assert clean.select("source_row", "email", "email_key").rows() == [
        (2, "jörg@müller.de", "jörg@müller.de"),
        (3, "info@müller.de", "info@müller.de"),  # IDN: the domain in Unicode, as validated
    ]
    reasons = dict(rejected.select("source_row", "reason").rows())
    assert reasons[1].startswith("invalid email '\"john doe\"@example-corp.com'")
    assert "Quoting the part before the @-sign is not allowed" in reasons[1]
    assert reasons[4].startswith("invalid email 'llll") and "too long" in reasons[4]


# --- the big ones, generated ------------------------------------------------------------------


def test_ten_thousand_columns(tmp_path: Path) -> None:
    headers = ["Email", "First Name", *(f"Custom {i}" for i in range(9998))]
    values = ["ada.lovelace@acme-robotics.com", "Ada", *(f"v{i}" for i in range(9998))]
    path = tmp_path / "wide.csv"
    lines = [",".join(headers), ",".join(values), "grace.hopper@globex.com,Grace"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    parsed = parse_csv_file(path, ORG)
    contact = parsed.contacts.row(0, named=True)
    assert contact["email"] == "ada.lovelace@acme-robotics.com"
    custom = json.loads(contact["metadata"])
    assert len(custom) == 9998 and custom["Custom 9997"] == "v9997"
    assert rejections(parsed) == [(2, "wrong field count: expected 10000, got 2")]


@pytest.mark.parametrize("broken", [False, True], ids=["clean", "with-a-stray-quote"])
def test_a_50_mb_cell(tmp_path: Path, broken: bool) -> None:
    """Read whole by polars, and by the csv module when a stray quote sends the file there."""
    notes = "x" * (50 * 1024 * 1024)
    stray = 'grace.hopper@globex.com,Grace,5" Media\n' if broken else ""
    path = tmp_path / "big_cell.csv"
    path.write_text(
        "Email,First Name,Notes\n"
        f'ada.lovelace@acme-robotics.com,Ada,"{notes}"\n{stray}alan.turing@initech.com,Alan,\n',
        encoding="utf-8",
    )
    parsed = parse_csv_file(path, ORG)
    assert parsed.stats["reader"].startswith("python csv") == broken
    assert parsed.rejected.is_empty()
    assert parsed.contacts.height == (3 if broken else 2)
    assert len(json.loads(parsed.contacts["metadata"][0])["Notes"]) == len(notes)


TAKEOUT = "From {id}@xxx Mon Mar 31 0{h}:00:00 +0000 2025\nX-Gmail-Labels: Inbox\n"
HEADERS = (
    "Delivered-To: maria@northwind-labs.io\nDate: Mon, 31 Mar 2025 0{h}:00:00 +0000\n"
    "From: {sender}\nTo: maria@northwind-labs.io\nSubject: {subject}\nMessage-ID: <{mid}>\n"
    "MIME-Version: 1.0\n"
)


def _message(h: int, sender: str, mid: str, mime: str) -> str:
    head = TAKEOUT.format(id=f"178000000000000{h:04d}", h=h)
    return head + HEADERS.format(h=h, sender=sender, subject=mid, mid=mid) + mime + "\n"


def _nested_mime(depth: int) -> str:
    opening = "".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n' for i in range(depth)
    )
    closing = "".join(f"--b{i}--\n" for i in reversed(range(depth)))
    return opening + "Content-Type: text/plain\n\ninnermost\n" + closing


def test_a_thousand_nested_mime_parts_reject_that_message_only(tmp_path: Path) -> None:
    path = tmp_path / "nested.mbox"
    path.write_text(
        _message(1, "Grace <grace.hopper@globex.com>", "deep@globex.com", _nested_mime(1000))
        + _message(2, "Alan <alan.turing@initech.com>", "fine@initech.com", "\nHello.\n"),
        encoding="utf-8",
    )
    for sink in (None, []):  # held in memory, and streamed to a sink as ingest does
        chunks: list[records.ParsedFile] = []
        parsed = parse_gmail_file(path, ORG, [], [], sink=None if sink is None else chunks.append)
        rejected = pl.concat([parsed.rejected, *(c.rejected for c in chunks)])
        activities = pl.concat([parsed.activities, *(c.activities for c in chunks)])
        assert rejected["reason"].to_list() == ["MIME parts nested too deeply to read"]
        assert json.loads(rejected["raw"][0])["message"] == 1
        assert activities["external_id"].to_list() == ["fine@initech.com"]
        assert parsed.stats["messages_read"] == 2


def test_a_thousand_sibling_mime_parts_are_one_message(tmp_path: Path) -> None:
    parts = "".join(f"--f\nContent-Type: text/plain\n\npart {i}\n" for i in range(1000))
    mime = f'Content-Type: multipart/mixed; boundary="f"\n\n{parts}--f--\n'
    path = tmp_path / "wide.mbox"
    path.write_text(_message(1, "grace.hopper@globex.com", "wide@globex.com", mime), "utf-8")
    parsed = parse_gmail_file(path, ORG, [], [])
    assert parsed.rejected.is_empty()
    body = parsed.activities["body"][0]
    assert body.startswith("part 0") and body.endswith("part 999")


# --- mail and Instantly files with broken records -------------------------------------------


def test_truncated_mbox_keeps_the_complete_message_and_rejects_the_cut_one() -> None:
    parsed = parse("gmail/truncated.mbox")
    assert parsed.activities["external_id"].to_list() == ["complete-901@globex.com"]
    assert rejections(parsed) == [(None, "truncated: the file ends inside this message's headers")]
    assert json.loads(parsed.rejected["raw"][0])["message"] == 2


def test_gmail_json_with_wrong_types_rejects_each_bad_message_with_its_reason() -> None:
    parsed = parse("gmail/wrong_types.json")
    activity = parsed.activities.row(0, named=True)
    assert activity["external_id"] == "wrong-types-1@globex.com"
    assert activity["contact_email"] == "grace.hopper@globex.com"
    assert activity["occurred_at"] is None  # internalDate "not a number", no Date header
    assert json.loads(activity["metadata"])["gmail_id"] == "12345"
    assert [r for _, r in rejections(parsed)] == [
        "'payload' has the wrong type (list) for a Gmail API message",
        "'raw' has the wrong type (int) for a Gmail API message",
        "no mail headers (From, To, Cc, Subject, Date or Message-ID)",
    ]


@pytest.mark.parametrize(
    ("relative", "staged", "reason"),
    [
        ("gmail/deep_line.jsonl", "activities", "invalid JSON: nested too deeply"),
        ("instantly/deep_line.jsonl", "contacts", "line 2 is not a JSON record: nested too deeply"),
    ],
)
def test_a_deeply_nested_json_line_costs_that_line_only(
    relative: str, staged: str, reason: str
) -> None:
    parsed = parse(relative)
    assert getattr(parsed, staged).height == 1
    assert rejections(parsed) == [(None, reason)]


def test_bogus_mail_dates_fall_back_to_the_mbox_envelope_time() -> None:
    """A Date of 31 Dec 9999 -0100 used to overflow and cost the whole message; year 0001 was
    read as 2001 by the stdlib."""
    parsed = parse("gmail/bogus_dates.mbox")
    assert parsed.rejected.is_empty()
    assert parsed.activities.select("external_id", "occurred_at").rows() == [
        ("future@acme-robotics.com", datetime(2025, 4, 1, 10, tzinfo=UTC)),
        ("year-one@initech.com", datetime(2025, 4, 1, 11, tzinfo=UTC)),
    ]


def test_instantly_json_with_wrong_types() -> None:
    parsed = parse("instantly/wrong_types.json")
    assert rejections(parsed) == [(None, "lead email is not a usable address: 12345")]
    contacts = {r["email"]: r for r in parsed.contacts.iter_rows(named=True)}
    # an address found inside an object or a list is still the lead's address
    assert set(contacts) == {
        "nested@acme-robotics.com",
        "typed.wrong@acme-robotics.com",
        "list@acme-robotics.com",
    }
    typed = contacts["typed.wrong@acme-robotics.com"]
    assert typed["first_name"] == '["Ty", "Ped"]'  # a list where text belongs: kept as JSON
    assert typed["created_at"] is None and typed["updated_at"] is None  # 10**30, "0000-00-00"
    state = json.loads(typed["metadata"])["instantly"]
    assert state["other_fields"] == {"payload": "not an object"}


# --- normalisers on hostile values --------------------------------------------------------------


def test_deal_amounts_beyond_bigint_or_holding_separators_do_not_fail_the_stage() -> None:
    """Both used to raise: Decimal's InvalidOperation, and splitting pairs on a \x1f that was
    part of the value."""
    raw = records.from_rows(
        [
            {"source_row": 1, "name": "Too big", "value": "999999999999999999999999"},
            {"source_row": 2, "name": "Unit separator", "value": "1\x1f200", "currency": "EUR"},
            {"source_row": 3, "name": "Fine", "value": "$1,200.50"},
        ],
        records.RAW_DEAL,
    )
    clean, rejected = normalise_deals(raw, Settings(org_id=ORG))
    assert rejected.is_empty()
    assert clean.select("value", "currency").rows() == [
        (None, "USD"),  # unreadable: kept as raw_value
        (120000, "EUR"),  # a control character between digits reads as a thousands gap
        (120050, "USD"),
    ]
    assert json.loads(clean["metadata"][0])["raw_value"] == "999999999999999999999999"


def test_percent_escapes_never_turn_a_linkedin_slug_into_a_path() -> None:
    given = [
        "linkedin.com/in/jos%C3%A9",
        "linkedin.com/in/%2F..%2Fadmin",
        "linkedin.com/in/a%20b",
        "linkedin.com/in/%E9",
    ]
    urls = linkedin_urls(pl.Series(given)).to_list()
    assert urls == [
        "https://www.linkedin.com/in/josé",
        "https://www.linkedin.com/in/%2f..%2fadmin",
        "https://www.linkedin.com/in/a%20b",
        "https://www.linkedin.com/in/%e9",
    ]
    assert linkedin_urls(pl.Series(urls)).to_list() == urls


# --- the whole graph ------------------------------------------------------------------------

GOOD_CSV = (
    "Email,First Name,Last Name,Company,Job Title\n"
    "ada.lovelace@acme-robotics.com,Ada,Lovelace,Acme Robotics,CTO\n"
    "grace.hopper@globex.com,Grace,Hopper,Globex,VP Engineering\n"
)


@pytest.mark.integration
def test_the_whole_corpus_through_the_graph(env: Env) -> None:
    shutil.copytree(CORPUS, env.inbox, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.md"))
    env.write("csv/good_contacts.csv", GOOD_CSV)
    result = env.run()
    assert result.success, [
        e.event_specific_data for e in result.all_events if e.event_type_value == "STEP_FAILURE"
    ]
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks["records_accounted_for"] is True
    assert all(checks.values()), [name for name, ok in checks.items() if not ok]

    titles = dict(env.sql("SELECT email, title FROM contacts WHERE org_id = 'acme-org'"))
    assert titles["ada.lovelace@acme-robotics.com"] == "CTO"
    assert titles["grace.hopper@globex.com"] == "VP Engineering"
    assert titles["jörg@müller.de"] is None
    # formula cells are text in the warehouse, never evaluated
    assert titles["eve.hyperlink@acme-robotics.com"] == '=HYPERLINK("http://x","y")'
    assert titles["carl.cmd@acme-robotics.com"] == "+cmd|' /C calc'!A0"
    assert titles["sam.sum@acme-robotics.com"] == "@SUM(1)"
    assert titles["mia.minus@acme-robotics.com"] == "-2+3"
    [(formula,)] = env.sql(
        "SELECT json_extract_string(metadata, '$.\"Favourite Formula\"') FROM contacts "
        "WHERE email = 'eve.hyperlink@acme-robotics.com'"
    )
    assert formula == "=1+1"
    names = dict(
        env.sql("SELECT email, first_name FROM contacts WHERE email = 'jorg.muller@muller-bau.de'")
    )
    assert names == {"jorg.muller@muller-bau.de": "Jörg"}  # one bad byte garbled nothing else
    # no implausible times reached the warehouse (year 0 cannot even be read back into Python)
    for table, column in (("contacts", "created_at"), ("activities", "occurred_at")):
        [(bad,)] = env.sql(
            f"SELECT count(*) FROM {table} WHERE year({column}) NOT BETWEEN 1900 AND 2199"
        )
        assert bad == 0, table

    # every corpus file is accounted for: in the manifest, and an unreadable one in
    # rejected_records with its reason
    work = duckdb.connect(str(load_settings().work_db_path), read_only=True)
    try:
        manifest = {
            (s, f): (status, error)
            for s, f, status, error in work.execute(
                "SELECT source_system, file_name, status, error FROM manifest"
            ).fetchall()
        }
    finally:
        work.close()
    rejected = {
        (s, f): reason
        for s, f, reason in env.sql(
            "SELECT source_system, source_file, reason FROM rejected_records "
            "WHERE source_row IS NULL AND reason LIKE 'unreadable file:%'"
        )
    }
    unreadable = {tuple(r.split("/", 1)): why for r, why in UNREADABLE}
    for path in sorted(CORPUS.glob("*/*")):
        if path.suffix == ".md":
            continue
        key = (path.parent.name, path.name)
        assert key in manifest, key
        status, error = manifest[key]
        if key in unreadable:
            assert status == "unreadable" and unreadable[key] in error, key
            assert rejected[key] == f"unreadable file: {error}"
        else:
            assert status == "loaded", (key, error)
    per_file = dict(
        env.sql(
            "SELECT source_file, list(reason ORDER BY source_row) FROM rejected_records "
            "WHERE source_system = 'csv' GROUP BY 1"
        )
    )
    assert per_file["invalid_utf8.csv"][0].startswith(INVALID_UTF8)
    assert per_file["mismatched_quotes.csv"][0].startswith(UNCLOSED)
    assert any(r.startswith('invalid email \'"john doe"') for r in per_file["odd_emails.csv"])
