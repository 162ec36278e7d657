"""The content of a message: body text, attachment names and sizes, delivery-status reports.

Both inputs (a parsed RFC 822 message and a Gmail API `payload` tree) are flattened into the
same `Leaf` parts, so body selection is written once. Embedded messages (`message/rfc822`,
e.g. the copy of the original inside a bounce or a forwarded mail) are never descended into:
their text is not this message's body and their Message-ID is not a second message.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from email.utils import collapse_rfc2231_value, unquote
from functools import lru_cache
from typing import Any

from rex_pipeline.sources.gmail.headers import decode_words, message_id
from rex_pipeline.sources.gmail.text import decode_bytes, html_to_text, tidy

DELIVERY_STATUS = "message/delivery-status"
_DSN_BLOCKS = re.compile(r"\r?\n[ \t]*\r?\n")
_DSN_FIELD = re.compile(r"^([A-Za-z-]+)[ \t]*:[ \t]*(.*)$")


class BadContentError(ValueError):
    """A part's content cannot be decoded (e.g. invalid base64url in a Gmail API body)."""


@dataclass(frozen=True, slots=True)
class Leaf:
    """One non-multipart part. `load` decodes the content on demand, so attachments of skipped
    messages are never decoded."""

    content_type: str
    charset: str | None
    filename: str | None
    is_attachment: bool
    size: int | None
    load: Callable[[], bytes]


@dataclass(slots=True)
class Content:
    body: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    failed_recipients: list[str] = field(default_factory=list)  # Action: failed in the report


# --- parsed RFC 822 messages ------------------------------------------------------------


def disposition_type(value: str) -> str:
    """The disposition of a Content-Disposition value, lower-cased ("attachment")."""
    return value.split(";", 1)[0].strip().lower()


def _disposition(headers: Message) -> str:
    return disposition_type(str(headers.get("Content-Disposition", "")))


def _filename(headers: Message) -> str | None:
    try:
        name = headers.get_filename()
    except (ValueError, LookupError, UnicodeError):
        return None
    return clean_filename(name)


def clean_filename(name: Any) -> str | None:
    if not name:
        return None
    return decode_words(collapse_rfc2231_value(name)).strip() or None


def message_leaves(part: Message) -> Iterator[Leaf]:
    """Leaves of a compat32 message, depth first, not entering embedded messages."""
    ctype, params = _content_type(part)
    if ctype == DELIVERY_STATUS:
        yield Leaf(ctype, None, None, False, None, lambda: _delivery_status_bytes(part))
    elif ctype.startswith("message/") or ctype == "text/rfc822-headers":
        name = _filename(part)
        if name:  # a message forwarded as an attachment: list it, do not read it
            yield Leaf(ctype, None, name, True, None, lambda: _as_bytes(part))
    elif part.is_multipart():
        for sub in part.get_payload():
            if isinstance(sub, Message):
                yield from message_leaves(sub)
    else:
        yield _message_leaf(part, ctype, params)


ContentTypeParams = tuple[tuple[str, Any], ...]


def _content_type(part: Message) -> tuple[str, ContentTypeParams]:
    """`part.get_content_type()` and `part.get_params([])`, from one lookup of the header. Both
    are functions of its value alone, and the same few values ("text/plain; charset=UTF-8")
    recur in every message, so they are computed once per value. A value the email package
    hands back as a Header (raw 8-bit bytes) or a missing header (the default type depends
    on the parent) is read the usual way."""
    value = part.get("content-type")
    if isinstance(value, str):
        return parsed_content_type(value)
    return part.get_content_type(), tuple(part.get_params([], header="content-type"))


@lru_cache(maxsize=4096)
def parsed_content_type(value: str) -> tuple[str, ContentTypeParams]:
    """`get_content_type()` and `get_params([])` of a Message whose first Content-Type is
    `value` (a str: no raw 8-bit bytes)."""
    ctype = value.partition(";")[0].strip().lower()  # `_splitparam`, as get_content_type
    params = simple_params(value)
    if params is None:
        return reference_content_type(value)
    return ctype if ctype.count("/") == 1 else "text/plain", params


