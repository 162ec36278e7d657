"""The real Instantly API v2 objects (go-instantly fixtures, see tests/fixtures/instantly)."""

import json
from pathlib import Path

from rex_pipeline import records
from rex_pipeline.sources.instantly import parse_instantly_file

FIXTURES = Path(__file__).parents[2] / "fixtures" / "instantly"


def parse(name: str) -> records.ParsedFile:
    return parse_instantly_file(FIXTURES / name, "org-test")


def test_lead_object_becomes_an_outbound_prospect_with_its_state_in_metadata() -> None:
    parsed = parse("go-instantly_lead_fixture_spec_shaped.json")

    assert parsed.stats["kind"] == "leads"
    assert parsed.activities.is_empty() and parsed.rejected.is_empty()
    [lead] = parsed.contacts.to_dicts()
    assert lead["email"] == "lead@example.com"
    assert lead["first_name"] == "Jane"
    assert lead["company_domain"] == "example.com"
    assert lead["source"] == "outbound"
    assert lead["source_detail"] == "campaign-1"
    assert lead["stage"] == "prospect"  # lt_interest_status 1 = interested
    assert lead["tags"] == ["instantly:interested"]
    assert lead["source_key"] == "instantly:lead:lead-uuid-1"
    assert lead["source_system"] == "instantly"
    assert lead["source_row"] is None
    assert lead["created_at"].isoformat() == "2026-08-01T10:00:00+00:00"
    assert lead["updated_at"].isoformat() == "2026-08-01T11:00:00+00:00"

    meta = json.loads(lead["metadata"])
    state = meta["instantly"]
    assert state["status"] == "active"
    assert state["interest_status"] == "interested"
    assert (state["email_open_count"], state["email_reply_count"]) == (3, 1)
    assert state["email_click_count"] == 2
    assert state["campaign_ids"] == ["campaign-1"]
    assert meta["custom_variables"] == {"custom": "value"}
    # fields we do not map are kept, typed as Instantly gave them
    assert state["other_fields"]["status_summary"] == {"sent": 3}
    assert state["other_fields"]["is_website_visitor"] is True
    assert json.loads(lead["raw"])["esp_code"] == 2


def test_received_email_is_an_inbound_reply_from_the_lead() -> None:
    parsed = parse("go-instantly_email_fixture_received_spec_shaped.json")

    [act] = parsed.activities.to_dicts()
    assert act["type"] == "email"
    assert act["direction"] == "inbound"  # ue_type 2
    assert act["subtype"] == "reply"  # is_auto_reply 0
    assert act["status"] == "completed"
    assert act["source"] == "instantly"
    assert act["external_id"] == "email-uuid-1"
    assert act["contact_email"] == "lead@example.com"
    assert act["subject"] == "Quick question"
    assert act["body"] == "Hello"  # the text part wins over html
    assert act["occurred_at"].isoformat() == "2026-08-01T09:59:00+00:00"
    meta = json.loads(act["metadata"])
    assert meta["message_id"] == "abc@mail.example.com"  # the Gmail external_id form
    assert meta["thread_id"] == "thread-uuid-1"
    assert meta["campaign_id"] == "campaign-uuid-1"
    assert meta["eaccount"] == "sender@example.com"
    assert meta["step"] == 1
    assert meta["cc"] == ["cc@example.com"]
    assert meta["is_unread"] is True
    assert meta["other_fields"]["from_address_json"][0]["name"] == "Lead"

    assert parsed.stats["own_addresses"] == ["sender@example.com"]
    [lead] = parsed.contacts.to_dicts()
    assert lead["email"] == "lead@example.com"
    assert lead["source_key"] == "instantly:lead:lead@example.com"


def test_email_with_nulls_everywhere_is_still_an_outbound_send() -> None:
    parsed = parse("go-instantly_email_fixture_nulls.json")

    [act] = parsed.activities.to_dicts()
    # no ue_type and no sender: mail from the org's eaccount to an outsider is outbound
    assert act["direction"] == "outbound"
    assert act["subtype"] is None
    assert act["contact_email"] == "lead@example.com"
    assert act["body"] == "Bare"  # html-only body read as text
    assert act["owner"] == "sender@example.com"
    meta = json.loads(act["metadata"])
    assert meta["message_id"] == "def@mail.example.com"
    assert "campaign_id" not in meta and "ue_type" not in meta  # NULLs are left out
    assert parsed.rejected.is_empty()
    assert [c["email"] for c in parsed.contacts.to_dicts()] == ["lead@example.com"]
