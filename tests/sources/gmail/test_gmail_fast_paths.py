"""The fast paths of mbox reading give what the slow ones gave: the bytes-level header reader
equals the email package, the owner pre-scan equals a full header parse, the parts of a split
file are the file, and a file read by worker processes equals the same file read here."""

from __future__ import annotations

from collections.abc import Iterator
from email import policy
from email.message import Message
from email.parser import BytesParser
from pathlib import Path

import polars as pl
import pytest

from rex_pipeline.sources.gmail import mbox, parse, parse_gmail_file
from rex_pipeline.sources.gmail.headers import HeaderView, header_items
from rex_pipeline.sources.gmail.inputs import from_mbox, parse_message
from rex_pipeline.sources.gmail.mbox import iter_mbox, split_mbox
from rex_pipeline.sources.gmail.message import key_headers, owner_address
from rex_pipeline.sources.gmail.workers import PartPool

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "gmail"
MBOXES = sorted(FIXTURES.glob("*.mbox"))
EMAIL_PACKAGE = BytesParser(policy=policy.compat32)
OWN_DOMAINS = ["northwind-labs.io"]

HEADER_BLOCKS = {
    "crlf_folded": b"Received: from mx.google.com\r\n\tby x; Mon, 1 Jan 2024\r\n"
    b"Subject: =?UTF-8?Q?J=C3=BCrgen?=\r\n  continued\r\nTo: a@b.c\r\n\r\nbody\r\n",
    "bare_cr_lines": b"From: a@b.c\rSubject: one\r\rbody\r",
    "eight_bit": b"From: J\xfcrgen <j@b.de>\nSubject: caf\xc3\xa9\n\nbody",
    "leading_continuation": b" stray continuation\nFrom: a@b.c\n\n",
    "nameless_field": b":no name\nFrom: a@b.c\nX-Empty:\n\nbody\n",
    "no_separator_line": b"From: a@b.c\nSubject: s\nthis is body text\nmore\n",
    "misplaced_envelope": b"From: a@b.c\nFrom x@y Mon Jan  1 00:00:00 2024\nTo: c@d.e\n\n",
    "envelope_last": b"From: a@b.c\nFrom x@y Mon Jan  1 00:00:00 2024\nbody\n",
    "envelope_first": b"From x@y Mon Jan  1 00:00:00 2024\nFrom: a@b.c\n\nbody\n",
    "headers_only_no_newline": b"From: a@b.c\nSubject: cut",
    "empty": b"",
}


def _email_package_items(data: bytes) -> list[tuple[str, str]]:
    return [(str(n), str(v)) for n, v in EMAIL_PACKAGE.parsebytes(data).raw_items()]


@pytest.mark.parametrize("name", sorted(HEADER_BLOCKS))
def test_header_items_equal_the_email_package(name: str) -> None:
    data = HEADER_BLOCKS[name]
    assert header_items(data) == _email_package_items(data)


@pytest.mark.parametrize("path", MBOXES, ids=lambda p: p.name)
def test_header_items_equal_the_email_package_on_real_messages(path: Path) -> None:
    for item in iter_mbox(path):
        assert header_items(item.data) == _email_package_items(item.data), item.index


@pytest.mark.parametrize("name", sorted(HEADER_BLOCKS))
def test_parse_message_builds_the_message_the_email_package_builds(name: str) -> None:
    data = HEADER_BLOCKS[name] + b"Content-Type: text/plain\n\nx\n"
    for sample in (HEADER_BLOCKS[name], data):
        fast, slow = parse_message(sample), EMAIL_PACKAGE.parsebytes(sample)
        assert list(fast.raw_items()) == list(slow.raw_items())
        assert fast.get_unixfrom() == slow.get_unixfrom()
        assert fast.get_payload() == slow.get_payload()
        assert fast.get_payload(decode=True) == slow.get_payload(decode=True)
        assert [type(d) for d in fast.defects] == [type(d) for d in slow.defects]


def test_parse_message_leaves_multipart_to_the_email_package() -> None:
    data = (FIXTURES / "edge_nested_multipart.mbox").read_bytes().split(b"\n", 1)[1]
    fast = parse_message(data)
    assert fast.is_multipart()
    assert [p.get_content_type() for p in fast.walk()] == [
        p.get_content_type() for p in EMAIL_PACKAGE.parsebytes(data).walk()
    ]


