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
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from rex_pipeline.records import UnreadableFileError

_SEPARATOR = re.compile(
    rb"From (\S+) +([A-Z][a-z]{2},? +[A-Z][a-z]{2} +\d{1,2} +\d{1,2}:\d{2}(?::\d{2})?\b.*?\d{4})"
    rb"[ \t]*\r?\n?$"
)
_TAKEOUT_SENDER = re.compile(rb"^\d+@xxx$")
_QUOTED_FROM = re.compile(rb"^>+From ")
_QUOTED_FROM_LINES = re.compile(rb"^>(?=>*From )", re.MULTILINE)  # per line, as _QUOTED_FROM
_BLANK = (b"\n", b"\r\n")
_SNIFF_BYTES = 64 * 1024
_BLOCK_BYTES = 4 * 1024 * 1024


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


@dataclass(frozen=True, slots=True)
class MboxPart:
    """A run of whole messages of a file, bytes `start` to `end`, to be read on its own (by
    a worker process): its first message is number `first_index` of the file."""

    first_index: int
    start: int  # offset of its first separator line
    end: int  # offset of the next part's separator line, or the file's size
    messages: int
    last: bool  # holds the file's last message (the only one a truncated file can cut)
    # where its messages start, when known (saves the reader a scan of the part's bytes)
    offsets: tuple[int, ...] = field(default=(), compare=False, repr=False)


def iter_mbox(
    path: Path, headers_only: bool = False, part: MboxPart | None = None
) -> Iterator[MboxMessage]:
    """Yield the messages of an mbox file (or of one `part` of it, see `split_mbox`) in order.

    With `headers_only`, each message's `data` stops at the blank line that ends its headers
    (kept): the cheap pass that learns the owner addresses never holds or parses a body.

    Raises UnreadableFileError when the file does not start with a separator line (it is not
    an mbox), before reading any further."""
    if part is not None and not headers_only:
        yield from _iter_part(path, part)
        return
    with path.open("rb") as handle:
        if part is None:
            offset, first_index, end, last = _skip_preamble(path, handle), 1, None, True
        else:
            handle.seek(part.start)
            offset, first_index, end, last = part.start, part.first_index, part.end, part.last
        lines: list[bytes] = []
        current: tuple[int, bytes, bytes, int] | None = None  # index, sender, time, offset
        previous_blank = True
        in_body = False  # past the blank line that ends the current message's headers
        for line in handle:
            if end is not None and offset >= end:
                break
            match = _SEPARATOR.match(line) if line[:5] == b"From " else None
            if match and (previous_blank or _TAKEOUT_SENDER.match(match.group(1))):
                if current is not None:
                    yield _message(current, lines, is_last=False)
                index = current[0] + 1 if current else first_index
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
            yield _message(current, lines, is_last=last)


def _iter_part(path: Path, part: MboxPart) -> Iterator[MboxMessage]:
    """`iter_mbox` of one part, without a Python loop over every line: the part's separator
    offsets (`scan_mbox`'s, the same rule) cut it into messages, each read whole; `>From `
    lines are unquoted by one regex over the message. Same messages as the line loop."""
    with path.open("rb") as handle:
        offsets = part.offsets
        if not offsets:
            handle.seek(part.start)
            offsets = tuple(_separator_offsets(handle, part.start, part.end))
        handle.seek(part.start)
        count = len(offsets)
        for number, offset in enumerate(offsets):
            stop = offsets[number + 1] if number + 1 < count else part.end
            raw = handle.read(stop - offset)
            line_end = raw.find(b"\n") + 1 or len(raw)
            match = _SEPARATOR.match(raw[:line_end])
            if match is None:  # cannot happen: the offsets are separator lines by this regex
                raise ValueError(f"{path.name}: no separator line at byte {offset}")
            data = raw[line_end:]
            if b">From " in data:
                data = _QUOTED_FROM_LINES.sub(b"", data)
            yield _message(
                (part.first_index + number, match.group(1), match.group(2), offset),
                [data],
                is_last=part.last and number + 1 == count,
            )


