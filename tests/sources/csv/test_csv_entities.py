"""Companies, deals, tasks and activities: mapped to their raw schemas and linked to people by
address and to companies by domain or name."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from rex_pipeline.sources.csv import parse_csv_file

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "csv"


def _by(frame: pl.DataFrame, column: str, value: object) -> dict:
    rows = frame.filter(pl.col(column) == value).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


def test_hubspot_deals_link_by_the_address_inside_associated_contact() -> None:
    parsed = parse_csv_file(FIXTURES / "hubspot_deals.csv", "acme")
    assert parsed.stats["entity"] == "deals"
    assert parsed.contacts.height == 0 and parsed.deals.height == 3
    deal = _by(parsed.deals, "source_key", "hubspot:8810002")
    assert deal["name"] == "Lumen Foods expansion"
    assert deal["contact_email"] == "kenji@lumenfoods.de"
    assert deal["company_name"] == "Lumen Foods GmbH"
    assert (deal["pipeline"], deal["stage"]) == ("Sales Pipeline", "Closed Lost")
    assert (deal["value"], deal["currency"]) == ("7,500.50", "EUR")  # as given
    assert deal["owner"] == "Tom Becker"
    assert deal["created_at"] == datetime(2024, 12, 1, 9, 30, tzinfo=UTC)
    metadata = json.loads(deal["metadata"])
    assert metadata["Close Date"] == "2025-02-28 00:00"
    assert metadata["Associated Contact"] == "Kenji Watanabe (kenji@lumenfoods.de)"
    renewal = _by(parsed.deals, "source_key", "hubspot:8810003")
    assert renewal["contact_email"] is None and renewal["value"] is None


def test_salesforce_opportunities_are_deals() -> None:
    parsed = parse_csv_file(FIXTURES / "salesforce_opportunities_report.csv", "acme")
    assert (parsed.stats["dialect"], parsed.stats["entity"]) == ("salesforce report", "deals")
    deal = _by(parsed.deals, "name", "Kestrel Pilot")
    assert deal["company_name"] == "Kestrel Robotics"
    assert deal["stage"] == "Closed Won"
    assert deal["value"] == "12,500.00"
    assert deal["owner"] == "Tom Becker"


def test_tasks_with_due_dates_and_contact_links() -> None:
    parsed = parse_csv_file(FIXTURES / "tasks.csv", "acme")
    assert parsed.stats["entity"] == "tasks"
    demo = _by(parsed.tasks, "title", "Follow up after demo")
    assert demo["contact_email"] == "jonas.weber@kestrel-robotics.io"
    assert (demo["priority"], demo["status"]) == ("Medium", "Completed")
    assert demo["due_at"] == datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
    assert demo["owner"] == "tom@northwind-labs.io"
    invoice = _by(parsed.tasks, "title", "Call back re: invoice")
    assert invoice["due_at"] is None
    assert json.loads(invoice["metadata"]) == {"Due Date": "next week"}


def test_activities_with_durations_and_external_ids() -> None:
    parsed = parse_csv_file(FIXTURES / "activities.csv", "acme")
    assert parsed.stats["entity"] == "activities"
    call = _by(parsed.activities, "subject", "Discovery call")
    assert call["type"] == "Call"
    assert call["contact_email"] == "priya.raman@bluefin-analytics.com"
    assert call["company_domain"] == "bluefin-analytics.com"
    assert call["deal_ref"] == "Bluefin Analytics - Annual"
    assert call["duration"] == 1260
    assert call["direction"] == "Outbound"
    assert call["occurred_at"] == datetime(2025, 2, 11, 14, 5, tzinfo=UTC)
    assert call["body"] == "Discussed data volumes.\nNext: send pricing."
    assert (call["source"], call["external_id"]) == ("csv", "activities.csv:1")
    assert _by(parsed.activities, "subject", "Pilot kickoff")["duration"] == 3600
    assert parsed.activities.get_column("external_id").n_unique() == 3


def test_company_exports_are_companies() -> None:
    parsed = parse_csv_file(FIXTURES / "hubspot_companies.csv", "acme")
    assert parsed.stats["entity"] == "companies"
    driftwood = _by(parsed.companies, "source_key", "hubspot:9003")
    assert driftwood["name"] == "Driftwood Logistics, Inc."
    assert driftwood["domain"] == "www.driftwoodlogistics.com"
    assert driftwood["size"] == "1,001-5,000"
    assert driftwood["industry"] == "LOGISTICS_AND_SUPPLY_CHAIN"
    assert json.loads(driftwood["metadata"])["Company owner"] == "Tom Becker"
