"""Adapters from the two input kinds (a Takeout mbox message, a Gmail API message) to the
common `RawMail` that `message.interpret` reads."""

from __future__ import annotations

from collections.abc import Iterator
from email.errors import CloseBoundaryNotFoundDefect
from email.message import Message
from functools import partial
from typing import Any

from rex_pipeline.sources.gmail import headers
from rex_pipeline.sources.gmail.api_json import ApiItem
from rex_pipeline.sources.gmail.fastparse import (
    flat_leaves,
    parse_flat,
    parse_message,  # noqa: F401  (callers and tests import it from here)
    parse_message_fast,
)
from rex_pipeline.sources.gmail.labels import parse_label_header, system_flags
from rex_pipeline.sources.gmail.mbox import MboxMessage
from rex_pipeline.sources.gmail.message import BadMessageError, RawMail
from rex_pipeline.sources.gmail.mime import (
    BadContentError,
    Leaf,
    api_leaves,
    b64url,
    header_block,
    message_leaves,
)


def from_mbox(item: MboxMessage) -> RawMail:
    """A Takeout message. Raises BadMessageError when the file ends inside its headers."""
    _check_headers_complete(item)
    view, leaves, fast, msg = _parsed(item.data)
    gmail_id = item.gmail_id
    return RawMail(
        headers=view,
        leaves=leaves,
        gmail_id=gmail_id,
        thread_id=_hex(headers.text(view, "X-GM-THRID")),
        labels=parse_label_header(headers.text(view, "X-Gmail-Labels")),
        fallback_time=partial(headers.parse_envelope_time, item.envelope_time),
        position={"message": item.index, "byte_offset": item.offset, "gmail_id": gmail_id},
        truncated=item.is_last and _looks_cut(item.data, msg),
        prescan_headers=fast,
    )


def _parsed(data: bytes) -> tuple[headers.HeaderView, Iterator[Leaf], bool, Message | None]:
    """A raw message's headers and leaves, whether they are what the owner pre-scan reads
    (`headers.header_items`), and the compat32 Message when one was built. The usual shapes
    are read without the email package (`parse_flat`: no Message objects); the rest as it
    parses them."""
    flat = parse_flat(data)
    if flat is not None:
        return flat.view, flat_leaves(flat), True, None
    msg, fast = parse_message_fast(data)
    return headers.HeaderView.of(msg), message_leaves(msg), fast, msg


def mbox_headers(item: MboxMessage) -> tuple[headers.HeaderView, frozenset[str]]:
    """A Takeout message's headers and system label flags, read without the email package
    (`headers.header_items` gives what its parser would): the owner pre-scan's input.
    Raises BadMessageError when `from_mbox` would."""
    _check_headers_complete(item)
    view = headers.HeaderView(headers.header_items(item.data))
    return view, system_flags(parse_label_header(headers.text(view, "X-Gmail-Labels")))


def _check_headers_complete(item: MboxMessage) -> None:
    if item.is_last and b"\n\n" not in item.data and b"\n\r\n" not in item.data:
        raise BadMessageError("truncated: the file ends inside this message's headers")


def from_api(item: ApiItem) -> RawMail:
    """A Gmail API message in `raw`, `full` or `metadata` format."""
    message = item.message or {}
    gmail_id = str(message["id"]) if message.get("id") else None
    position = {**item.position, "gmail_id": gmail_id}
    raw = message.get("raw")
    payload = message.get("payload")
    if isinstance(raw, str) and raw.strip():
        try:
            data = b64url(raw)
        except BadContentError as exc:
            raise BadMessageError(f"'raw' is not a message: {exc}") from exc
        view, leaves, _, _ = _parsed(data)
    elif isinstance(payload, dict):
        view = headers.HeaderView.of(header_block(payload.get("headers")))
        leaves = api_leaves(payload)
    elif not isinstance(payload, dict | None) or not isinstance(raw, str | None):  # hand-made JSON
        wrong = "raw" if isinstance(payload, dict | None) else "payload"
        kind = type(message[wrong]).__name__
        raise BadMessageError(f"'{wrong}' has the wrong type ({kind}) for a Gmail API message")
    else:
        raise BadMessageError(
            "no 'payload' or 'raw' (a messages.list stub or format=minimal); "
            "export with format=full, metadata or raw"
        )
    labels = message.get("labelIds")
    return RawMail(
        headers=view,
        leaves=leaves,
        gmail_id=gmail_id,
        thread_id=str(message["threadId"]) if message.get("threadId") else None,
        labels=tuple(str(label) for label in labels) if isinstance(labels, list) else (),
        fallback_time=partial(headers.epoch_millis, message.get("internalDate")),
        position=position,
        is_draft=item.is_draft,
        snippet=_text_or_none(message.get("snippet")),
    )


def _hex(decimal: str | None) -> str | None:
    """Takeout's decimal X-GM-THRID as the API's hex threadId (a 64-bit number: ASCII digits,
    at most 20; anything else is kept as given)."""
    if decimal and decimal.isascii() and decimal.isdigit() and len(decimal) <= 20:
        return format(int(decimal), "x")
    return decimal


def _looks_cut(data: bytes, msg: Message | None) -> bool:
    """The last message of a file was cut off: no final newline or an unclosed multipart
    (`parse_flat`, which built no Message, takes closed multiparts only)."""
    if not data.endswith(b"\n"):
        return True
    return msg is not None and any(
        isinstance(defect, CloseBoundaryNotFoundDefect)
        for part in msg.walk()
        for defect in part.defects
    )


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None
