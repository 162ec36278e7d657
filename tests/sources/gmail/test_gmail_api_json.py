"""Gmail API dumps: every format (full, metadata, raw), every shape, and bad records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from rex_pipeline import records
from rex_pipeline.records import UnreadableFileError
from rex_pipeline.sources.gmail import parse_gmail_file

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "gmail"


def _parse(path: Path, **options: Any) -> records.ParsedFile:
    return parse_gmail_file(path, "org_test", [], ["northwind-labs.io"], **options)


def _row(frame: pl.DataFrame, **equals: Any) -> dict[str, Any]:
    rows = frame.filter(*(pl.col(k) == v for k, v in equals.items())).to_dicts()
    assert len(rows) == 1, f"expected one row with {equals}, got {len(rows)}"
    return rows[0]


def test_jsonl_edge_cases_load_what_they_can() -> None:
    parsed = _parse(FIXTURES / "api_edge_cases.jsonl")
    assert parsed.stats["format"] == "gmail_api_json"
    assert parsed.stats["messages_read"] == 9
    assert parsed.activities["external_id"].to_list() == [
        "raw-format-1@globex.com",
        "api-metadata-1@acme-robotics.com",
        "api-sent-1@mail.gmail.com",
    ]
    assert parsed.stats["skipped_spam"] == 1 and parsed.stats["skipped_chat"] == 1
    assert parsed.stats["rejected"] == 6 == parsed.rejected.height  # the skipped ones included
    assert parsed.stats["messages_read"] == parsed.stats["activities"] + parsed.stats["rejected"]


def test_raw_format_is_parsed_as_rfc822() -> None:
    activity = _row(
        _parse(FIXTURES / "api_edge_cases.jsonl").activities, external_id="raw-format-1@globex.com"
    )
    assert activity["subject"] == "Sicherheitsprüfung"
    assert activity["body"] == "Die Sicherheitsprüfung ist abgeschlossen."
    assert activity["occurred_at"] == datetime(2025, 4, 1, 14, 0, tzinfo=UTC)
    assert activity["contact_email"] == "grace.hopper@globex.com"
    assert json.loads(activity["metadata"])["labels"] == ["INBOX", "UNREAD"]


def test_metadata_format_uses_the_snippet_and_internal_date() -> None:
    activity = _row(
        _parse(FIXTURES / "api_edge_cases.jsonl").activities,
        external_id="api-metadata-1@acme-robotics.com",
    )
    assert activity["body"] == "Let's meet on Friday & review the rollout plan"
    assert activity["occurred_at"] == datetime(2025, 4, 3, 10, 0, tzinfo=UTC)  # no Date header
    assert activity["subtype"] == "reply"
    assert activity["contact_email"] == "ada.lovelace@acme-robotics.com"


def test_upper_case_header_names_and_sent_label() -> None:
    parsed = _parse(FIXTURES / "api_edge_cases.jsonl")
    sent = _row(parsed.activities, external_id="api-sent-1@mail.gmail.com")
    assert sent["subject"] == "Follow-up: pilot pricing"
    assert sent["body"] == "Hi Bob, following up on pricing."  # unpadded base64url
    assert sent["direction"] == "outbound"
    assert sent["contact_email"] == "bob.smith@initech.com"
    assert sent["owner"] == "maria.chen.nw@gmail.com"
    assert "maria.chen.nw@gmail.com" in parsed.stats["own_addresses"]


def test_bad_records_are_rejected_with_reasons() -> None:
    rejected = _parse(FIXTURES / "api_edge_cases.jsonl").rejected
    reasons = rejected["reason"].to_list()
    assert reasons[0].startswith("invalid JSON")
    assert "messages.list stub" in reasons[1]
    assert reasons[2].startswith("labelled Spam: skipped")
    assert reasons[3] == "not a Gmail API message"
    assert "cannot be decoded" in reasons[4]
    assert reasons[5] == "a Google Chat item, not an email"
    raws = [json.loads(raw) for raw in rejected["raw"]]
    assert [raw["line"] for raw in raws] == [4, 5, 6, 7, 8, 10]
    assert raws[2]["Subject"] == "Limited offer" and raws[2]["gmail_id"] == "195f0a1b2c3d4e02"
    assert raws[3]["record"] == {"kind": "gmail#label", "name": "Kunden", "type": "user"}
    assert raws[4]["Subject"] == "Broken body" and raws[4]["gmail_id"] == "195f0a1b2c3d4e04"
    assert set(rejected["source_file"]) == {"api_edge_cases.jsonl"}


def test_spam_in_api_dumps_can_be_kept() -> None:
    parsed = _parse(FIXTURES / "api_edge_cases.jsonl", skip_spam_and_trash=False)
    assert "api-spam-1@promo.example" in parsed.activities["external_id"].to_list()
    assert parsed.stats["skipped_chat"] == 1


def test_same_message_from_mbox_and_api_is_the_same_activity() -> None:
    from_mbox = _row(
        _parse(FIXTURES / "edge_headers_and_charsets.mbox").activities,
        external_id="CAJ8x1=Qf0w@mail.gmail.com",
    )
    from_api = _row(
        _parse(FIXTURES / "api_messages_wrapper.json").activities,
        external_id="CAJ8x1=Qf0w@mail.gmail.com",
    )
    for field in ("subject", "body", "occurred_at", "direction", "contact_email", "source_key"):
        assert from_api[field] == from_mbox[field], field
    mbox_meta, api_meta = json.loads(from_mbox["metadata"]), json.loads(from_api["metadata"])
    for key in ("gmail_id", "gmail_thread_id", "from", "to", "cc", "message_id"):
        assert api_meta[key] == mbox_meta[key], key


def test_json_lines_saved_as_json_are_read(tmp_path: Path) -> None:
    lines = (FIXTURES / "api_edge_cases.jsonl").read_text().splitlines()
    path = tmp_path / "messages.json"
    path.write_text("\n".join(lines[:3]) + "\n")
    assert _parse(path).activities.height == 3


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"email,first_name\nada@acme.com,Ada\n", "not a JSON file"),
        (b'{"contacts": [{"email": "ada@acme.com"}]}', "no Gmail API message"),
        (b"[]", "no Gmail API message"),
        (b"", "not a JSON file"),
        (b"\xff\xfe\x00garbage", "not a JSON file"),
    ],
)
def test_json_that_is_not_gmail_is_unreadable(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "export.json"
    path.write_bytes(content)
    with pytest.raises(UnreadableFileError, match=reason):
        _parse(path)


def test_jsonl_without_any_message_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text('{"kind": "gmail#label", "name": "A"}\nnot json\n')
    with pytest.raises(UnreadableFileError, match="no Gmail API message"):
        _parse(path)
