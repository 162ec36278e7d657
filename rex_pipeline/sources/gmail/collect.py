"""Gather one file's messages into RAW activity and contact frames.

Direction, counterparty and owner depend on which addresses are the owner's, which is learnt
from the export itself (the first `Delivered-To` of received mail, the `From` of sent mail and
drafts), and the mail that reveals it can come anywhere in the file. So reading is split in two:

- `ChunkReader` reads a run of messages on its own (in this process or in a worker) into a
  `ChunkResult`: the activity rows with what the decision needs (Arrow-backed polars, no parsed
  messages, raw bytes or attachments), rejects, counters, owner addresses seen and per-address
  evidence for contacts;
- `FileCollector` absorbs the results in file order: rejects second copies of a message (the
  first one wins), merges the evidence exactly as reading one message after the other would, and
  decides. Held (no sink): all rows at once in `finish`, when the owner set is complete.
  Streamed (`sink`): the caller has already learnt the owner set in a cheap header-only
  pre-scan (`known_owners`), so each result is decided and handed to the sink at once and
  memory stays flat however large the file. Contacts are built at the end from the evidence
  (one small entry per distinct address), so each address is emitted once per file and its
  best name sees the whole file.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain, repeat
from typing import Any

import polars as pl

from rex_pipeline import records
from rex_pipeline.sources.gmail.identity import OwnIdentity, is_correspondent
from rex_pipeline.sources.gmail.message import MessageFacts

SOURCE_SYSTEM = "gmail"
BATCH_ROWS = 2000  # rows per result when nothing is streamed
CHUNK_MESSAGES = 5000  # rows per chunk handed to a sink
_MAX_NAMES_PER_ADDRESS = 8
_SENDER_NAME_WEIGHT = 3  # how people name themselves beats how others' address books do
_RAW_TEXT_LIMIT = 2000

# Activity rows while reading: the RAW_ACTIVITY values we know per message plus what the final
# direction/counterparty decision needs (underscored, dropped at the end).
_WORK_SCHEMA: dict[str, pl.DataType] = {
    "source_key": pl.String(),
    "raw": pl.String(),
    "subtype": pl.String(),
    "status": pl.String(),
    "subject": pl.String(),
    "body": pl.String(),
    "occurred_at": records.UTC_TS,
    "external_id": pl.String(),
    "metadata": pl.String(),
    "_from": pl.String(),
    "_recipients": records.STR_LIST,
    "_failed": records.STR_LIST,
    "_sent": pl.Boolean(),
    "_delivered_to": pl.String(),
}
_LIST_COLUMNS = ("_recipients", "_failed")


@dataclass(slots=True)
class _AddressEvidence:
    """What the file (or a chunk of it) says about one correspondent address. A file keeps at
    most `_MAX_NAMES_PER_ADDRESS` names; a chunk keeps all, in first-seen order, so that
    `absorb` can apply the file's limit as if the messages had been read one by one."""

    email: str  # as first seen
    # name -> weight, in first-seen order (a dict: a Counter per address cost a third of
    # the evidence's handling, in creating, pickling and unpickling them)
    names: dict[str, int] = field(default_factory=dict)
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    messages: int = 0

    def saw(self, name: str, weight: int, when: datetime | None) -> None:
        self.messages += 1
        if name:
            self.names[name] = self.names.get(name, 0) + weight
        self._seen_at(when, when)

    def absorb(self, later: _AddressEvidence) -> None:
        """Add a later chunk's evidence. A name is kept when it is kept already or there is
        room when it first appears; since the set only grows, that decision made at a name's
        first appearance in the chunk is the one reading message by message would make, and
        then every later mention counts."""
        self.messages += later.messages
        for name, weight in later.names.items():
            if name in self.names or len(self.names) < _MAX_NAMES_PER_ADDRESS:
                self.names[name] = self.names.get(name, 0) + weight
        self._seen_at(later.first_seen, later.last_seen)

    def _seen_at(self, first: datetime | None, last: datetime | None) -> None:
        if first is not None:
            self.first_seen = first if self.first_seen is None else min(self.first_seen, first)
        if last is not None:
            self.last_seen = last if self.last_seen is None else max(self.last_seen, last)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its constructor's arguments: a worker's part names thousands of
        addresses, and the default state of a slotted dataclass pickles and loads at half the
        speed."""
        state = (self.email, self.names, self.first_seen, self.last_seen, self.messages)
        return (_AddressEvidence, state)

    @property
    def best_name(self) -> str | None:
        # max keeps the first-seen of tied names: deterministic
        return max(self.names, key=self.names.__getitem__) if self.names else None


# what `json.dumps(value, ensure_ascii=False, default=str)` builds for every call, built once
# (the encoder keeps no state between calls): two per message
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


def _json(value: Any) -> str:
    return _ENCODER.encode(value)


@dataclass(slots=True)
class ChunkResult:
    """What a run of messages yielded before any file-wide decision (picklable: it comes back
    from a worker process)."""

    work: pl.DataFrame  # _WORK_SCHEMA rows in file order, duplicates included
    rejected: list[dict[str, Any]]  # {"raw": json text, "reason": ...}
    evidence: dict[str, _AddressEvidence]  # by lower-cased address, in first-seen order
    counts: Counter[str]
    owners_seen: list[str]  # owner addresses the messages reveal

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with the rows as uncompressed Arrow IPC: a worker writes a 5,000-message
        part's rows so in about 3 ms, where pickling the frame (polars' own format) took 16 ms
        and up to 100 ms on fresh memory, time in which the worker reads no mail. The frame
        comes back equal, schema included."""
        rows = io.BytesIO()
        self.work.write_ipc(rows, compression="uncompressed")
        state = (rows.getvalue(), self.rejected, self.evidence, self.counts, self.owners_seen)
        return (_chunk_result, state)


