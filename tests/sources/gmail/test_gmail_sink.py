"""Streaming a Gmail file through a sink gives exactly the rows of the held parse."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from rex_pipeline import records
from rex_pipeline.sources.gmail import parse_gmail_file
from rex_pipeline.sources.gmail.mbox import iter_mbox

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "gmail"
FILES = sorted(p.name for p in FIXTURES.iterdir() if p.suffix in (".mbox", ".json", ".jsonl"))
OWN_DOMAINS = ["northwind-labs.io"]


#: The owner's reply comes first; the mailbox is revealed only by a later Delivered-To.
LATE_OWNER_MBOX = (
    b"From 1001@xxx Mon Jan 01 09:00:00 +0000 2024\r\n"
    b"X-Gmail-Labels: Archived\r\n"
    b"From: Maria Chen <maria@personal-mail.example>\r\n"
    b"To: Ada Lovelace <ada@acme-robotics.com>\r\n"
    b"Subject: Re: pricing\r\nDate: Mon, 1 Jan 2024 09:00:00 +0000\r\n"
    b"Message-ID: <reply@personal-mail.example>\r\n\r\nSee attached.\r\n\r\n"
    b"From 1002@xxx Tue Jan 02 09:00:00 +0000 2024\r\n"
    b"X-Gmail-Labels: Inbox\r\n"
    b"Delivered-To: maria@personal-mail.example\r\n"
    b"From: Ada Lovelace <ada@acme-robotics.com>\r\n"
    b"To: maria@personal-mail.example\r\n"
    b"Subject: Thanks\r\nDate: Tue, 2 Jan 2024 09:00:00 +0000\r\n"
    b"Message-ID: <thanks@acme-robotics.com>\r\n\r\nGot it.\r\n"
)


def _rows(frame: pl.DataFrame) -> list[tuple]:
    """The rows as a multiset (sorted), so order may differ but duplicates may not."""
    return sorted(frame.rows(), key=repr)


def _streamed(path: Path, chunk: int, **kwargs: object) -> tuple[list, records.ParsedFile]:
    chunks: list[records.ParsedFile] = []
    result = parse_gmail_file(
        path, "org_test", [], OWN_DOMAINS, sink=chunks.append, chunk_messages=chunk, **kwargs
    )
    return chunks, result


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("chunk", [1, 2, 5000])
def test_sink_yields_the_same_rows_and_stats_as_the_held_parse(name: str, chunk: int) -> None:
    path = FIXTURES / name
    held = parse_gmail_file(path, "org_test", [], OWN_DOMAINS)
    chunks, streamed = _streamed(path, chunk)
    for entity in ("activities", "contacts", "rejected"):
        got = pl.concat([getattr(c, entity) for c in chunks] + [getattr(streamed, entity)])
        assert _rows(got) == _rows(getattr(held, entity)), entity
        assert getattr(streamed, entity).height == 0  # the frames went to the sink
    assert streamed.stats == held.stats
    assert streamed.records_read == 0
    # each chunk is bounded: activities + rejects never exceed the chunk size
    assert all(c.activities.height + c.rejected.height <= max(chunk, 1) for c in chunks[:-1])


def test_dogsheep_streams_in_several_chunks_with_unique_contact_keys() -> None:
    path = FIXTURES / "dogsheep_small.gmail.mbox"
    chunks, streamed = _streamed(path, 1)
    activity_chunks = [c for c in chunks if c.activities.height]
    assert len(activity_chunks) == streamed.stats["activities"] >= 3
    contacts = pl.concat([c.contacts for c in chunks])
    assert contacts.height == streamed.stats["contacts"] > 0
    assert contacts["source_key"].n_unique() == contacts.height


def test_owner_learnt_late_in_the_file_decides_earlier_chunks(tmp_path: Path) -> None:
    """The first message is the owner's reply (no owner known yet when it is read); the
    mailbox is only revealed by a later received message's Delivered-To."""
    path = tmp_path / "late_owner.mbox"
    path.write_bytes(LATE_OWNER_MBOX)
    chunks, streamed = _streamed(path, 1)
    first = chunks[0].activities.row(0, named=True)
    assert first["external_id"] == "reply@personal-mail.example"
    assert (first["direction"], first["contact_email"]) == ("outbound", "ada@acme-robotics.com")
    emails = pl.concat([c.contacts for c in chunks])["email"].to_list()
    assert emails == ["ada@acme-robotics.com"]  # the owner's own mailbox is no contact
    assert streamed.stats["own_addresses"] == ["maria@personal-mail.example"]


def test_headers_only_mbox_pass_stops_at_the_blank_line() -> None:
    full = list(iter_mbox(FIXTURES / "dogsheep_small.gmail.mbox"))
    heads = list(iter_mbox(FIXTURES / "dogsheep_small.gmail.mbox", headers_only=True))
    assert [h.offset for h in heads] == [f.offset for f in full]
    for head, whole in zip(heads, full, strict=True):
        assert whole.data.startswith(head.data)
        assert head.data.endswith((b"\n\n", b"\r\n\r\n"))
        assert len(head.data) < len(whole.data)


def test_a_failing_sink_stops_the_parse() -> None:
    def refuse(_: records.ParsedFile) -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        parse_gmail_file(
            FIXTURES / "dogsheep_small.gmail.mbox",
            "org_test",
            [],
            [],
            sink=refuse,
            chunk_messages=1,
        )
