"""The company, activity, deal and task stages: clean + rejected, nothing lost."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import polars as pl

from rex_pipeline import records
from rex_pipeline.config import Settings
from rex_pipeline.normalise import (
    normalise_activities,
    normalise_companies,
    normalise_deals,
    normalise_tasks,
)

Stage = Callable[[pl.DataFrame, Settings], tuple[pl.DataFrame, pl.DataFrame]]


def _run(
    stage: Stage,
    raw_schema: Mapping[str, pl.DataType],
    clean_schema: Mapping[str, pl.DataType],
    *rows: dict,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    lineage = {"org_id": "acme-org", "source_system": "csv", "source_file": "export.csv"}
    full = [
        {**lineage, "source_row": i, "source_key": f"k{i}", "raw": json.dumps(r, default=str), **r}
        for i, r in enumerate(rows, start=1)
    ]
    raw = records.from_rows(full, raw_schema)
    clean, rejected = stage(raw, Settings())
    assert clean.height + rejected.height == raw.height
    assert clean.schema == pl.Schema(clean_schema)
    assert rejected.schema == pl.Schema(records.REJECTED)
    return clean, rejected


def test_companies() -> None:
    clean, rejected = _run(
        normalise_companies,
        records.RAW_COMPANY,
        records.CLEAN_COMPANY,
        {
            "name": " Acme Corp. ",
            "domain": "https://www.Acme.com/about",
            "size": "1,001-5,000 employees",
            "industry": "Software",
            "linkedin_url": "linkedin.com/company/acme/",
        },
        {"name": "SociÃ©tÃ© GÃ©nÃ©rale S.A.", "domain": "not a domain"},
        {"domain": "acme.io"},
        {"domain": "gmail.com"},
        {"name": "   "},
    )
    assert clean.select("name", "domain", "name_key", "size").rows() == [
        ("Acme Corp.", "acme.com", "acme", "1,001-5,000 employees"),
        ("Société Générale S.A.", None, "societe generale", None),
        (None, "acme.io", None, None),
    ]
    assert clean["linkedin_url"][0] == "https://www.linkedin.com/company/acme"
    assert json.loads(clean["metadata"][1]) == {"raw_domain": "not a domain"}
    assert rejected["reason"].to_list() == [
        "no name, and 'gmail.com' is not a company domain",
        "no usable identity (no domain or name)",
    ]
    assert json.loads(rejected["raw"][0]) == {"domain": "gmail.com"}


def test_activities() -> None:
    at = datetime(2025, 5, 2, 9, 30, tzinfo=UTC)
    clean, rejected = _run(
        normalise_activities,
        records.RAW_ACTIVITY,
        records.CLEAN_ACTIVITY,
        {
            "external_id": "msg-1@mail.gmail.com",
            "type": "INCOMING_EMAIL",
            "direction": "INCOMING",
            "status": "received",
            "contact_email": "Ada.Lovelace+x@GMAIL.com",
            "subject": "  Re: pricing ",
            "occurred_at": at,
            "source": "Gmail",
        },
        {
            "external_id": "call-7",
            "type": "Fax",
            "company_name": "Acme Inc",
            "status": "Awaiting approval",
        },
        {"external_id": "m-3", "contact_email": "ada@acme.io", "direction": "sideways"},
        {"external_id": "m-4", "contact_email": "bad@"},
        {"contact_email": "ada@acme.io"},
    )
    first = clean.row(0, named=True)
    assert (first["type"], first["direction"], first["status"]) == ("email", "inbound", "completed")
    assert first["contact_email"] == "Ada.Lovelace+x@gmail.com"
    assert first["contact_email_key"] == "adalovelace@gmail.com"
    assert first["company_domain"] is None  # gmail is nobody's company
    assert first["subject"] == "  Re: pricing "  # message text exactly as given
    assert (first["source"], first["occurred_at"]) == ("gmail", at)
    second = clean.row(1, named=True)
    assert (second["type"], second["direction"], second["company_key"]) == ("other", "na", "acme")
    assert second["source"] == "csv"  # no source column: the source system
    assert json.loads(second["metadata"]) == {"raw_type": "Fax", "raw_status": "Awaiting approval"}
    third = clean.row(2, named=True)
    assert third["company_domain"] == "acme.io"  # the contact's work domain
    assert json.loads(third["metadata"]) == {"raw_direction": "sideways"}
    assert rejected["reason"].to_list() == [
        "no contact email or company "
        "(invalid email 'bad@': There must be something after the @-sign.)",
        "missing external_id",
    ]


def test_deals() -> None:
    clean, rejected = _run(
        normalise_deals,
        records.RAW_DEAL,
        records.CLEAN_DEAL,
        {"name": "Acme renewal", "value": "$12,500.00", "stage": "closedwon", "status": None},
        {"name": "Globex", "value": "1.200,50 €", "status": "In Progress"},
        {"name": "Initech", "value": "lots", "currency": "gbp", "status": "Closed Lost"},
        {"name": "Umbrella", "value": "1.2k", "contact_email": "ada@umbrella.com"},
        {"value": "500"},
    )
    assert clean.select("name", "value", "currency", "status").rows() == [
        ("Acme renewal", 1_250_000, "USD", "won"),
        ("Globex", 120_050, "EUR", "open"),
        ("Initech", None, "GBP", "lost"),
        ("Umbrella", 120_000, "USD", "open"),
    ]
    assert json.loads(clean["metadata"][2]) == {"raw_value": "lots"}
    assert clean["company_domain"][3] == "umbrella.com"
    assert clean["contact_email_key"][3] == "ada@umbrella.com"
    assert rejected["reason"].to_list() == ["deal has no name"]


def test_tasks() -> None:
    clean, rejected = _run(
        normalise_tasks,
        records.RAW_TASK,
        records.CLEAN_TASK,
        {
            "title": "Call Ada",
            "priority": "HIGH",
            "status": "NOT_STARTED",
            "contact_email": "a@x.io",
        },
        {"title": "Send deck", "priority": "Normal", "status": "Completed"},
        {"title": "Think", "priority": "whenever"},
        {"title": " ", "priority": "LOW"},
    )
    assert clean.select("title", "priority", "status", "contact_email_key").rows() == [
        ("Call Ada", "high", "pending", "a@x.io"),
        ("Send deck", "medium", "completed", None),
        ("Think", None, "pending", None),
    ]
    assert json.loads(clean["metadata"][2]) == {"raw_priority": "whenever"}
    assert rejected["reason"].to_list() == ["task has no title"]


def test_empty_inputs() -> None:
    settings = Settings()
    for stage, raw_schema in (
        (normalise_companies, records.RAW_COMPANY),
        (normalise_activities, records.RAW_ACTIVITY),
        (normalise_deals, records.RAW_DEAL),
        (normalise_tasks, records.RAW_TASK),
    ):
        clean, rejected = stage(records.empty(raw_schema), settings)
        assert clean.is_empty() and rejected.is_empty()
