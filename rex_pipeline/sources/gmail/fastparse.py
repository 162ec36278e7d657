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

import re
from email import policy
from email.message import Message
from email.parser import BytesParser
from itertools import pairwise

from rex_pipeline.sources.gmail.headers import HeaderBlock, read_header_block

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
