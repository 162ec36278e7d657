"""Dialect and entity kind are recognised from the header row, never from the file name."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from rex_pipeline.sources.csv import parse_csv_file
from rex_pipeline.sources.csv.aliases import header_key
from rex_pipeline.sources.csv.dialects import detect_kind, recognise

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "csv"


def _header(name: str) -> list[str]:
    line = (FIXTURES / name).read_text(encoding="utf-8").splitlines()[0]
    return next(csv.reader([line]))


@pytest.mark.parametrize(
    ("sample", "dialect", "kind"),
    [
        ("hubspot_contacts_all_properties_export_2023_HEADER.csv", "hubspot export", "contacts"),
        ("hubspot_contacts_default_view_export_HEADER.csv", "hubspot export", "contacts"),
        ("apollo_contacts_export_2026_HEADER.csv", "apollo export", "contacts"),
        ("apollo_contacts_export_classic_ADAPTED_HEADER.csv", "apollo export", "contacts"),
        ("apollo_accounts_export_HEADER.csv", "apollo export", "companies"),
        ("google_contacts_2022plus_export_HEADER.csv", "google contacts (2022+)", "contacts"),
        ("outlook_desktop_export_HEADER.csv", "outlook desktop export", "contacts"),
        ("outlook_com_people_export_HEADER.csv", "outlook.com export", "contacts"),
    ],
)
def test_real_header_rows_are_recognised(sample: str, dialect: str, kind: str) -> None:
    recognised = recognise(_header(sample))
    assert recognised is not None
    assert (recognised.name, recognised.kind) == (dialect, kind)


def test_header_only_samples_parse_to_no_records() -> None:
    parsed = parse_csv_file(FIXTURES / "hubspot_contacts_default_view_export_HEADER.csv", "o")
    assert parsed.records_read == 0
    assert parsed.stats["dialect"] == "hubspot export"


def test_file_name_does_not_decide_the_dialect(tmp_path: Path) -> None:
    misleading = tmp_path / "hubspot_contacts_export.csv"
    shutil.copyfile(FIXTURES / "linkedin_connections_2018.csv", misleading)
    parsed = parse_csv_file(misleading, "o")
    assert parsed.stats["dialect"] == "linkedin connections (2018)"
    assert parsed.contacts.height == 3


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        (
            ["Deal Name", "Deal Stage", "Pipeline", "Amount", "Close Date", "Associated Contact"],
            "deals",
        ),
        (["Opportunity Name", "Stage", "Amount", "Account Name"], "deals"),
        (["Task Title", "Due Date", "Priority", "Status", "Contact email"], "tasks"),
        (["Subject", "Due Date", "Priority", "Status"], "tasks"),
        (["Type", "Subject", "Date", "Contact Email", "Notes"], "activities"),
        (["Company name", "Company Domain Name", "Industry", "Number of Employees"], "companies"),
        (["Name", "Website", "Industry", "Type"], "companies"),
        (["email", "first name", "company"], "contacts"),
        (["Notes:"], None),
        (["jane@acme.com", "Jane", "Doe"], None),
    ],
)
def test_entity_kind_comes_from_the_headers(headers: list[str], kind: str | None) -> None:
    assert detect_kind(frozenset(header_key(h) for h in headers)) == kind


def test_alias_matching_ignores_case_spaces_and_underscores() -> None:
    dialect = recognise(["EMAIL_ADDRESS", "first_name", " Last  Name ", "Company-Name", "JobTitle"])
    assert dialect is not None and dialect.name == "generic csv"
    keys = {field: keys for field, keys in dialect.fields.items()}
    assert header_key("EMAIL_ADDRESS") in keys["email"]
    assert header_key("JobTitle") in keys["title"]
    assert header_key(" Last  Name ") in keys["last_name"]


def test_localized_outlook_headers_map_through_the_alias_table() -> None:
    dialect = recognise(["Vorname", "Nachname", "E-Mail-Adresse", "Firma"])
    assert dialect is not None and dialect.kind == "contacts"
    assert "emailadresse" in dialect.fields["email"]
    assert "firma" in dialect.fields["company_name"]


def test_salesforce_api_names_are_a_data_export_and_labels_a_report() -> None:
    api = recognise(["Id", "FirstName", "LastName", "Email", "AccountId", "OwnerId", "CreatedDate"])
    labels = recognise(["Contact Owner", "First Name", "Last Name", "Account Name", "Email"])
    assert api is not None and api.name == "salesforce data export"
    assert api.key_columns == ("id",)
    assert labels is not None and labels.name == "salesforce report"


def test_google_legacy_layout_is_contacts_despite_subject_and_priority() -> None:
    dialect = recognise(_header("google_contacts_legacy.csv"))
    assert dialect is not None
    assert (dialect.name, dialect.kind) == ("google contacts (legacy)", "contacts")


def test_outlook_title_is_a_salutation_not_a_job_title() -> None:
    dialect = recognise(_header("outlook_desktop_export_HEADER.csv"))
    assert dialect is not None
    assert "title" not in dialect.fields["title"]
    assert "jobtitle" in dialect.fields["title"]
