"""The Message-free fast paths read mail as the email package does: `fastparse.parse_flat` and
`flat_leaves` give the headers and leaves `mime.message_leaves` gives for the compat32 parse,
`mime.simple_params` the Content-Type parameters and boundary, `headers._usual_date` the
datetime of `parsedate_to_datetime`, `headers.text`'s shortcut the decoded value, and the
label caches the uncached answers. Property tests (hypothesis) cover the odd shapes: folded
headers, quoted and RFC 2231 parameters, quoted boundaries with blanks, encoded words, odd and
missing dates, nested multiparts, embedded messages, unclosed or doubled boundaries, CR/LF/CRLF
lines and non-UTF-8 bytes."""

from __future__ import annotations

import csv
from datetime import datetime
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from rex_pipeline.records import UnreadableFileError
from rex_pipeline.sources.gmail import headers, inputs
from rex_pipeline.sources.gmail.fastparse import parse_flat
from rex_pipeline.sources.gmail.headers import HeaderView
from rex_pipeline.sources.gmail.labels import parse_label_header, system_flags
from rex_pipeline.sources.gmail.mbox import iter_mbox
from rex_pipeline.sources.gmail.mime import (
    boundary_of,
    first_param,
    header_params,
    message_leaves,
    parsed_content_type,
    reference_content_type,
)
from tests.sources.gmail import test_gmail_fast_paths as fast_paths

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "gmail"
CORPUS = Path(__file__).resolve().parents[2] / "hardening" / "corpus" / "gmail"
EMAIL_PACKAGE = BytesParser(policy=policy.compat32)
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- Content-Type and Content-Disposition parameters ---------------------------------------

PARAM_TEXT = st.lists(
    st.sampled_from([*"aZ09-_./=;\"'\\*%<> \t", "\r\n\t", "é", "\udce9", "\x1f"]), max_size=30
).map("".join)
PARAM_NAME = st.sampled_from(
    ["charset", "CharSet", "name", "boundary", "BOUNDARY", "filename", "filename*", "name*0",
     "name*1*", "x", "", " format "]
)  # fmt: skip
PARAM_VALUE = st.one_of(
    PARAM_TEXT,
    PARAM_TEXT.map(lambda v: f'"{v}"'),
    st.sampled_from(["UTF-8", '"utf-8"', "<abc>", '"a;b"', "''x", "utf-8''%E2%82%AC.pdf", '"']),
)
STRUCTURED_VALUE = st.builds(
    lambda kind, params, tail: kind + "".join(params) + tail,
    st.sampled_from(
        ["text/plain", "TEXT/HTML", " multipart/alternative", "attachment", "inline", "a/b/c",
         "text", "", "image/png ", "multipart/mixed"]
    ),
    st.lists(
        st.builds(
            lambda sep, name, eq, value: f"{sep}{name}{eq}{value}",
            st.sampled_from([";", "; ", ";\r\n\t", " ;"]),
            PARAM_NAME,
            st.sampled_from(["=", " = ", ""]),
            PARAM_VALUE,
        ),
        max_size=4,
    ),
    st.sampled_from(["", ";", " ", "\r\n"]),
)  # fmt: skip
HEADER_VALUE = st.one_of(STRUCTURED_VALUE, PARAM_TEXT)


def _is_str_value(value: str) -> bool:
    """`Message.get` returns a value with raw 8-bit bytes (surrogate escapes) as a Header,
    which never reaches these functions (`parse_flat` leaves such parts to the email
    package); real non-ASCII text (Gmail API JSON) stays a str."""
    return not any("\udc80" <= char <= "\udcff" for char in value)


def _holder(name: str, value: str) -> Message:
    holder = Message()
    holder.set_raw(name, value)
    return holder


@SETTINGS
@given(HEADER_VALUE)
@example('multipart/alternative; boundary="000000000000375682465457"')
@example('text/plain; charset="UTF-8"; format=flowed; delsp=yes')
@example('multipart/mixed; boundary="a;b"')
@example('multipart/mixed; boundary="<x> "; boundary=second')
@example("text/plain; name*=utf-8''%E2%82%AC.txt")
@example('text/plain; name="a\\"b"')
def test_content_type_equals_the_email_package(value: str) -> None:
    assume(_is_str_value(value))
    assert _outcome(lambda: parsed_content_type(value)) == _outcome(
        lambda: reference_content_type(value)
    )  # the email package raises on some RFC 2231 mixes: then both raise alike
    expected = _outcome(lambda: _holder("Content-Type", value).get_boundary())
    assert _outcome(lambda: boundary_of(parsed_content_type(value)[1])) == expected


