"""Entry point: one file of `inbox/gmail/` (Takeout mbox or Gmail API JSON) -> ParsedFile."""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from rex_pipeline import records
from rex_pipeline.sources.gmail.api_json import iter_api_items
from rex_pipeline.sources.gmail.collect import (
    CHUNK_MESSAGES,
    ChunkReader,
    ChunkResult,
    FileCollector,
)
from rex_pipeline.sources.gmail.headers import HeaderView
from rex_pipeline.sources.gmail.inputs import from_api, from_mbox, mbox_headers
from rex_pipeline.sources.gmail.labels import CHAT, SPAM, TRASH
from rex_pipeline.sources.gmail.mbox import (
    MboxLayout,
    MboxMessage,
    MboxPart,
    iter_mbox,
    scan_mbox,
)
from rex_pipeline.sources.gmail.message import (
    BadMessageError,
    RawMail,
    interpret,
    key_headers,
    owner_address,
)
from rex_pipeline.sources.gmail.workers import Call, PartPool

MBOX, API_JSON = "mbox", "gmail_api_json"
ADDED, SKIPPED, REJECTED = "added", "skipped", "rejected"  # what _read_one did with a message
PARALLEL_MIN_MESSAGES = 3000  # below this a pool's start-up (about a second) costs more


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
    pool: PartPool | None = None,
    prescan: bool = True,
) -> records.ParsedFile:
    """Read a Takeout `.mbox` or a Gmail API `.json`/`.jsonl` dump into RAW email activities
    (one per message, deduplicated on external_id) and RAW contacts (one per correspondent).

    `own_addresses` and `own_domains` (subdomains included; a `@` entry counts as an address)
    say which mail is the org's; the export adds the owner addresses it reveals. Spam and Trash
    are skipped unless `skip_spam_and_trash` is False; Chat items always are. A skipped
    message, a second copy of a message (same external_id) and a message that cannot be read
    each become a REJECTED row with the reason; a file that is not mail at all raises
    records.UnreadableFileError.

    stats: format, messages_read (= activities + rejected), activities, rejected, and among
    the rejected: duplicates, skipped_spam, skipped_trash, skipped_chat; truncated, contacts,
    and own_addresses (sorted owner addresses discovered in this file).

    With a `sink`, memory stays flat however large the file: a pre-scan reads only headers to
    learn the owner addresses, then the activities and rejected rows are handed to the sink in
    chunks of at most `chunk_messages` messages as they are read, and the contacts (each
    address once) at the end. The returned ParsedFile then has empty frames and the same stats.
    If the file fails midway, the sink has already received part of it: the caller undoes that.

    `prescan=False` (a streamed mbox only) skips the pre-scan, which costs about a quarter of
    the reading: the owner addresses are learnt while reading, which gives the same output
    unless an address that earlier chunks named turns out to be the owner's (rows already
    handed over were decided without it). Then LateOwnerError is raised: the caller undoes
    what the sink received and reads the file again with the pre-scan.

    With a `pool` of more than one worker, an mbox of at least PARALLEL_MIN_MESSAGES messages
    is cut into parts read by the workers; the output is the same as reading it here."""
    path = Path(path)
    file_format = detect_format(path)
    collector_args: dict[str, Any] = {
        "org_id": org_id,
        "source_file": path.name,
        "own_addresses": own_addresses,
        "own_domains": own_domains,
        "file_format": file_format,
        "sink": sink,
        "chunk_messages": chunk_messages,
    }
    try:
        if file_format == MBOX:
            collector = _read_mbox(path, collector_args, skip_spam_and_trash, pool, prescan)
        else:
            collector = _read_api_dump(path, collector_args, skip_spam_and_trash)
    except OSError as exc:
        raise records.UnreadableFileError(f"{path.name}: cannot be read ({exc})") from exc
    except RecursionError as exc:  # hostile nesting past what _read_one and api_json contain
        raise records.UnreadableFileError(f"{path.name}: nested too deeply to read") from exc
    return collector.finish()