def _chunk_result(
    rows: bytes,
    rejected: list[dict[str, Any]],
    evidence: dict[str, _AddressEvidence],
    counts: Counter[str],
    owners_seen: list[str],
) -> ChunkResult:
    return ChunkResult(pl.read_ipc(io.BytesIO(rows)), rejected, evidence, counts, owners_seen)


class ChunkReader:
    """Reads messages into rows, rejects, counters and evidence; knows nothing of the rest of
    the file. `take` hands over what was read so far and starts afresh."""

    def __init__(self) -> None:
        self._reset()

    def reveal(self, owner: str | None) -> None:
        """An owner address a message shows without becoming an activity (see parse)."""
        if owner:
            self._owners.append(owner)

    def _reset(self) -> None:
        self.counts: Counter[str] = Counter()
        self._rows: list[dict[str, Any]] = []
        self._rejected: list[dict[str, Any]] = []
        self._evidence: dict[str, _AddressEvidence] = {}
        self._owners: list[str] = []

    @property
    def pending(self) -> int:
        return len(self._rows) + len(self._rejected)

    def count(self, counter: str) -> None:
        self.counts[counter] += 1

    def reject(self, raw: dict[str, Any], reason: str) -> None:
        text = _json(raw)
        if len(text) > _RAW_TEXT_LIMIT:  # keep the reject table small; the file has the rest
            text = _json({"truncated": text[:_RAW_TEXT_LIMIT]})
        self._rejected.append({"raw": text, "reason": reason})

    def add(self, facts: MessageFacts) -> None:
        owner = facts.sender.email if facts.sender else None
        if not (facts.labelled_sent or facts.is_draft):
            owner = facts.delivered_to
        if owner:
            self._owners.append(owner)
        if facts.metadata.get("truncated"):
            self.count("truncated")
        when = facts.occurred_at
        if facts.sender:
            self._saw(facts.sender.email, facts.sender.name, _SENDER_NAME_WEIGHT, when)
        for recipient in facts.recipients:
            self._saw(recipient.email, recipient.name, 1, when)
        for failed in facts.failed_recipients:
            self._saw(failed, "", 0, when)
        self._rows.append(
            {
                "source_key": facts.external_id,
                "raw": _json(facts.raw),
                "subtype": facts.subtype,
                "status": facts.status,
                "subject": facts.subject,
                "body": facts.body,
                "occurred_at": facts.occurred_at,
                "external_id": facts.external_id,
                "metadata": _json(facts.metadata),
                "_from": facts.sender.email if facts.sender else None,
                "_recipients": [r.email for r in facts.recipients],
                "_failed": facts.failed_recipients,
                "_sent": facts.labelled_sent or facts.is_draft,
                "_delivered_to": facts.delivered_to,
            }
        )

    def _saw(self, email: str, name: str, weight: int, when: datetime | None) -> None:
        key = email.lower()
        evidence = self._evidence.get(key)
        if evidence is None:
            evidence = self._evidence[key] = _AddressEvidence(email)
        evidence.saw(name, weight, when)

    def take(self) -> ChunkResult:
        result = ChunkResult(
            work=_work_frame(self._rows),
            rejected=self._rejected,
            evidence=self._evidence,
            counts=self.counts,
            owners_seen=self._owners,
        )
        self._reset()
        return result