@dataclass(frozen=True)
class MboxLayout:
    """Where a file's messages start (by `iter_mbox`'s separator rule) and its size: enough
    to cut it into parts, and to count its messages before deciding how to read it."""

    offsets: array  # offset of each message's separator line
    size: int

    @property
    def messages(self) -> int:
        return len(self.offsets)

    def parts(self, messages_per_part: int, min_parts: int = 1) -> list[MboxPart]:
        """Parts of at most `messages_per_part` messages (smaller when that makes at least
        `min_parts` parts, to keep every worker busy)."""
        offsets = self.offsets
        per_part = max(1, min(messages_per_part, -(-len(offsets) // max(1, min_parts))))
        starts = offsets[::per_part]
        return [
            MboxPart(
                first_index=number * per_part + 1,
                start=start,
                end=starts[number + 1] if number + 1 < len(starts) else self.size,
                messages=min(per_part, len(offsets) - number * per_part),
                last=number + 1 == len(starts),
                offsets=tuple(offsets[number * per_part : (number + 1) * per_part]),
            )
            for number, start in enumerate(starts)
        ]


def scan_mbox(path: Path) -> MboxLayout:
    """The separator lines `iter_mbox` splits on, found with bytes searches rather than a
    Python loop over every line. Raises UnreadableFileError as `iter_mbox` does."""
    with path.open("rb") as handle:
        offsets = array("q", _separator_offsets(handle, _skip_preamble(path, handle)))
        size = handle.seek(0, 2)
    return MboxLayout(offsets, size)


def split_mbox(path: Path, messages_per_part: int, min_parts: int = 1) -> list[MboxPart]:
    """Cut the file into parts (see `MboxLayout.parts`). Reading the parts one after the
    other gives exactly the messages of the whole file.

    Raises UnreadableFileError as `iter_mbox` does."""
    return scan_mbox(path).parts(messages_per_part, min_parts)


def _separator_offsets(handle: BinaryIO, offset: int, end: int | None = None) -> Iterator[int]:
    """File offsets of the separator lines, by `iter_mbox`'s rule (separator shape, and an
    empty line before or a Takeout id), reading blocks of whole lines (up to `end`, a
    separator line's offset or the file's size, when given)."""
    carry = b""
    previous_blank = True  # as in iter_mbox: the first line needs no empty line before it
    position = offset  # of the handle
    while True:
        size = _BLOCK_BYTES if end is None else max(0, min(_BLOCK_BYTES, end - position))
        block = handle.read(size) if size else b""
        position += len(block)
        data = carry + block
        if not data:
            return
        cut = data.rfind(b"\n") + 1 if block else len(data)  # at EOF the last line is whole
        if cut == 0:  # one line longer than a block so far
            carry = data
            continue
        chunk, carry = data[:cut], data[cut:]
        at = 0 if chunk[:5] == b"From " else _next_candidate(chunk, 0)
        while at >= 0:
            line_end = chunk.find(b"\n", at) + 1 or len(chunk)
            match = _SEPARATOR.match(chunk[at:line_end])
            if at > 0:
                blank = chunk[chunk.rfind(b"\n", 0, at - 1) + 1 : at] in _BLANK
            else:
                blank = previous_blank
            if match and (blank or _TAKEOUT_SENDER.match(match.group(1))):
                yield offset + at
            at = _next_candidate(chunk, at)
        previous_blank = chunk[chunk.rfind(b"\n", 0, len(chunk) - 1) + 1 :] in _BLANK
        offset += cut


def _next_candidate(chunk: bytes, start: int) -> int:
    """Offset of the next line after `start` that begins with `From `, or -1."""
    found = chunk.find(b"\nFrom ", start)
    return found + 1 if found >= 0 else -1


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