@SETTINGS
@given(HEADER_VALUE)
@example('attachment; filename="report; final.pdf"')
@example("attachment; filename*=UTF-8''%E2%82%AC%20rates.pdf")
@example('attachment; FileName="<q.pdf>"')
@example("filename=first.pdf; filename=second.pdf")
@example("text/plain;charset=;name*0=;name*")
def test_disposition_params_equal_the_email_package(value: str) -> None:
    assume(_is_str_value(value))
    holder = _holder("Content-Disposition", value)
    assert _outcome(lambda: header_params(value)) == _outcome(
        lambda: tuple(holder.get_params([], header="content-disposition"))
    )
    expected = _outcome(lambda: holder.get_param("filename", header="content-disposition"))
    assert _outcome(lambda: first_param(header_params(value), "filename")) == expected


# --- whole messages -------------------------------------------------------------------------

LINE_END = st.sampled_from(["\r\n", "\n"])
TOP_HEADERS = st.lists(
    st.sampled_from(
        [
            "From: Ada Lovelace <ada@acme.com>",
            "From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <j@beispiel.de>",
            "To: maria@northwind-labs.io,\r\n\tbob@initech.com",
            "Subject: =?ISO-8859-1?Q?caf=E9?=\n continued",
            "Subject: caf\udcc3\udca9",
            "Date: Tue, 05 Aug 2008 08:00:23 +0000",
            "Message-ID: <abc@mail.gmail.com>",
            "X-Gmail-Labels: Inbox,Important",
            "MIME-Version: 1.0",
            "content-transfer-encoding: 7bit",
            "Content-Transfer-Encoding: base64",
            "X-Empty:",
        ]
    ),
    max_size=6,
)
LEAF_TYPE = st.sampled_from(
    [
        None,
        "text/plain",
        'text/plain; charset="UTF-8"',
        "text/plain; charset=iso-8859-1; format=flowed",
        "text/html; charset=utf-8",
        "TEXT/PLAIN; CHARSET=US-ASCII",
        'application/pdf; name="q3 report.pdf"',
        "application/octet-stream; name*=utf-8''%E2%82%AC.bin",
        "text/plain; charset=\udce9",
        "message/rfc822",
        "message/delivery-status",
        "text/rfc822-headers",
        "multipart/alternative; boundary=inner",
        "text",
    ]
)
LEAF_HEADERS = st.lists(
    st.sampled_from(
        [
            "Content-Transfer-Encoding: quoted-printable",
            "Content-Transfer-Encoding: base64",
            "Content-Transfer-Encoding: BASE64",
            "Content-Transfer-Encoding: 8bit",
            "Content-Transfer-Encoding: x-uuencode",
            "Content-Transfer-Encoding: bin\udce9ry",
            'Content-Disposition: attachment; filename="q3.pdf"',
            "Content-Disposition: attachment; filename*=UTF-8''%E2%82%AC.pdf",
            "Content-Disposition: inline",
            'Content-Disposition: attachment; filename="caf\udce9.pdf"',
            "Content-ID: <part1@x>",
        ]
    ),
    max_size=3,
)
PAYLOAD = st.sampled_from(
    [
        "Hi Maria,=0A\nsee you =\nsoon",
        "SGVsbG8gd29ybGQ=",
        "SGVsbG8gd29ybGQ",
        "not base64 !!",
        "caf\udce9 au lait",
        "",
        "line\r\nwith CRLF\rand a bare CR",
        "--not-a-boundary\n",
        "begin 644 x\n#0V%T\n`\nend",
    ]
)
BOUNDARY = st.sampled_from(
    ["b1", "000000000000375682465457", "=_Part 1", "a:b(c)", "with space ", "x*y", "", "b\\q"]
)


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    """A message of one of the shapes mail comes in, odd ones included."""
    eol = draw(LINE_END)
    lines = [h.replace("\r\n", eol).replace("\n", eol) for h in draw(TOP_HEADERS)]
    multipart = draw(st.booleans())
    if not multipart:
        ctype = draw(LEAF_TYPE)
        if ctype is not None:
            lines.append(f"Content-Type: {ctype}")
        lines += draw(LEAF_HEADERS)
        return (
            eol.join(lines) + eol + eol + draw(PAYLOAD) + draw(st.sampled_from(["", eol]))
        ).encode("ascii", "surrogateescape")
    boundary = draw(BOUNDARY)
    kind = draw(st.sampled_from(["alternative", "mixed", "related", "digest", "report"]))
    quoted = draw(st.sampled_from(['"{}"', "{}", '"{}" ', "'{}'"])).format(boundary)
    fold = draw(st.sampled_from([" ", eol + "\t"]))
    lines.append(f"Content-Type: multipart/{kind};{fold}boundary={quoted}")
    body = [draw(st.sampled_from(["", "preamble" + eol]))]
    separator = "--" + boundary
    for _ in range(draw(st.integers(0, 3))):
        part_lines = []
        ctype = draw(LEAF_TYPE)
        if ctype is not None:
            part_lines.append(f"Content-Type: {ctype}")
        part_lines += draw(LEAF_HEADERS)
        padding = draw(st.sampled_from(["", " ", "\t ", "--x"]))
        part = eol.join(part_lines) + eol + eol + draw(PAYLOAD)
        if draw(st.integers(0, 7)) == 0:  # the separator inside a line is no boundary
            part += f"see {separator}{eol}{eol}more"
        if draw(st.integers(0, 9)) == 0:
            part = draw(st.sampled_from(["", "no headers" + eol + "text", eol]))
        body.append(separator + padding + eol + part + eol)
        if draw(st.integers(0, 14)) == 0:
            body.append(separator + eol)  # doubled or early boundary line
    if draw(st.integers(0, 5)):
        body.append(separator + draw(st.sampled_from(["--", "-- ", "--\t"])))
        body.append(draw(st.sampled_from(["", eol, eol + "epilogue" + eol])))
    text = eol.join(lines) + eol + eol + "".join(body)
    return text.encode("ascii", "surrogateescape")