GMAIL_ALTERNATIVE = (
    b"MIME-Version: 1.0\r\nFrom: Ada <ada@acme.com>\r\nSubject: Re: pilot\r\n"
    b'Content-Type: multipart/alternative; boundary="000000000000375682465457"\r\n\r\n'
    b'--000000000000375682465457\r\nContent-Type: text/plain; charset="UTF-8"\r\n'
    b"Content-Transfer-Encoding: quoted-printable\r\n\r\nHi Maria,=0A\r\n\r\n"
    b'--000000000000375682465457\r\nContent-Type: text/html; charset="UTF-8"\r\n\r\n'
    b'<div dir="ltr">Hi Maria,</div>\r\n\r\n--000000000000375682465457--\r\nepilogue\r\n'
)


def _same_tree(fast: Message, slow: Message) -> None:
    assert list(fast.raw_items()) == list(slow.raw_items())
    assert (fast.preamble, fast.epilogue) == (slow.preamble, slow.epilogue)
    assert fast.is_multipart() == slow.is_multipart()
    if fast.is_multipart():
        assert len(fast.get_payload()) == len(slow.get_payload())
        for mine, theirs in zip(fast.get_payload(), slow.get_payload(), strict=True):
            _same_tree(mine, theirs)
    else:
        assert fast.get_payload(decode=True) == slow.get_payload(decode=True)


@pytest.mark.parametrize(
    "data",
    [
        GMAIL_ALTERNATIVE,
        GMAIL_ALTERNATIVE.replace(b"\r\n", b"\n"),
        GMAIL_ALTERNATIVE.replace(b"\r\n\r\n--0000", b"\r\n\r\npreamble\r\n--0000", 1),
        GMAIL_ALTERNATIVE.replace(b"\r\n\r\n--0000", b"\r\nno separator\r\n--0000", 1),
        GMAIL_ALTERNATIVE.rsplit(b"--000000000000375682465457--", 1)[0],  # never closed
        GMAIL_ALTERNATIVE.replace(b"text/html", b"message/rfc822"),  # embedded message
    ],
    ids=["crlf", "lf", "preamble", "no_separator", "unclosed", "embedded"],
)
def test_parse_message_builds_multiparts_as_the_email_package(data: bytes) -> None:
    fast, slow = parse_message(data), EMAIL_PACKAGE.parsebytes(data)
    _same_tree(fast, slow)
    assert [type(d) for p in fast.walk() for d in p.defects] == [
        type(d) for p in slow.walk() for d in p.defects
    ]  # an unclosed multipart keeps CloseBoundaryNotFoundDefect (truncation is read from it)


def _owners_by_email_package(path: Path) -> set[str]:
    """The owner pre-scan as it was: every message's headers through the email package."""
    owners: set[str] = set()
    for item in iter_mbox(path, headers_only=True):
        try:
            mail = from_mbox(item)
        except Exception:
            continue
        flags = mail.flags
        if parse.CHAT in flags or flags & {parse.SPAM, parse.TRASH}:
            continue
        if key_headers(mail.headers) and (address := owner_address(mail.headers, flags)):
            owners.add(address.lower())
    return owners


def _prescan(path: Path) -> set[str]:
    return set().union(*(parse.mbox_part_owners(path, p, True) for p in split_mbox(path, 3)))


@pytest.mark.parametrize("path", MBOXES, ids=lambda p: p.name)
def test_owner_prescan_equals_a_full_header_parse(path: Path) -> None:
    assert _prescan(path) == _owners_by_email_package(path)


def test_owner_prescan_reads_sent_from_and_received_delivered_to(tmp_path: Path) -> None:
    path = tmp_path / "owners.mbox"
    path.write_bytes(
        b"From 1@xxx Mon Jan 01 09:00:00 +0000 2024\r\nX-Gmail-Labels: Gesendet\r\n"
        b"From: Maria <Maria@Northwind-Labs.io>\r\nTo: ada@acme.com\r\n\r\nhi\r\n\r\n"
        b"From 2@xxx Mon Jan 01 09:01:00 +0000 2024\r\nX-Gmail-Labels: Inbox\r\n"
        b"Delivered-To: sales@northwind-labs.io\r\nFrom: ada@acme.com\r\n\r\nhi\r\n\r\n"
        b"From 3@xxx Mon Jan 01 09:02:00 +0000 2024\r\nX-Gmail-Labels: Spam\r\n"
        b"Delivered-To: spam-trap@northwind-labs.io\r\nFrom: x@spam.biz\r\n\r\nbuy\r\n\r\n"
        b"From 4@xxx Mon Jan 01 09:03:00 +0000 2024\r\nX-Gmail-Labels: Chat\r\n"
        b"Delivered-To: chat@northwind-labs.io\r\n\r\nhey\r\n\r\n"
        b"From 5@xxx Mon Jan 01 09:04:00 +0000 2024\r\nDelivered-To: cut@northwind-labs.io\r\n"
        b"From: ada@acme.com"
    )
    assert _prescan(path) == {"maria@northwind-labs.io", "sales@northwind-labs.io"}


