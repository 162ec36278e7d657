"""Seeded generator of a realistic inbox at any scale, for the whole-pipeline benchmark.

    from benchmarks.inbox_gen import add_increment, generate_inbox
    summary = generate_inbox(Path("benchmarks/out/inbox"), contacts=1_000_000, messages=200_000)
    delta = add_increment(Path("benchmarks/out/inbox"), rows=10_000, messages=2_000, seed=1)

    .venv/bin/python -m benchmarks.inbox_gen benchmarks/out/inbox --contacts 20000 --messages 4000

`root/inbox/` is the inbox the pipeline reads (`REX_INBOX_DIR`); `root/truth/` keeps what the
increment needs (the rows written, the mail correspondents, a state file) and `root/summary.json`
what was written. The people come from `generate_people.generate` (several addresses per
person, typos, nicknames, company variants, hard negatives) and are written the way the real
exports write them: the header rows are the real ones (`tests/fixtures/csv/*_HEADER.csv`, byte
for byte), split across HubSpot (all properties, plus an overlapping re-export), Salesforce
report (with its footer), Apollo (2026 and classic), LinkedIn 2024 (with its "Notes:" preamble
and the blank row real files have: one deliberate rejection per file), Google Contacts and
Outlook desktop (cp1252, every cell quoted), plus HubSpot companies and deals and a task list.
Files hold at most 250,000 rows. Mail: 85% of `messages` go to one Google Takeout mbox per
mailbox of the org (CRLF, threads with replies, plain and multipart/alternative bodies, RFC 2047
names, bounces, auto-replies, newsletters, spam/trash, internal mail present in two mailboxes),
15% to Instantly API v2 email objects (JSONL) for a slice of the Instantly leads (UI CSV export).

An increment writes NEW files only: new people, updates of existing HubSpot records (same
Record ID, new title/phone/stage), existing people again in a new Apollo list, and newer mail.
Everything here is vectorised (numpy draws, polars strings); 1M rows + 200k messages take about
a minute on 2 busy cores, most of it in `generate_people.generate`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script
    sys.path.insert(0, str(REPO))

from benchmarks.generate_people import generate  # noqa: E402

HEADERS = REPO / "tests" / "fixtures" / "csv"
MAX_ROWS_PER_FILE = 250_000
FORMAT_VERSION = 2  # bump when the written files change: cached inboxes are regenerated
GMAIL_SHARE = 0.85  # of `messages`; the rest are Instantly email objects
OWN_DOMAIN = "northwind-labs.io"
OWNERS = (("Maria Chen", "maria.chen"), ("Tom Becker", "tom.becker"), ("Alex Kim", "alex.kim"))
SENDERS = ("alex@northwind-labs.io", "sam@northwind-labs.io")  # Instantly sending accounts
CRLF = "\r\n"
_START = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
_END = int(datetime(2025, 10, 31, tzinfo=UTC).timestamp())
_DAY = 86_400

# The 2024 LinkedIn export's preamble (as in the real file, see tests/fixtures/csv/PROVENANCE.md).
LINKEDIN_PREAMBLE = (
    "Notes:\n"
    '"When exporting your connection data, you may notice that some of the email addresses are '
    "missing. You will only see email addresses for connections who have allowed their "
    "connections to see or download their email address using this setting "
    "https://www.linkedin.com/psettings/privacy/email. You can learn more here "
    'https://www.linkedin.com/help/linkedin/answer/261"\n\n'
)

# (HubSpot enum, Apollo label) per industry; companies get one by their id, the same everywhere.
INDUSTRIES = (
    ("COMPUTER_SOFTWARE", "computer software"),
    ("INTERNET", "internet"),
    ("INFORMATION_TECHNOLOGY_AND_SERVICES", "information technology & services"),
    ("FINANCIAL_SERVICES", "financial services"),
    ("HOSPITAL_HEALTH_CARE", "hospital & health care"),
    ("MARKETING_AND_ADVERTISING", "marketing & advertising"),
    ("RETAIL", "retail"),
    ("LOGISTICS_AND_SUPPLY_CHAIN", "logistics & supply chain"),
    ("COMPUTER_NETWORK_SECURITY", "computer & network security"),
    ("MACHINERY", "machinery"),
    ("EDUCATION_MANAGEMENT", "education management"),
    ("STAFFING_AND_RECRUITING", "staffing & recruiting"),
)
EMPLOYEES = (3, 8, 25, 45, 120, 180, 350, 800, 2500, 12000)
COUNTRIES = ("United States",) * 5 + (
    "United Kingdom", "Germany", "Canada", "France", "Netherlands", "India", "Australia",
    "Sweden", "Brazil",
)  # fmt: skip
CITIES = (
    "San Francisco", "New York", "Austin", "Chicago", "London", "Berlin", "Toronto", "Paris",
    "Amsterdam", "Bangalore", "Sydney", "Stockholm", "São Paulo", "Boston",
)  # fmt: skip

SUBJECTS = (
    "Quick question", "Northwind Labs pilot", "Pricing for next year", "Demo next week?",
    "Proposal for Q3", "Contract renewal", "Intro call", "Data pipeline review",
    "Following up on our call", "Security questionnaire", "Onboarding plan",
    "Invoice question", "Your trial of Northwind", "Meeting notes", "Integration timeline",
)  # fmt: skip
SUBJECTS_ENCODED = ("Angebot für die Pilotphase", "Réunion jeudi", "Presupuesto año 2025")
OUT_LINES = (
    "I wanted to follow up on the pilot we discussed last week.",
    "Attached is the proposal with the pricing we talked about.",
    "Would Thursday at 10am work for a 30-minute demo?",
    "We help revenue teams keep one clean list of contacts across every tool.",
    "Happy to loop in our solutions engineer for the security review.",
    "Let me know if the onboarding plan below works for your team.",
    "Just checking whether you had a chance to look at the contract.",
    "Our integration with your CRM takes about a day to set up.",
)
IN_LINES = (
    "Thanks for the note, Thursday works for us.",
    "Can you send over the security questionnaire answers?",
    "We are reviewing the proposal internally and will get back to you next week.",
    "Not a priority for us this quarter, please check back in the new year.",
    "Looping in my colleague who owns the data stack.",
    "Could you share a reference customer in our industry?",
    "The pricing looks reasonable, what are the payment terms?",
    "Sounds good, please send a calendar invite.",
)
NEWSLETTERS = (
    ("SaaS Weekly", "news@mail.saasweekly.com", "This week in SaaS: pricing pages that convert"),
    ("HubSpot", "noreply@notifications.hubspot.com", "Your weekly sales report"),
    ("Google Calendar", "calendar-notification@google.com", "Invitation: Pipeline review"),
)
# Assigned US area codes (phonenumbers accepts them as valid), spread over the country.
AREA_CODES = (
    "201", "202", "206", "212", "213", "214", "215", "303", "305", "312", "313", "404", "408",
    "415", "425", "469", "503", "510", "512", "602", "612", "617", "646", "650", "702", "704",
    "713", "718", "720", "773", "801", "818", "858", "919", "949", "971",
)  # fmt: skip
# Header rows of exports without a *_HEADER.csv fixture: a Salesforce contacts report (labels of
# tests/fixtures/csv/salesforce_report_contacts.csv) and Instantly's UI lead export (its own
# fields, then one column per custom variable, as tests/fixtures/instantly/ has it).
SALESFORCE_REPORT_HEADER = [
    "Contact Owner", "First Name", "Last Name", "Title", "Account Name", "Email", "Phone",
    "Mobile", "Lead Source", "Mailing City", "Created Date", "Contact ID",
]  # fmt: skip
INSTANTLY_UI_HEADER = [
    "Email", "First Name", "Last Name", "Company Name", "Phone", "Website", "Personalization",
    "Campaign Name", "Lead Status", "Interest Status", "Email Open Count", "Email Reply Count",
    "Email Click Count", "jobTitle", "linkedIn", "city", "employeeCount",
]  # fmt: skip
TIMEZONES = (("+0000", 0), ("-0700", -7), ("-0500", -5), ("+0100", 1), ("+0200", 2),
             ("+0530", 5.5), ("-0800", -8))  # fmt: skip


@dataclass
class InboxSummary:
    """What a generation wrote. `files` maps each inbox file (relative path) to its records;
    `contact_rows` counts distinct contact records (the re-export and blank rows are extra)."""

    inbox: Path
    contact_rows: int
    messages: int
    gmail_messages: int
    instantly_emails: int
    persons: int
    companies: int
    files: dict[str, int] = field(default_factory=dict)
    deliberate_rejects: int = 0
    reexported_rows: int = 0  # records written twice (an overlapping HubSpot re-export)
    format_version: int = FORMAT_VERSION
    bytes: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "inbox": str(self.inbox)}


# --- small helpers ---------------------------------------------------------------------------


def _pick(rng: np.random.Generator, n: int, options: tuple[str, ...], p: list[float]) -> pl.Series:
    return pl.Series(rng.choice(list(options), n, p=p)).cast(pl.String)


def _lit(series: pl.Series | np.ndarray) -> pl.Expr:
    return pl.lit(series if isinstance(series, pl.Series) else pl.Series(series))


def _by_index(index: pl.Expr, values: tuple[object, ...]) -> pl.Expr:
    """values[index % len(values)] as an expression (a lookup shared by every file)."""
    mapping = dict(enumerate(values))
    return (index % len(values)).replace_strict(mapping)


def _header(file_name: str) -> list[str]:
    with (HEADERS / file_name).open(encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle))


def _fmt_date(col: str, fmt: str) -> pl.Expr:
    return pl.col(col).dt.strftime(fmt)


def _write(path: Path, data: str | bytes) -> int:
    """Write a new file (a new inode: a hard-linked copy of the inbox is never changed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    os.replace(tmp, path)
    return path.stat().st_size


def _company_attrs() -> dict[str, pl.Expr]:
    cid = pl.col("company_id")
    return {
        "industry_enum": _by_index(cid * 7 + 1, tuple(i for i, _ in INDUSTRIES)),
        "industry_label": _by_index(cid * 7 + 1, tuple(label for _, label in INDUSTRIES)),
        "employees": _by_index(cid * 31 + 7, EMPLOYEES).cast(pl.String),
        "country": _by_index(cid * 17 + 3, COUNTRIES),
        "city": _by_index(cid * 13 + 5, CITIES),
    }


# --- the people, split into exports ----------------------------------------------------------

CRM_SPLIT = (("hubspot", 0.5), ("salesforce", 0.25), ("google", 0.15), ("outlook", 0.10))
_DIALECT_OF_SOURCE = {"apollo": "apollo", "linkedin": "linkedin", "instantly": "instantly"}


def _rows(rng: np.random.Generator, people: pl.DataFrame, first_key: int) -> pl.DataFrame:
    """Contact rows with their export dialect, natural key and the values every export needs."""
    n = people.height
    crm = _pick(rng, n, tuple(d for d, _ in CRM_SPLIT), [p for _, p in CRM_SPLIT])
    dialect = (
        pl.when(pl.col("source_system") == "crm")
        .then(_lit(crm))
        .otherwise(pl.col("source_system").replace_strict(_DIALECT_OF_SOURCE, default=None))
    )
    stage = _pick(
        rng,
        n,
        ("Lead", "Marketing Qualified Lead", "Sales Qualified Lead", "Opportunity", "Customer"),
        [0.55, 0.15, 0.10, 0.10, 0.10],
    )
    return people.with_columns(
        phone=_assigned_phone(pl.col("phone"), _lit(rng.random(n))),
        dialect=dialect,
        key=pl.int_range(first_key, first_key + n, dtype=pl.Int64),
        owner=_by_index(pl.col("row"), tuple(name for name, _ in OWNERS)),
        owner_email=_by_index(pl.col("row"), tuple(f"{lp}@{OWN_DOMAIN}" for _, lp in OWNERS)),
        stage=_lit(stage),
        u=_lit(rng.random(n)),
        **_company_attrs(),
    )


def _assigned_phone(phone: pl.Expr, u: pl.Expr) -> pl.Expr:
    """generate_people draws 10 random digits, so half its numbers have an unassigned area
    code or exchange: real CRM phones are mostly valid. Swap in an assigned area code and a
    [2-9] exchange digit (a function of the digits: a shared number stays shared), keeping
    the formatting, and leave 1% of cells as the junk real exports hold."""
    parts = phone.str.extract_groups(r"^(\+1 ?\(?|\(?)(\d{3})(\D*)(\d)(.*)$")
    area = _by_index(parts.struct["2"].cast(pl.Int64), AREA_CODES)
    exchange = (parts.struct["4"].cast(pl.Int64) % 8 + 2).cast(pl.String)
    valid = pl.concat_str(parts.struct["1"], area, parts.struct["3"], exchange, parts.struct["5"])
    junk = _by_index((u * 1e6).cast(pl.Int64), ("n/a", "call reception", "TBD", "12345"))
    return pl.when(phone.is_null()).then(None).when(u < 0.01).then(junk).otherwise(valid)


def _apollo_phone() -> pl.Expr:
    return pl.when(pl.col("phone").is_not_null()).then("'" + pl.col("phone"))


def _seniority() -> pl.Expr:
    title = pl.col("title").fill_null("")
    return (
        pl.when(title.str.contains(r"^C[EFOT]O$|Founder|Chief")).then(pl.lit("C suite"))
        .when(title.str.starts_with("VP")).then(pl.lit("Vp"))
        .when(title.str.starts_with("Head")).then(pl.lit("Head"))
        .when(title.str.contains("Director")).then(pl.lit("Director"))
        .when(title.str.contains("Manager")).then(pl.lit("Manager"))
        .when(title != "").then(pl.lit("Senior"))
    )  # fmt: skip


@dataclass(frozen=True)
class Export:
    """One export format: its header row, the value of each filled column, and its quirks."""

    stem: str
    header: list[str]
    values: dict[str, pl.Expr]
    quote_all: bool = False
    encoding: str = "utf-8"
    preamble: str = ""
    footer: Callable[[int], str] | None = None
    blank_row: str | None = None  # a deliberate all-blank row (LinkedIn's, only this column)
    line_end: str = CRLF
    folder: str = "csv"  # inbox folder


def _exports() -> dict[str, list[Export]]:
    """The export formats of each dialect (Apollo has two layouts, alternated by file)."""
    c = pl.col
    name = c("first_name") + " " + c("last_name")
    hubspot = Export(
        "hubspot_contacts_all_properties",
        _header("hubspot_contacts_all_properties_export_2023_HEADER.csv"),
        {
            "Record ID": c("key").cast(pl.String),
            "First Name": c("first_name"),
            "Last Name": c("last_name"),
            "Email": c("email"),
            "Phone Number": c("phone"),
            "Job Title": c("title"),
            "Company Name": c("company_name"),
            "Website URL": c("company_domain"),
            "Contact owner": c("owner"),
            "Lifecycle Stage": c("stage"),
            "Lead Status": pl.when(c("u") < 0.5).then(pl.lit("Open")).otherwise(pl.lit("New")),
            "Create Date": _fmt_date("created_at", "%Y-%m-%d %H:%M"),
            "Country/Region": c("country"),
            "City": c("city"),
            "Industry": c("industry_enum"),
            "Number of Employees": c("employees"),
            "Associated Company": c("company_name"),
        },
        quote_all=True,
    )
    salesforce = Export(
        "salesforce_report_contacts",
        SALESFORCE_REPORT_HEADER,
        {
            "Contact Owner": c("owner"),
            "First Name": c("first_name"),
            "Last Name": c("last_name"),
            "Title": c("title"),
            "Account Name": c("company_name"),
            "Email": c("email"),
            "Phone": pl.when(c("u") < 0.6).then(c("phone")),
            "Mobile": pl.when(c("u") >= 0.6).then(c("phone")),
            "Lead Source": _by_index(c("key"), ("Web", "Partner Referral", "Trade Show", "Other")),
            "Mailing City": c("city"),
            "Created Date": _fmt_date("created_at", "%-m/%-d/%Y"),
            "Contact ID": "0035g" + c("key").cast(pl.String).str.zfill(10) + "AAF",
        },
        quote_all=True,
        footer=lambda rows: (
            f'\r\n"Grand Totals ({rows} records)"\r\n\r\n'
            '"Confidential Information - Do Not Distribute"\r\n'
            '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."\r\n'
        ),
    )
    google = Export(
        "google_contacts",
        _header("google_contacts_2022plus_export_HEADER.csv"),
        {
            "First Name": c("first_name"),
            "Last Name": c("last_name"),
            "Organization Name": c("company_name"),
            "Organization Title": c("title"),
            "Labels": pl.when(c("u") < 0.3)
            .then(pl.lit("* myContacts ::: Customers"))
            .otherwise(pl.lit("* myContacts")),
            "E-mail 1 - Label": pl.when(c("email").is_not_null()).then(pl.lit("* Work")),
            "E-mail 1 - Value": c("email"),
            "Phone 1 - Label": pl.when(c("phone").is_not_null()).then(pl.lit("Mobile")),
            "Phone 1 - Value": c("phone"),
            "Website 1 - Label": pl.when(c("linkedin_url").is_not_null()).then(pl.lit("Profile")),
            "Website 1 - Value": c("linkedin_url"),
        },
    )
    outlook = Export(
        "outlook_contacts",
        _header("outlook_desktop_export_HEADER.csv"),
        {
            "Title": pl.when(c("u") < 0.1).then(pl.lit("Dr.")).otherwise(pl.lit("")),
            "First Name": c("first_name"),
            "Last Name": c("last_name"),
            "Company": c("company_name"),
            "Job Title": c("title"),
            "Business Phone": c("phone"),
            "Anniversary": pl.lit("0/0/00"),
            "Birthday": pl.lit("0/0/00"),
            "Categories": pl.when(c("u") < 0.4).then(pl.lit("Customers;Conference 2024")),
            "E-mail Address": c("email"),
            "E-mail Type": pl.when(c("email").is_not_null()).then(pl.lit("SMTP")),
            "E-mail Display Name": pl.when(c("email").is_not_null()).then(
                name + " (" + c("email") + ")"
            ),
            "Gender": pl.lit("Unspecified"),
            "Priority": pl.lit("Normal"),
            "Private": pl.lit("False"),
            "Sensitivity": pl.lit("Normal"),
            "Web Page": c("company_domain"),
        },
        quote_all=True,
        encoding="cp1252",
    )
    apollo_common = {
        "First Name": c("first_name"),
        "Last Name": c("last_name"),
        "Title": c("title"),
        "Email Status": pl.when(c("email").is_null())
        .then(pl.lit("Unavailable"))
        .when(c("u") < 0.8)
        .then(pl.lit("Verified"))
        .otherwise(pl.lit("Guessed")),
        "Seniority": _seniority(),
        "Mobile Phone": pl.when(c("u") < 0.5).then(_apollo_phone()),
        "Corporate Phone": pl.when(c("u") >= 0.5).then(_apollo_phone()),
        "Lists": pl.lit("Q3 Outbound"),
        "Person Linkedin Url": c("linkedin_url"),
        "Country": c("country"),
    }
    apollo_2026 = Export(
        "apollo_contacts_2026",
        _header("apollo_contacts_export_2026_HEADER.csv"),
        {**apollo_common, "Company Name": c("company_name"), "Email": c("email")},
    )
    apollo_classic = Export(
        "apollo_contacts",
        _header("apollo_contacts_export_classic_ADAPTED_HEADER.csv"),
        {
            **apollo_common,
            "organization_name": c("company_name"),
            "email": c("email"),
            "Contact Owner": c("owner_email"),
            "Stage": pl.lit("Cold"),
            "# Employees": c("employees"),
            "Industry": c("industry_label"),
            "Website": c("company_domain"),
            "City": c("city"),
            "Apollo Contact Id": "64f1c2a9e8b7" + c("key").cast(pl.String).str.zfill(12),
        },
    )
    linkedin = Export(
        "Connections",
        ["First Name", "Last Name", "URL", "Email Address", "Company", "Position", "Connected On"],
        {
            "First Name": c("first_name"),
            "Last Name": c("last_name"),
            "URL": c("linkedin_url"),
            "Email Address": c("email"),
            "Company": c("company_name"),
            "Position": c("title"),
            "Connected On": _fmt_date("created_at", "%d %b %Y"),
        },
        preamble=LINKEDIN_PREAMBLE,
        blank_row="Connected On",
        line_end="\n",
    )
    instantly = Export(
        "instantly_leads_export",
        INSTANTLY_UI_HEADER,
        {
            "Email": c("email"),
            "First Name": c("first_name"),
            "Last Name": c("last_name"),
            "Company Name": c("company_name"),
            "Phone": c("phone"),
            "Website": c("company_domain"),
            "Personalization": pl.when(c("u") < 0.2).then(
                "Saw " + c("company_name").fill_null("your team") + " is hiring"
            ),
            "Campaign Name": _by_index(c("key"), ("Q3 Founders", "EU Data Leaders", "Re-engage")),
            "Lead Status": pl.when(c("u") < 0.4)
            .then(pl.lit("Active"))
            .when(c("u") < 0.75)
            .then(pl.lit("Completed"))
            .when(c("u") < 0.8)
            .then(pl.lit("Bounced"))
            .when(c("u") < 0.83)
            .then(pl.lit("Unsubscribed"))
            .otherwise(pl.lit("Paused")),
            "Interest Status": pl.when(c("u") < 0.08)
            .then(pl.lit("Interested"))
            .when(c("u") < 0.12)
            .then(pl.lit("Meeting Booked"))
            .when(c("u") < 0.22)
            .then(pl.lit("Not Interested"))
            .when(c("u") < 0.24)
            .then(pl.lit("Won"))
            .otherwise(pl.lit("Lead")),
            "Email Open Count": (c("key") % 7).cast(pl.String),
            "Email Reply Count": (c("key") % 3 == 0).cast(pl.Int8).cast(pl.String),
            "Email Click Count": (c("key") % 5 == 0).cast(pl.Int8).cast(pl.String),
            "jobTitle": c("title"),
            "linkedIn": c("linkedin_url"),
            "city": c("city"),
            "employeeCount": c("employees"),
        },
        folder="instantly",
    )
    return {
        "hubspot": [hubspot],
        "salesforce": [salesforce],
        "google": [google],
        "outlook": [outlook],
        "apollo": [apollo_2026, apollo_classic],
        "linkedin": [linkedin],
        "instantly": [instantly],
    }


def _csv_text(frame: pl.DataFrame, export: Export) -> tuple[bytes, int]:
    """The file's bytes and the number of rows written (deliberate blank row included).
    Quote-everything exports write empty cells as `""`, the others as nothing."""
    empty = pl.lit("") if export.quote_all else pl.lit(None, pl.String)
    table = frame.select(
        pl.coalesce(export.values.get(h, empty), empty).cast(pl.String).alias(h)
        for h in export.header
    )
    extra = 0
    if export.blank_row is not None:  # LinkedIn exports hold a row with only "Connected On"
        blank = {h: None for h in export.header} | {export.blank_row: "02 Jun 2022"}
        at = table.height // 2
        blank_frame = pl.DataFrame([blank], schema=table.schema)
        table = pl.concat([table.head(at), blank_frame, table.tail(-at)])
        extra = 1
    text = table.write_csv(
        quote_style="always" if export.quote_all else "necessary",
        line_terminator=export.line_end,
    )
    if export.footer is not None:
        text += export.footer(table.height)
    text = export.preamble + text
    return text.encode(export.encoding, errors="replace"), extra


def _write_contacts(rows: pl.DataFrame, inbox: Path, tag: str, summary: InboxSummary) -> None:
    """Each dialect's rows in files of at most MAX_ROWS_PER_FILE rows."""
    exports = _exports()
    for dialect, formats in exports.items():
        part = rows.filter(pl.col("dialect") == dialect)
        if part.height == 0:
            continue
        chunks = max(len(formats), -(-part.height // MAX_ROWS_PER_FILE))
        size = -(-part.height // chunks)
        for i in range(chunks):
            chunk = part.slice(i * size, size)
            if chunk.height == 0:
                continue
            export = formats[i % len(formats)]
            suffix = f"_{i + 1}" if chunks > 1 else ""
            path = inbox / export.folder / f"{export.stem}{tag}{suffix}.csv"
            data, extra = _csv_text(chunk, export)
            summary.bytes += _write(path, data)
            summary.files[f"{export.folder}/{path.name}"] = chunk.height + extra
            summary.deliberate_rejects += extra


def _write_frame(frame: pl.DataFrame, path: Path, summary: InboxSummary, quote_all: bool) -> None:
    text = frame.write_csv(quote_style="always" if quote_all else "necessary", line_terminator=CRLF)
    summary.bytes += _write(path, text)
    summary.files[f"{path.parent.name}/{path.name}"] = frame.height


def _companies_frame(companies: pl.DataFrame, limit: int) -> pl.DataFrame:
    """HubSpot companies export (the real default columns) of `limit` company rows."""
    rows = companies.head(limit).with_columns(**_company_attrs())
    c = pl.col
    return rows.select(
        **{
            "Record ID": (9_000_000 + c("row")).cast(pl.String),
            "Company name": c("name"),
            "Company owner": _by_index(c("row"), tuple(n for n, _ in OWNERS)),
            "Create Date": pl.format("2024-{}-{} 09:{}", (c("row") % 12 + 1).cast(pl.String)
                                     .str.zfill(2), (c("row") % 28 + 1).cast(pl.String)
                                     .str.zfill(2), (c("row") % 60).cast(pl.String).str.zfill(2)),
            "Phone Number": pl.lit(""),
            "Last Activity Date": pl.lit(""),
            "City": c("city"),
            "Country/Region": c("country"),
            "Industry": c("industry_enum"),
            "Company Domain Name": c("domain").fill_null(""),
            "Number of Employees": c("employees"),
            "Annual Revenue": pl.lit(""),
            "Description": pl.lit(""),
        }
    )  # fmt: skip


def _deals_frame(rng: np.random.Generator, rows: pl.DataFrame, count: int) -> pl.DataFrame:
    """HubSpot deals export linked to contacts by "Name (email)", as HubSpot writes it."""
    with_email = rows.filter(pl.col("email").is_not_null() & pl.col("first_name").is_not_null())
    chosen = rng.choice(with_email.height, min(count, with_email.height), replace=False)
    pick = with_email[np.sort(chosen)]
    n = pick.height
    c = pl.col
    stage = _pick(
        rng, n,
        ("Appointment Scheduled", "Qualified To Buy", "Presentation Scheduled",
         "Decision Maker Bought-In", "Contract Sent", "Closed Won", "Closed Lost"),
        [0.2, 0.2, 0.15, 0.1, 0.1, 0.15, 0.1],
    )  # fmt: skip
    kind = _pick(rng, n, (" - Annual", " - Pilot", " expansion", " renewal"), [0.4, 0.3, 0.2, 0.1])
    return pick.select(
        **{
            "Record ID": (8_800_000 + pl.int_range(0, n)).cast(pl.String),
            "Deal Name": c("company_name").fill_null(c("last_name")) + _lit(kind),
            "Deal Stage": _lit(stage),
            "Pipeline": pl.lit("Sales Pipeline"),
            "Amount": _lit(rng.integers(20, 2400, n) * 50).cast(pl.String),
            "Deal Currency Code": pl.when(c("u") < 0.8).then(pl.lit("USD")).otherwise(
                pl.lit("EUR")),
            "Close Date": _fmt_date("created_at", "%Y-%m-%d 00:00"),
            "Deal owner": c("owner"),
            "Create Date": _fmt_date("created_at", "%Y-%m-%d %H:%M"),
            "Associated Contact": c("first_name") + " " + c("last_name") + " (" + c("email") + ")",
            "Associated Company": c("company_name").fill_null(""),
        }
    )  # fmt: skip


def _tasks_frame(rng: np.random.Generator, rows: pl.DataFrame, count: int) -> pl.DataFrame:
    """A task list as CRMs export it (title, due date, priority, status, contact email)."""
    with_email = rows.filter(pl.col("email").is_not_null())
    pick = with_email[np.sort(rng.choice(with_email.height, min(count, with_email.height)))]
    n = pick.height
    first = pl.col("first_name").fill_null("them")
    verb = _pick(rng, n, ("Follow up with ", "Send pricing to ", "Call "), [0.5, 0.3, 0.2])
    return pick.select(
        **{
            "Task Title": _lit(verb) + first,
            "Due Date": (pl.col("created_at") + pl.duration(days=14)).dt.strftime("%Y-%m-%d"),
            "Priority": _lit(_pick(rng, n, ("High", "Medium", "Low"), [0.2, 0.5, 0.3])),
            "Status": _lit(
                _pick(rng, n, ("Not started", "Completed", "In progress"), [0.4, 0.4, 0.2])
            ),
            "Contact email": pl.col("email"),
            "Assigned To": pl.col("owner_email"),
            "Notes": pl.lit(None, pl.String),
        }
    )


# --- mail ------------------------------------------------------------------------------------


def _encoded_word(text: pl.Expr) -> pl.Expr:
    """RFC 2047 B-encoding for non-ASCII header text, as mail clients write it."""
    return (
        pl.when(text.str.contains(r"[^\x00-\x7F]"))
        .then("=?UTF-8?B?" + text.str.encode("base64") + "?=")
        .otherwise(text)
    )


def _address(name: pl.Expr, email: pl.Expr) -> pl.Expr:
    return pl.when(name.is_null()).then(email).otherwise(_encoded_word(name) + " <" + email + ">")


def _message_rows(
    rng: np.random.Generator, pool: pl.DataFrame, count: int, start: int, end: int, tag: str
) -> pl.DataFrame:
    """One row per message: threads of 1-6 messages between an owner and a correspondent of
    `pool` (email, full_name), alternating direction, with the odd newsletter, bounce,
    auto-reply, spam/trash item and internal mail (copied into both mailboxes)."""
    lengths = np.minimum(rng.geometric(0.5, count), 6)
    ends = np.cumsum(lengths)
    n_threads = int(np.searchsorted(ends, count)) + 1
    lengths = lengths[:n_threads].copy()
    lengths[-1] -= int(ends[n_threads - 1]) - count
    starts = np.cumsum(lengths) - lengths
    thread = np.repeat(np.arange(n_threads), lengths)
    pos = np.arange(count) - starts[thread]
    peer = (pool.height * rng.random(n_threads) ** 2).astype(np.int64)  # a few write a lot
    first_out = rng.random(n_threads) < 0.6
    outbound = first_out[thread] ^ (pos % 2 == 1)
    single = lengths[thread] == 1
    special = rng.random(n_threads)[thread]
    newsletter = single & ~outbound & (special < 0.06)
    # internal mail is in two mailboxes: cut as many messages from the end as it adds
    internal = single & outbound & (special > 0.99) & (np.arange(count) < count * 0.98 - 10)
    keep = np.arange(count) < count - int(internal.sum())
    r = rng.random(count)
    bounce = ~outbound & (pos > 0) & (r < 0.02)
    auto = ~outbound & (pos > 0) & (r >= 0.02) & (r < 0.05)
    gaps = np.where(pos == 0, 0.0, rng.exponential(20 * 3600, count))
    cumulative = np.cumsum(gaps)
    times = rng.integers(start, end, n_threads)[thread] + (
        cumulative - cumulative[starts][thread]
    ).astype(np.int64)
    millis = rng.integers(0, 1000, count)
    frame = (
        pl.DataFrame(
            {
                "thread": thread,
                "pos": pos,
                "peer": peer[thread],
                "owner": peer[thread] % len(OWNERS),
                "outbound": outbound,
                "kind": np.select(
                    [newsletter, internal, bounce, auto],
                    ["news", "internal", "bounce", "auto"],
                    "normal",
                ),
                "t": times,
                "ms": millis,
                "subject_i": rng.integers(0, len(SUBJECTS), n_threads)[thread],
                "encoded_subject": (rng.random(n_threads) < 0.03)[thread],
                "news_i": rng.integers(0, len(NEWSLETTERS), count),
                "line1": rng.integers(0, len(OUT_LINES), count),
                "line2": rng.integers(0, len(IN_LINES), count),
                "label_r": rng.random(count),
                "html": rng.random(count) < 0.55,
                "cc": np.where(rng.random(count) < 0.08, rng.integers(0, pool.height, count), -1),
                "tz": rng.integers(0, len(TIMEZONES), count),
                "bnd": rng.integers(16**9, 16**10, count),
            }
        )
        .filter(_lit(keep))
        .with_row_index("i")
    )
    people = pool.with_row_index("peer").with_columns(pl.col("peer").cast(pl.Int64))
    frame = frame.join(people, on="peer", how="left", maintain_order="left").join(
        people.select(cc="peer", cc_email="email", cc_name="full_name"),
        on="cc",
        how="left",
        maintain_order="left",
    )
    # internal mail: another owner is the correspondent, and the message is in both mailboxes
    other = (pl.col("owner") + 1) % len(OWNERS)
    frame = frame.with_columns(
        other_owner=pl.when(pl.col("kind") == "internal").then(other),
        gmail_id=(pl.col("t") * 1000 + pl.col("ms")) * (1 << 20) + (pl.col("i") % (1 << 20)),
        message_tag=pl.lit(tag) + "." + pl.col("i").cast(pl.String),
    )
    copies = frame.filter(pl.col("kind") == "internal").with_columns(
        owner=pl.col("other_owner"),
        other_owner=pl.col("owner"),
        outbound=pl.lit(False),
        gmail_id=pl.col("gmail_id") + 1,
    )
    return pl.concat([frame, copies]).sort(
        "owner", "thread", "pos", "outbound", descending=[False, False, False, True]
    )


def _mbox_messages(frame: pl.DataFrame) -> pl.DataFrame:
    """The RFC 5322 text of each message, with its Takeout separator line (CRLF)."""
    c = pl.col
    owner_name = _by_index(c("owner"), tuple(n for n, _ in OWNERS))
    owner_email = _by_index(c("owner"), tuple(f"{lp}@{OWN_DOMAIN}" for _, lp in OWNERS))
    owner_first = owner_name.str.split(" ").list.first()
    other_name = _by_index(c("other_owner"), tuple(n for n, _ in OWNERS))
    other_email = _by_index(c("other_owner"), tuple(f"{lp}@{OWN_DOMAIN}" for _, lp in OWNERS))
    kind = c("kind")

    def news(part: int) -> pl.Expr:
        return _by_index(c("news_i"), tuple(n[part] for n in NEWSLETTERS))

    peer_name = (
        pl.when(kind == "internal").then(other_name)
        .when(kind == "news").then(news(0))
        .when(kind == "bounce").then(pl.lit("Mail Delivery Subsystem"))
        .otherwise(c("full_name"))
    )  # fmt: skip
    peer_email = (
        pl.when(kind == "internal").then(other_email)
        .when(kind == "news").then(news(1))
        .when(kind == "bounce").then(pl.lit("mailer-daemon@googlemail.com"))
        .otherwise(c("email"))
    )  # fmt: skip
    internal_from_other = (kind == "internal") & ~c("outbound")
    me = _address(owner_name, owner_email)
    them = _address(peer_name, peer_email)
    sender = pl.when(c("outbound")).then(me).otherwise(them)
    recipient = pl.when(c("outbound")).then(them).otherwise(me)
    # an internal copy in the recipient's mailbox is from the other owner to this one
    sender = pl.when(internal_from_other).then(_address(other_name, other_email)).otherwise(sender)
    recipient = pl.when(internal_from_other).then(me).otherwise(recipient)
    peer_first = (
        pl.when(kind == "internal")
        .then(other_name.str.split(" ").list.first())
        .otherwise(c("full_name").str.split(" ").list.first())
    )
    greeting_name = (
        pl.when(c("outbound")).then(peer_first.fill_null("there")).otherwise(owner_first)
    )

    base_subject = _by_index(c("subject_i"), SUBJECTS)
    encoded = _encoded_word(_by_index(c("subject_i"), SUBJECTS_ENCODED))
    base_subject = pl.when(c("encoded_subject")).then(encoded).otherwise(base_subject)
    subject = (
        pl.when(kind == "news").then(news(2))
        .when(kind == "bounce").then(pl.lit("Delivery Status Notification (Failure)"))
        .when(kind == "auto").then("Automatic reply: " + base_subject)
        .when(c("pos") > 0).then("Re: " + base_subject)
        .otherwise(base_subject)
    )  # fmt: skip
    domain = c("email").str.split("@").list.last()
    message_id = (
        pl.when(c("outbound") | (kind == "internal"))
        .then("<CAN" + c("message_tag") + "=" + c("bnd").cast(pl.String) + "@mail.gmail.com>")
        .when(kind == "news").then("<" + c("message_tag") + "@mail.saasweekly.com>")
        .when(kind == "bounce").then("<" + c("message_tag") + "@mx.google.com>")
        .otherwise("<" + c("bnd").cast(pl.String) + "." + c("message_tag") + "@" + domain + ">")
    )  # fmt: skip
    utc = pl.from_epoch("t", time_unit="s")
    tz_offset = _by_index(c("tz"), tuple(int(h * 3600) for _, h in TIMEZONES))
    tz_text = _by_index(c("tz"), tuple(t for t, _ in TIMEZONES))
    local = pl.from_epoch(c("t") + tz_offset, time_unit="s")
    frame = frame.with_columns(
        message_id=message_id, date=local.dt.strftime("%a, %d %b %Y %H:%M:%S ") + tz_text
    )
    previous = c("message_id").shift(1).over("owner")
    date, previous_date = c("date"), c("date").shift(1).over("owner")
    thread_id = c("gmail_id").first().over("owner", "thread")

    separator = (
        "From "
        + c("gmail_id").cast(pl.String)
        + "@xxx "
        + utc.dt.strftime("%a %b %d %H:%M:%S +0000 %Y")
    )
    r = c("label_r")
    labels = (
        pl.when(c("outbound")).then(pl.when(r < 0.5).then(pl.lit("Sent")).otherwise(
            pl.lit("Sent,Opened")))
        .when(r < 0.005).then(pl.lit("Spam"))
        .when(r < 0.01).then(pl.lit("Trash,Opened"))
        .when(kind == "news").then(pl.lit("Category Updates,Opened"))
        .when(r < 0.4).then(pl.lit("Inbox,Opened"))
        .when(r < 0.6).then(pl.lit("Important,Inbox,Opened"))
        .when(r < 0.8).then(pl.lit("Archived,Opened"))
        .otherwise(pl.lit("Inbox,Unread"))
    )  # fmt: skip

    def header(name: str, value: pl.Expr, when: pl.Expr | None = None) -> pl.Expr:
        line = name + ": " + value + CRLF
        return line if when is None else pl.when(when).then(line).otherwise(pl.lit(""))

    reply = (c("pos") > 0) & (kind != "bounce")
    headers = pl.concat_str(
        [
            header("X-GM-THRID", thread_id.cast(pl.String)),
            header("X-Gmail-Labels", labels),
            header("Delivered-To", owner_email, ~c("outbound")),
            header(
                "Received",
                pl.lit(
                    "by 2002:a05:7300:3c0e:b0:1a2:1234 with SMTP id x12csp1;" + CRLF + "        "
                )
                + date,
                ~c("outbound"),
            ),
            header("X-Failed-Recipients", c("email"), kind == "bounce"),
            header("Auto-Submitted", pl.lit("auto-replied"), kind == "auto"),
            pl.lit("MIME-Version: 1.0" + CRLF),
            header("Date", date),
            header("References", previous, reply),
            header("In-Reply-To", previous, reply),
            header("Message-ID", c("message_id")),
            header("Subject", subject),
            header("From", sender),
            header("To", recipient),
            header("Cc", _address(c("cc_name"), c("cc_email")), c("cc_email").is_not_null()),
        ]
    )
    out_line = _by_index(c("line1"), OUT_LINES)
    in_line = _by_index(c("line2"), IN_LINES)
    signature = pl.when(c("outbound")).then(owner_first).otherwise(peer_first.fill_null(""))
    text = (
        pl.when(kind == "auto").then(
            pl.lit("I am out of the office until next Monday with limited access to email.")
            + CRLF
        )
        .when(kind == "news").then(pl.lit("The five pricing pages that convert best this quarter."
                                          + CRLF))
        .otherwise(
            "Hi " + greeting_name + "," + CRLF + CRLF
            + pl.when(c("outbound")).then(out_line).otherwise(in_line) + CRLF + CRLF
            + pl.when(c("outbound")).then(pl.lit("Best,")).otherwise(pl.lit("Thanks,")) + CRLF
            + signature + CRLF
            + pl.when(reply).then(
                CRLF + "On " + previous_date + ", " + recipient + " wrote:" + CRLF + "> "
                + pl.when(c("outbound")).then(in_line).otherwise(out_line) + CRLF
            ).otherwise(pl.lit(""))
        )
    )  # fmt: skip
    cte = (
        pl.when(text.str.contains(r"[^\x00-\x7F]"))
        .then(pl.lit("Content-Transfer-Encoding: 8bit" + CRLF))
        .otherwise(pl.lit(""))
    )
    plain = 'Content-Type: text/plain; charset="UTF-8"' + CRLF + cte + CRLF + text
    escaped = text.str.replace_all("<", "&lt;", literal=True).str.replace_all(
        ">", "&gt;", literal=True
    )
    html = '<div dir="ltr">' + escaped.str.replace_all(CRLF, "<br>", literal=True) + "</div>" + CRLF
    boundary = "000000000000" + c("bnd").cast(pl.String)
    alternative = (
        'Content-Type: multipart/alternative; boundary="' + boundary + '"' + CRLF + CRLF
        + "--" + boundary + CRLF + plain + CRLF
        + "--" + boundary + CRLF + 'Content-Type: text/html; charset="UTF-8"' + CRLF + cte
        + CRLF + html + CRLF
        + "--" + boundary + "--" + CRLF
    )  # fmt: skip
    news_html = (
        'Content-Type: text/html; charset="UTF-8"' + CRLF + CRLF
        + "<html><body><table><tr><td><h1>" + news(2) + "</h1><p>" + text
        + "</p></td></tr></table></body></html>" + CRLF
    )  # fmt: skip
    bounce_body = (
        'Content-Type: multipart/report; report-type=delivery-status; boundary="' + boundary
        + '"' + CRLF + CRLF
        + "--" + boundary + CRLF + 'Content-Type: text/plain; charset="UTF-8"' + CRLF + CRLF
        + "Address not found. Your message wasn't delivered to " + c("email") + CRLF + CRLF
        + "--" + boundary + CRLF + "Content-Type: message/delivery-status" + CRLF + CRLF
        + "Reporting-MTA: dns; googlemail.com" + CRLF + CRLF
        + "Final-Recipient: rfc822; " + c("email") + CRLF + "Action: failed" + CRLF
        + "Status: 5.1.1" + CRLF + CRLF
        + "--" + boundary + CRLF + "Content-Type: message/rfc822" + CRLF + CRLF
        + "From: " + me + CRLF + "To: " + c("email") + CRLF
        + "Message-ID: " + previous + CRLF + "Subject: " + base_subject + CRLF + CRLF
        + "Hi there," + CRLF + CRLF
        + "--" + boundary + "--" + CRLF
    )  # fmt: skip
    body = (
        pl.when(kind == "bounce").then(bounce_body)
        .when(kind == "news").then(news_html)
        .when(c("html")).then(alternative)
        .otherwise(plain)
    )  # fmt: skip
    return frame.select(
        "owner",
        mail=separator + CRLF + headers + body + CRLF,
    )


def _write_mbox(
    rng: np.random.Generator,
    pool: pl.DataFrame,
    count: int,
    span: tuple[int, int],
    tag: str,
    gmail_dir: Path,
    file_label: str,
    summary: InboxSummary,
) -> int:
    """`count` messages into one Takeout mbox per owner mailbox; returns the latest time."""
    if count <= 0:
        return span[0]
    rows = _message_rows(rng, pool, count, span[0], span[1], tag)
    mails = _mbox_messages(rows)
    for index, (_, local) in enumerate(OWNERS):
        texts = mails.filter(pl.col("owner") == index).get_column("mail")
        if texts.len() == 0:
            continue
        path = gmail_dir / f"{local} - {file_label}.mbox"
        summary.bytes += _write(path, "".join(texts.to_list()))
        summary.files[f"gmail/{path.name}"] = texts.len()
    summary.gmail_messages += mails.height
    return int(rows.get_column("t").max() or span[0])  # type: ignore[arg-type]


def _instantly_emails(
    rng: np.random.Generator, leads: pl.DataFrame, count: int, span: tuple[int, int], tag: str
) -> pl.DataFrame:
    """Instantly API v2 email objects: campaign step sends (ue_type 1), some replies (2) and
    auto-replies, for `count` messages to a slice of the leads."""
    leads = leads.filter(pl.col("email").is_not_null())
    sends = max(1, int(count / 1.2))
    lead_i = rng.choice(leads.height, sends, replace=sends > leads.height)
    replied = np.sort(rng.choice(sends, count - sends, replace=False))
    idx = np.concatenate([np.arange(sends), replied])
    is_reply = np.arange(len(idx)) >= sends
    n = len(idx)
    base = (
        leads[lead_i]
        .with_row_index("s")
        .select("s", "email", first=pl.col("first_name").fill_null("there"))
    )
    rows = pl.DataFrame({"s": idx.astype(np.uint32), "reply": is_reply}).with_row_index("i")
    rows = rows.join(base, on="s", how="left", maintain_order="left")
    when = rng.integers(span[0], span[1], sends)[idx] + np.where(is_reply, 36_000, 0)
    auto = is_reply & (rng.random(n) < 0.15)
    c = pl.col
    account = _by_index(c("s").cast(pl.Int64), SENDERS)
    stamp = pl.from_epoch(_lit(when), time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    subject = _by_index(c("s").cast(pl.Int64), SUBJECTS)
    text = (
        pl.when(~c("reply"))
        .then(
            "Hi " + c("first") + ",\n\n" + _by_index(c("i").cast(pl.Int64), OUT_LINES) + "\n\nAlex"
        )
        .otherwise(_by_index(c("i").cast(pl.Int64), IN_LINES))
    )
    return rows.select(
        id=pl.format("0196f0a1-{}-7000-8000-{}", pl.lit(tag), c("i").cast(pl.String).str.zfill(12)),
        timestamp_created=stamp,
        timestamp_email=stamp,
        message_id=pl.format("<{}.{}.{}@{}>", pl.lit(tag), c("i"), c("s"), pl.lit(OWN_DOMAIN)),
        subject=pl.when(c("reply")).then("Re: " + subject).otherwise(subject),
        to_address_email_list=pl.when(c("reply")).then(account).otherwise(c("email")),
        body=pl.struct(text=text, html="<p>" + text.str.replace_all("\n", "<br>") + "</p>"),
        eaccount=account,
        from_address_email=pl.when(c("reply")).then(c("email")).otherwise(account),
        campaign_id=pl.lit("0195c1e2-3f4a-7b6c-8d9e-0a1b2c3d4e5f"),
        lead=c("email"),
        ue_type=pl.when(c("reply")).then(2).otherwise(1),
        step=pl.lit("1"),
        is_unread=c("reply").cast(pl.Int8),
        is_auto_reply=_lit(auto).cast(pl.Int8),
        thread_id=pl.format("3f8e9d6c-{}-4000-8000-{}", pl.lit(tag), c("s").cast(pl.String)),
    )


def _write_instantly_emails(
    rng: np.random.Generator,
    leads: pl.DataFrame,
    count: int,
    span: tuple[int, int],
    tag: str,
    path: Path,
    summary: InboxSummary,
) -> None:
    if count <= 0 or leads.filter(pl.col("email").is_not_null()).height == 0:
        return
    emails = _instantly_emails(rng, leads, count, span, tag)
    for i, start in enumerate(range(0, emails.height, MAX_ROWS_PER_FILE)):
        part = emails.slice(start, MAX_ROWS_PER_FILE)
        target = path if i == 0 else path.with_name(f"{path.stem}_{i + 1}{path.suffix}")
        summary.bytes += _write(target, part.write_ndjson())
        summary.files[f"instantly/{target.name}"] = part.height
    summary.instantly_emails += emails.height


# --- the public functions --------------------------------------------------------------------


def _people(
    n_rows: int, seed: int, person_offset: int
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(`n_rows` tabular contact rows, mail correspondents, company rows) of fresh people."""
    for factor in (1.36, 1.6):  # about 25% of the records are mail appearances
        data = generate(int(n_rows * factor) + 40, seed=seed)
        contacts = data.contacts.with_columns(pl.col("person_id") + person_offset)
        tabular = contacts.filter(pl.col("source_system") != "gmail").head(n_rows)
        if tabular.height == n_rows:
            break
    mail = contacts.filter(pl.col("source_system") == "gmail").select("email", "full_name")
    return tabular, mail.filter(pl.col("email").is_not_null()), data.companies


def _layout(root: Path) -> tuple[Path, Path]:
    inbox, truth = root / "inbox", root / "truth"
    for folder in (inbox / "csv", inbox / "gmail", inbox / "instantly", truth):
        folder.mkdir(parents=True, exist_ok=True)
    return inbox, truth


def _save_state(truth: Path, state: dict[str, object]) -> None:
    _write(truth / "state.json", json.dumps(state, indent=2))


def _save_summary(root: Path, name: str, summary: InboxSummary) -> None:
    _write(root / name, json.dumps(summary.to_dict(), indent=2))


def _save_parquet(frame: pl.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    frame.write_parquet(tmp)
    os.replace(tmp, path)


def generate_inbox(root: Path, contacts: int, messages: int, seed: int = 0) -> InboxSummary:
    """Write a fresh inbox of `contacts` contact rows (CSV dialects and Instantly leads) and
    `messages` mail messages (Takeout mbox and Instantly emails) under `root/inbox/`."""
    started = time.perf_counter()
    root = Path(root)
    inbox, truth = _layout(root)
    rng = np.random.default_rng(seed + 1_000_003)
    people, mail_pool, companies = _people(contacts, seed, 0)
    rows = _rows(rng, people, first_key=100_000_000)
    summary = InboxSummary(
        inbox=inbox,
        contact_rows=rows.height,
        messages=0,
        gmail_messages=0,
        instantly_emails=0,
        persons=rows.get_column("person_id").n_unique(),
        companies=rows.get_column("company_id").n_unique(),
    )
    _write_contacts(rows, inbox, "", summary)
    # a re-export overlapping the first HubSpot file: the same records (same Record ID) again
    hubspot = rows.filter(pl.col("dialect") == "hubspot")
    overlap = hubspot.filter(pl.col("u") < 0.02)
    if overlap.height:
        data, _ = _csv_text(overlap, _exports()["hubspot"][0])
        path = inbox / "csv" / "hubspot_contacts_all_properties_reexport.csv"
        summary.bytes += _write(path, data)
        summary.files[f"csv/{path.name}"] = overlap.height
        summary.reexported_rows = overlap.height
    side = max(1, contacts // 50)
    _write_frame(
        _companies_frame(companies, max(10, contacts // 20)),
        inbox / "csv" / "hubspot_companies.csv",
        summary,
        quote_all=True,
    )
    _write_frame(
        _deals_frame(rng, hubspot if hubspot.height else rows, side),
        inbox / "csv" / "hubspot_deals.csv",
        summary,
        quote_all=True,
    )
    _write_frame(_tasks_frame(rng, rows, side), inbox / "csv" / "tasks.csv", summary, False)

    gmail_count = round(messages * GMAIL_SHARE)
    span = (_START, _END)
    last = _write_mbox(
        rng, mail_pool, gmail_count, span, f"b{seed}", inbox / "gmail",
        "All mail Including Spam and Trash", summary,
    )  # fmt: skip
    leads = rows.filter(pl.col("dialect") == "instantly")
    _write_instantly_emails(
        rng, leads, messages - gmail_count, span, f"b{seed}",
        inbox / "instantly" / "emails.jsonl", summary,
    )  # fmt: skip
    summary.messages = summary.gmail_messages + summary.instantly_emails

    _save_parquet(rows.drop("u"), truth / "rows.parquet")
    _save_parquet(mail_pool, truth / "mail_pool.parquet")
    _save_state(
        truth,
        {
            "seed": seed,
            "contacts": contacts,
            "messages": messages,
            "increments": 0,
            "next_key": 100_000_000 + rows.height,
            "next_person": int(rows.get_column("person_id").max() or 0) + 1,  # type: ignore[arg-type]
            "last_time": max(last, _END),
        },
    )
    summary.seconds = round(time.perf_counter() - started, 2)
    _save_summary(root, "summary.json", summary)
    return summary


def add_increment(
    root: Path, rows: int = 10_000, messages: int = 2_000, seed: int = 1
) -> InboxSummary:
    """Write NEW files into `root/inbox/` after `generate_inbox`: `rows` contact rows (70% new
    people in every dialect, 20% updates of HubSpot records — same Record ID, new title, phone
    and stage — and 10% existing people again in a new Apollo list) and `messages` newer
    messages (new mbox per mailbox, new Instantly emails) with old and new correspondents."""
    started = time.perf_counter()
    root = Path(root)
    inbox, truth = _layout(root)
    state = json.loads((truth / "state.json").read_text())
    k = int(state["increments"]) + 1
    tag = f"_increment_{k}"
    rng = np.random.default_rng([int(state["seed"]), seed, k])
    existing = pl.read_parquet(truth / "rows.parquet")
    pool = pl.read_parquet(truth / "mail_pool.parquet")

    n_update, n_again = rows // 5, rows // 10
    n_new = rows - n_update - n_again
    new_people, new_pool, _ = _people(
        max(n_new, 1), seed=int(state["seed"]) * 7919 + seed * 31 + k,
        person_offset=int(state["next_person"]),
    )  # fmt: skip
    new_people = new_people.head(n_new)
    now = int(state["last_time"])
    recent = pl.from_epoch(pl.lit(now) + (pl.col("row") % 48) * 3600, time_unit="s")
    new_rows = _rows(rng, new_people, first_key=int(state["next_key"])).with_columns(
        created_at=recent.dt.replace_time_zone("UTC").cast(existing.schema["created_at"])
    )

    hubspot = existing.filter(pl.col("dialect") == "hubspot")
    source = hubspot if hubspot.height else existing
    updates = source[np.sort(rng.choice(source.height, min(n_update, source.height), False))]
    titles = ("VP Sales", "Head of Growth", "CTO", "Director of Operations", "Product Manager")
    updates = updates.with_columns(
        title=_by_index(pl.col("key") + k, titles),
        phone=pl.coalesce("phone", pl.lit("+1 415 555 0100")),
        stage=pl.lit("Customer"),
        u=pl.lit(0.5),
    )
    again = existing[np.sort(rng.choice(existing.height, min(n_again, existing.height), False))]
    again = again.with_columns(
        dialect=pl.lit("apollo"),
        key=pl.int_range(0, again.height) + int(state["next_key"]) + new_rows.height,
        email=pl.when(pl.int_range(0, again.height) % 2 == 0)
        .then(pl.col("email").str.to_uppercase())
        .otherwise(pl.col("email")),
        u=pl.lit(0.5),
    )
    batch = pl.concat([new_rows, updates, again], how="diagonal_relaxed")
    summary = InboxSummary(
        inbox=inbox,
        contact_rows=batch.height,
        messages=0,
        gmail_messages=0,
        instantly_emails=0,
        persons=new_rows.get_column("person_id").n_unique(),
        companies=new_rows.get_column("company_id").n_unique(),
    )
    _write_contacts(batch, inbox, tag, summary)

    gmail_count = round(messages * GMAIL_SHARE)
    span = (now + _DAY, now + 3 * _DAY)
    mixed_pool = pl.concat(
        [pool.sample(min(pool.height, 4 * max(1, gmail_count)), seed=k), new_pool]
    )
    last = _write_mbox(
        rng, mixed_pool, gmail_count, span, f"i{k}s{seed}", inbox / "gmail",
        f"Takeout increment {k}", summary,
    )  # fmt: skip
    leads = pl.concat(
        [existing.filter(pl.col("dialect") == "instantly"), new_rows], how="diagonal_relaxed"
    )
    _write_instantly_emails(
        rng, leads, messages - gmail_count, span, f"i{k}s{seed}",
        inbox / "instantly" / f"emails{tag}.jsonl", summary,
    )  # fmt: skip
    summary.messages = summary.gmail_messages + summary.instantly_emails

    _save_parquet(
        pl.concat([existing, new_rows.drop("u")], how="diagonal_relaxed"), truth / "rows.parquet"
    )
    _save_parquet(pl.concat([pool, new_pool]), truth / "mail_pool.parquet")
    state.update(
        increments=k,
        next_key=int(state["next_key"]) + new_rows.height + again.height,
        next_person=int(new_rows.get_column("person_id").max() or 0) + 1,  # type: ignore[arg-type]
        last_time=max(last, span[1]),
    )
    _save_state(truth, state)
    summary.seconds = round(time.perf_counter() - started, 2)
    _save_summary(root, f"summary{tag}.json", summary)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--messages", type=int, default=4_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--increment", action="store_true", help="add an increment instead")
    args = parser.parse_args()
    if args.increment:
        summary = add_increment(args.root, args.contacts, args.messages, args.seed)
    else:
        summary = generate_inbox(args.root, args.contacts, args.messages, args.seed)
    print(
        f"{summary.contact_rows:,} contact rows, {summary.gmail_messages:,} Gmail messages, "
        f"{summary.instantly_emails:,} Instantly emails in {len(summary.files)} files, "
        f"{summary.bytes / 2**20:,.0f} MB, {summary.seconds:.1f} s -> {summary.inbox}"
    )


if __name__ == "__main__":
    main()