def _outcome(make: Any) -> Any:
    """A value, or the type of the exception making it raised (as _read_one records it)."""
    try:
        return make()
    except Exception as exc:
        return type(exc)


def _leaves(leaves: Any) -> list[tuple[Any, ...]]:
    return [
        (leaf.content_type, leaf.charset, leaf.filename, leaf.is_attachment, leaf.size,
         _outcome(leaf.load))
        for leaf in leaves
    ]  # fmt: skip


def _reference(data: bytes) -> tuple[dict[str, list[str]], Any, bool]:
    msg = EMAIL_PACKAGE.parsebytes(data)
    leaves = _outcome(lambda: _leaves(message_leaves(msg)))
    return HeaderView.of(msg)._values, leaves, inputs._looks_cut(data, msg)


def _fast(data: bytes) -> tuple[dict[str, list[str]], Any, bool]:
    view, leaves, _, msg = inputs._parsed(data)
    return view._values, _outcome(lambda: _leaves(leaves)), inputs._looks_cut(data, msg)


def _check(data: bytes) -> None:
    assert _fast(data) == _reference(data)
    flat = parse_flat(data)
    if flat is not None:  # its headers are what the owner pre-scan reads
        assert flat.items == headers.header_items(data)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages())
def test_flat_parse_reads_messages_as_the_email_package(data: bytes) -> None:
    _check(data)


@pytest.mark.parametrize(
    "path", sorted(FIXTURES.glob("*.mbox")) + sorted(CORPUS.glob("*.mbox")), ids=lambda p: p.name
)
def test_flat_parse_reads_the_fixture_messages_as_the_email_package(path: Path) -> None:
    try:
        messages = [item.data for item in iter_mbox(path)]
    except UnreadableFileError:  # not an mbox at all: its bytes as one message
        messages = [path.read_bytes()]
    for data in messages:
        _check(data)


# Gmail's usual shape (as in the fast-path tests), ending at its closing boundary
GMAIL_ALTERNATIVE = fast_paths.GMAIL_ALTERNATIVE.removesuffix(b"epilogue\r\n")


@pytest.mark.parametrize(
    ("data", "taken"),
    [
        (GMAIL_ALTERNATIVE, True),
        (GMAIL_ALTERNATIVE.replace(b"\r\n", b"\n"), True),
        (GMAIL_ALTERNATIVE.replace(b"--\r\n", b"--"), True),  # cut after the closing boundary
        (GMAIL_ALTERNATIVE.replace(b"457\r\nContent-Type: text/h", b"457 \t\r\nContent-T"
                                   b"ype: text/h"), True),  # transport padding
        (GMAIL_ALTERNATIVE.replace(b"Hi Maria,=0A", b"Hi x--000000000000375682465457\r\n"
                                   b"\r\nMaria"), True),  # the separator inside a line
        (GMAIL_ALTERNATIVE.replace(b"text/html", b"message/rfc822"), False),
        (GMAIL_ALTERNATIVE.replace(b"text/html", b"text/rfc822-headers"), False),
        (GMAIL_ALTERNATIVE.replace(b"quoted-printable", b"x-uuencode"), False),
        (GMAIL_ALTERNATIVE.replace(b"Ada <", b"Ad\xe9 <"), True),  # 8-bit in other headers
        (GMAIL_ALTERNATIVE.replace(b'charset="UTF-8"\r\nC', b'charset="\xe9"\r\nC'), False),
        (GMAIL_ALTERNATIVE.rsplit(b"--000000000000375682465457--", 1)[0], False),  # unclosed
        (b"From: a@b.c\nDate: 1 Jan 2024 00:00:00 -0000\n\nplain\n", True),
        (b"From: a@b.c\nContent-Type: text/plain; charset=\"a\\\"b\"\n\nx\n", True),
    ],
    ids=["crlf", "lf", "no_final_newline", "padded_boundary", "separator_mid_line", "embedded",
         "rfc822_headers", "uuencode",
         "eight_bit_from", "eight_bit_charset", "unclosed", "single", "escaped_charset"],
)  # fmt: skip
def test_flat_parse_takes_the_usual_shapes_and_leaves_the_rest(data: bytes, taken: bool) -> None:
    assert (parse_flat(data) is not None) == taken
    _check(data)


