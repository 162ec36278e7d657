"""One message, as read from either input, turned into the facts an email activity needs.

Direction and counterparty are *not* decided here: they depend on which addresses are the
owner's, which is only fully known once the whole file has been read (see `collect`).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rex_pipeline.sources.gmail import classify, headers
from rex_pipeline.sources.gmail.headers import Address, HeaderView
from rex_pipeline.sources.gmail.labels import DRAFT, SENT, system_flags
from rex_pipeline.sources.gmail.mime import BadContentError, Leaf, read_content

_IDENTITY_HEADERS = ("From", "To", "Cc", "Subject", "Date", "Message-ID")
_MAILTO = re.compile(r"mailto:([^>?,\s]+@[^>?,\s]+)", re.IGNORECASE)


class BadMessageError(ValueError):
    """This message cannot become an activity; the text is the reason shown to analysts."""


@dataclass(slots=True)
class RawMail:
    """A message as read from a file, before interpretation. `leaves` is lazy: skipped
    messages never have their content decoded."""

    headers: HeaderView
    leaves: Iterator[Leaf]
    gmail_id: str | None
    thread_id: str | None
    labels: tuple[str, ...]
    fallback_time: Callable[[], datetime | None]  # Takeout separator time or API internalDate
    position: dict[str, Any]  # where in the file, for rejected rows
    is_draft: bool = False  # came wrapped in a drafts.get response
    truncated: bool = False  # the file ends inside this message
    snippet: str | None = None  # the only text of API `metadata`-format messages
    # the headers are those the owner pre-scan reads (`headers.header_items`), so the owner
    # it would find is the one this message reveals when read
    prescan_headers: bool = False

    @property
    def flags(self) -> frozenset[str]:
        return system_flags(self.labels) | ({DRAFT} if self.is_draft else frozenset())


@dataclass(slots=True)
class MessageFacts:
    """Everything about one message that the activity and contact records need."""

    external_id: str
    subject: str | None
    body: str | None
    occurred_at: datetime | None
    subtype: str | None
    status: str
    sender: Address | None
    recipients: list[Address]  # To, Cc, Bcc in that order, without mailing-list addresses
    failed_recipients: list[str]
    delivered_to: str | None  # the mailbox that received it: an owner address
    labelled_sent: bool
    is_draft: bool
    metadata: dict[str, Any]
    raw: dict[str, Any] = field(default_factory=dict)


def key_headers(view: HeaderView) -> dict[str, Any]:
    """The headers that identify a message, decoded, for lineage and rejected rows."""
    return {name: value for name in _IDENTITY_HEADERS if (value := headers.text(view, name))}


def owner_address(view: HeaderView, flags: frozenset[str]) -> str | None:
    """The owner address a message reveals, from its headers alone: the `From` of sent mail
    and drafts, else the first `Delivered-To`. The same rule `collect` applies to
    `MessageFacts`; this form serves the header-only pre-scan of a streamed file."""
    name = "From" if SENT in flags or DRAFT in flags else "Delivered-To"
    found = headers.first_address(view, name)
    return found.email if found else None


def interpret(mail: RawMail) -> MessageFacts:
    """Read one message. Raises BadMessageError when it is not usable as an activity."""
    view = mail.headers
    raw = key_headers(view)
    if not raw:
        raise BadMessageError("no mail headers (From, To, Cc, Subject, Date or Message-ID)")
    try:
        content = read_content(mail.leaves)
    except BadContentError as exc:
        raise BadMessageError(f"message content cannot be decoded: {exc}") from exc

    sender = headers.first_address(view, "From")
    to, cc = headers.addresses(view, "To"), headers.addresses(view, "Cc")
    subject = raw.get("Subject")
    message_id = headers.message_id(raw.get("Message-ID"))
    in_reply_to = headers.message_id(headers.text(view, "In-Reply-To"))
    failed = _unique(
        [a.email for a in headers.addresses(view, "X-Failed-Recipients")]
        + content.failed_recipients
    )
    body = content.body
    if body is None and mail.snippet:
        body = html.unescape(mail.snippet)
    # Gmail puts the receiving account's address in the first (topmost) Delivered-To.
    delivered = headers.first_address(view, "Delivered-To")
    flags = mail.flags

    metadata: dict[str, Any] = {
        "gmail_id": mail.gmail_id,
        "gmail_thread_id": mail.thread_id,
        "labels": list(mail.labels),
        "attachments": content.attachments,
        "from": sender.formatted() if sender else raw.get("From"),
        "to": [a.formatted() for a in to],
        "cc": [a.formatted() for a in cc],
        "in_reply_to": in_reply_to,
        "message_id": message_id,
    }
    if failed:
        metadata["failed_recipients"] = failed
    if mail.truncated:
        metadata["truncated"] = True

    return MessageFacts(
        external_id=message_id or _content_hash(raw, body),
        subject=subject,
        body=body,
        occurred_at=headers.parse_date(raw.get("Date")) or mail.fallback_time(),
        subtype=classify.subtype(
            sender=sender,
            subject=subject,
            in_reply_to=in_reply_to,
            failed_recipients=failed,
            auto_submitted=headers.text(view, "Auto-Submitted"),
            autoreply_header=headers.text(view, "X-Autoreply")
            or headers.text(view, "X-Autorespond"),
        ),
        status="draft" if DRAFT in flags else "completed",
        sender=sender,
        recipients=_people(to + cc + headers.addresses(view, "Bcc"), view),
        failed_recipients=failed,
        delivered_to=delivered.email if delivered else None,
        labelled_sent=SENT in flags,
        is_draft=DRAFT in flags,
        metadata=metadata,
        raw=raw,
    )


def _content_hash(raw: dict[str, Any], body: str | None) -> str:
    """A stable id for a message without Message-ID: the same message gives the same hash in a
    Takeout file and an API dump (decoded headers; the body only when there is no Date)."""
    parts = [" ".join(str(raw.get(name, "")).lower().split()) for name in _IDENTITY_HEADERS[:5]]
    if "Date" not in raw:
        parts.append(" ".join((body or "").split()))
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return f"sha256:{digest[:32]}"


def _people(recipients: list[Address], view: HeaderView) -> list[Address]:
    """Recipients without the mailing list the message went through (`List-Post`): a list
    address is not a person to have as a contact or counterparty."""
    lists = {m.lower() for v in view.raw("List-Post") for m in _MAILTO.findall(v)}
    return [r for r in recipients if r.key not in lists] if lists else recipients


def _unique(values: list[str]) -> list[str]:
    """Addresses in order, each once (compared case-insensitively)."""
    seen: set[str] = set()
    unique: list[str] = []
    for value in values:
        if value.lower() not in seen:
            seen.add(value.lower())
            unique.append(value)
    return unique
