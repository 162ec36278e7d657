"""Stream a Takeout `.mbox` one message at a time: memory is bounded by the largest message,
never by the file (Takeout files run to many GB).

We split on the `From ` separator line ourselves instead of using `mailbox.mbox`, which builds a
table of contents of the whole file first and drops the separator line, whose sender field is
where Takeout puts Gmail's message id (`From 1848707317225206228@xxx Thu Nov 13 ... 2025`).
A line counts as a separator when it has the mbox shape (sender, then a ctime-style date) and
either follows an empty line (classic mbox) or carries a Takeout id (Takeout does not always
leave an empty line before it). CRLF and LF files both work; mboxrd `>From ` quoting is undone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from rex_pipeline.records import UnreadableFileError

_SEPARATOR = re.compile(
    rb"From (\S+) +([A-Z][a-z]{2},? +[A-Z][a-z]{2} +\d{1,2} +\d{1,2}:\d{2}(?::\d{2})?\b.*?\d{4})"
    rb"[ \t]*\r?\n?$"
)
_TAKEOUT_SENDER = re.compile(rb"^\d+@xxx$")
_QUOTED_FROM = re.compile(rb"^>+From ")
_BLANK = (b"\n", b"\r\n")
_SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class MboxMessage:
    """One message of the file, without its separator line."""

    index: int  # 1-based position in the file
    offset: int  # byte offset of the separator line
    envelope_sender: str  # "1848707317225206228@xxx" in Takeout files
    envelope_time: str  # "Thu Nov 13 20:11:26 +0000 2025"
    data: bytes
    is_last: bool  # a truncated file can only have cut this one

    @property
    def gmail_id(self) -> str | None:
        """Gmail's message id in hex (the API `id`), from Takeout's decimal envelope sender.
        Gmail ids are 64-bit: a longer digit run is not one (and `int` refuses 4300+ digits)."""
        local = self.envelope_sender.split("@", 1)[0]
        return format(int(local), "x") if local.isdigit() and len(local) <= 20 else None


def iter_mbox(path: Path, headers_only: bool = False) -> Iterator[MboxMessage]:
    """Yield the messages of an mbox file in order.

    With `headers_only`, each message's `data` stops at the blank line that ends its headers
    (kept): the cheap pass that learns the owner addresses never holds or parses a body.

    Raises UnreadableFileError when the file does not start with a separator line (it is not
    an mbox), before reading any further."""
    with path.open("rb") as handle:
        offset = _skip_preamble(path, handle)
        lines: list[bytes] = []
        current: tuple[int, bytes, bytes, int] | None = None  # index, sender, time, offset
        previous_blank = True
        in_body = False  # past the blank line that ends the current message's headers
        for line in handle:
            match = _SEPARATOR.match(line) if line[:5] == b"From " else None
            if match and (previous_blank or _TAKEOUT_SENDER.match(match.group(1))):
                if current is not None:
                    yield _message(current, lines, is_last=False)
                index = current[0] + 1 if current else 1
                current = (index, match.group(1), match.group(2), offset)
                lines = []
                in_body = False
            elif headers_only and in_body:
                pass
            elif line[:1] == b">" and _QUOTED_FROM.match(line):
                lines.append(line[1:])
            else:
                lines.append(line)
            offset += len(line)
            previous_blank = line in _BLANK
            in_body = in_body or (previous_blank and current is not None)
        if current is not None:
            yield _message(current, lines, is_last=True)


def _skip_preamble(path: Path, handle: BinaryIO) -> int:
    """Check that the file opens with a separator line (only blank lines and a BOM may come
    first) and position the handle on it. Reads a bounded head, so a multi-GB file that is not
    an mbox is refused without reading it."""
    head = handle.read(_SNIFF_BYTES)
    start = len(head) - len(head.lstrip(b"\xef\xbb\xbf\r\n\t "))
    first_line = head[start:].split(b"\n", 1)[0] + b"\n"
    if start < len(head) and not _SEPARATOR.match(first_line):
        shown = first_line[:80].decode("utf-8", errors="replace").strip()
        raise UnreadableFileError(
            f"{path.name}: not an mbox file (it starts with {shown!r}, "
            "not a 'From <sender> <date>' separator line)"
        )
    handle.seek(start)
    return start


def _message(
    current: tuple[int, bytes, bytes, int], lines: list[bytes], *, is_last: bool
) -> MboxMessage:
    index, sender, time, offset = current
    return MboxMessage(
        index=index,
        offset=offset,
        envelope_sender=sender.decode("ascii", errors="replace"),
        envelope_time=time.decode("ascii", errors="replace"),
        data=b"".join(lines),
        is_last=is_last,
    )