def _read_mbox(
    path: Path,
    collector_args: dict[str, Any],
    skip: bool,
    pool: PartPool | None,
    prescan: bool = True,
) -> FileCollector:
    """Cut the file into parts and read them, here or in the pool's workers: the same
    functions on the same parts, so both ways give the same output. A streamed read learns
    the owners first (pre-scan) or, without `prescan`, as it goes (see parse_gmail_file).
    With a pool, the next file of `pool.upcoming` is planned as this one's last parts are
    submitted, so the workers go on to its first parts without waiting for this file's end."""
    workers = pool.workers if pool is not None else 1
    chunk_messages = collector_args["chunk_messages"]
    calls, parallel = _mbox_calls(path, _layout(path, pool), chunk_messages, workers, skip)
    known_owners: set[str] = set()
    prescan = prescan and collector_args["sink"] is not None
    if pool is not None and parallel:
        if prescan:
            owners = pool.executor().map(mbox_part_owners, *zip(*calls, strict=True))
            known_owners = set().union(*owners)

        def plan_next() -> tuple[Path, list[Call]] | None:
            following = pool.next_file(path)
            if following is None or detect_format(following) != MBOX:
                return None
            layout = scan_mbox(following)
            pool.ahead_state[following] = (_identity(following), layout)
            planned, pooled = _mbox_calls(following, layout, chunk_messages, workers, skip)
            return (following, planned) if pooled else None

        window = 2 * workers
        results = pool.in_order(read_mbox_part, path, calls, window, ahead=plan_next)
    else:
        if prescan:
            known_owners = set().union(*(mbox_part_owners(*call) for call in calls))
        results = (read_mbox_part(*call) for call in calls)
    speculative = collector_args["sink"] is not None and not prescan
    collector = FileCollector(**collector_args, known_owners=known_owners, speculative=speculative)
    for result in results:
        collector.absorb(result)
    return collector


def _mbox_calls(
    path: Path, layout: MboxLayout, chunk_messages: int, workers: int, skip: bool
) -> tuple[list[Call], bool]:
    """The `read_mbox_part` calls that read the file, and whether they go to the workers."""
    parallel = workers > 1 and layout.messages >= PARALLEL_MIN_MESSAGES
    # read here, a file is cut by chunk size only: each further part is one more sink call
    min_parts = 4 * workers if parallel else 1
    return [(path, part, skip) for part in layout.parts(chunk_messages, min_parts)], parallel


def _identity(path: Path) -> tuple[int, int, int]:
    """What says a file is still the one that was scanned: inode, size, modification time."""
    stat = path.stat()
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def _layout(path: Path, pool: PartPool | None) -> MboxLayout:
    """The file's layout: scanned when its next-file turn was planned, else scanned now."""
    planned = pool.ahead_state.pop(path, None) if pool is not None else None
    if planned is not None and planned[0] == _identity(path):
        return planned[1]
    return scan_mbox(path)


def mbox_part_owners(path: Path, part: MboxPart, skip_spam_and_trash: bool) -> set[str]:
    """The owner addresses a part's messages reveal, from their headers alone (read at bytes
    level, never by the email package). Messages the main read would skip or reject for their
    headers are left out here too; a message that fails here is left to it to reject."""
    owners = {_prescan_owner(item, skip_spam_and_trash) for item in iter_mbox(path, True, part)}
    return {owner for owner in owners if owner}


def _prescan_owner(item: MboxMessage, skip_spam_and_trash: bool) -> str | None:
    """The owner address (lower-cased) the pre-scan learns from one message, if any."""
    try:
        view, flags = mbox_headers(item)
        address = _revealed_owner(view, flags, skip_spam_and_trash)
    except Exception:  # the main read rejects it, with the reason
        return None
    return address.lower() if address else None


def read_mbox_part(path: Path, part: MboxPart, skip_spam_and_trash: bool) -> ChunkResult:
    """Read one part of an mbox file (runs in a worker process when the file is big).

    Its owners include every address the pre-scan would learn from these messages: an
    activity's owner is that address when the fast parser read the headers as the pre-scan
    does (nearly always); otherwise, and for rejected messages, the pre-scan's own rule is
    applied to the message."""
    reader = ChunkReader()
    for item in iter_mbox(path, part=part):
        position = {"message": item.index, "byte_offset": item.offset, "gmail_id": item.gmail_id}
        status, mail = _read_one(
            reader, lambda item=item: from_mbox(item), position, skip_spam_and_trash
        )
        if status == REJECTED or mail is None or not mail.prescan_headers:
            reader.reveal(_prescan_owner(item, skip_spam_and_trash))
    return reader.take()