def _work_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """`pl.DataFrame(rows, schema=_WORK_SCHEMA, strict=False)`, the list columns built from
    one flat column: polars converts a column of Python lists element by element, which took
    most of a part's frame building (an eighth of a ms per row)."""
    if not rows:
        return pl.DataFrame(rows, schema=_WORK_SCHEMA, strict=False)
    scalars = {name: dtype for name, dtype in _WORK_SCHEMA.items() if name not in _LIST_COLUMNS}
    frame = pl.DataFrame(rows, schema=scalars, strict=False)
    lists = [_list_column(name, [row[name] for row in rows]) for name in _LIST_COLUMNS]
    return frame.with_columns(lists).select(list(_WORK_SCHEMA))


def _list_column(name: str, values: list[list[str]]) -> pl.Series:
    """A List(String) column of non-null lists, from their elements in one flat column and the
    row each came from (rows with an empty list get one from `fill_null`)."""
    owners = list(chain.from_iterable(repeat(row, len(v)) for row, v in enumerate(values)))
    flat = pl.DataFrame(
        {"row": owners, name: list(chain.from_iterable(values))},
        schema={"row": pl.UInt32(), name: pl.String()},
        strict=False,
    )
    grouped = flat.group_by("row", maintain_order=True).agg(pl.col(name))
    every = pl.DataFrame({"row": pl.int_range(0, len(values), dtype=pl.UInt32(), eager=True)})
    joined = every.join(grouped, on="row", how="left", maintain_order="left")
    empty = pl.lit([], dtype=records.STR_LIST)
    return joined.select(pl.col(name).fill_null(empty).cast(records.STR_LIST)).to_series()


class LateOwnerError(Exception):
    """A streamed read without pre-scan learnt an owner address after chunks naming it were
    handed to the sink (their direction, counterparty or owner may be wrong): undo what the
    sink received and read the file again with the pre-scan."""