@pytest.mark.parametrize("path", MBOXES, ids=lambda p: p.name)
@pytest.mark.parametrize("per_part", [1, 2, 1000])
def test_parts_of_a_split_file_are_the_file(
    path: Path, per_part: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mbox, "_BLOCK_BYTES", 97)  # separators and lines across block ends
    whole = list(iter_mbox(path))
    parts = split_mbox(path, per_part)
    assert [m for part in parts for m in iter_mbox(path, part=part)] == whole
    assert sum(part.messages for part in parts) == len(whole)
    assert [part.last for part in parts] == [False] * (len(parts) - 1) + [True]


def test_split_mbox_refuses_what_iter_mbox_refuses(tmp_path: Path) -> None:
    path = tmp_path / "not.mbox"
    path.write_bytes(b"Subject: no separator\n\nbody\n")
    with pytest.raises(Exception, match="not an mbox") as raised:
        split_mbox(path, 10)
    assert type(raised.value).__name__ == "UnreadableFileError"


def _big_mbox(path: Path) -> Path:
    """Fixture messages many times over (duplicates, bounces, charsets, a headerless message
    that is rejected), then spam/trash/chat, and the truncated-body fixture last, so the file
    ends inside a message."""
    headerless = b"From 9@xxx Mon Jan 01 09:00:00 +0000 2024\r\n\r\nno headers at all\r\n"
    body = [(FIXTURES / "edge_missing_ids_and_duplicates.mbox").read_bytes(), headerless]
    for name in ("edge_bounce_and_auto_reply", "edge_headers_and_charsets", "dogsheep_small.gmail"):
        body.append((FIXTURES / f"{name}.mbox").read_bytes())
    data = b"\n".join(body * 12)
    data += b"\n" + (FIXTURES / "edge_spam_trash_chat.mbox").read_bytes()
    data += b"\n" + (FIXTURES / "edge_truncated_body.mbox").read_bytes()
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def pool() -> Iterator[PartPool]:
    with PartPool(2) as started:
        yield started


def _frames(path: Path, sink: bool, **kwargs: object) -> dict[str, pl.DataFrame]:
    chunks: list = []
    extra = {"sink": chunks.append, "chunk_messages": 7} if sink else {}
    parsed = parse_gmail_file(path, "org_test", [], OWN_DOMAINS, **extra, **kwargs)
    frames = {e: [getattr(parsed, e)] for e in ("activities", "contacts", "rejected")}
    for chunk in chunks:
        for entity, parts in frames.items():
            parts.append(getattr(chunk, entity))
    return {e: pl.concat(parts) for e, parts in frames.items()} | {"stats": parsed.stats}


@pytest.mark.parametrize("sink", [False, True], ids=["held", "streamed"])
def test_parallel_read_equals_serial_read(
    tmp_path: Path, pool: PartPool, sink: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _big_mbox(tmp_path / "big.mbox")
    monkeypatch.setattr(parse, "PARALLEL_MIN_MESSAGES", 10)
    serial = _frames(path, sink)
    parallel = _frames(path, sink, pool=pool)
    assert parallel["stats"] == serial["stats"]
    assert serial["stats"]["duplicates"] > 0 and serial["stats"]["truncated"] == 1
    for entity in ("activities", "contacts", "rejected"):
        assert serial[entity].height > 0, entity
        assert parallel[entity].equals(serial[entity]), entity  # same rows, same order


def test_small_files_stay_serial(tmp_path: Path) -> None:
    """Below PARALLEL_MIN_MESSAGES the pool is never started (it costs about a second)."""
    never = PartPool(2)
    parse_gmail_file(FIXTURES / "dogsheep_small.gmail.mbox", "org_test", [], [], pool=never)
    assert never._executor is None


def test_header_view_from_items_reads_like_one_from_a_message() -> None:
    data = HEADER_BLOCKS["crlf_folded"]
    fast = HeaderView(header_items(data))
    slow = HeaderView.of(EMAIL_PACKAGE.parsebytes(data))
    assert key_headers(fast) == key_headers(slow) == {"To": "a@b.c", "Subject": "Jürgen continued"}
