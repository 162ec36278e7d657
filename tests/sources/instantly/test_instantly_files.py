"""Whole files: shapes, broken input, and the sample inbox."""

import json
from pathlib import Path

import pytest

from rex_pipeline import records
from rex_pipeline.sources.instantly import parse_instantly_file

REPO = Path(__file__).parents[3]
INBOX = REPO / "data" / "inbox" / "instantly"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "name, text",
    [
        ("empty.csv", ""),
        ("blank.json", "  \n"),
        ("broken.json", '{"items": [{"email": "a@acme.io"'),
        ("scalar.json", "42"),
        ("other.csv", "Name,Phone\nAda,123\n"),
        ("other.json", '[{"name": "Ada"}, {"name": "Bob"}]'),
        ("garbage.jsonl", "not json\nstill not\n"),
    ],
)
def test_unreadable_files_raise(tmp_path: Path, name: str, text: str) -> None:
    with pytest.raises(records.UnreadableFileError):
        parse_instantly_file(write(tmp_path, name, text), "org-test")


def test_empty_list_is_an_empty_file_not_an_error(tmp_path: Path) -> None:
    parsed = parse_instantly_file(
        write(tmp_path, "page.json", '{"items": [], "next_starting_after": null}'), "org-test"
    )
    assert parsed.stats["kind"] == "empty"
    assert parsed.records_read == 0


def test_mixed_jsonl_with_a_bad_line(tmp_path: Path) -> None:
    lines = [
        json.dumps({"email": "ada@acme.io", "first_name": "Ada", "status": 1}),
        "{oops",
        json.dumps(
            {
                "event_type": "email_opened",
                "lead_email": "ada@acme.io",
                "timestamp": "2026-09-01T10:00:00Z",
                "email_account": "alex@northwind-labs.io",
            }
        ),
        json.dumps(
            {
                "id": "e1",
                "ue_type": 1,
                "eaccount": "alex@northwind-labs.io",
                "to_address_email_list": "bob@acme.io",
            }
        ),
        json.dumps(["not", "an", "object"]),
        json.dumps({"unrelated": True}),
    ]
    parsed = parse_instantly_file(write(tmp_path, "dump.jsonl", "\n".join(lines)), "org-test")

    assert parsed.stats["kind"] == "mixed"
    assert parsed.stats["rows_read"] == 6
    reasons = sorted(parsed.rejected["reason"])
    assert reasons[0].startswith("line 2 is not a JSON record")
    assert "not a JSON object" in reasons[1]
    assert "not an Instantly lead" in reasons[2]
    assert parsed.activities.height == 2
    assert {"ada@acme.io", "bob@acme.io"} <= set(parsed.contacts["email"])
    assert parsed.stats["own_addresses"] == ["alex@northwind-labs.io"]
    assert parsed.rejected["source_row"].null_count() == 3  # JSON has no rows


def test_single_webhook_payload_file(tmp_path: Path) -> None:
    payload = {
        "timestamp": "2026-09-01T10:00:00Z",
        "event_type": "reply_received",
        "lead_email": "ada@acme.io",
        "email_account": "alex@northwind-labs.io",
        "reply_text": "Yes please",
    }
    parsed = parse_instantly_file(write(tmp_path, "hook.json", json.dumps(payload)), "org-test")

    [reply] = parsed.activities.to_dicts()
    assert (reply["subtype"], reply["body"]) == ("reply", "Yes please")


@pytest.fixture(scope="module")
def inbox() -> dict[str, records.ParsedFile]:
    return {p.name: parse_instantly_file(p, "default") for p in sorted(INBOX.iterdir())}


def test_sample_inbox_holds_each_kind(inbox) -> None:
    kinds = {parsed.stats["kind"] for parsed in inbox.values()}
    assert kinds == {"leads", "emails", "events"}
    formats = {parsed.stats["format"] for parsed in inbox.values()}
    assert formats == {"csv", "json", "jsonl"}


def test_sample_inbox_leads_shared_with_csv_and_gmail(inbox) -> None:
    shared = {"ada.lovelace@acme-robotics.com", "grace.hopper@globex.com", "bob.smith@initech.com"}
    for name, parsed in inbox.items():
        emails = {e.lower() for e in parsed.contacts["email"]}
        assert shared <= emails, name


def test_sample_inbox_sending_mailboxes_are_the_orgs(inbox) -> None:
    own = set().union(*(parsed.stats["own_addresses"] for parsed in inbox.values()))
    assert own == {"alex@northwind-labs.io", "alex@northwind-mail.io"}
    for parsed in inbox.values():
        assert not own & {e.lower() for e in parsed.contacts["email"]}


def test_hostile_values_never_crash(tmp_path: Path) -> None:
    lines = [
        {
            "event_type": "email_opened",
            "timestamp": 10**17,
            "lead_email": ["x@acme.io"],
            "email_account": {"a": 1},
            "step": "abc",
            "is_first": "maybe",
            "variant": 1e30,
        },
        {"event_type": None, "timestamp": "2026-13-45T99:99:99Z", "lead_email": "z@acme.io"},
        {
            "email": "w@acme.io",
            "status": {"x": 1},
            "email_open_count": "lots",
            "payload": "not a dict",
            "timestamp_created": "yesterday",
        },
        {
            "ue_type": "banana",
            "from_address_email": 12,
            "to_address_email_list": "",
            "lead": "q@acme.io",
            "timestamp_email": -5,
            "body": "plain body",
        },
    ]
    text = "\n".join(json.dumps(line) for line in lines)
    parsed = parse_instantly_file(write(tmp_path, "odd.jsonl", text), "org-test")

    assert parsed.stats["rows_read"] == 4 and parsed.rejected.is_empty()
    assert parsed.activities["occurred_at"].null_count() == 3  # no time was readable
    assert set(parsed.activities["contact_email"]) == {"x@acme.io", "z@acme.io", "q@acme.io"}
    odd_lead = parsed.contacts.filter(email="w@acme.io").to_dicts()[0]
    state = json.loads(odd_lead["metadata"])["instantly"]
    assert "email_open_count" not in state
    assert state["other_fields"]["payload"] == "not a dict"


def test_json_file_holding_one_record_per_line(tmp_path: Path) -> None:
    text = '{"email": "ada@acme.io"}\n{"email": "bob@acme.io"}\n'
    parsed = parse_instantly_file(write(tmp_path, "export.json", text), "org-test")

    assert parsed.stats["format"] == "jsonl"
    assert sorted(parsed.contacts["email"]) == ["ada@acme.io", "bob@acme.io"]
