"""Splitting Takeout and classic mbox files into messages, streaming."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from rex_pipeline.records import UnreadableFileError
from rex_pipeline.sources.gmail import detect_format, parse_gmail_file
from rex_pipeline.sources.gmail.mbox import iter_mbox

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "gmail"
DOGSHEEP = FIXTURES / "dogsheep_small.gmail.mbox"

CLASSIC = b"""From alice@example.com Mon Jan  1 09:00:00 2024
From: Alice Example <alice@example.com>
To: maria@northwind-labs.io
Subject: First
Message-ID: <first@example.com>

From the desk of Alice: this line starts with "From " but is body text.
>From alice@example.com Mon Jan  1 09:00:00 2024
>>From quoted twice

From bob@example.com Tue Jan  2 10:30:00 2024
From: bob@example.com
To: maria@northwind-labs.io
Subject: Second
Message-ID: <second@example.com>

Bye.
"""


def _parse(path: Path) -> pl.DataFrame:
    return parse_gmail_file(path, "org_test", [], ["northwind-labs.io"]).activities


def test_takeout_separators_carry_the_gmail_id_in_decimal() -> None:
    items = list(iter_mbox(DOGSHEEP))
    assert len(items) == 6
    assert items[0].envelope_sender == "1277085061787347926@xxx"
    assert items[0].gmail_id == format(1277085061787347926, "x")
    assert items[0].envelope_time == "Tue Aug 05 08:00:23 +0000 2008"
    assert [item.is_last for item in items] == [False] * 5 + [True]
    # the third separator is not preceded by an empty line: Takeout ids still split there
    assert b"Gnumed-devel mailing list" in items[1].data
    assert b"Nothing worse than being without good wifi" in items[2].data


def test_crlf_and_lf_files_give_the_same_activities(tmp_path: Path) -> None:
    lf = tmp_path / "lf.mbox"
    lf.write_bytes(DOGSHEEP.read_bytes().replace(b"\r\n", b"\n"))
    assert b"\r" not in lf.read_bytes()
    crlf_rows = _parse(DOGSHEEP).drop("source_file")
    lf_rows = _parse(lf).drop("source_file")
    assert lf_rows.height == 4
    assert lf_rows.equals(crlf_rows)


def test_classic_mbox_splits_only_on_real_separators_and_unquotes(tmp_path: Path) -> None:
    path = tmp_path / "classic.mbox"
    path.write_bytes(CLASSIC)
    items = list(iter_mbox(path))
    assert [item.envelope_sender for item in items] == ["alice@example.com", "bob@example.com"]
    assert items[0].gmail_id is None
    body = items[0].data.decode()
    assert "From the desk of Alice" in body
    assert "\nFrom alice@example.com Mon Jan  1 09:00:00 2024\n" in body  # mboxrd unquoted
    assert "\n>From quoted twice\n" in body
    activities = _parse(path)
    assert activities["subject"].to_list() == ["First", "Second"]


def test_separator_shaped_body_line_after_text_is_not_a_separator(tmp_path: Path) -> None:
    path = tmp_path / "tricky.mbox"
    path.write_bytes(
        b"From alice@example.com Mon Jan  1 09:00:00 2024\n"
        b"From: alice@example.com\nSubject: One\nMessage-ID: <one@example.com>\n\n"
        b"Forwarded below:\n"
        b"From carol@example.com Mon Jan  1 08:00:00 2024\n"
        b"still the same message\n"
    )
    assert len(list(iter_mbox(path))) == 1


def test_bom_and_blank_lines_before_the_first_separator_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.mbox"
    path.write_bytes(b"\xef\xbb\xbf\r\n" + CLASSIC)
    assert [item.index for item in iter_mbox(path)] == [1, 2]


def test_empty_mbox_is_an_empty_mailbox(tmp_path: Path) -> None:
    path = tmp_path / "empty.mbox"
    path.write_bytes(b"")
    parsed = parse_gmail_file(path, "org_test", [], [])
    assert parsed.activities.height == 0 and parsed.stats["messages_read"] == 0


@pytest.mark.parametrize(
    "content",
    [
        b"email,first_name\nada.lovelace@acme-robotics.com,Ada\n",
        b"From: ada@acme-robotics.com\nSubject: a single .eml, not an mbox\n\nhi\n",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200),
    ],
)
def test_a_file_that_is_not_an_mbox_is_unreadable(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "All mail Including Spam and Trash.mbox"
    path.write_bytes(content)
    with pytest.raises(UnreadableFileError, match="not an mbox"):
        parse_gmail_file(path, "org_test", [], [])


def test_format_is_detected_by_content_when_the_extension_is_unknown(tmp_path: Path) -> None:
    mbox = tmp_path / "export.txt"
    mbox.write_bytes(CLASSIC)
    assert detect_format(mbox) == "mbox"
    api = tmp_path / "export.dump"
    api.write_bytes(b'[{"id": "1", "raw": ""}]')
    assert detect_format(api) == "gmail_api_json"
    other = tmp_path / "notes.txt"
    other.write_text("meeting notes")
    with pytest.raises(UnreadableFileError, match="neither a Takeout mbox nor Gmail API JSON"):
        detect_format(other)


@pytest.mark.parametrize("name", ["gone.mbox", "gone.jsonl"])
def test_a_file_that_cannot_be_opened_is_unreadable(tmp_path: Path, name: str) -> None:
    with pytest.raises(UnreadableFileError, match="cannot be read"):
        parse_gmail_file(tmp_path / name, "org_test", [], [])