class FileCollector:
    """Absorbs one file's chunk results in order; `finish` builds the ParsedFile.

    `speculative` (streamed, no pre-scan): each chunk is decided with the owners learnt so far.
    A row's decision depends on the owner set only through whether its addresses (sender,
    recipients, failed recipients: exactly the addresses of the evidence) are own, so an owner
    learnt later changes no row handed over unless it was not own already and some earlier
    chunk named it; that case raises LateOwnerError."""

    def __init__(
        self,
        *,
        org_id: str,
        source_file: str,
        own_addresses: Collection[str],
        own_domains: Collection[str],
        file_format: str,
        sink: Callable[[records.ParsedFile], None] | None = None,
        known_owners: Collection[str] = (),
        chunk_messages: int = CHUNK_MESSAGES,
        speculative: bool = False,
    ) -> None:
        self.org_id = org_id
        self.source_file = source_file
        self.identity = OwnIdentity(own_addresses, own_domains)
        for address in known_owners:
            self.identity.discover(address)
        self.stats: Counter[str] = Counter()
        self.file_format = file_format
        self._sink = sink
        self.chunk_rows = max(1, chunk_messages) if sink else BATCH_ROWS
        self._seen_ids: set[str] = set()  # external ids read so far: the first one wins
        self._emitted: Counter[str] = Counter()  # rows handed to the sink, per frame
        self._batches: list[pl.DataFrame] = []
        self._rejected: list[dict[str, Any]] = []
        self._copies: list[dict[str, Any]] = []  # second copies: rejected rows, listed last
        self._addresses: dict[str, _AddressEvidence] = {}
        self._speculative = speculative and sink is not None

    def absorb(self, result: ChunkResult) -> None:
        """Take in the next chunk of the file; when streaming, decide it and hand it (and its
        rejects) to the sink."""
        if self._speculative:
            self._check_late_owners(result.owners_seen)
        self.stats.update(result.counts)
        for address in result.owners_seen:
            self.identity.discover(address)
        for key, evidence in result.evidence.items():
            known = self._addresses.get(key)
            if known is None:
                if len(evidence.names) <= _MAX_NAMES_PER_ADDRESS:
                    self._addresses[key] = evidence  # absorbed into a new one, it would be copied
                    continue
                self._addresses[key] = known = _AddressEvidence(evidence.email)
            known.absorb(evidence)
        self._rejected += result.rejected
        if result.work.height:
            first = pl.Series(
                [self._first(i) for i in result.work["external_id"]], dtype=pl.Boolean
            )
            self._reject_copies(result.work.filter(~first))
            work = result.work.filter(first)
            if work.height:
                self._batches.append(work)
        if self._sink is not None:
            self._emit(activities=self._activities(), rejected=self._rejected_frame())

    def _check_late_owners(self, owners: list[str]) -> None:
        """Raise LateOwnerError when an owner not yet counted as own was named by a chunk
        already handed to the sink (evidence, by lower-cased address, covers every address
        a decision reads)."""
        named = {owner.lower() for owner in owners} & self._addresses.keys()
        late = {owner for owner in named if not self.identity.covers(owner)}
        if late:
            raise LateOwnerError(
                f"{self.source_file}: owner address(es) {', '.join(sorted(late))} learnt after "
                "chunks naming them were handed over"
            )

    def _reject_copies(self, copies: pl.DataFrame) -> None:
        """A message read again (same external_id: API pages that overlap, a message saved
        twice) is a record read, so it becomes a rejected row; the first copy is the one kept."""
        self.stats["duplicates"] += copies.height
        self._copies += copies.select(
            "raw",
            pl.format(
                "duplicate message: external_id {} was read earlier in this file",
                "external_id",
            ).alias("reason"),
        ).to_dicts()

    def _first(self, external_id: str) -> bool:
        if external_id in self._seen_ids:
            return False
        self._seen_ids.add(external_id)
        return True

    def _emit(self, **frames: pl.DataFrame) -> None:
        frames = {name: frame for name, frame in frames.items() if frame.height}
        if frames and self._sink is not None:
            self._sink(records.ParsedFile(**frames))
            self._emitted.update({name: frame.height for name, frame in frames.items()})

    # --- at the end -----------------------------------------------------------------------

    def finish(self) -> records.ParsedFile:
        """The file's ParsedFile: all frames and the stats, or (streaming) the stats only,
        after handing the contacts to the sink."""
        if self._sink is not None:
            self._emit(contacts=self._contacts())
            activities = contacts = rejected = None
            for name in ("activities", "contacts", "rejected"):
                self.stats[name] = self._emitted[name]
        else:
            activities = self._activities()
            contacts = self._contacts()
            rejected = self._rejected_frame()
            self.stats["activities"] = activities.height
            self.stats["contacts"] = contacts.height
            self.stats["rejected"] = rejected.height
        stats: dict[str, Any] = {
            "format": self.file_format,
            **{
                name: self.stats[name]
                for name in (
                    "messages_read",
                    "activities",
                    "duplicates",
                    "skipped_spam",
                    "skipped_trash",
                    "skipped_chat",
                    "rejected",
                    "truncated",
                    "contacts",
                )
            },
            "own_addresses": sorted(self.identity.discovered),
        }
        return records.ParsedFile(
            activities=activities, contacts=contacts, rejected=rejected, stats=stats
        )

    def _lineage(self) -> list[pl.Expr]:
        return [
            pl.lit(self.org_id).alias("org_id"),
            pl.lit(SOURCE_SYSTEM).alias("source_system"),
            pl.lit(self.source_file).alias("source_file"),
            pl.lit(None, dtype=pl.Int64()).alias("source_row"),
        ]

    def _activities(self) -> pl.DataFrame:
        if not self._batches:
            return records.empty(records.RAW_ACTIVITY)
        frame = pl.concat(self._batches, how="vertical", rechunk=False)
        self._batches = []

        identity = self.identity
        outbound = pl.col("_sent") | identity.expr(pl.col("_from"))
        element = pl.element()
        first_correspondent = (
            pl.col("_recipients")
            .list.eval(element.filter(is_correspondent(identity, element)))
            .list.first()
        )
        first_failed = (
            pl.col("_failed").list.eval(element.filter(~identity.expr(element))).list.first()
        )
        first_own = pl.col("_recipients").list.eval(element.filter(identity.expr(element)))
        counterparty = (
            pl.when(pl.col("subtype") == "bounce")
            .then(first_failed)
            .when(outbound)
            .then(first_correspondent)
            .when(is_correspondent(identity, pl.col("_from")))
            .then(pl.col("_from"))
            .otherwise(None)
        )
        owner = (
            pl.when(outbound)
            .then(pl.col("_from"))
            .otherwise(pl.coalesce(pl.col("_delivered_to"), first_own.list.first()))
        )
        frame = frame.with_columns(
            *self._lineage(),
            pl.lit("email").alias("type"),
            pl.lit(SOURCE_SYSTEM).alias("source"),
            pl.when(outbound)
            .then(pl.lit("outbound"))
            .otherwise(pl.lit("inbound"))
            .alias("direction"),
            counterparty.alias("contact_email"),
            owner.alias("owner"),
        )
        return records.conform(frame, records.RAW_ACTIVITY)

    def _contacts(self) -> pl.DataFrame:
        if not self._addresses:
            return records.empty(records.RAW_CONTACT)
        evidence = list(self._addresses.values())
        frame = pl.DataFrame(
            {
                "email": [e.email for e in evidence],
                "full_name": [e.best_name for e in evidence],
                "created_at": [e.first_seen for e in evidence],
                "updated_at": [e.last_seen for e in evidence],
                "messages": [e.messages for e in evidence],
            },
            schema={
                "email": pl.String(),
                "full_name": pl.String(),
                "created_at": records.UTC_TS,
                "updated_at": records.UTC_TS,
                "messages": pl.Int64(),
            },
            strict=False,
        )
        frame = frame.filter(is_correspondent(self.identity, pl.col("email"))).with_columns(
            *self._lineage(),
            (pl.lit("gmail:") + pl.col("email").str.to_lowercase()).alias("source_key"),
            pl.struct("email", "full_name").struct.json_encode().alias("raw"),
            pl.struct(pl.col("messages").alias("message_count"))
            .struct.json_encode()
            .alias("metadata"),
            pl.lit("email").alias("source"),
        )
        return records.conform(frame, records.RAW_CONTACT)

    def _rejected_frame(self) -> pl.DataFrame:
        rows = self._rejected + self._copies
        if not rows:
            return records.empty(records.REJECTED)
        frame = pl.DataFrame(rows, schema={"raw": pl.String(), "reason": pl.String()})
        self._rejected, self._copies = [], []
        return records.conform(frame.with_columns(*self._lineage()), records.REJECTED)
