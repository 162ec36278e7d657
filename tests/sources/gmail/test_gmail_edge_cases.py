"""Hand-built Takeout files with the quirks real mailboxes have (tests/fixtures/gmail/PROVENANCE.md
says what each file holds)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from rex_pipeline import records
from rex_pipeline.sources.gmail import parse_gmail_file

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "gmail"
OWNER_GMAIL = "maria.chen.nw@gmail.com"  # not in the own domains: learnt from the export


def _parse(name: str, **options: Any) -> records.ParsedFile:
    return parse_gmail_file(FIXTURES / name, "org_test", [], ["northwind-labs.io"], **options)


def _row(frame: pl.DataFrame, **equals: Any) -> dict[str, Any]:
    rows = frame.filter(*(pl.col(k) == v for k, v in equals.items())).to_dicts()
    assert len(rows) == 1, f"expected one row with {equals}, got {len(rows)}"
    return rows[0]


def _meta(row: dict[str, Any]) -> dict[str, Any]:
    return json.loads(row["metadata"])


# --- encoded headers and charsets -------------------------------------------------------------


def test_encoded_headers_are_decoded() -> None:
    parsed = _parse("edge_headers_and_charsets.mbox")
    first = _row(parsed.activities, external_id="CAJ8x1=Qf0w@mail.gmail.com")
    assert first["subject"] == "Angebot für die Pilotphase – Prüfung"  # folded, two words
    assert first["body"] == (
        "Hallo Maria,\n\nanbei die Übersicht für die Pilotphase.\n\nGrüße\nJürgen"
    )
    metadata = _meta(first)
    assert metadata["labels"] == ["Posteingang", "Wichtig", "Geöffnet", "Kunden, A-Z"]
    assert metadata["from"] == "Jürgen Müller <juergen.mueller@beispiel.de>"
    # the encoded comma stays inside one display name
    assert metadata["to"] == [
        f'"Chen, Maria" <{OWNER_GMAIL}>',
        '"Lovelace, Ada" <ada.lovelace@acme-robotics.com>',
    ]
    names = dict(zip(parsed.contacts["email"], parsed.contacts["full_name"], strict=True))
    assert names["juergen.mueller@beispiel.de"] == "Jürgen Müller"
    assert names["ada.lovelace@acme-robotics.com"] == "Lovelace, Ada"
    assert names["grace.hopper@globex.com"] == "Grace Hopper"
    assert names["tanaka@example.co.jp"] == "田中 太郎"  # ISO-2022-JP encoded word
    assert names["f.dupont@exemple.fr"] == "Françoise Dupont"  # raw 8-bit UTF-8 header


def test_non_utf8_bodies_are_decoded() -> None:
    activities = _parse("edge_headers_and_charsets.mbox").activities
    latin1 = _row(activities, external_id="CAMc2=reply1@mail.gmail.com")
    assert latin1["body"] == "Danke Jürgen, wir prüfen das bis Freitag."
    assert latin1["subject"] == "AW: Angebot für die Pilotphase"
    cp1252_html = _row(activities, external_id="20250304080000.4F2A@exemple.fr")
    assert cp1252_html["subject"] == "Réunion jeudi"
    assert "Le devis est à 1 200 € HT. “Merci”" in cp1252_html["body"]
    japanese = _row(activities, external_id="jp-5521@example.co.jp")
    assert japanese["subject"] == "見積もりの件"
    assert japanese["body"] == "お世話になっております。見積もりを送ります。"
    mislabelled = _row(activities, external_id="mislabelled-88@initech.com")
    assert mislabelled["body"] == "Grüße from the kickoff – see you in Zürich."


def test_localised_sent_label_and_delivered_to_reveal_the_owner() -> None:
    parsed = _parse("edge_headers_and_charsets.mbox")
    assert parsed.stats["own_addresses"] == [OWNER_GMAIL]
    reply = _row(parsed.activities, external_id="CAMc2=reply1@mail.gmail.com")
    assert reply["direction"] == "outbound"  # labelled "Gesendet"
    assert reply["subtype"] == "reply"
    assert reply["contact_email"] == "juergen.mueller@beispiel.de"  # first non-own recipient
    assert reply["owner"] == OWNER_GMAIL
    inbound = _row(parsed.activities, external_id="CAJ8x1=Qf0w@mail.gmail.com")
    assert inbound["direction"] == "inbound"
    assert inbound["contact_email"] == "juergen.mueller@beispiel.de"
    assert OWNER_GMAIL not in parsed.contacts["email"].to_list()


def test_configured_own_addresses_make_mail_outbound_without_any_label(tmp_path: Path) -> None:
    path = tmp_path / "unlabelled.mbox"
    path.write_bytes(
        b"From 1@xxx Mon Mar 03 09:15:02 +0000 2025\n"
        b"From: Maria <maria@eu.northwind-labs.io>\nTo: sales@northwind-labs.io, "
        b"Grace Hopper <grace.hopper@globex.com>\nSubject: Intro\nMessage-ID: <i-1@nw>\n\nHi\n\n"
        b"From 2@xxx Mon Mar 03 09:16:02 +0000 2025\n"
        b"From: Maria <maria.private@gmail.com>\nTo: Bob Smith <bob.smith@initech.com>\n"
        b"Subject: From my phone\nMessage-ID: <i-2@nw>\n\nHi\n"
    )
    parsed = parse_gmail_file(path, "org_test", ["Maria.Private@gmail.com"], ["northwind-labs.io"])
    intro = _row(parsed.activities, external_id="i-1@nw")
    assert intro["direction"] == "outbound"  # a subdomain of an own domain
    assert intro["contact_email"] == "grace.hopper@globex.com"  # skips sales@ (own)
    assert _row(parsed.activities, external_id="i-2@nw")["direction"] == "outbound"
    assert sorted(parsed.contacts["email"]) == ["bob.smith@initech.com", "grace.hopper@globex.com"]


def test_a_date_in_an_unknown_zone_takes_the_envelope_time(tmp_path: Path) -> None:
    path = tmp_path / "zones.mbox"
    path.write_bytes(
        b"From 1@xxx Mon Nov 03 08:00:05 +0000 2025\n"
        b"From: Grace Hopper <grace.hopper@globex.com>\nTo: maria@northwind-labs.io\n"
        b"Date: Mon, 03 Nov 2025 10:00:00 CEST\nMessage-ID: <z-1@globex>\n\nHi\n\n"
        b"From 2@xxx Mon Nov 03 08:00:05 +0000 2025\n"
        b"From: Grace Hopper <grace.hopper@globex.com>\nTo: maria@northwind-labs.io\n"
        b"Date: Mon, 03 Nov 2025 10:00:00 +02:00\nMessage-ID: <z-2@globex>\n\nHi\n"
    )
    parsed = parse_gmail_file(path, "org_test", [], ["northwind-labs.io"])
    cest = _row(parsed.activities, external_id="z-1@globex")
    assert cest["occurred_at"] == datetime(2025, 11, 3, 8, 0, 5, tzinfo=UTC)  # not 10:00 UTC
    colon = _row(parsed.activities, external_id="z-2@globex")
    assert colon["occurred_at"] == datetime(2025, 11, 3, 8, 0, tzinfo=UTC)


# --- nested multiparts ------------------------------------------------------------------------


def test_nested_multipart_body_and_attachments() -> None:
    parsed = _parse("edge_nested_multipart.mbox")
    assert parsed.activities.height == 2  # the forwarded .eml is not a third message
    order = _row(parsed.activities, external_id="nested-1@acme-robotics.com")
    assert order["body"] == (
        "Hi Maria,\n\nthe signed order form is attached. Grüße from the team.\n\nAda"
    )
    assert "inner forwarded text" not in order["body"]
    attachments = _meta(order)["attachments"]
    assert [a["name"] for a in attachments] == [
        "logo.png",
        "Angebot Müller.pdf",  # RFC 2231 filename*
        "Re: Pilot scope.eml",
    ]
    assert attachments[0]["size"] == 70 and attachments[1]["size"] == 77
    assert "forwarded-inner@globex.com" not in parsed.activities["external_id"].to_list()


def test_blank_plain_part_falls_back_to_html() -> None:
    agenda = _row(_parse("edge_nested_multipart.mbox").activities, subject="Agenda")
    assert "Security review" in agenda["body"] and "Rollout plan" in agenda["body"]
    assert "<li>" not in agenda["body"]


# --- bounces and auto-replies -----------------------------------------------------------------


def test_gmail_bounce_names_the_failed_recipient_as_contact() -> None:
    parsed = _parse("edge_bounce_and_auto_reply.mbox")
    bounce = _row(parsed.activities, subject="Delivery Status Notification (Failure)")
    assert bounce["subtype"] == "bounce"
    assert bounce["direction"] == "inbound"
    assert bounce["contact_email"] == "b.smith@initech.com"
    assert _meta(bounce)["failed_recipients"] == ["b.smith@initech.com"]
    # the embedded original is the same Message-ID as the sent message: one activity, not two
    originals = parsed.activities.filter(pl.col("external_id") == "orig-7731@northwind-labs.io")
    assert originals.height == 1 and originals["direction"].to_list() == ["outbound"]
    assert parsed.activities.height == 6 and parsed.stats["duplicates"] == 0
    assert "Hi Bob" not in bounce["body"]


def test_postfix_bounce_uses_the_delivery_status_part() -> None:
    parsed = _parse("edge_bounce_and_auto_reply.mbox")
    bounce = _row(parsed.activities, subject="Undelivered Mail Returned to Sender")
    assert bounce["subtype"] == "bounce"
    assert bounce["contact_email"] == "g.hopper@globex.com"  # from Final-Recipient
    assert "orig-8812@northwind-labs.io" not in parsed.activities["external_id"].to_list()


def test_out_of_office_is_an_auto_reply_and_delays_are_not_bounces() -> None:
    activities = _parse("edge_bounce_and_auto_reply.mbox").activities
    ooo = _row(activities, external_id="ooo-4410@initech.com")
    assert ooo["subtype"] == "auto_reply"
    assert ooo["contact_email"] == "bob.smith@initech.com"
    delay = _row(activities, subject="Delivery Status Notification (Delay)")
    assert delay["subtype"] is None
    assert delay["contact_email"] is None


def test_machines_never_become_contacts() -> None:
    parsed = _parse("edge_bounce_and_auto_reply.mbox")
    emails = parsed.contacts["email"].to_list()
    assert sorted(emails) == ["b.smith@initech.com", "bob.smith@initech.com", "g.hopper@globex.com"]
    invoice = _row(parsed.activities, external_id="invoice-031@billing.acme-robotics.com")
    assert invoice["contact_email"] is None


# --- missing ids, duplicates ------------------------------------------------------------------


def test_missing_message_id_and_date() -> None:
    parsed = _parse("edge_missing_ids_and_duplicates.mbox")
    no_id = _row(
        parsed.activities, contact_email="grace.hopper@globex.com", body="Can you send the DPA?"
    )
    assert no_id["external_id"].startswith("sha256:") and len(no_id["external_id"]) == 39
    assert no_id["occurred_at"] == datetime(2025, 3, 24, 10, 0, tzinfo=UTC)
    no_date = _row(parsed.activities, subject="No date, no id")
    assert no_date["occurred_at"] == datetime(2025, 3, 25, 16, 20, tzinfo=UTC)  # separator time
    assert no_date["external_id"] != no_id["external_id"]


def test_the_same_message_twice_is_one_activity() -> None:
    parsed = _parse("edge_missing_ids_and_duplicates.mbox")
    assert parsed.stats["messages_read"] == 4
    assert parsed.stats["duplicates"] == 1
    # the second copy is a record read: a rejected row saying which message it repeats
    copy = parsed.rejected.row(0, named=True)
    assert copy["reason"] == (
        "duplicate message: external_id dup-1@globex.com was read earlier in this file"
    )
    assert json.loads(copy["raw"])["Message-ID"] == "<dup-1@globex.com>"
    renewal = _row(parsed.activities, external_id="dup-1@globex.com")
    assert renewal["body"].startswith("First copy.")  # the first copy is kept
    assert "From 1780000000000000999@xxx" in renewal["body"]  # mboxrd >From unquoted


# --- truncated files --------------------------------------------------------------------------


def test_truncated_last_body_keeps_what_is_there() -> None:
    parsed = _parse("edge_truncated_body.mbox")
    assert parsed.activities.height == 2 and parsed.rejected.height == 0
    cut = _row(parsed.activities, external_id="cut-1@acme-robotics.com")
    assert cut["body"] == "Contract draft attached."
    assert _meta(cut)["truncated"] is True
    assert parsed.stats["truncated"] == 1


def test_truncated_last_headers_are_rejected_and_the_rest_loads() -> None:
    parsed = _parse("edge_truncated_headers.mbox")
    assert parsed.activities["external_id"].to_list() == ["complete-2@globex.com"]
    rejected = parsed.rejected.row(0, named=True)
    assert "truncated" in rejected["reason"]
    assert rejected["source_system"] == "gmail"
    assert rejected["source_file"] == "edge_truncated_headers.mbox"
    raw = json.loads(rejected["raw"])
    assert raw["message"] == 2 and raw["gmail_id"] == format(1780000000000000502, "x")
    assert parsed.stats["rejected"] == 1


# --- spam, trash, chat ------------------------------------------------------------------------


def test_spam_trash_and_chat_are_skipped_by_default_as_rejected_rows() -> None:
    parsed = _parse("edge_spam_trash_chat.mbox")
    assert parsed.activities["external_id"].to_list() == ["kept-1@acme-robotics.com"]
    assert parsed.stats["skipped_spam"] == 1
    assert parsed.stats["skipped_trash"] == 2  # "Papierkorb" and encoded "Corbeille"
    assert parsed.stats["skipped_chat"] == 1
    assert parsed.contacts["email"].to_list() == ["ada.lovelace@acme-robotics.com"]
    # a skipped message is a record read: it ends in rejected_records, with the reason
    reasons = [r.split(":")[0] for r in parsed.rejected["reason"]]
    assert reasons == ["labelled Spam", "in Trash", "in Trash", "a Google Chat item, not an email"]
    assert [json.loads(raw)["message"] for raw in parsed.rejected["raw"]] == [1, 2, 3, 4]
    stats = parsed.stats
    assert stats["rejected"] == 4
    assert stats["messages_read"] == stats["activities"] + stats["rejected"] == 5


def test_spam_and_trash_can_be_kept_but_chat_never() -> None:
    parsed = _parse("edge_spam_trash_chat.mbox", skip_spam_and_trash=False)
    assert parsed.activities.height == 4
    assert parsed.stats["skipped_spam"] == parsed.stats["skipped_trash"] == 0
    assert parsed.stats["skipped_chat"] == 1
    spam = _row(parsed.activities, external_id="spam-1@lottery.example")
    assert _meta(spam)["labels"] == ["Spam"]
