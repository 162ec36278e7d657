"""Lead exports: the UI CSV export (title-cased fields plus custom-variable columns) and API v2
lead JSON in its shapes."""

import json
from pathlib import Path

import polars as pl
import pytest

from rex_pipeline.sources.instantly import parse_instantly_file

FIXTURES = Path(__file__).parents[2] / "fixtures" / "instantly"


def by_email(frame: pl.DataFrame) -> dict[str, dict]:
    return {row["email"].lower(): row for row in frame.to_dicts()}


@pytest.fixture(scope="module")
def ui_export():
    return parse_instantly_file(FIXTURES / "ui_leads_export_custom_columns.csv", "org-test")


def test_ui_export_maps_title_cased_headers(ui_export) -> None:
    ada = by_email(ui_export.contacts)["ada.lovelace@acme-robotics.com"]
    assert (ada["first_name"], ada["last_name"]) == ("Ada", "Lovelace")
    assert ada["company_name"] == "Acme Robotics"
    assert ada["company_domain"] == "https://www.acme-robotics.com"  # Website, as given
    assert ada["phone"] == "+1 415 555 0132"
    assert ada["source"] == "outbound"
    assert ada["source_detail"] == "Q3 Robotics Founders"
    assert ada["source_row"] == 1
    assert ada["source_key"] == "instantly:lead:ada.lovelace@acme-robotics.com"
    assert json.loads(ada["raw"])["First Name"] == "Ada"


def test_custom_variable_columns_are_kept_and_fill_title_and_linkedin(ui_export) -> None:
    ada = by_email(ui_export.contacts)["ada.lovelace@acme-robotics.com"]
    assert ada["title"] == "VP Engineering"  # from the jobTitle column
    assert ada["linkedin_url"] == "https://www.linkedin.com/in/ada-lovelace-acme"
    custom = json.loads(ada["metadata"])["custom_variables"]
    assert custom == {
        "jobTitle": "VP Engineering",
        "linkedIn": "https://www.linkedin.com/in/ada-lovelace-acme",
        "city": "San Francisco",
        "employeeCount": "120",
    }
    bob = by_email(ui_export.contacts)["bob.smith@initech.com"]
    assert json.loads(bob["metadata"])["custom_variables"] == {
        "jobTitle": "Head of IT",
        "city": "Austin",
    }  # empty cells are not variables


def test_ui_labels_become_stage_tags_and_metadata(ui_export) -> None:
    leads = by_email(ui_export.contacts)
    grace = leads["grace.hopper@globex.com"]
    assert grace["stage"] == "customer"  # Interest Status: Won
    assert grace["company_name"] == "Globex, Inc."  # quoted comma survives
    assert "instantly:won" in grace["tags"]
    assert leads["jose.mueller@bergmann-gmbh.de"]["stage"] == "prospect"  # Meeting Booked
    assert leads["jose.mueller@bergmann-gmbh.de"]["first_name"] == "José"
    assert leads["ada.lovelace@acme-robotics.com"]["stage"] == "prospect"  # Interested

    bob = leads["bob.smith@initech.com"]
    assert bob["stage"] == "lead"  # Interest Status "Lead" means none
    assert bob["tags"] == ["instantly:bounced", "campaign:Q3 Robotics Founders"]
    state = json.loads(bob["metadata"])["instantly"]
    assert state["status"] == "bounced"
    assert "interest_status" not in state

    priya = leads["priya.patel@umbrella-corp.io"]
    assert "instantly:unsubscribed" in priya["tags"]
    assert "instantly:not_interested" in priya["tags"]
    priya_state = json.loads(priya["metadata"])["instantly"]
    assert priya_state["status"] == "unsubscribed"
    assert priya_state["email_open_count"] == 2