def reference_content_type(value: str) -> tuple[str, ContentTypeParams]:
    """What the email package says: `parsed_content_type`'s fallback and reference."""
    holder = Message()
    holder.set_raw("Content-Type", value)
    return holder.get_content_type(), tuple(holder.get_params([], header="content-type"))


def simple_params(value: str) -> ContentTypeParams | None:
    """`Message.get_params()` (unquoted) of a header whose value is `value`, when the value is
    plain ASCII without quoted-pair escapes (`\\`) or RFC 2231 parameters (`*`) and no `;`
    inside quotes, else None. Then `_parseparam` splits at every `;`, lower-cases and strips
    names that have a `=`, strips values; `decode_params` and `get_params` unquote each value
    (`unquote` after `quote` is the identity without backslashes). Real mail's Content-Type
    values are nearly all like this; the email package costs most of a part's reading here."""
    if "\\" in value or "*" in value or not value.isascii():
        return None
    params = []
    for piece in value.split(";"):
        if piece.count('"') % 2:  # a `;` inside quotes: `_parseparam` would not split there
            return None
        name, equals, rest = piece.partition("=")
        if equals:
            params.append((name.strip().lower(), unquote(rest.strip())))
        else:
            params.append((piece.strip(), ""))
    return tuple(params)


def header_params(value: str) -> ContentTypeParams:
    """`Message.get_params()` of a header (any name) whose first value is the str `value`."""
    params = simple_params(value)
    if params is not None:
        return params
    holder = Message()
    holder.set_raw("Content-Disposition", value)
    return tuple(holder.get_params([], header="content-disposition"))


def first_param(params: ContentTypeParams, name: str) -> Any:
    """`Message.get_param(name)`: the first parameter so named (any case), else None."""
    return next((v for k, v in params if k.lower() == name), None)


def boundary_of(params: ContentTypeParams) -> str | None:
    """`Message.get_boundary()` from the Content-Type's `get_params()`."""
    value = first_param(params, "boundary")
    return None if value is None else collapse_rfc2231_value(value).rstrip()


def charset_and_name(content_params: ContentTypeParams) -> tuple[str | None, Any]:
    """A leaf's charset (lower-cased) and `name` parameter from its Content-Type's
    `get_params()`, as `get_content_charset()` and `get_param("name")` read them."""
    params = {str(k).lower(): v for k, v in content_params[1:]}
    charset = collapse_rfc2231_value(params["charset"]) if params.get("charset") else None
    return (charset.lower() if charset else None), params.get("name")


def _message_leaf(part: Message, ctype: str, content_params: ContentTypeParams) -> Leaf:
    """Parse Content-Type parameters once (compat32 re-parses the header for every get_param,
    get_content_charset and get_filename call: a visible cost at 100k messages)."""
    charset, type_name = charset_and_name(content_params)
    disposition = ""
    name = None
    if part.get("Content-Disposition") is not None:
        disposition = _disposition(part)
        name = part.get_param("filename", header="content-disposition")
    return content_leaf(
        ctype, charset, type_name, disposition, name, lambda: part.get_payload(decode=True) or b""
    )


def content_leaf(
    ctype: str,
    charset: str | None,
    type_name: Any,
    disposition: str,
    filename: Any,
    load: Callable[[], bytes],
) -> Leaf:
    """A leaf described by its Content-Type and Content-Disposition: named by the
    disposition's filename, else the type's `name`; an attachment when so disposed."""
    return Leaf(
        ctype,
        charset,
        clean_filename(filename or type_name),
        disposition == "attachment",
        None,
        load,
    )


def _as_bytes(part: Message) -> bytes:
    try:
        return part.as_bytes()
    except (ValueError, LookupError, UnicodeError):  # a malformed embedded message: size unknown
        return b""


