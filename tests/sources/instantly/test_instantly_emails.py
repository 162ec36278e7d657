"""API v2 `/emails` exports: direction, status and subtype from ue_type, the org's mailboxes."""

import json
from pathlib import Path

import pytest

from rex_pipeline.sources.instantly import parse_instantly_file

FIXTURES = Path(__file__).parents[2] / "fixtures" / "instantly"
ID = "0196f0a1-1111-7000-8000-00000000000"


@pytest.fixture(scope="module")
def parsed():
    return parse_instantly_file(FIXTURES / "api_v2_emails_page.json", "org-test")


@pytest.fixture(scope="module")
def by_id(parsed):
    return {row["external_id"]: row for row in parsed.activities.to_dicts()}


def test_ue_type_gives_direction_status_and_subtype(by_id) -> None:
    campaign_send, reply, auto_reply = by_id[ID + "1"], by_id[ID + "2"], by_id[ID + "3"]
    manual_send, scheduled = by_id[ID + "4"], by_id[ID + "5"]
    assert (campaign_send["direction"], campaign_send["subtype"]) == ("outbound", None)
    assert (reply["direction"], reply["subtype"]) == ("inbound", "reply")
    assert (auto_reply["direction"], auto_reply["subtype"]) == ("inbound", "auto_reply")
    assert manual_send["direction"] == "outbound"
    assert (scheduled["direction"], scheduled["status"]) == ("outbound", "scheduled")
    assert {r["status"] for r in (campaign_send, reply, auto_reply, manual_send)} == {"completed"}
    assert all(r["type"] == "email" and r["source"] == "instantly" for r in by_id.values())


def test_sender_decides_direction_when_ue_type_is_missing(by_id) -> None:
    no_ue_type = by_id[ID + "6"]
    assert no_ue_type["direction"] == "outbound"  # from alex@northwind-labs.io, an eaccount
    assert no_ue_type["contact_email"] == "priya.patel@umbrella-corp.io"


def test_counterparty_is_the_lead_never_an_org_mailbox(by_id) -> None:
    assert by_id[ID + "2"]["contact_email"] == "ada.lovelace@acme-robotics.com"  # `lead`
    assert by_id[ID + "3"]["contact_email"] == "grace.hopper@globex.com"  # inbound sender
    # outbound with the org's own mailbox among the recipients: the outsider is the lead
    assert by_id[ID + "4"]["contact_email"] == "grace.hopper@globex.com"


def test_own_addresses_are_the_sending_mailboxes(parsed) -> None:
    assert parsed.stats["own_addresses"] == ["alex@northwind-labs.io", "alex@northwind-mail.io"]
    contacts = set(parsed.contacts["email"])
    assert not contacts & set(parsed.stats["own_addresses"])
    assert contacts == {
        "ada.lovelace@acme-robotics.com",
        "grace.hopper@globex.com",
        "bob.smith@initech.com",
        "priya.patel@umbrella-corp.io",
    }


def test_mail_between_org_mailboxes_is_rejected(parsed) -> None:
    [rejected] = parsed.rejected.to_dicts()
    assert json.loads(rejected["raw"])["subject"] == "Warm-up"
    assert "own mailboxes" in rejected["reason"]
    assert parsed.stats["rows_read"] == 7
    assert parsed.activities.height + parsed.rejected.height == 7


def test_message_id_kept_without_brackets_for_matching_gmail(by_id) -> None:
    meta = json.loads(by_id[ID + "1"]["metadata"])
    assert meta["message_id"] == "CAF=ada-step1-9f3e@northwind-mail.io"
    assert meta["thread_id"] == "3f8e9d6c-0000-4000-8000-00000000a001"
    assert meta["campaign_id"] == "0195c1e2-3f4a-7b6c-8d9e-0a1b2c3d4e5f"
    assert meta["eaccount"] == "alex@northwind-mail.io"
    assert meta["step"] == 1
    assert meta["ue_type"] == 1


def test_html_only_body_becomes_plain_text(by_id) -> None:
    assert by_id[ID + "2"]["body"] == "Hi Alex,\nsure — Thursday works.\nAda"


def test_lead_contacts_of_an_email_export_carry_the_campaign(parsed) -> None:
    ada = parsed.contacts.filter(email="ada.lovelace@acme-robotics.com").to_dicts()[0]
    assert ada["source_key"] == "instantly:lead:ada.lovelace@acme-robotics.com"
    assert ada["source"] == "outbound"
    assert ada["stage"] == "lead"
    assert json.loads(ada["metadata"])["instantly"]["campaign_ids"] == [
        "0195c1e2-3f4a-7b6c-8d9e-0a1b2c3d4e5f"
    ]
    assert ada["updated_at"].isoformat() == "2026-09-01T15:12:31+00:00"  # latest mail


def test_email_export_as_csv(tmp_path: Path) -> None:
    path = tmp_path / "emails.csv"
    path.write_text(
        "id,timestamp_email,message_id,subject,from_address_email,to_address_email_list,"
        "eaccount,ue_type,is_auto_reply\n"
        "e1,2026-09-01 09:30:00,<m1@northwind-labs.io>,Hi,alex@northwind-labs.io,"
        '"ada@acme.io, bob@acme.io",alex@northwind-labs.io,1,0\n'
        "e2,2026-09-01 10:00:00,<r1@acme.io>,Re: Hi,bob@acme.io,alex@northwind-labs.io,"
        "alex@northwind-labs.io,,1\n",
        encoding="utf-8",
    )
    parsed = parse_instantly_file(path, "org-test")

    sent, reply = parsed.activities.sort("external_id").to_dicts()
    assert (sent["direction"], sent["contact_email"], sent["source_row"]) == (
        "outbound",
        "ada@acme.io",
        1,
    )
    assert sent["occurred_at"].isoformat() == "2026-09-01T09:30:00+00:00"
    assert (reply["direction"], reply["subtype"]) == ("inbound", "auto_reply")
    assert reply["contact_email"] == "bob@acme.io"
