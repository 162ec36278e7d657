"""Webhook event archives: one activity per event, contacts for the leads they name."""

import json
from pathlib import Path

import pytest

from rex_pipeline.sources.instantly import parse_instantly_file

FIXTURES = Path(__file__).parents[2] / "fixtures" / "instantly"
EVENTS = FIXTURES / "webhook_events.jsonl"
ADA = "ada.lovelace@acme-robotics.com"


@pytest.fixture(scope="module")
def parsed():
    return parse_instantly_file(EVENTS, "org-test")


def event(parsed, event_type: str, lead: str = ADA) -> dict:
    [row] = [
        r
        for r in parsed.activities.to_dicts()
        if json.loads(r["metadata"])["event_type"] == event_type and r["contact_email"] == lead
    ]
    return row


@pytest.mark.parametrize(
    "event_type, lead, type_, subtype, direction, status",
    [
        ("email_sent", ADA, "email", None, "outbound", "completed"),
        ("email_opened", ADA, "email", "open", "outbound", "completed"),
        ("email_link_clicked", ADA, "email", "click", "outbound", "completed"),
        ("reply_received", ADA, "email", "reply", "inbound", "completed"),
        (
            "auto_reply_received",
            "grace.hopper@globex.com",
            "email",
            "auto_reply",
            "inbound",
            "completed",
        ),
        ("email_bounced", "bob.smith@initech.com", "email", "bounce", "outbound", "completed"),
        (
            "lead_unsubscribed",
            "priya.patel@umbrella-corp.io",
            "email",
            "unsubscribe",
            "na",
            "completed",
        ),
        ("lead_interested", ADA, "other", "interested", "na", "completed"),
        (
            "lead_meeting_booked",
            "grace.hopper@globex.com",
            "meeting",
            "meeting_booked",
            "na",
            "scheduled",
        ),
    ],
)
def test_event_meaning(parsed, event_type, lead, type_, subtype, direction, status) -> None:
    row = event(parsed, event_type, lead)
    assert (row["type"], row["subtype"], row["direction"], row["status"]) == (
        type_,
        subtype,
        direction,
        status,
    )
    assert row["source"] == "instantly"


def test_event_fields(parsed) -> None:
    reply = event(parsed, "reply_received")
    assert reply["occurred_at"].isoformat() == "2026-09-01T15:12:35+00:00"
    assert reply["subject"] == "Re: Robot arms at Acme"
    assert reply["body"] == "Hi Alex,\nsure — Thursday works.\nAda"
    assert reply["owner"] == "alex@northwind-mail.io"
    meta = json.loads(reply["metadata"])
    assert meta["eaccount"] == "alex@northwind-mail.io"
    assert meta["campaign_name"] == "Q3 Robotics Founders"
    assert (meta["step"], meta["variant"], meta["is_first"]) == (1, 1, True)
    assert meta["unibox_url"].startswith("https://app.instantly.ai/")


def test_mail_events_share_the_emails_id_others_get_a_stable_hash(parsed) -> None:
    # email_id is the /emails object's id: an /emails export of the same mail is the same
    # activity (source, external_id)
    assert event(parsed, "email_sent")["external_id"] == "0196f0a1-1111-7000-8000-000000000001"
    assert event(parsed, "reply_received")["external_id"] == (
        "0196f0a1-1111-7000-8000-000000000002"
    )
    opened = event(parsed, "email_opened")["external_id"]
    assert len(opened) == 32 and int(opened, 16) >= 0
    ids = parsed.activities["external_id"]
    assert ids.n_unique() == ids.len()
    again = parse_instantly_file(EVENTS, "org-test")
    assert again.activities["external_id"].to_list() == ids.to_list()
    assert set(parsed.activities["source_key"]) == {f"instantly:event:{i}" for i in ids}


def test_events_without_a_lead_are_rejected(parsed) -> None:
    reasons = sorted(parsed.rejected["reason"])
    assert reasons == [
        "event 'account_error' has no lead email",
        "event 'campaign_completed' has no lead email",
    ]
    assert parsed.stats["rows_read"] == 12
    assert parsed.activities.height + parsed.rejected.height == 12


def test_one_contact_per_lead_with_what_the_events_revealed(parsed) -> None:
    contacts = {c["email"]: c for c in parsed.contacts.to_dicts()}
    assert set(contacts) == {
        ADA,
        "grace.hopper@globex.com",
        "bob.smith@initech.com",
        "priya.patel@umbrella-corp.io",
    }
    ada = contacts[ADA]
    assert ada["source_key"] == f"instantly:lead:{ADA}"
    assert ada["stage"] == "prospect"
    assert {"instantly:interested", "instantly:meeting_booked"} <= set(ada["tags"])
    # lead data carried at the top level of the webhook payload
    assert (ada["first_name"], ada["last_name"], ada["title"]) == (
        "Ada",
        "Lovelace",
        "VP Engineering",
    )
    assert ada["company_name"] == "Acme Robotics"
    assert ada["updated_at"].isoformat() == "2026-09-04T16:00:00+00:00"

    bob = contacts["bob.smith@initech.com"]
    assert "instantly:bounced" in bob["tags"]
    assert json.loads(bob["metadata"])["instantly"]["status"] == "bounced"
    priya = contacts["priya.patel@umbrella-corp.io"]
    assert "instantly:unsubscribed" in priya["tags"]
    assert parsed.stats["own_addresses"] == ["alex@northwind-labs.io", "alex@northwind-mail.io"]


def test_event_csv_with_ui_headers_and_dotted_names(tmp_path: Path) -> None:
    path = tmp_path / "activity.csv"
    path.write_text(
        "Event Type,Timestamp,Lead Email,Email Account,Campaign Name,Step\n"
        "email.sent,2026-09-01T09:30:01Z,ada@acme.io,alex@northwind-labs.io,Q3,1\n"
        "Email Bounced,2026-09-02T11:31:09Z,bob@acme.io,alex@northwind-labs.io,Q3,1\n"
        "lead_closed,2026-09-09T10:00:00Z,ada@acme.io,alex@northwind-labs.io,Q3,\n",
        encoding="utf-8",
    )
    parsed = parse_instantly_file(path, "org-test")

    sent, bounced, won = parsed.activities.to_dicts()
    assert (sent["direction"], sent["source_row"]) == ("outbound", 1)
    assert bounced["subtype"] == "bounce"
    assert (won["type"], won["subtype"]) == ("other", "won")
    contacts = {c["email"]: c for c in parsed.contacts.to_dicts()}
    assert contacts["ada@acme.io"]["stage"] == "customer"
    assert contacts["ada@acme.io"]["source_row"] == 1
    assert "instantly:bounced" in contacts["bob@acme.io"]["tags"]