def test_rows_without_a_usable_email_are_rejected_with_their_row(ui_export) -> None:
    rejected = ui_export.rejected.sort("source_row").to_dicts()
    assert [r["source_row"] for r in rejected] == [6, 7]
    assert rejected[0]["reason"] == "lead email is not a usable address: n/a"
    assert json.loads(rejected[0]["raw"])["First Name"] == "Lin"
    assert rejected[1]["reason"] == "lead has no email address"
    assert {r["source_system"] for r in rejected} == {"instantly"}
    assert ui_export.stats["rows_read"] == 7
    assert ui_export.stats["rejected"] == 2
    assert ui_export.contacts.height + ui_export.rejected.height == 7


def test_api_page_uses_payload_for_title_and_keeps_the_cursor() -> None:
    parsed = parse_instantly_file(FIXTURES / "api_v2_leads_page.json", "org-test")

    assert parsed.stats["next_starting_after"] == "0199a3c4-5b7e-7d21-9f3e-2c41d8a7e003"
    grace = by_email(parsed.contacts)["grace.hopper@globex.com"]
    assert grace["title"] == "CTO"  # payload.jobTitle
    assert grace["linkedin_url"] == "https://www.linkedin.com/in/gracehopper"
    assert grace["company_domain"] == "globex.com"  # company_domain before website
    assert grace["stage"] == "customer"  # lt_interest_status 4 = won
    assert grace["source_key"] == "instantly:lead:0199a3c4-5b7e-7d21-9f3e-2c41d8a7e001"
    state = json.loads(grace["metadata"])["instantly"]
    assert state["website"] == "https://globex.com"
    assert state["last_contacted_at"].startswith("2026-09-01T09:30:00")
    bob = by_email(parsed.contacts)["bob.smith@initech.com"]
    assert bob["tags"] == ["instantly:bounced"]  # status -1
    [rejected] = parsed.rejected.to_dicts()
    assert rejected["reason"] == "lead has no email address"
    assert json.loads(rejected["raw"])["last_name"] == "Address"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    "name, content",
    [
        (
            "array.json",
            '[{"email": "a@acme.io", "firstName": "Ann", "companyName": "Acme", "status": "-2"}]',
        ),
        (
            "lines.jsonl",
            '{"Email": "a@acme.io", "First Name": "Ann", "Company Name": "Acme",'
            ' "Lead Status": "Unsubscribed"}\n',
        ),
        (
            "semicolon.csv",
            "email;firstName;companyName;status\na@acme.io;Ann;Acme;-2\n",
        ),
    ],
)
def test_header_and_key_aliases(tmp_path: Path, name: str, content: str) -> None:
    parsed = parse_instantly_file(write(tmp_path, name, content), "org-test")

    [lead] = parsed.contacts.to_dicts()
    assert (lead["email"], lead["first_name"], lead["company_name"]) == ("a@acme.io", "Ann", "Acme")
    assert "instantly:unsubscribed" in lead["tags"]


def test_windows_1252_csv_with_bom_less_header(tmp_path: Path) -> None:
    content = "Email,First Name,Last Name\r\nfrancois@acme.fr,François,Dupré\r\n"
    path = write(tmp_path, "leads.csv", content.encode("cp1252"))

    [lead] = parse_instantly_file(path, "org-test").contacts.to_dicts()
    assert (lead["first_name"], lead["last_name"]) == ("François", "Dupré")


def test_utf8_bom_header_is_recognised(tmp_path: Path) -> None:
    path = write(tmp_path, "leads.csv", "\ufeffEmail,First Name\nada@acme.io,Ada\n".encode())

    [lead] = parse_instantly_file(path, "org-test").contacts.to_dicts()
    assert lead["email"] == "ada@acme.io"


def test_lead_without_id_is_keyed_by_lower_case_email(tmp_path: Path) -> None:
    path = write(tmp_path, "l.json", '[{"email": " Ada.Lovelace@Acme-Robotics.com "}]')

    [lead] = parse_instantly_file(path, "org-test").contacts.to_dicts()
    assert lead["email"] == "Ada.Lovelace@Acme-Robotics.com"  # as given, trimmed
    assert lead["source_key"] == "instantly:lead:ada.lovelace@acme-robotics.com"