# --- dates and header text ------------------------------------------------------------------

DATES = st.builds(
    lambda day_name, day, month, year, time, zone, tail: (
        f"{day_name}{day} {month} {year} {time} {zone}{tail}"
    ),
    st.sampled_from(["", "Tue, ", "Tue,", "tue, ", "Tue ", "Fri,  ", "Xyz, "]),
    st.sampled_from(["1", "05", "31", "0", "32", "29", "123"]),
    st.sampled_from(["Jan", "Feb", "Aug", "aug", "August", "Foo"]),
    st.sampled_from(["2008", "2024", "1899", "0001", "9999", "24", "99", "20245"]),
    st.sampled_from(["08:00:23", "8:00:23", "23:59:60", "24:00:00", "08:00", "08.00.23"]),
    st.sampled_from(
        ["+0000", "-0000", "+0530", "-0800", "+0099", "+2400", "-9999", "GMT", "EST", "+00", ""]
    ),
    st.sampled_from(["", " (UTC)", "(UTC)", " extra words here", "\t", ","]),
)


def _reference_date(value: str) -> Any:
    return _outcome(lambda: parsedate_to_datetime(value))


def _same_datetime(mine: Any, theirs: Any) -> bool:
    if isinstance(mine, datetime) and isinstance(theirs, datetime):
        return mine == theirs and mine.utcoffset() == theirs.utcoffset()
    return mine == theirs


@SETTINGS
@given(st.one_of(DATES, st.text(max_size=40)))
@example("Tue, 05 Aug 2008 08:00:23 +0000")
@example("5 Aug 2008 08:00:23 -0000")
@example("Tue, 31 Feb 2008 08:00:23 +0000")
@example("Tue, 05 Aug 2008 08:00:23 +9900")
@example("1 Jan 0001 08:00:23 +0000")
@example("1 Jan 0099 08:00:23 +0000")
def test_usual_dates_read_as_the_email_package(value: str) -> None:
    mine = _outcome(lambda: headers._usual_date(value))
    if mine is not None:
        assert _same_datetime(mine, _reference_date(value))
    # the same as before the shortcut, or refused (a zone name the email package reads as UTC)
    reference = _outcome(lambda: _old_parse_date(value))
    mine = headers.parse_date(value)
    assert _same_datetime(mine, reference) or mine is None


def _old_parse_date(value: str) -> datetime | None:
    """`headers.parse_date` without the usual-date shortcut."""
    if not value:
        return None
    year = headers._YEAR.search(value)
    if year and not headers.EARLIEST.year <= int(year.group(1)) < headers.LATEST.year:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return headers._in_utc(parsed)


@SETTINGS
@given(
    st.one_of(
        st.text(max_size=30),
        st.sampled_from(
            ["  Re: pilot ", "=?UTF-8?Q?J=C3=BCrgen?=", "folded\r\n line", "caf\udcc3\udca9", " "]
        ),
    )
)
def test_header_text_equals_the_full_decoding(value: str) -> None:
    view = HeaderView([("Subject", value)])
    expected = headers.decode_words(headers._unfold(headers._undo_8bit(value))).strip() or None
    assert headers.text(view, "Subject") == expected


@pytest.mark.parametrize(
    "value",
    ['Inbox,"Kunden, A-Z",Gesendet', "Sent," * 400, "Spam", "", " , Papierkorb"],
    ids=["quoted", "long_uncached", "spam", "empty", "blank_first"],
)
def test_label_caches_change_no_answer(value: str) -> None:
    row = next(csv.reader([value], skipinitialspace=True), []) if value else []
    labels = parse_label_header(value)
    assert labels == tuple(label.strip() for label in row if label.strip())
    assert parse_label_header(value) is labels or len(value) > 1000  # cached when short
    assert system_flags(labels) == system_flags(list(labels))  # the uncached way
    assert system_flags((*labels, "x" * 2000)) == system_flags(labels)  # too long to cache
