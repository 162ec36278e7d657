"""Inbox scanning and parsing: find the files that are new or changed since the last successful
run (a manifest of sizes and SHA-256 hashes), parse them with the parser of their folder, and
stage the raw records as this run's batch.

Unchanged files cost one `stat` each (their hash is cached by place in the inbox, size and
mtime), and no parser is even imported for a folder with nothing new, so a sync of an unchanged
inbox is nearly free. A file that cannot be read is reported (one `rejected_records` row and a
failed manifest entry) and the other files still load.

Gmail files (Takeout mbox, possibly many GB) are streamed: the parser hands chunks to a sink
that appends them to the batch tables at once, so memory stays flat however large the file; a
big mbox is read by a pool of worker processes (one per CPU), started once per run.
Other systems' files are parsed whole and staged at the end.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl

from rex_pipeline import records
from rex_pipeline.config import Settings
from rex_pipeline.faults import crash_point
from rex_pipeline.handover import registered

if TYPE_CHECKING:
    from rex_pipeline.sources.gmail.workers import PartPool

SYSTEMS = ("csv", "gmail", "instantly")
STREAMED = frozenset({"gmail"})  # systems whose files are staged chunk by chunk
PREVIEW_ROWS = 20  # rows per entity a streamed Batch keeps in `frames`, for metadata
ENTITIES = ("contacts", "companies", "activities", "deals", "tasks")
RAW_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "contacts": records.RAW_CONTACT,
    "companies": records.RAW_COMPANY,
    "activities": records.RAW_ACTIVITY,
    "deals": records.RAW_DEAL,
    "tasks": records.RAW_TASK,
}
_SUFFIXES = {
    "csv": {".csv", ".txt", ".tsv"},
    "gmail": {".mbox", ".json", ".jsonl", ".ndjson", ""},
    "instantly": {".csv", ".json", ".jsonl", ".ndjson"},
}


@dataclass(frozen=True)
class InboxFile:
    system: str
    path: Path
    size: int
    mtime_ns: int
    relative: str = ""  # the path under inbox/<system>/ ("" when not found by scan_inbox)
    same_name_as: str = ""  # the `relative` of another file that holds this base name

    @property
    def name(self) -> str:
        """How lineage names the file: its base name, or, for a file whose base name another
        file holds, its path under inbox/<system>/ (it is reported, not read)."""
        return self.relative if self.same_name_as else self.path.name

    def clash(self) -> records.UnreadableFileError | None:
        if not self.same_name_as:
            return None
        return records.UnreadableFileError(
            f"{self.system}/{self.same_name_as} has the same file name, and records are traced "
            "to their file by name: rename one of the two files"
        )

    @property
    def cache_key(self) -> str:
        """Its key in `file_hash_cache`: "<system>/<relative path>", so that an inbox that is
        moved or restored elsewhere (times kept) keeps its hashes."""
        return f"{self.system}/{self.relative}" if self.relative else str(self.path)


@dataclass
class FileReport:
    """What happened to one file in this run (shown in asset metadata)."""

    system: str
    file_name: str
    path: str
    size: int
    sha256: str
    status: str  # loaded | unreadable
    records_read: int = 0
    records_rejected: int = 0
    error: str | None = None
    seconds: float = 0.0
    stats: dict[str, Any] = field(default_factory=dict)


def scan_inbox(inbox: Path, system: str) -> list[InboxFile]:
    """Every candidate file under `inbox/<system>/`, recursively, hidden files skipped."""
    folder = inbox / system
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or any(part.startswith(".") for part in rel.parts):
            continue
        if path.suffix.lower() not in _SUFFIXES[system]:
            continue
        st = path.stat()
        found.append(InboxFile(system, path, st.st_size, st.st_mtime_ns, rel.as_posix()))
    return found


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


_HASH_CACHE_SCHEMA = {
    "path": pl.String,
    "size": pl.Int64,
    "mtime_ns": pl.Int64,
    "sha256": pl.String,
}


def file_hashes(con: duckdb.DuckDBPyConnection, files: Iterable[InboxFile]) -> dict[Path, str]:
    """The SHA-256 of each file: from the cache when its place in the inbox, size and mtime
    are those hashed before, else read (and the cache, `file_hash_cache` in the work
    database, updated). A file rewritten with another size or mtime is always read again.

    Trusting (place, size, mtime to the nanosecond) is rsync's quick check: every write sets
    the mtime, so a file can match with other content only if its mtime was set back on
    purpose. The inbox's own location is not part of the key: copies that keep times (cp -a,
    rsync -a, a restored backup, another mount point) are the same files."""
    cached = {
        (_relative_key(key), size, mtime_ns): sha
        for key, size, mtime_ns, sha in con.execute(
            "SELECT path, size, mtime_ns, sha256 FROM file_hash_cache"
        ).fetchall()
    }
    hashes: dict[Path, str] = {}
    fresh: list[tuple[str, int, int, str]] = []
    for f in files:
        hit = cached.get((f.cache_key, f.size, f.mtime_ns))
        if hit is not None:
            hashes[f.path] = hit
            continue
        hashes[f.path] = sha256_of(f.path)
        fresh.append((f.cache_key, f.size, f.mtime_ns, hashes[f.path]))
    if fresh:  # one statement, one commit (executemany commits each row)
        rows = pl.DataFrame(fresh, schema=_HASH_CACHE_SCHEMA, orient="row")
        with registered(con, "__hashed", rows):
            con.execute("INSERT OR REPLACE INTO file_hash_cache SELECT * FROM __hashed")
    return hashes


def _relative_key(key: str) -> str:
    """A cache key as `InboxFile.cache_key`: entries written before the keys were relative
    hold the absolute path, whose part after the last "/<system>/" is the relative one."""
    if not key.startswith("/"):
        return key
    at, system = max((key.rfind(f"/{system}/"), system) for system in SYSTEMS)
    return f"{system}/{key[at + len(system) + 2 :]}" if at >= 0 else key


def one_file_per_name(
    files: Iterable[InboxFile], loaded_paths: dict[tuple[str, str], str]
) -> list[InboxFile]:
    """Lineage names a file by its base name (`source_file`), so two files of one name in a
    system's folder (`csv/hubspot/contacts.csv`, `csv/salesforce/contacts.csv`) cannot both
    load. The one the manifest knows under that name keeps it (else the first by path); each
    other one is marked `same_name_as` it, to be reported under its relative path instead."""
    by_name: dict[tuple[str, str], list[InboxFile]] = {}
    for f in files:
        by_name.setdefault((f.system, f.path.name), []).append(f)
    marked: list[InboxFile] = []
    for key, group in by_name.items():
        holder = next((f for f in group if str(f.path) == loaded_paths.get(key)), group[0])
        marked += [f if f is holder else replace(f, same_name_as=holder.relative) for f in group]
    return sorted(marked, key=lambda f: f.path)


def files_to_load(
    con: duckdb.DuckDBPyConnection, org_id: str, files: Iterable[InboxFile], force: bool = False
) -> tuple[list[tuple[InboxFile, str]], int]:
    """The files whose content is not in the manifest yet, with their hash, and the number of
    unchanged files skipped. Hashes come from `file_hashes` (a file is read only when its
    size or mtime changed since it was last hashed)."""
    manifest = con.execute(
        "SELECT source_system, file_name, size, sha256, path FROM manifest WHERE org_id = ?",
        [org_id],
    ).fetchall()
    loaded = {(system, name): (size, sha) for system, name, size, sha, _ in manifest}
    files = one_file_per_name(files, {(system, name): path for system, name, *_, path in manifest})
    hashes = file_hashes(con, files)
    todo: list[tuple[InboxFile, str]] = []
    skipped = 0
    for f in files:
        sha = hashes[f.path]
        previous = loaded.get((f.system, f.name))
        if not force and previous is not None and previous == (f.size, sha):
            skipped += 1
            continue
        todo.append((f, sha))
    return todo, skipped


def _parser_for(system: str, settings: Settings, own: set[str]) -> Callable[[Path], Any]:
    org = settings.org_id
    if system == "csv":
        from rex_pipeline.sources.csv import parse_csv_file

        return lambda p: parse_csv_file(p, org)
    if system == "gmail":
        from rex_pipeline.sources.gmail import parse_gmail_file

        return lambda p: parse_gmail_file(
            p,
            org,
            own_addresses=own,
            own_domains=settings.own_domains,
            skip_spam_and_trash=settings.gmail.skip_spam_and_trash,
        )
    if system == "instantly":
        from rex_pipeline.sources.instantly import parse_instantly_file

        return lambda p: parse_instantly_file(p, org)
    raise ValueError(f"unknown source system {system!r}")


Sink = Callable[[records.ParsedFile], None]
# parse(path, sink, prescan): a streamed system's parser (prescan: see parse_gmail_file)
StreamParser = Callable[[Path, Sink, bool], records.ParsedFile]


def _streaming_parser_for(
    system: str, settings: Settings, own: set[str], chunk_messages: int | None, pool: PartPool
) -> StreamParser:
    if system != "gmail":
        raise ValueError(f"source system {system!r} is not streamed")
    from rex_pipeline.sources.gmail import parse_gmail_file

    chunking = {} if chunk_messages is None else {"chunk_messages": chunk_messages}
    return lambda p, sink, prescan: parse_gmail_file(
        p,
        settings.org_id,
        own_addresses=own,
        own_domains=settings.own_domains,
        skip_spam_and_trash=settings.gmail.skip_spam_and_trash,
        sink=sink,
        pool=pool,
        prescan=prescan,
        **chunking,
    )


def _file_rejection(org_id: str, system: str, name: str, error: str) -> pl.DataFrame:
    return records.from_rows(
        [
            {
                "org_id": org_id,
                "source_system": system,
                "source_file": name,
                "source_row": None,
                "raw": json.dumps({"file": name}),
                "reason": f"unreadable file: {error}",
            }
        ],
        records.REJECTED,
    )


@dataclass
class Batch:
    """The raw records of one system's changed files. For a streamed system `frames` holds
    only the first PREVIEW_ROWS rows of each entity (the records are in the batch tables);
    `counts` is right for every system."""

    frames: dict[str, pl.DataFrame]
    rejected: pl.DataFrame
    reports: list[FileReport]
    own_addresses: set[str]
    skipped_unchanged: int
    counts: dict[str, int] = field(default_factory=dict)  # records staged per entity


def parse_files(
    system: str, todo: list[tuple[InboxFile, str]], settings: Settings, own: set[str]
) -> Batch:
    """Parse each file; a failing file becomes a report and a rejected row, never an abort."""
    parse: Callable[[Path], Any] | None = None
    frames: dict[str, list[pl.DataFrame]] = {e: [] for e in ENTITIES}
    rejected: list[pl.DataFrame] = []
    reports: list[FileReport] = []
    discovered: set[str] = set()
    for f, sha in todo:
        started = time.perf_counter()
        report = FileReport(system, f.name, str(f.path), f.size, sha, "loaded")
        if parse is None:  # imported for the first file: an unchanged inbox needs no parser
            parse = _parser_for(system, settings, own)
        try:
            if clash := f.clash():
                raise clash
            parsed: records.ParsedFile = parse(f.path)
        except Exception as exc:  # a bad file must never stop the others
            reason = str(exc) if isinstance(exc, records.UnreadableFileError) else repr(exc)
            report.status, report.error = "unreadable", reason
            report.records_rejected = 1
            rejected.append(_file_rejection(settings.org_id, system, f.name, reason))
        else:
            for entity in ENTITIES:
                frame = getattr(parsed, entity)
                if frame.height:
                    frames[entity].append(frame.with_columns(file_sha=pl.lit(sha)))
            if parsed.rejected.height:
                rejected.append(parsed.rejected)
            report.records_read = parsed.records_read
            report.records_rejected = parsed.rejected.height
            report.stats = {k: v for k, v in parsed.stats.items() if k != "own_addresses"}
            discovered.update(a.lower() for a in parsed.stats.get("own_addresses", []))
        report.seconds = round(time.perf_counter() - started, 3)
        reports.append(report)
    joined = {
        e: pl.concat(fs, how="vertical_relaxed") if fs else _empty_raw(e)
        for e, fs in frames.items()
    }
    return Batch(
        frames=joined,
        rejected=pl.concat(rejected) if rejected else records.empty(records.REJECTED),
        reports=reports,
        own_addresses=discovered,
        skipped_unchanged=0,
        counts={e: f.height for e, f in joined.items()},
    )


def _empty_raw(entity: str) -> pl.DataFrame:
    return records.empty(RAW_SCHEMAS[entity]).with_columns(file_sha=pl.lit(None, pl.String))


def stream_files(
    con: duckdb.DuckDBPyConnection,
    system: str,
    todo: list[tuple[InboxFile, str]],
    settings: Settings,
    own: set[str],
    chunk_messages: int | None = None,
) -> Batch:
    """Parse each file straight into this run's batch tables, chunk by chunk, after clearing
    the system's previous batch rows. A file that fails midway has its appended rows removed
    and becomes a report and a rejected row, never an abort."""
    from rex_pipeline import batch as batch_tables
    from rex_pipeline.sources.gmail.workers import PartPool

    where, params = "source_system = ?", [system]
    for entity in ENTITIES:
        batch_tables.replace_rows(con, f"batch_raw_{entity}", _empty_raw(entity), where, params)
    empty_rejected = records.empty(records.REJECTED)
    batch_tables.replace_rows(con, "batch_rejected_source", empty_rejected, where, params)

    with PartPool() as pool:  # worker processes start only for a big mbox file
        pool.upcoming = [f.path for f, _ in todo]  # so it reads ahead into the next file
        parse = _streaming_parser_for(system, settings, own, chunk_messages, pool)
        return _stream_each(con, system, todo, settings, parse)


def _stream_each(
    con: duckdb.DuckDBPyConnection,
    system: str,
    todo: list[tuple[InboxFile, str]],
    settings: Settings,
    parse: StreamParser,
) -> Batch:
    from rex_pipeline import batch as batch_tables
    from rex_pipeline.sources.gmail import LateOwnerError

    empty_rejected = records.empty(records.REJECTED)
    preview: dict[str, list[pl.DataFrame]] = {e: [] for e in ENTITIES}
    counts: Counter[str] = Counter()
    rejected: list[pl.DataFrame] = []
    reports: list[FileReport] = []
    discovered: set[str] = set()
    for f, sha in todo:
        started = time.perf_counter()
        report = FileReport(system, f.name, str(f.path), f.size, sha, "loaded")
        stager = _FileStager(con, sha)
        try:
            if clash := f.clash():
                raise clash
            try:  # one pass, learning the owners as it reads (the rare miss: read again)
                parsed = parse(f.path, stager, False)
            except LateOwnerError:
                _remove_file_rows(con, system, f.name)
                stager = _FileStager(con, sha)
                parsed = parse(f.path, stager, True)
            stager(parsed)  # anything the parser returned instead of streaming
        except Exception as exc:  # a bad file must never stop the others
            _remove_file_rows(con, system, f.name)
            reason = str(exc) if isinstance(exc, records.UnreadableFileError) else repr(exc)
            report.status, report.error = "unreadable", reason
            report.records_rejected = 1
            rejection = _file_rejection(settings.org_id, system, f.name, reason)
            batch_tables.append(con, "batch_rejected_source", rejection)
            rejected.append(rejection)
        else:
            for entity in ENTITIES:
                preview[entity].extend(stager.preview[entity])
            counts.update(stager.counts)
            rejected.extend(stager.rejected)
            report.records_read = sum(stager.counts.values()) + stager.rejected_rows
            report.records_rejected = stager.rejected_rows
            report.stats = {k: v for k, v in parsed.stats.items() if k != "own_addresses"}
            discovered.update(a.lower() for a in parsed.stats.get("own_addresses", []))
        report.seconds = round(time.perf_counter() - started, 3)
        reports.append(report)
    return Batch(
        frames={
            e: pl.concat([_empty_raw(e), *fs], how="vertical_relaxed").head(PREVIEW_ROWS)
            for e, fs in preview.items()
        },
        rejected=pl.concat(rejected) if rejected else empty_rejected,
        reports=reports,
        own_addresses=discovered,
        skipped_unchanged=0,
        counts={e: counts[e] for e in ENTITIES},
    )


class _FileStager:
    """The sink for one file: appends each chunk to the batch tables and keeps its counts, a
    few preview rows and the rejected rows (few: bad messages, not the file's bulk)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, sha: str) -> None:
        self.con, self.sha = con, sha
        self.counts: Counter[str] = Counter()
        self.preview: dict[str, list[pl.DataFrame]] = {e: [] for e in ENTITIES}
        self.rejected: list[pl.DataFrame] = []
        self.rejected_rows = 0

    def __call__(self, chunk: records.ParsedFile) -> None:
        from rex_pipeline import batch as batch_tables

        for entity in ENTITIES:
            frame = getattr(chunk, entity)
            if not frame.height:
                continue
            frame = frame.with_columns(file_sha=pl.lit(self.sha))
            batch_tables.append(self.con, f"batch_raw_{entity}", frame)
            crash_point("gmail.chunk_staged")
            if self.counts[entity] < PREVIEW_ROWS:
                self.preview[entity].append(frame.head(PREVIEW_ROWS))
            self.counts[entity] += frame.height
        if chunk.rejected.height:
            batch_tables.append(self.con, "batch_rejected_source", chunk.rejected)
            self.rejected.append(chunk.rejected)
            self.rejected_rows += chunk.rejected.height


def _remove_file_rows(con: duckdb.DuckDBPyConnection, system: str, file_name: str) -> None:
    """Undo what a file that failed midway had already staged."""
    for name in [f"batch_raw_{e}" for e in ENTITIES] + ["batch_rejected_source"]:
        con.execute(
            f'DELETE FROM "{name}" WHERE source_system = ? AND source_file = ?',
            [system, file_name],
        )


def known_own_addresses(con: duckdb.DuckDBPyConnection, org_id: str) -> set[str]:
    """The org's own mailboxes seen in earlier exports (e.g. Instantly sending accounts)."""
    rows = con.execute("SELECT address FROM own_addresses WHERE org_id = ?", [org_id]).fetchall()
    return {r[0] for r in rows}


def stage_system(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    system: str,
    force: bool = False,
    chunk_messages: int | None = None,
) -> Batch:
    """Parse the new and changed files of one inbox folder into this run's batch tables.
    `chunk_messages` overrides the chunk size of streamed systems (tests, benchmarks)."""
    from rex_pipeline import batch as batch_tables

    files = scan_inbox(settings.inbox_dir, system)
    todo, skipped = files_to_load(con, settings.org_id, files, force=force)
    own = known_own_addresses(con, settings.org_id)
    where, params = "source_system = ?", [system]
    if system in STREAMED and todo:  # nothing to stream: cleared below like the others
        parsed = stream_files(con, system, todo, settings, own, chunk_messages)
    else:
        parsed = parse_files(system, todo, settings, own)
        crash_point(f"{system}.parsed")
        for entity, frame in parsed.frames.items():
            batch_tables.replace_rows(con, f"batch_raw_{entity}", frame, where, params)
        batch_tables.replace_rows(con, "batch_rejected_source", parsed.rejected, where, params)
    parsed.skipped_unchanged = skipped
    files_frame = pl.DataFrame(
        [
            {
                "org_id": settings.org_id,
                "source_system": r.system,
                "file_name": r.file_name,
                "path": r.path,
                "size": r.size,
                "sha256": r.sha256,
                "records_read": r.records_read,
                "records_rejected": r.records_rejected,
                "status": r.status,
                "error": r.error,
            }
            for r in parsed.reports
        ],
        schema={
            "org_id": pl.String,
            "source_system": pl.String,
            "file_name": pl.String,
            "path": pl.String,
            "size": pl.Int64,
            "sha256": pl.String,
            "records_read": pl.Int64,
            "records_rejected": pl.Int64,
            "status": pl.String,
            "error": pl.String,
        },
    )
    batch_tables.replace_rows(con, "batch_files", files_frame, where, params)
    own_frame = pl.DataFrame(
        {
            "org_id": [settings.org_id] * len(parsed.own_addresses),
            "address": sorted(parsed.own_addresses),
            "source_system": [system] * len(parsed.own_addresses),
        },
        schema={"org_id": pl.String, "address": pl.String, "source_system": pl.String},
    )
    batch_tables.replace_rows(con, "batch_own_addresses", own_frame, where, params)
    crash_point(f"{system}.staged")
    return parsed
