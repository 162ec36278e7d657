"""A correspondent's name comes from the names the file gives the address: at most the first
eight seen are kept, the sender's own name weighs three times a recipient's, and ties go to the
first seen. The result does not depend on how the file is cut into chunks."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from rex_pipeline.sources.gmail import parse_gmail_file

OWNER = "owner@northwind-labs.io"


def _message(n: int, sender: str, to: str) -> str:
    return (
        f"From 1{n:04d}@xxx Mon Jan 01 09:00:00 +0000 2024\n"
        f"X-GM-THRID: {n}\nX-Gmail-Labels: Inbox\n"
        f"Message-ID: <m{n}@example.com>\nDate: Mon, 1 Jan 2024 09:{n % 60:02d}:00 +0000\n"
        f"From: {sender}\nTo: {to}\nSubject: note {n}\n\nbody {n}\n\n"
    )


def _mbox(path: Path) -> Path:
    # kim@ is named nine ways by recipients' address books: only the first eight count, so
    # "Kim Nine" (mentioned most, but ninth) cannot win; "Kim Two" also sends once (weight 3)
    kim = ["One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", *["Nine"] * 5, "One"]
    messages = [
        _message(i, f"Other {i} <other{i}@example.org>", f"Kim {name} <kim@example.org>")
        for i, name in enumerate(kim)
    ]
    messages.append(_message(99, "Kim Two <KIM@example.org>", f"<{OWNER}>"))
    # lee@ is named twice, once each: the tie goes to the first seen
    lee = ["Lee First", "Lee Second"]
    messages += [
        _message(200 + i, f"{name} <lee@example.org>", f"<{OWNER}>") for i, name in enumerate(lee)
    ]
    path.write_text("".join(messages))
    return path


def _contacts(path: Path, chunk: int) -> pl.DataFrame:
    chunks: list = []
    parsed = parse_gmail_file(
        path, "org_test", [OWNER], ["northwind-labs.io"], sink=chunks.append, chunk_messages=chunk
    )
    return pl.concat([c.contacts for c in chunks] + [parsed.contacts])


@pytest.mark.parametrize("chunk", [1, 4, 5000])
def test_names_are_chosen_alike_however_the_file_is_chunked(tmp_path: Path, chunk: int) -> None:
    path = _mbox(tmp_path / "names.mbox")
    contacts = _contacts(path, chunk)
    assert contacts.equals(_contacts(path, 5000))
    names = dict(contacts.select("email", "full_name").iter_rows())
    assert (
        names["kim@example.org"] == "Kim Two"
    )  # 1 + 3: beats "Kim One" (2); "Kim Nine" (5) was dropped
    assert names["lee@example.org"] == "Lee First"
