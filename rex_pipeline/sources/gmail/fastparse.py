"""`BytesParser(policy=compat32).parsebytes`, faster for the shapes most mail has.

The email package's feed parser reads a message line by line through a stack of end-of-part
matchers, and spends most of its time there. For a single-part message, and for a multipart
whose parts are all single-part (what Gmail sends: text plus HTML, or text plus attachments),
we cut the text ourselves with the same rules (feedparser `_parsegen`) and build the identical
compat32 `Message` tree. Anything else (nested multiparts, embedded messages, digests, a
missing or unclosed boundary, doubled boundary lines, odd transfer encodings, malformed
headers) goes to the email package, so rare shapes keep its exact behaviour and defects.
"""

from __future__ import annotations

import quopri
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email._encoded_words import decode_b  # what `Message.get_payload` decodes base64 with
from email.message import Message
from email.parser import BytesParser
from functools import lru_cache, partial
from itertools import pairwise
from typing import Any

from rex_pipeline.sources.gmail.headers import HeaderBlock, HeaderView, read_header_block
from rex_pipeline.sources.gmail.mime import (
    Leaf,
    boundary_of,
    charset_and_name,
    content_leaf,
    disposition_type,
    first_param,
    header_params,
    parsed_content_type,
)

# compat32: ~6x faster than policy.default on real mail and never raises on bad headers
# (measured in benchmarks/gmail_bench.py --compare-policies); headers.py does the decoding.
_PARSER = BytesParser(policy=policy.compat32)
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_BOUNDARY_END = re.compile(r"(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$")
_EOL = re.compile(r"(\r\n|\r|\n)\Z")
_PLAIN_MULTIPART_CTE = ("7bit", "8bit", "binary")


def parse_message(data: bytes) -> Message:
    """The Message `BytesParser(policy=compat32).parsebytes(data)` returns."""
    return parse_message_fast(data)[0]


def parse_message_fast(data: bytes) -> tuple[Message, bool]:
    """`parse_message`, and whether the fast path built it: then its `raw_items()` are
    `headers.header_items(data)` by construction (the owner pre-scan's headers)."""
    text = data.decode("ascii", "surrogateescape")
    message = _single_or_flat(text)
    if message is not None:
        return message, True
    return _PARSER.parsebytes(data), False


def _single_or_flat(text: str) -> Message | None:
    block = read_header_block(text)
    if block.body_start is None or not block.clean:
        return None
    msg = _with_headers(block)
    maintype = msg.get_content_maintype()
    if maintype == "message":
        return None
    body = text[block.body_start :]
    if maintype != "multipart":
        msg.set_payload(body)
        return msg
    return _flat_multipart(msg, body)


def _with_headers(block: HeaderBlock) -> Message:
    msg = Message()
    for name, value in block.items:
        msg.set_raw(name, value)
    if block.unixfrom is not None:
        msg.set_unixfrom(block.unixfrom)
    return msg


def _flat_multipart(msg: Message, body: str) -> Message | None:
    """A multipart of single-part parts, as `_parsegen` builds it: preamble (without the
    newline that belongs to the first boundary), each part without the newline before the
    next boundary, the epilogue after the closing boundary. None for any other shape."""
    boundary = msg.get_boundary()
    cte = str(msg.get("content-transfer-encoding", "8bit")).lower()
    if boundary is None or cte not in _PLAIN_MULTIPART_CTE or msg.get_content_subtype() == "digest":
        return None
    separator = "--" + boundary
    lines = _LINE.findall(body)
    marks = [
        (number, match.group("end"))
        for number, line in enumerate(lines)
        if line.startswith(separator)
        and (match := _BOUNDARY_END.match(line, len(separator))) is not None
    ]
    if len(marks) < 2 or marks[0][1] or not marks[-1][1]:
        return None  # no opening boundary, or not closed (a cut file): the parser's defects
    pairs = list(pairwise(marks))
    if any(end for _, end in marks[:-1]) or any(b - a < 2 for (a, _), (b, _) in pairs):
        return None  # an early close or doubled boundary lines
    if marks[0][0]:
        preamble = lines[: marks[0][0]]
        preamble[-1] = _EOL.sub("", preamble[-1], count=1)
        msg.preamble = "".join(preamble)
    for (start, _), (stop, _) in pairs:
        part = _single_part("".join(lines[start + 1 : stop]))
        if part is None:
            return None
        msg.attach(part)
    msg.epilogue = "".join(lines[marks[-1][0] + 1 :])
    return msg