def _delivery_status_bytes(part: Message) -> bytes:
    """compat32 parses a delivery-status body into one header block per recipient."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return b"\n\n".join(block.as_bytes() for block in payload if isinstance(block, Message))
    return part.get_payload(decode=True) or b""


# --- Gmail API payload trees --------------------------------------------------------------


def b64url(data: str) -> bytes:
    """Gmail's base64url, with or without `=` padding (plain base64 is accepted too)."""
    cleaned = data.strip().rstrip("=")
    try:
        return base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError) as exc:
        raise BadContentError(f"invalid base64url data ({exc})") from exc


def header_block(headers: Any) -> Message:
    """A Gmail API `headers` list (`[{"name": ..., "value": ...}]`, names in any case) as a
    compat32 Message, so API and Takeout headers are read by the same code."""
    block = Message()
    for header in headers if isinstance(headers, list) else ():
        if isinstance(header, dict) and header.get("name"):
            block[str(header["name"])] = str(header.get("value") or "")
    return block


def api_leaves(part: dict[str, Any]) -> Iterator[Leaf]:
    """Leaves of a Gmail API `payload` (format `full`)."""
    headers = header_block(part.get("headers"))
    mime = str(part.get("mimeType") or headers.get_content_type()).lower()
    body = part.get("body") if isinstance(part.get("body"), dict) else {}
    children = part.get("parts")
    filename = str(part.get("filename") or "").strip() or _filename(headers)
    size = body.get("size") if isinstance(body.get("size"), int) else None
    data = body.get("data")

    def load() -> bytes:
        return b64url(data) if isinstance(data, str) and data else b""

    if mime == DELIVERY_STATUS:
        yield Leaf(mime, None, None, False, size, load)
    elif mime.startswith("message/"):
        if filename:
            yield Leaf(mime, None, filename, True, size, load)
    elif isinstance(children, list) and children:
        for child in children:
            if isinstance(child, dict):
                yield from api_leaves(child)
    else:
        attached = "attachmentId" in body or _disposition(headers) == "attachment"
        yield Leaf(mime, headers.get_content_charset(), filename, attached, size, load)


# --- what the leaves say ------------------------------------------------------------------


def read_content(leaves: Iterable[Leaf]) -> Content:
    """Body (text/plain preferred, else HTML as text), attachments, and the recipients a
    delivery-status report says failed."""
    content = Content()
    plain: list[str] = []
    html: list[str] = []
    for leaf in leaves:
        if leaf.content_type == DELIVERY_STATUS:
            content.failed_recipients += failed_in_report(decode_bytes(leaf.load(), "utf-8"))
        elif leaf.filename or leaf.is_attachment:
            size = leaf.size if leaf.size is not None else len(leaf.load())
            content.attachments.append({"name": leaf.filename, "size": size})
        elif leaf.content_type == "text/plain":
            plain.append(decode_bytes(leaf.load(), leaf.charset))
        elif leaf.content_type == "text/html":
            html.append(decode_bytes(leaf.load(), leaf.charset))
    text = tidy("\n\n".join(plain))
    if not text and html:
        text = html_to_text("\n".join(html))
    content.body = text or None
    return content


def failed_in_report(report: str) -> list[str]:
    """Recipients with `Action: failed` in a message/delivery-status body (RFC 3464)."""
    failed: list[str] = []
    for block in _DSN_BLOCKS.split(report):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            match = _DSN_FIELD.match(line)
            if match:
                fields.setdefault(match.group(1).lower(), match.group(2).strip())
        recipient = fields.get("final-recipient") or fields.get("original-recipient")
        if recipient and fields.get("action", "").lower().startswith("failed"):
            address = message_id(recipient.split(";", 1)[-1].strip())  # strips optional <>
            if address and "@" in address and address not in failed:
                failed.append(address)
    return failed
