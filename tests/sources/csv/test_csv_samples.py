"""The real LinkedIn export and the fixtures built under real vendor header rows map as the
vendors mean them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from rex_pipeline import records
from rex_pipeline.sources.csv import parse_csv_file

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "csv"


def _parse(name: str) -> records.ParsedFile:
    return parse_csv_file(FIXTURES / name, "acme")


def _row(frame: pl.DataFrame, column: str, value: object) -> dict:
    rows = frame.filter(pl.col(column) == value).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


def test_linkedin_2024_real_export() -> None:
    parsed = _parse("linkedin_connections_2024_jasontoups.csv")
    stats = parsed.stats
    assert stats["dialect"] == "linkedin connections (2024)"
    assert stats["preamble_lines_skipped"] == 3
    assert stats["rows_read"] == 16 == parsed.records_read
    # data row 13 is the all-blank row with only "Connected On": rejected, not dropped
    assert parsed.rejected.get_column("source_row").to_list() == [13]
    assert parsed.rejected.item(0, "reason").startswith("blank row")
    assert json.loads(parsed.rejected.item(0, "raw")) == {"Connected On": "02 Jun 2022"}

    contacts = parsed.contacts
    row7 = _row(contacts, "source_row", 7)
    assert row7["company_name"] == "CivicMinds, Inc"
    assert row7["source_key"] == "linkedin:https://www.linkedin.com/in/example-person-7"
    assert row7["linkedin_url"] == "https://www.linkedin.com/in/example-person-7"
    assert row7["created_at"] == datetime(2024, 5, 23, tzinfo=UTC)
    assert _row(contacts, "source_row", 4)["email"] == "person4@example.com"
    assert _row(contacts, "source_row", 10)["last_name"] == "Müller"
    # the real file has Apple's private-use logo character in this title: kept as given
    assert (
        _row(contacts, "source_row", 11)["title"]
        == "Architect, \uf8ffMP Distributed Systems & Data"
    )
    assert _row(contacts, "source_row", 14)["company_name"] is None
    assert contacts.get_column("source_system").unique().to_list() == ["csv"]
    assert contacts.get_column("source_file").unique().to_list() == [
        "linkedin_connections_2024_jasontoups.csv"
    ]


def test_linkedin_2018_member_urn_is_not_an_email() -> None:
    contacts = _parse("linkedin_connections_2018.csv").contacts
    jonas = _row(contacts, "first_name", "Jonas")
    assert jonas["email"] is None
    assert json.loads(jonas["metadata"]) == {"Email Address": "urn:li:member:48213377"}
    assert jonas["created_at"] == datetime(2017, 11, 23, 9, 2, tzinfo=UTC)
    amara = _row(contacts, "first_name", "Amara")
    assert amara["created_at"] == datetime(2018, 1, 8, 18, 14, tzinfo=UTC)
    assert amara["source_key"] == "linkedin_connections_2018.csv:1"  # no URL column in 2018


def test_hubspot_default_view() -> None:
    contacts = _parse("hubspot_contacts_default_view.csv").contacts
    priya = _row(contacts, "source_key", "hubspot:51234501")
    assert priya["owner"] == "Maria Lopez"
    assert priya["stage"] == "Open"
    assert priya["company_name"] == "Bluefin Analytics"
    assert priya["source_detail"] == "hubspot export"
    assert priya["created_at"] == datetime(2024, 11, 3, 9, 12, tzinfo=UTC)
    assert json.loads(priya["metadata"]) == {
        "Primary Associated Company ID": "9001",
        "Last Activity Date": "2025-02-11 14:05",
        "Marketing contact status": "Marketing contact",
    }
    lucas = _row(contacts, "source_key", "hubspot:51234504")
    assert lucas["first_name"] == "Lucas"  # " Lucas " trimmed
    assert lucas["created_at"] is None
    assert json.loads(lucas["metadata"])["Create Date"] == "sometime in 2024"
    assert json.loads(lucas["raw"])["First Name"] == " Lucas "  # raw keeps the cell as given
    assert (
        _row(contacts, "source_key", "hubspot:51234502")["email"] == "J.Weber@Kestrel-Robotics.io"
    )


def test_hubspot_all_properties_keeps_every_filled_cell() -> None:
    parsed = _parse("hubspot_contacts_all_properties.csv")
    sofia = _row(parsed.contacts, "source_key", "hubspot:70112")
    assert sofia["stage"] == "Sales Qualified Lead"
    assert sofia["source"] == "Organic Search"
    assert sofia["source_detail"] == "google"  # Original Source Drill-Down 1 beats the label
    assert sofia["phone"] == "+46 70 123 45 67"  # mobile first
    assert sofia["other_emails"] == ["s.lindqvist@copperleafhealth.com", "sofia.l@proton.me"]
    assert sofia["updated_at"] == datetime(2024, 2, 1, 8, 0, tzinfo=UTC)
    metadata = json.loads(sofia["metadata"])
    assert metadata["höbbela"] == "ja, bitte"
    assert metadata["Phone Number"] == "+46 8 123 456 78"  # the phone not chosen
    assert metadata["Message"] == "Asked about SSO,\nand about EU data residency."
    assert "Email" not in metadata and "Record ID" not in metadata
    raw = json.loads(sofia["raw"])
    assert len(raw) == 26  # every non-empty cell of the 182 columns
    marta = _row(parsed.contacts, "source_key", "hubspot:70114")
    assert marta["email"] == "marta.kowalska@bluefin-analytics.com"  # Work email when Email empty
    assert marta["other_emails"] is None


def test_apollo_2026_and_classic() -> None:
    diego = _row(_parse("apollo_contacts_2026.csv").contacts, "first_name", "Diego")
    assert diego["email"] == "diego.fernandez@driftwoodlogistics.com"
    assert diego["other_emails"] == ["dfernandez@gmail.com"]
    assert diego["tags"] == ["Q1 Outbound", "Logistics CFOs"]
    assert diego["phone"] == "'+1 312-555-0177"  # as given: normalise strips the quote
    assert diego["linkedin_url"] == "http://www.linkedin.com/in/diego-fernandez-cfo"
    metadata = json.loads(diego["metadata"])
    assert metadata["Corporate Phone"] == "'+1 312-555-0100"
    assert metadata["Secondary Email Status"] == "Verified"

    classic = _parse("apollo_contacts_classic.csv").contacts
    hannah = _row(classic, "source_key", "apollo:64f1c2a9e8b7d10001a2b3c4")
    assert hannah["owner"] == "maria@northwind-labs.io"
    assert hannah["stage"] == "Cold"
    assert hannah["company_domain"] == "http://www.copperleafhealth.com"
    assert json.loads(hannah["metadata"])["Account Owner"] == "tom@northwind-labs.io"


def test_apollo_accounts_are_companies() -> None:
    parsed = _parse("apollo_accounts.csv")
    assert parsed.contacts.height == 0
    bluefin = _row(parsed.companies, "name", "Bluefin Analytics")
    assert bluefin["domain"] == "http://www.bluefin-analytics.com"
    assert bluefin["size"] == "85"
    assert bluefin["industry"] == "information technology & services"
    assert bluefin["source_key"] == "apollo:5e8a1f2b3c4d5e0001f6a7c1"
    assert json.loads(bluefin["metadata"])["Keywords"] == "data platform, analytics, b2b saas"


def test_google_multi_values_and_labels() -> None:
    priya = _row(_parse("google_contacts_2022.csv").contacts, "first_name", "Priya")
    assert priya["email"] == "priya.raman@bluefin-analytics.com"
    assert priya["other_emails"] == ["p.raman@bluefin-analytics.com", "priya.r@gmail.com"]
    assert priya["tags"] == ["* myContacts", "Customers"]
    assert priya["phone"] == "+1 415-555-0142"
    # the second phone of the cell is not lost
    assert json.loads(priya["metadata"])["Phone 1 - Value"] == "+1 415-555-0142 ::: +1 415-555-0199"

    legacy = _parse("google_contacts_legacy.csv").contacts
    sam = _row(legacy, "full_name", "Sam Okafor")
    assert (sam["first_name"], sam["last_name"]) == ("Sam", "Okafor")
    assert sam["other_emails"] == ["sam@okafor.family"]
    assert sam["tags"] == ["* myContacts", "Friends"]
    assert sam["title"] == "Founder"


def test_outlook_desktop_and_outlook_com() -> None:
    hannah = _row(_parse("outlook_desktop.csv").contacts, "first_name", "Hannah")
    assert hannah["title"] == "Procurement Lead"
    assert hannah["tags"] == ["Customers", "Conference 2024"]
    assert hannah["other_emails"] == ["h.schmidt@web.de"]
    assert json.loads(hannah["metadata"])["Title"] == "Dr."

    marta = _row(_parse("outlook_com_people.csv").contacts, "first_name", "Marta")
    assert marta["email"] == "marta.kowalska@bluefin-analytics.com"
    assert marta["other_emails"] == ["marta.k@outlook.com"]
    assert marta["title"] == "Data Engineer"


def test_salesforce_report_and_data_export() -> None:
    report = _parse("salesforce_report_contacts.csv")
    assert report.stats["dialect"] == "salesforce report"
    assert report.stats["footer_lines_skipped"] == 5
    assert report.records_read == 3 and report.rejected.height == 0
    jon = _row(report.contacts, "first_name", "Jon")
    assert jon["source_key"] == "salesforce:0035g00000XyZ1bAAF"
    assert jon["company_name"] == "Kestrel Robotics, Inc."
    assert jon["owner"] == "Tom Becker"
    assert jon["source"] == "Trade Show"
    assert jon["created_at"] == datetime(2024, 1, 9, tzinfo=UTC)
    amara = _row(report.contacts, "first_name", "Amara")
    assert amara["created_at"] is None  # 13/02/2024 is not a US date
    assert json.loads(amara["metadata"])["Created Date"] == "13/02/2024"

    export = _parse("salesforce_data_export_contacts.csv")
    assert export.stats["dialect"] == "salesforce data export"
    yuki = _row(export.contacts, "first_name", "Yuki")
    assert yuki["source_key"] == "salesforce:0035g00000XyZ1dAAF"
    assert yuki["owner"] == "0055g00000OwNeSAAZ"
    assert yuki["source"] == "Partner Referral"
    assert yuki["phone"] == "+81 90-1234-5678"
    assert yuki["created_at"] == datetime(2024, 4, 2, 23, 15, tzinfo=UTC)
    assert json.loads(yuki["metadata"])["Description"] == "Intro via reseller,\nfollow up in Q3"