def _single_part(text: str) -> Message | None:
    """One part between boundaries, without the newline that belongs to the next one."""
    block = read_header_block(text)
    if block.body_start is None or not block.clean:
        return None
    part = _with_headers(block)
    if part.get_content_maintype() in ("multipart", "message"):
        return None
    payload = text[block.body_start :]
    part.set_payload(_EOL.sub("", payload, count=1))
    return part


# --- without Message objects --------------------------------------------------------------
#
# For the same shapes, `parse_flat` cuts the message into its leaf parts and reads their
# Content-Type, boundary and encoding straight from the header values (`mime.simple_params`
# for the usual values, the email package for the rest), then `flat_leaves` gives the `Leaf`s
# `mime.message_leaves` gives for the compat32 tree. Anything it does not take (8-bit bytes in
# those headers, uuencoded parts, `text/rfc822-headers`, a boundary holding a newline) goes to
# `parse_message_fast`, and from there to the email package.

_TAIL = re.compile(r"(--)?[ \t]*+(?:\r\n|\r|\n|\Z)")  # `_BOUNDARY_END` from after the separator
_UU = ("x-uuencode", "uuencode", "uue", "x-uue")
_MIME_HEADERS = ("content-type", "content-transfer-encoding", "content-disposition")


@dataclass(frozen=True, slots=True)
class FlatPart:
    """One leaf part: the first value of each MIME header (what `Message.get` returns) and
    where its payload lies in the message's bytes (text and bytes offsets agree: the text is
    the bytes decoded as ASCII with surrogate escapes, one character per byte)."""

    content_type: str | None
    transfer_encoding: str | None
    disposition: str | None
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class FlatMail:
    """A message `parse_flat` read: its header fields (`Message.raw_items()`), the same as a
    HeaderView, and its leaf parts."""

    items: list[tuple[str, str]]
    view: HeaderView
    parts: list[FlatPart]
    data: bytes


def parse_flat(data: bytes) -> FlatMail | None:
    """The message `parse_message_fast` would build on its fast path, as header fields and
    leaf parts; None when it is another shape or holds something this does not read (or
    something here raises: then the email package is left to raise it, where it would)."""
    try:
        return _parse_flat(data)
    except Exception:
        return None


def _parse_flat(data: bytes) -> FlatMail | None:
    text = data.decode("ascii", "surrogateescape")
    block = read_header_block(text)
    if block.body_start is None or not block.clean:
        return None
    view = HeaderView.of_fields(block.items)
    top = _mime_headers(view.firsts(_MIME_HEADERS))
    if top is None:
        return None
    ctype, params = parsed_content_type(top[0]) if top[0] is not None else ("text/plain", ())
    if not ctype.startswith("multipart/"):
        if ctype.startswith("message/") or ctype == "text/rfc822-headers":
            return None
        return FlatMail(block.items, view, [FlatPart(*top, block.body_start, len(text))], data)
    boundary = boundary_of(params)
    cte = (top[1] if top[1] is not None else "8bit").lower()
    if boundary is None or "\r" in boundary or "\n" in boundary:
        return None
    if cte not in _PLAIN_MULTIPART_CTE or ctype == "multipart/digest":
        return None
    parts = _flat_parts(text, block.body_start, "--" + boundary)
    return None if parts is None else FlatMail(block.items, view, parts, data)


def _mime_headers(first: dict[str, str]) -> tuple[str | None, ...] | None:
    """The first Content-Type, Content-Transfer-Encoding and Content-Disposition values (what
    `Message.get` gives: names compared lower-cased; field names hold no blanks), from the
    first value of each field by lower-cased name; None when one holds 8-bit bytes (then
    `Message.get` gives a `Header`) or the encoding is uuencode."""
    found = (
        first.get("content-type"),
        first.get("content-transfer-encoding"),
        first.get("content-disposition"),
    )
    for value in found:
        if value is not None and not value.isascii():
            return None
    if found[1] is not None and found[1].lower() in _UU:
        return None
    return found


