"""The real export files written by others (see tests/fixtures/gmail/PROVENANCE.md) parse into
the activities and contacts an analyst would expect."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from rex_pipeline import records
from rex_pipeline.sources.gmail import parse_gmail_file

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "gmail"
DOGSHEEP = FIXTURES / "dogsheep_small.gmail.mbox"
EMIL = sorted(FIXTURES.glob("emiltholin_*.json"))


def _parse(path: Path, **options: Any) -> records.ParsedFile:
    return parse_gmail_file(path, "org_test", [], ["northwind-labs.io"], **options)


def _row(frame: pl.DataFrame, **equals: Any) -> dict[str, Any]:
    rows = frame.filter(*(pl.col(k) == v for k, v in equals.items())).to_dicts()
    assert len(rows) == 1, f"expected one row with {equals}, got {len(rows)}"
    return rows[0]


# --- dogsheep Takeout mbox ----------------------------------------------------------------


def test_dogsheep_mbox_counts_every_message() -> None:
    parsed = _parse(DOGSHEEP)
    assert parsed.stats["format"] == "mbox"
    assert parsed.stats["messages_read"] == 6
    assert parsed.activities.height == 4
    assert parsed.stats["skipped_chat"] == 2
    assert parsed.rejected["reason"].to_list() == ["a Google Chat item, not an email"] * 2
    assert parsed.activities["external_id"].is_unique().all()


def test_dogsheep_rfc2047_sender_becomes_contact_with_decoded_name() -> None:
    parsed = _parse(DOGSHEEP)
    activity = _row(parsed.activities, external_id="18826312.post@talk.nabble.com")
    assert activity["subject"] == "[fw-general] Zend_Form and generating fields"
    assert activity["body"].startswith("Unfortunately it is slow!")
    assert activity["occurred_at"] == datetime(2008, 8, 5, 8, 0, 12, tzinfo=UTC)
    assert activity["direction"] == "inbound"
    assert activity["contact_email"] == "keld@dkuug.dk"
    assert activity["type"] == "email" and activity["status"] == "completed"
    metadata = json.loads(activity["metadata"])
    assert metadata["gmail_id"] == format(1277085061787347926, "x")
    assert metadata["gmail_thread_id"] == format(1277085061787347926, "x")
    assert metadata["labels"] == ["Unread"]
    contact = _row(parsed.contacts, email="keld@dkuug.dk")
    assert contact["full_name"] == "Keld Jørn Simonsen"
    assert contact["source"] == "email"
    assert contact["source_key"] == "gmail:keld@dkuug.dk"
    assert contact["created_at"] == activity["occurred_at"]


def test_dogsheep_reply_is_marked_and_threaded() -> None:
    activity = _row(_parse(DOGSHEEP).activities, subject="Re: [Gnumed-devel] Tree view formatting")
    assert activity["subtype"] == "reply"
    metadata = json.loads(activity["metadata"])
    assert metadata["in_reply_to"] == "272a08710808171109x4b6429a1g89f6e594408080db@mail.gmail.com"
    assert metadata["gmail_thread_id"] == format(1278204036336346264, "x")
    assert activity["contact_email"] == "Person.Person@example.net"


def test_dogsheep_messages_without_message_id_get_stable_hash_ids() -> None:
    first, second = _parse(DOGSHEEP).activities, _parse(DOGSHEEP).activities
    hashed = first.filter(pl.col("external_id").str.starts_with("sha256:"))
    assert hashed["subject"].sort().to_list() == ["A simple example", "Formatted text mail"]
    assert first["external_id"].to_list() == second["external_id"].to_list()


def test_dogsheep_dates_fall_back_to_the_separator_time() -> None:
    activities = _parse(DOGSHEEP).activities
    dated = _row(activities, subject="Formatted text mail")  # has a Date header (-0800)
    assert dated["occurred_at"] == datetime(1993, 3, 22, 17, 41, 9, tzinfo=UTC)
    undated = _row(activities, subject="A simple example")  # no Date: Takeout line time
    assert undated["occurred_at"] == datetime(2021, 7, 20, 0, 22, 49, tzinfo=UTC)


def test_dogsheep_bodies_prefer_plain_text_and_convert_html() -> None:
    activities = _parse(DOGSHEEP).activities
    assert _row(activities, subject="Formatted text mail")["body"] == (
        "plain text version of message"
    )
    html_only = _row(activities, subject="A simple example")["body"]
    assert "E with acute accent becomes É." in html_only  # 8-bit UTF-8 and &Eacute; alike
    assert "<h1>" not in html_only and "Acute accent" in html_only


def test_dogsheep_chat_items_are_neither_activities_nor_contacts() -> None:
    parsed = _parse(DOGSHEEP)
    assert not parsed.activities["body"].str.contains("Nothing worse").any()
    assert "test" not in parsed.activities["subject"].to_list()
    assert "123@example.net" not in parsed.contacts["email"].to_list()


def test_dogsheep_owner_addresses_come_from_delivered_to() -> None:
    parsed = _parse(DOGSHEEP)
    owners = ["asdfereasdf@gmail.com", "testasdfasdf@gmail.com"]
    assert parsed.stats["own_addresses"] == owners
    assert not parsed.contacts["email"].is_in(owners).any()
    assert _row(parsed.activities, external_id="18826312.post@talk.nabble.com")["owner"] == (
        "asdfereasdf@gmail.com"
    )


def test_dogsheep_lineage() -> None:
    parsed = _parse(DOGSHEEP)
    frame = parsed.activities
    assert set(frame["source_system"]) == {"gmail"} and set(frame["source"]) == {"gmail"}
    assert set(frame["source_file"]) == {DOGSHEEP.name} and set(frame["org_id"]) == {"org_test"}
    assert frame["source_row"].is_null().all()
    assert frame["source_key"].to_list() == frame["external_id"].to_list()
    raw = json.loads(_row(frame, external_id="18826312.post@talk.nabble.com")["raw"])
    assert raw["Subject"] == "[fw-general] Zend_Form and generating fields"
    assert frame.schema == pl.Schema(records.RAW_ACTIVITY)
    assert parsed.contacts.schema == pl.Schema(records.RAW_CONTACT)


# --- EmilTholin Gmail API responses ---------------------------------------------------------


def test_api_plain_text_message_with_lower_case_headers() -> None:
    parsed = _parse(FIXTURES / "emiltholin_plainTextMessage.json")
    activity = parsed.activities.row(0, named=True)
    assert activity["subject"] == "Subject Text"
    assert activity["body"] == "The actual message text goes here"
    assert activity["occurred_at"] == datetime(2015, 12, 27, 0, 3, 23, tzinfo=UTC)
    assert activity["external_id"] == (
        "CADsZLRwWjzfYvtqgvJ1qhPN-5H+1dAzDE6AUprSSW+Mi3SnW3A@mail.gmail.com"
    )
    assert activity["direction"] == "outbound"  # labelled SENT
    assert json.loads(activity["metadata"])["gmail_id"] == "151e0bf2c42e466a"


def test_api_self_sent_mail_has_no_counterparty_and_no_contact() -> None:
    parsed = _parse(FIXTURES / "emiltholin_multipartAlternativeMessage.json")
    activity = parsed.activities.row(0, named=True)
    assert activity["body"] == "wow"  # text/plain preferred over the HTML part
    assert activity["contact_email"] is None
    assert parsed.contacts.height == 0
    assert parsed.stats["own_addresses"] == ["example@gmail.com"]


def test_api_attachments_are_listed_with_sizes() -> None:
    parsed = _parse(FIXTURES / "emiltholin_multipartAlternativeWithAttachmentsMessage.json")
    activity = parsed.activities.row(0, named=True)
    assert activity["body"] == "cool *stuff*"
    assert json.loads(activity["metadata"])["attachments"] == [
        {"name": "a3Ln90e_460s.jpg", "size": 66308},
        {"name": "feelthebern.jpg", "size": 100446},
    ]


def test_api_draft_wrapper_is_an_outbound_draft() -> None:
    activity = _parse(FIXTURES / "emiltholin_multipartAlternativeDraft.json").activities.row(
        0, named=True
    )
    assert activity["status"] == "draft"
    assert activity["direction"] == "outbound"
    assert activity["body"] == "Can it parse *draft *now? Sure can!"
    assert json.loads(activity["metadata"])["gmail_id"] == "1528457ea4ca6803"  # not the draft id


@pytest.mark.parametrize("shape", ["array", "messages", "jsonl"])
def test_api_dump_shapes_give_the_same_activities(tmp_path: Path, shape: str) -> None:
    documents = [json.loads(path.read_text()) for path in EMIL]
    if shape == "array":
        target = tmp_path / "dump.json"
        target.write_text(json.dumps(documents))
    elif shape == "messages":
        target = tmp_path / "dump.json"
        target.write_text(json.dumps({"messages": documents, "resultSizeEstimate": 4}))
    else:
        target = tmp_path / "dump.jsonl"
        target.write_text("\n".join(json.dumps(d) for d in documents) + "\n")
    combined = _parse(target).activities.drop("source_file")
    one_by_one = pl.concat([_parse(path).activities for path in EMIL]).drop("source_file")
    assert combined.height == 4
    assert combined.sort("external_id").equals(one_by_one.sort("external_id"))


def test_dogsheep_mailing_list_addresses_are_not_contacts() -> None:
    emails = _parse(DOGSHEEP).contacts["email"].to_list()
    assert "fw-general@lists.zend.com" not in emails  # named in List-Post
    assert "gnumed-devel@gnu.org" not in emails
    assert emails == [
        "keld@dkuug.dk",
        "Person.Person@example.net",
        "nsb@bellcore.com",
        "ned@innosoft.com",
        "foo1@bar.net",
        "foo2@bar.net",
    ]
