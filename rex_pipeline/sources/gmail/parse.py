"""Entry point: one file of `inbox/gmail/` (Takeout mbox or Gmail API JSON) -> ParsedFile."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from rex_pipeline import records
from rex_pipeline.sources.gmail.api_json import iter_api_items
from rex_pipeline.sources.gmail.collect import CHUNK_MESSAGES, FileCollector
from rex_pipeline.sources.gmail.inputs import from_api, from_mbox
from rex_pipeline.sources.gmail.labels import CHAT, SPAM, TRASH
from rex_pipeline.sources.gmail.mbox import iter_mbox
from rex_pipeline.sources.gmail.message import (
    BadMessageError,
    RawMail,
    interpret,
    key_headers,
    owner_address,
)

MBOX, API_JSON = "mbox", "gmail_api_json"


def detect_format(path: Path) -> str:
    """`.mbox` (any name) and `.json`/`.jsonl` by extension; anything else by its first bytes."""
    suffix = path.suffix.lower()
    if suffix == ".mbox":
        return MBOX
    if suffix in (".json", ".jsonl"):
        return API_JSON
    try:
        with path.open("rb") as handle:
            head = handle.read(1024).lstrip(b"\xef\xbb\xbf\r\n\t ")
    except OSError as exc:
        raise records.UnreadableFileError(f"{path.name}: cannot be read ({exc})") from exc
    if head.startswith(b"From "):
        return MBOX
    if head[:1] in (b"{", b"["):
        return API_JSON
    raise records.UnreadableFileError(
        f"{path.name}: neither a Takeout mbox nor Gmail API JSON (unknown extension "
        f"{suffix or '(none)'} and no mbox or JSON content)"
    )


def parse_gmail_file(
    path: Path,
    org_id: str,
    own_addresses: Collection[str],
    own_domains: Collection[str],
    skip_spam_and_trash: bool = True,
    sink: Callable[[records.ParsedFile], None] | None = None,
    chunk_messages: int = CHUNK_MESSAGES,
) -> records.ParsedFile:
    """Read a Takeout `.mbox` or a Gmail API `.json`/`.jsonl` dump into RAW email activities
    (one per message, deduplicated on external_id) and RAW contacts (one per correspondent).

    `own_addresses` and `own_domains` (subdomains included; a `@` entry counts as an address)
    say which mail is the org's; the export adds the owner addresses it reveals. Spam and Trash
    are skipped (and counted) unless `skip_spam_and_trash` is False; Chat items always are. A
    message that cannot be read becomes a REJECTED row; a file that is not mail at all raises
    records.UnreadableFileError.

    stats: format, messages_read (= activities + duplicates + skipped_* + rejected), activities,
    duplicates, skipped_spam, skipped_trash, skipped_chat, rejected, truncated, contacts, and
    own_addresses (sorted owner addresses discovered in this file).

    With a `sink`, memory stays flat however large the file: a first pass reads only headers
    to learn the owner addresses, then the activities and rejected rows are handed to the sink
    in chunks of about `chunk_messages` rows as they are read, and the contacts (each address
    once) at the end. The returned ParsedFile then has empty frames and the same stats. If the
    file fails midway, the sink has already received part of it: the caller undoes that."""
    path = Path(path)
    file_format = detect_format(path)
    try:
        known_owners = _owner_addresses(path, file_format, skip_spam_and_trash) if sink else set()
        collector = FileCollector(
            org_id=org_id,
            source_file=path.name,
            own_addresses=own_addresses,
            own_domains=own_domains,
            file_format=file_format,
            sink=sink,
            known_owners=known_owners,
            chunk_messages=chunk_messages,
        )
        if file_format == MBOX:
            _read_mbox(collector, path, skip_spam_and_trash)
        else:
            _read_api_dump(collector, path, skip_spam_and_trash)
    except OSError as exc:
        raise records.UnreadableFileError(f"{path.name}: cannot be read ({exc})") from exc
    except RecursionError as exc:  # hostile nesting past what _read_one and api_json contain
        raise records.UnreadableFileError(f"{path.name}: nested too deeply to read") from exc
    return collector.finish()


def _owner_addresses(path: Path, file_format: str, skip_spam_and_trash: bool) -> set[str]:
    """First pass of a streamed file: the owner addresses its messages reveal, read from
    headers only (bodies are neither kept nor parsed). Messages the second pass would skip
    or reject for their headers are left out here too; a message that fails here is left to
    the second pass to reject."""
    converts: Iterator[Callable[[], RawMail]]
    if file_format == MBOX:
        converts = (partial(from_mbox, item) for item in iter_mbox(path, headers_only=True))
    else:
        converts = (partial(from_api, item) for item in iter_api_items(path) if not item.error)
    owners: set[str] = set()
    for convert in converts:
        try:
            mail = convert()
            flags = mail.flags
            skipped = CHAT in flags or (skip_spam_and_trash and bool(flags & {SPAM, TRASH}))
            if not skipped and key_headers(mail.headers):
                address = owner_address(mail)
                if address:
                    owners.add(address.lower())
        except Exception:  # the second pass rejects it, with the reason
            continue
    return owners


def _read_mbox(collector: FileCollector, path: Path, skip_spam_and_trash: bool) -> None:
    for item in iter_mbox(path):
        position = {"message": item.index, "byte_offset": item.offset, "gmail_id": item.gmail_id}
        _read_one(collector, lambda item=item: from_mbox(item), position, skip_spam_and_trash)


def _read_api_dump(collector: FileCollector, path: Path, skip_spam_and_trash: bool) -> None:
    for item in iter_api_items(path):
        if item.error is not None:
            collector.count("messages_read")
            collector.reject({**item.position, "record": item.original}, item.error)
        else:
            _read_one(
                collector, lambda item=item: from_api(item), item.position, skip_spam_and_trash
            )


def _read_one(
    collector: FileCollector,
    convert: Callable[[], RawMail],
    position: dict[str, Any],
    skip_spam_and_trash: bool,
) -> None:
    """Read one message into the collector: an activity, a counted skip, or a rejected row.

    Any failure is caught here on purpose: one message the email package chokes on must cost
    that message (as a rejected row with the reason), never the rest of a many-GB file. What
    the collector (and so a sink) raises is not the message's fault: it propagates."""
    collector.count("messages_read")
    mail: RawMail | None = None
    try:
        mail = convert()
        flags = mail.flags
        if CHAT in flags:
            collector.count("skipped_chat")
            return
        if skip_spam_and_trash and SPAM in flags:
            collector.count("skipped_spam")
            return
        if skip_spam_and_trash and TRASH in flags:
            collector.count("skipped_trash")
            return
        facts = interpret(mail)
    except BadMessageError as exc:
        collector.reject(_reject_raw(mail, position), str(exc))
    except RecursionError:  # the email package recurses once per level of MIME nesting
        collector.reject(_reject_raw(mail, position), "MIME parts nested too deeply to read")
    except Exception as exc:  # see docstring
        reason = f"unreadable message ({type(exc).__name__}: {exc})"
        collector.reject(_reject_raw(mail, position), reason)
    else:
        collector.add(facts)


def _reject_raw(mail: RawMail | None, position: dict[str, Any]) -> dict[str, Any]:
    if mail is None:
        return dict(position)
    try:
        return {**mail.position, **key_headers(mail.headers)}
    except Exception:  # headers too broken to show: the position is enough
        return dict(mail.position)