def _firsts(items: list[tuple[str, str]]) -> dict[str, str]:
    """The first value of each field, by lower-cased name."""
    return {name.lower(): value for name, value in reversed(items)}


def _flat_parts(text: str, body_start: int, separator: str) -> list[FlatPart] | None:
    """`_flat_multipart`'s cut, from the boundary lines found by `str.find`: a separator at a
    line start (after CR or LF, or the body's start) followed by `--`, blanks and the line's
    end. Part i runs from the end of boundary line i to the start of boundary line i+1, less
    the newline that belongs to that boundary."""
    marks: list[tuple[int, int, bool]] = []  # line start, line end, closing
    found = text.find(separator, body_start)
    while found >= 0:
        if found == body_start or text[found - 1] in "\r\n":
            tail = _TAIL.match(text, found + len(separator))
            if tail is not None:
                marks.append((found, tail.end(), tail.group(1) is not None))
        found = text.find(separator, found + 1)
    if len(marks) < 2 or marks[0][2] or not marks[-1][2]:
        return None
    if any(close for _, _, close in marks[:-1]):
        return None
    parts = []
    for (_, start, _), (stop, _, _) in pairwise(marks):
        if start >= stop:
            return None  # doubled boundary lines
        part = _flat_part(text, start, stop)
        if part is None:
            return None
        parts.append(part)
    return parts


def _flat_part(text: str, start: int, stop: int) -> FlatPart | None:
    """`_single_part` on text[start:stop]."""
    block = read_header_block(text[start:stop])
    if block.body_start is None or not block.clean:
        return None
    mime = _mime_headers(_firsts(block.items))
    if mime is None:
        return None
    ctype = parsed_content_type(mime[0])[0] if mime[0] is not None else "text/plain"
    if ctype.startswith(("multipart/", "message/")) or ctype == "text/rfc822-headers":
        return None
    end = stop
    if text.endswith("\r\n", start, stop) and stop - start - block.body_start >= 2:
        end -= 2
    elif stop - start > block.body_start and text[stop - 1] in "\r\n":
        end -= 1
    return FlatPart(*mime, start + block.body_start, end)


def flat_leaves(mail: FlatMail) -> Iterator[Leaf]:
    """`mime.message_leaves` of the compat32 message `mail` stands for: its parts are all leaves
    (not `message/*`, delivery reports or `text/rfc822-headers`), so each is one `Leaf`."""
    for part in mail.parts:
        yield _flat_leaf(mail.data, part)


@lru_cache(maxsize=4096)
def _type_facts(content_type: str | None) -> tuple[str, str | None, Any]:
    """A leaf's content type, charset (lower-cased) and `name` parameter, as
    `mime._message_leaf` reads them from its Content-Type value: once per distinct value."""
    ctype, params = (
        parsed_content_type(content_type) if content_type is not None else ("text/plain", ())
    )
    return ctype, *charset_and_name(params)


def _flat_leaf(data: bytes, part: FlatPart) -> Leaf:
    """`mime._message_leaf` on a FlatPart."""
    ctype, charset, type_name = _type_facts(part.content_type)
    disposition = ""
    name = None
    if part.disposition is not None:
        disposition = disposition_type(part.disposition)
        name = first_param(header_params(part.disposition), "filename")
    return content_leaf(ctype, charset, type_name, disposition, name, partial(_payload, data, part))


def _payload(data: bytes, part: FlatPart) -> bytes:
    """`Message.get_payload(decode=True) or b""` of a leaf (not uuencoded); base64 decoded by
    the very function the email package uses."""
    raw = data[part.start : part.end]
    cte = (part.transfer_encoding or "").lower()
    if cte == "quoted-printable":
        return quopri.decodestring(raw) or b""
    if cte == "base64":
        return decode_b(b"".join(raw.splitlines()))[0] or b""
    return raw
