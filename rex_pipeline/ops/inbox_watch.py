"""What the inbox sensor sees: which files were added or changed since it last started a run,
and whether they are finished being written.

Cost: every tick `stat`s each inbox file (names, sizes, mtimes) and hashes only files whose size
or mtime differ from the cursor, and only once all of them have settled. Hashing everything on
every tick would re-read a multi-GB Takeout mbox every 30 seconds; the hash is still needed so a
file that was merely touched or re-saved unchanged starts no run, and so the run key names the
content.

Settling: a writer moves a file's mtime forward on every write, so a changed file counts as
finished once its mtime is `settle_seconds` old. Until every changed file has settled, the sensor
waits and starts nothing (a half-written CSV would load as truncated rows). Tools that write to a
temporary or hidden name and rename at the end (browsers, rsync) are ignored until the rename,
because the inbox scan skips hidden files and unknown suffixes.

No Dagster here: `ops.sensors` wraps `evaluate` in a sensor and stores the cursor as JSON.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rex_pipeline.ingest import SYSTEMS, InboxFile, scan_inbox, sha256_of


@dataclass(frozen=True)
class Seen:
    """A file as it was when the sensor last requested a run for it."""

    size: int
    mtime_ns: int
    sha256: str


@dataclass(frozen=True)
class Cursor:
    """The sensor's memory: every inbox file it has dispatched, and how many runs it requested
    (part of the run key, so a file changed back to an earlier content still runs)."""

    files: dict[str, Seen] = field(default_factory=dict)
    requests: int = 0

    def to_json(self) -> str:
        files = {p: [s.size, s.mtime_ns, s.sha256] for p, s in sorted(self.files.items())}
        return json.dumps({"requests": self.requests, "files": files}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | None) -> Cursor:
        """An empty cursor for a first tick (or one reset from the UI): everything is new."""
        if not text:
            return cls()
        data = json.loads(text)
        files = {p: Seen(int(n), int(t), str(sha)) for p, (n, t, sha) in data["files"].items()}
        return cls(files, int(data.get("requests", 0)))


@dataclass(frozen=True)
class Change:
    path: str  # relative to the inbox, e.g. "csv/hubspot.csv"
    before: str | None  # sha256 when last dispatched; None for a new file
    after: str


@dataclass(frozen=True)
class Decision:
    """The outcome of one tick: the cursor to store, and either changes to run or files to wait
    for."""

    cursor: Cursor
    changes: tuple[Change, ...] = ()
    waiting: tuple[str, ...] = ()  # changed files still being written
    removed: tuple[str, ...] = ()  # files gone since the last tick (nothing to load)

    @property
    def run_key(self) -> str | None:
        """Same cursor + same change = same key, so Dagster never runs one change twice (e.g.
        when a tick is retried after its cursor failed to save)."""
        if not self.changes:
            return None
        payload = json.dumps(
            [self.cursor.requests, [[c.path, c.before, c.after] for c in self.changes]]
        )
        return "inbox-" + hashlib.sha256(payload.encode()).hexdigest()[:32]


def stat_inbox(inbox: Path) -> dict[str, InboxFile]:
    """Every file the source assets would read, keyed by its path relative to the inbox."""
    return {
        f.path.relative_to(inbox).as_posix(): f
        for system in SYSTEMS
        for f in scan_inbox(inbox, system)
    }


def evaluate(
    cursor: Cursor,
    files: Mapping[str, InboxFile],
    now_ns: int,
    settle_seconds: float,
    hash_file: Callable[[Path], str] = sha256_of,
) -> Decision:
    """Compare the inbox with the cursor. Unchanged files (same size and mtime) cost nothing;
    changed ones are hashed once they have all settled."""
    changed = sorted(
        path
        for path, f in files.items()
        if (seen := cursor.files.get(path)) is None
        or (seen.size, seen.mtime_ns) != (f.size, f.mtime_ns)
    )
    removed = tuple(sorted(set(cursor.files) - set(files)))
    settle_ns = int(settle_seconds * 1e9)
    # a writer moves mtime to now; one in the future (an archive unpacked from another time
    # zone, a skewed clock) is not being written and must not hold the inbox back
    waiting = tuple(p for p in changed if 0 <= now_ns - files[p].mtime_ns < settle_ns)
    if waiting:
        return Decision(cursor, waiting=waiting, removed=removed)
    seen = {p: s for p, s in cursor.files.items() if p not in removed}
    changes = []
    for path in changed:
        f = files[path]
        sha = hash_file(f.path)
        before = cursor.files.get(path)
        seen[path] = Seen(f.size, f.mtime_ns, sha)
        if before is None or before.sha256 != sha:
            changes.append(Change(path, before.sha256 if before else None, sha))
    requests = cursor.requests + (1 if changes else 0)
    return Decision(Cursor(seen, requests), tuple(changes), removed=removed)
