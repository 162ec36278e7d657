"""Typed polars schemas of the records that flow between pipeline stages.

Every source parser (CSV, Gmail, Instantly) emits *raw staged records*: values exactly as the
export gave them, already mapped to our field names, plus lineage (file, row, natural key).
The normalise stage turns those into *clean staged records* (canonical keys, E.164 phones,
split names, vocabularies mapped) and rejects what cannot be used. Resolution and publishing
only ever see clean records. Keeping the schemas in one place is what lets each stage be
written and tested on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

UTC_TS = pl.Datetime("us", "UTC")
STR_LIST = pl.List(pl.String)

# --- lineage carried by every record -------------------------------------------------------
LINEAGE: dict[str, pl.DataType] = {
    "org_id": pl.String(),
    "source_system": pl.String(),  # csv | gmail | instantly
    "source_file": pl.String(),  # base name of the file
    "source_row": pl.Int64(),  # 1-based data row for tabular files, NULL otherwise
    "source_key": pl.String(),  # natural key of the record (e.g. "hubspot:1234"), never NULL
    "raw": pl.String(),  # JSON object of the original fields, for rejected_records
}

# --- raw staged records (what parsers emit) --------------------------------------------------
# Company facts that enrichment and CRM exports put on contact rows (Apollo's `Industry` and
# `# Employees`, HubSpot's `Number of Employees`), kept in the contact's metadata under the
# header they came with, in order of preference: the company the contact names takes them.
COMPANY_FACTS_ON_CONTACTS: dict[str, tuple[str, ...]] = {
    "industry": ("Industry", "industry", "Company Industry"),
    "size": (
        "# Employees",
        "Number of Employees",
        "Employees",
        "employees",
        "Company Size",
        "company_size",
        "numberofemployees",
    ),
}

# A source key of this form (`<file>:<row>`) is the record's place when its export has no id of
# its own: a position, not an identity (it never links records, and rows move).
PLACE_KEY = r"^[^:]+\.[A-Za-z0-9]+:\d+$"

RAW_CONTACT: dict[str, pl.DataType] = {
    **LINEAGE,
    "email": pl.String(),  # primary address as given
    "other_emails": STR_LIST,  # further addresses as given (secondary, E-mail 2 ...)
    "full_name": pl.String(),  # when the export has one combined name (split by nameparser)
    "first_name": pl.String(),
    "last_name": pl.String(),
    "phone": pl.String(),  # as given; the best phone of the record
    "title": pl.String(),
    "linkedin_url": pl.String(),
    "stage": pl.String(),  # raw lifecycle value ("Sales Qualified Lead", "customer", ...)
    "source": pl.String(),  # raw lead source ("Organic Search", "Referral", ...)
    "source_detail": pl.String(),
    "owner": pl.String(),  # owner email or name as given
    "company_name": pl.String(),
    "company_domain": pl.String(),  # website, URL or domain as given
    "tags": STR_LIST,
    "metadata": pl.String(),  # JSON object: custom/unknown fields, never lost
    "created_at": UTC_TS,  # when the source says the record was created
    "updated_at": UTC_TS,  # when the source says it last changed (drives "most recent wins")
}

RAW_COMPANY: dict[str, pl.DataType] = {
    **LINEAGE,
    "name": pl.String(),
    "domain": pl.String(),  # website, URL or domain as given
    "industry": pl.String(),
    "size": pl.String(),  # "51-200", "1,001-5,000 employees", "120" ...
    "description": pl.String(),
    "linkedin_url": pl.String(),
    "metadata": pl.String(),
    "created_at": UTC_TS,
    "updated_at": UTC_TS,
}

RAW_ACTIVITY: dict[str, pl.DataType] = {
    **LINEAGE,
    "type": pl.String(),
    "subtype": pl.String(),
    "status": pl.String(),
    "subject": pl.String(),
    "body": pl.String(),
    "contact_email": pl.String(),  # the counterparty, as given
    "company_domain": pl.String(),
    "company_name": pl.String(),
    "deal_ref": pl.String(),  # a deal's natural key or name, as given
    "owner": pl.String(),
    "occurred_at": UTC_TS,
    "duration": pl.Int64(),  # seconds
    "direction": pl.String(),
    "source": pl.String(),  # gmail | instantly | csv | ...
    "external_id": pl.String(),  # unique per (org, source); parsers always fill it
    "generated_by": pl.String(),
    "confidence_score": pl.Float64(),
    "model": pl.String(),
    "metadata": pl.String(),
}

RAW_DEAL: dict[str, pl.DataType] = {
    **LINEAGE,
    "name": pl.String(),
    "contact_email": pl.String(),
    "company_domain": pl.String(),
    "company_name": pl.String(),
    "pipeline": pl.String(),
    "stage": pl.String(),
    "value": pl.String(),  # as given: "12,500.00", "$1.2k" ...
    "currency": pl.String(),
    "status": pl.String(),
    "owner": pl.String(),
    "metadata": pl.String(),
    "created_at": UTC_TS,
    "updated_at": UTC_TS,
}

RAW_TASK: dict[str, pl.DataType] = {
    **LINEAGE,
    "title": pl.String(),
    "contact_email": pl.String(),
    "priority": pl.String(),
    "status": pl.String(),
    "due_at": UTC_TS,
    "owner": pl.String(),
    "metadata": pl.String(),
    "created_at": UTC_TS,
    "updated_at": UTC_TS,
}

REJECTED: dict[str, pl.DataType] = {
    "org_id": pl.String(),
    "source_system": pl.String(),
    "source_file": pl.String(),
    "source_row": pl.Int64(),
    "raw": pl.String(),  # JSON of the original fields (or a description of the unreadable file)
    "reason": pl.String(),
}

# --- clean staged records (what normalise emits) -------------------------------------------
CLEAN_CONTACT: dict[str, pl.DataType] = {
    **{k: v for k, v in RAW_CONTACT.items() if k not in ("raw",)},
    "email": pl.String(),  # validated address, domain lower-cased (as given otherwise)
    "email_key": pl.String(),  # canonical matching key (provider rules applied)
    "other_emails": STR_LIST,  # validated further addresses
    "other_email_keys": STR_LIST,
    "email_domain": pl.String(),  # registrable domain of the primary address
    "is_free_email": pl.Boolean(),
    "is_disposable_email": pl.Boolean(),
    "phone": pl.String(),  # E.164 or NULL
    "linkedin_url": pl.String(),  # canonical https://www.linkedin.com/in/<slug>
    "stage": pl.String(),  # lead|prospect|customer|churned or NULL
    "source": pl.String(),  # organic|referral|paid|social|email|event|outbound|other or NULL
    "company_key": pl.String(),  # matching key of the company name (cleanco, case-folded)
    "company_domain": pl.String(),  # registrable domain (website or work email), never free-mail
}

CLEAN_COMPANY: dict[str, pl.DataType] = {
    **{k: v for k, v in RAW_COMPANY.items() if k not in ("raw",)},
    "domain": pl.String(),  # registrable domain, lower case, never free-mail
    "name_key": pl.String(),  # matching key of the name
}

CLEAN_ACTIVITY: dict[str, pl.DataType] = {
    **{k: v for k, v in RAW_ACTIVITY.items() if k not in ("raw",)},
    "type": pl.String(),  # one of schema.ACTIVITY_TYPES (unknown -> "other")
    "status": pl.String(),  # one of schema.ACTIVITY_STATUSES
    "direction": pl.String(),  # one of schema.DIRECTIONS
    "contact_email_key": pl.String(),  # canonical key of contact_email, NULL if invalid
    "company_domain": pl.String(),  # registrable domain, never free-mail
    "company_key": pl.String(),
}

CLEAN_DEAL: dict[str, pl.DataType] = {
    **{k: v for k, v in RAW_DEAL.items() if k not in ("raw", "value")},
    "value": pl.Int64(),  # minor units (cents)
    "currency": pl.String(),  # ISO 4217 upper case
    "status": pl.String(),  # one of schema.DEAL_STATUSES
    "contact_email_key": pl.String(),
    "company_domain": pl.String(),
    "company_key": pl.String(),
}

CLEAN_TASK: dict[str, pl.DataType] = {
    **{k: v for k, v in RAW_TASK.items() if k not in ("raw",)},
    "priority": pl.String(),  # one of schema.TASK_PRIORITIES
    "status": pl.String(),  # one of schema.TASK_STATUSES
    "contact_email_key": pl.String(),
}


def empty(schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """An empty frame with exactly this schema."""
    return pl.DataFrame(schema=dict(schema))


def conform(frame: pl.DataFrame, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """Give a frame exactly the schema's columns, in order: missing ones become NULL, extra
    ones are dropped, types are cast. Parsers build frames loosely and conform at the end."""
    columns = []
    for name, dtype in schema.items():
        if name in frame.columns:
            columns.append(pl.col(name).cast(dtype))
        else:
            columns.append(pl.lit(None, dtype=dtype).alias(name))
    return frame.select(columns)


def from_rows(rows: list[dict[str, Any]], schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """Build a conformed frame from parser output dicts (missing keys are NULL)."""
    if not rows:
        return empty(schema)
    return pl.DataFrame(rows, schema=dict(schema), strict=False)


class UnreadableFileError(Exception):
    """A whole file cannot be read (not a known format, corrupt, truncated beyond repair).

    Raised by parsers; the ingest step turns it into one `rejected_records` row for the file
    and keeps loading the other files."""


class ParsedFile:
    """Everything one input file yielded, as raw staged frames, plus per-file statistics
    (dialect recognised, rows read, rows skipped and why) for asset metadata."""

    def __init__(
        self,
        *,
        contacts: pl.DataFrame | None = None,
        companies: pl.DataFrame | None = None,
        activities: pl.DataFrame | None = None,
        deals: pl.DataFrame | None = None,
        tasks: pl.DataFrame | None = None,
        rejected: pl.DataFrame | None = None,
        stats: dict[str, Any] | None = None,
    ) -> None:
        def _or_empty(frame: pl.DataFrame | None, schema: dict[str, pl.DataType]) -> pl.DataFrame:
            return empty(schema) if frame is None else conform(frame, schema)

        self.contacts = _or_empty(contacts, RAW_CONTACT)
        self.companies = _or_empty(companies, RAW_COMPANY)
        self.activities = _or_empty(activities, RAW_ACTIVITY)
        self.deals = _or_empty(deals, RAW_DEAL)
        self.tasks = _or_empty(tasks, RAW_TASK)
        self.rejected = _or_empty(rejected, REJECTED)
        self.stats = stats or {}

    @property
    def records_read(self) -> int:
        """Staged records the file yielded (each ends in exactly one frame here). For mail and
        event files this includes the contacts derived from the messages, so it can exceed the
        number of messages; the sources/rejected accounting is done on these records."""
        return sum(
            f.height
            for f in (
                self.contacts,
                self.companies,
                self.activities,
                self.deals,
                self.tasks,
                self.rejected,
            )
        )
