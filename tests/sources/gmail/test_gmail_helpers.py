"""Pure helpers: header decoding, addresses, labels, classification, charset fallbacks."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from rex_pipeline.sources.gmail import classify, headers
from rex_pipeline.sources.gmail.headers import Address, HeaderView
from rex_pipeline.sources.gmail.identity import OwnIdentity, is_correspondent
from rex_pipeline.sources.gmail.labels import (
    CHAT,
    DRAFT,
    SENT,
    SPAM,
    TRASH,
    parse_label_header,
    system_flags,
)
from rex_pipeline.sources.gmail.mime import b64url, failed_in_report
from rex_pipeline.sources.gmail.text import decode_bytes


def _view(**values: str) -> HeaderView:
    return HeaderView((name.replace("_", "-"), value) for name, value in values.items())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            '"Lovelace, Ada" <ada.lovelace@acme-robotics.com>, grace.hopper@globex.com',
            [("Lovelace, Ada", "ada.lovelace@acme-robotics.com"), ("", "grace.hopper@globex.com")],
        ),
        (
            "=?utf-8?Q?Lovelace=2C_Ada?= <ada@acme-robotics.com>",
            [("Lovelace, Ada", "ada@acme-robotics.com")],
        ),
        ("bob.smith@initech.com (Bob Smith)", [("Bob Smith", "bob.smith@initech.com")]),
        ("'bob.smith@initech.com' <bob.smith@initech.com>", [("", "bob.smith@initech.com")]),
        ("undisclosed-recipients:;", []),
        (
            "Team: ada@acme-robotics.com, grace@globex.com;",
            [("", "ada@acme-robotics.com"), ("", "grace@globex.com")],
        ),
        ("Grace Hopper <grace.hopper@globex.com>,", [("Grace Hopper", "grace.hopper@globex.com")]),
    ],
)
def test_addresses(value: str, expected: list[tuple[str, str]]) -> None:
    found = headers.addresses(_view(To=value), "To")
    assert [(a.name, a.email) for a in found] == expected


def test_raw_8bit_headers_are_decoded_as_utf8_then_cp1252() -> None:
    utf8 = "Jürgen <j@beispiel.de>".encode().decode("ascii", "surrogateescape")
    cp1252 = "Müller <m@beispiel.de>".encode("cp1252").decode("ascii", "surrogateescape")
    view = HeaderView([("From", utf8), ("Reply-To", cp1252)])
    assert headers.first_address(view, "From") == Address("Jürgen", "j@beispiel.de")
    assert headers.first_address(view, "Reply-To") == Address("Müller", "m@beispiel.de")


def test_header_names_are_case_insensitive_and_values_unfolded() -> None:
    view = HeaderView([("SUBJECT", "Quarterly\r\n\treview =?UTF-8?Q?f=C3=BCr?= Q3")])
    assert headers.text(view, "Subject") == "Quarterly review für Q3"
    assert headers.text(view, "Date") is None


def test_broken_encoded_words_do_not_fail() -> None:
    assert headers.decode_words("=?x-unknown-charset?Q?caf=E9?=") == "café"
    assert headers.decode_words("=?UTF-8?B?not*base64?=") == "=?UTF-8?B?not*base64?="


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<CADsZLRw@mail.gmail.com>", "CADsZLRw@mail.gmail.com"),
        ("  <a@b>  (comment)", "a@b"),
        ("bare-id@host", "bare-id@host"),
        ("", None),
        ("not an id", None),
    ],
)
def test_message_id(value: str, expected: str | None) -> None:
    assert headers.message_id(value) == expected


def test_dates() -> None:
    assert headers.parse_date("Tue, 5 Aug 2008 01:00:12 -0700 (PDT)") == datetime(
        2008, 8, 5, 8, 0, 12, tzinfo=UTC
    )
    assert headers.parse_date("Mon, 3 Mar 2025 10:15:00 -0000") == datetime(
        2025, 3, 3, 10, 15, tzinfo=UTC
    )
    assert headers.parse_date("yesterday") is None
    # offsets written other ways are read; an unknown zone name is refused, not taken as UTC
    # (the caller falls back to the envelope time or internalDate)
    eight = datetime(2025, 11, 3, 8, 0, tzinfo=UTC)
    assert headers.parse_date("Mon, 03 Nov 2025 10:00:00 +02:00") == eight
    assert headers.parse_date("Mon, 03 Nov 2025 10:00:00 GMT+2") == eight
    assert headers.parse_date("Mon, 03 Nov 2025 13:30:00 UTC+05:30") == eight
    assert headers.parse_date("Mon, 03 Nov 2025 10:00:00 CEST") is None
    assert headers.parse_date("Mon, 03 Nov 2025 10:00:00 MEZ") is None
    assert headers.parse_date("Mon, 03 Nov 2025 08:00:00 (UTC)") == eight
    assert headers.parse_date("Mon, 03 Nov 2025 03:00:00 EST") == eight
    assert headers.parse_envelope_time("Mon Mar 22 09:41:09 -0800 1993") == datetime(
        1993, 3, 22, 17, 41, 9, tzinfo=UTC
    )
    assert headers.parse_envelope_time("Mon Jan  1 00:00:00 2024") == datetime(
        2024, 1, 1, tzinfo=UTC
    )
    assert headers.epoch_millis("1451174603000") == datetime(2015, 12, 27, 0, 3, 23, tzinfo=UTC)
    assert headers.epoch_millis(None) is None


def test_labels_are_split_like_csv_and_recognised_in_ui_languages() -> None:
    labels = parse_label_header('Posteingang,"Kunden, A-Z", Gesendet ,Ungelesen')
    assert labels == ("Posteingang", "Kunden, A-Z", "Gesendet", "Ungelesen")
    assert system_flags(labels) == {SENT}
    assert system_flags(["Envoyés", "Corbeille"]) == {SENT, TRASH}
    assert system_flags(["SPAM", "DRAFT", "CHAT"]) == {SPAM, DRAFT, CHAT}
    assert system_flags(["Sent-ish", "Kunden"]) == set()
    assert system_flags(["ゴミ箱"]) == {TRASH}


@pytest.mark.parametrize(
    ("email", "machine"),
    [
        ("MAILER-DAEMON@mx.globex.com", True),
        ("postmaster@initech.com", True),
        ("no-reply@accounts.google.com", True),
        ("noreply-dmarc-support@google.com", True),
        ("notifications-noreply@linkedin.com", True),
        ("do_not_reply@billing.example", True),
        ("bounces+123@mail.example", True),
        ("noreen.reply@globex.com", False),
        ("ada.lovelace@acme-robotics.com", False),
    ],
)
def test_machine_addresses(email: str, machine: bool) -> None:
    assert classify.is_machine(email) is machine


def _subtype(**given: object) -> str | None:
    arguments: dict[str, object] = {
        "sender": Address("Ada", "ada@acme-robotics.com"),
        "subject": None,
        "in_reply_to": None,
        "failed_recipients": [],
        "auto_submitted": None,
        "autoreply_header": None,
    }
    return classify.subtype(**{**arguments, **given})


@pytest.mark.parametrize(
    ("subject", "in_reply_to", "expected"),
    [
        ("Re: Pilot", None, "reply"),
        ("AW: Angebot", None, "reply"),
        ("[fw-general] Re: forms", None, "reply"),
        ("Pilot", "x@y", "reply"),
        ("Fwd: Pilot", "x@y", None),
        ("WG: Angebot", "x@y", None),
        ("Automatic reply: Pilot", "x@y", "auto_reply"),
        ("Abwesenheitsnotiz: Angebot", None, "auto_reply"),
        ("Renewal", None, None),
    ],
)
def test_subtype_from_subject_and_threading(
    subject: str, in_reply_to: str | None, expected: str | None
) -> None:
    assert _subtype(subject=subject, in_reply_to=in_reply_to) == expected


def test_subtype_headers_beat_subjects() -> None:
    reply = {"in_reply_to": "x@y", "subject": "Re: Pilot"}
    assert _subtype(**reply, auto_submitted="auto-replied") == "auto_reply"
    assert _subtype(**reply, autoreply_header="yes") == "auto_reply"
    assert _subtype(**reply, auto_submitted="auto-generated") == "reply"  # not out-of-office
    assert _subtype(**reply, auto_submitted="auto-replied", failed_recipients=["b@x"]) == "bounce"
    daemon = Address("", "mailer-daemon@googlemail.com")
    assert _subtype(sender=daemon, subject="Mail delivery failed: returning message") == "bounce"
    assert _subtype(subject="Undeliverable: Pilot") is None  # only daemons send bounces


def test_failed_recipients_in_a_delivery_report() -> None:
    report = (
        "Reporting-MTA: dns; mx.globex.com\n\n"
        "Final-Recipient: rfc822; <g.hopper@globex.com>\nAction: failed\nStatus: 5.1.1\n\n"
        "Final-Recipient: rfc822; ada@acme-robotics.com\nAction: delayed\n\n"
        "Original-Recipient: rfc822;bob@initech.com\nAction: Failed\n"
    )
    assert failed_in_report(report) == ["g.hopper@globex.com", "bob@initech.com"]


@pytest.mark.parametrize(
    ("data", "charset", "expected"),
    [
        ("Grüße".encode(), "us-ascii", "Grüße"),
        ("Grüße".encode("cp1252"), None, "Grüße"),
        ("“Merci” 5€".encode("cp1252"), "iso-8859-1", "“Merci” 5€"),
        ("Grüße".encode(), "x-made-up", "Grüße"),
        ("中文".encode("gbk"), "gb2312", "中文"),
        (b"caf\xe9 \xff", "utf-8", "café ÿ"),
    ],
)
def test_decode_bytes_fallbacks(data: bytes, charset: str | None, expected: str) -> None:
    assert decode_bytes(data, charset) == expected


def test_base64url_with_and_without_padding() -> None:
    assert b64url("d293DQo=") == b64url("d293DQo") == b"wow\r\n"
    assert b64url("PGRpdiBkaXI9Imx0ciI-d293PC9kaXY-DQo=") == b'<div dir="ltr">wow</div>\r\n'


def test_own_identity_matches_domains_subdomains_and_addresses() -> None:
    identity = OwnIdentity(
        ["Maria.Private@gmail.com"], ["Northwind-Labs.io", "ops@partner.example"]
    )
    identity.discover("MARIA.CHEN.NW@gmail.com")
    emails = [
        "maria@northwind-labs.io",
        "maria@eu.northwind-labs.io",
        "maria@northwind-labs.io.evil.example",
        "maria@notnorthwind-labs.io",
        "maria.private@gmail.com",
        "maria.chen.nw@gmail.com",
        "ops@partner.example",
        "ada.lovelace@acme-robotics.com",
        "no-reply@acme-robotics.com",
        None,
    ]
    frame = pl.DataFrame({"email": emails}).with_columns(
        own=identity.expr(pl.col("email")),
        correspondent=is_correspondent(identity, pl.col("email")),
    )
    assert frame["own"].to_list() == [
        True,
        True,
        False,
        False,
        True,
        True,
        True,
        False,
        False,
        False,
    ]
    assert frame.filter("correspondent")["email"].to_list() == [
        "maria@northwind-labs.io.evil.example",
        "maria@notnorthwind-labs.io",
        "ada.lovelace@acme-robotics.com",
    ]