def _revealed_owner(view: HeaderView, flags: frozenset[str], skip: bool) -> str | None:
    """The owner address of a message the main read would keep, else None."""
    skipped = CHAT in flags or (skip and bool(flags & {SPAM, TRASH}))
    if skipped or not key_headers(view):
        return None
    return owner_address(view, flags)


def _read_api_dump(path: Path, collector_args: dict[str, Any], skip: bool) -> FileCollector:
    known_owners: set[str] = set()
    if collector_args["sink"] is not None:
        known_owners = _api_owners(path, skip)
    collector = FileCollector(**collector_args, known_owners=known_owners)
    reader = ChunkReader()
    for item in iter_api_items(path):
        if item.error is not None:
            reader.count("messages_read")
            reader.reject({**item.position, "record": item.original}, item.error)
        else:
            _read_one(reader, lambda item=item: from_api(item), item.position, skip)
        if reader.pending >= collector.chunk_rows:
            collector.absorb(reader.take())
    collector.absorb(reader.take())
    return collector


def _api_owners(path: Path, skip: bool) -> set[str]:
    """Pre-scan of a streamed API dump: owner addresses from the messages' headers."""
    owners: set[str] = set()
    for item in iter_api_items(path):
        if item.error:
            continue
        try:
            mail = from_api(item)
            address = _revealed_owner(mail.headers, mail.flags, skip)
        except Exception:  # the main read rejects it, with the reason
            continue
        if address:
            owners.add(address.lower())
    return owners


def _read_one(
    reader: ChunkReader,
    convert: Callable[[], RawMail],
    position: dict[str, Any],
    skip_spam_and_trash: bool,
) -> tuple[str, RawMail | None]:
    """Read one message into the reader: an activity, a counted skip, or a rejected row
    (which of ADDED, SKIPPED, REJECTED, and the message as read, if it could be).

    Any failure is caught here on purpose: one message the email package chokes on must cost
    that message (as a rejected row with the reason), never the rest of a many-GB file."""
    reader.count("messages_read")
    mail: RawMail | None = None
    try:
        mail = convert()
        skipped = _skipped(mail.flags, skip_spam_and_trash)
        if skipped is not None:
            counter, reason = skipped
            reader.count(counter)
            reader.reject(_reject_raw(mail, position), reason)
            return SKIPPED, mail
        facts = interpret(mail)
    except BadMessageError as exc:
        reader.reject(_reject_raw(mail, position), str(exc))
    except RecursionError:  # the email package recurses once per level of MIME nesting
        reader.reject(_reject_raw(mail, position), "MIME parts nested too deeply to read")
    except Exception as exc:  # see docstring
        reason = f"unreadable message ({type(exc).__name__}: {exc})"
        reader.reject(_reject_raw(mail, position), reason)
    else:
        reader.add(facts)
        return ADDED, mail
    return REJECTED, mail


_SKIP_REASONS = {
    "skipped_chat": "a Google Chat item, not an email",
    "skipped_spam": "labelled Spam: skipped (gmail.skip_spam_and_trash in rex.yaml)",
    "skipped_trash": "in Trash: skipped (gmail.skip_spam_and_trash in rex.yaml)",
}


def _skipped(flags: frozenset[str], skip_spam_and_trash: bool) -> tuple[str, str] | None:
    """(counter, reason) of a message that is not loaded: Chat always, Spam and Trash unless
    configured otherwise. It is still a record read, so it becomes a rejected row."""
    if CHAT in flags:
        counter = "skipped_chat"
    elif skip_spam_and_trash and SPAM in flags:
        counter = "skipped_spam"
    elif skip_spam_and_trash and TRASH in flags:
        counter = "skipped_trash"
    else:
        return None
    return counter, _SKIP_REASONS[counter]


def _reject_raw(mail: RawMail | None, position: dict[str, Any]) -> dict[str, Any]:
    if mail is None:
        return dict(position)
    try:
        return {**mail.position, **key_headers(mail.headers)}
    except Exception:  # headers too broken to show: the position is enough
        return dict(mail.position)
