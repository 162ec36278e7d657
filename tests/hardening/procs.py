"""Real pipeline processes for the hardening tests, and a way to compare warehouses.

`Runner` runs syncs as separate OS processes: a driver (`python -m tests.hardening.procs
serve`) imports Dagster and the pipeline once and forks one child per sync, which runs every
asset (and, unless it is to be killed, every asset check) on the inbox and warehouse named by
the contract's REX_* variables, as a scheduled sync does. A child dies by SIGKILL when
REX_CRASH_AT names a `crash_point` it reaches, or when the driver kills it after `kill_after`
seconds. `... procs read ...` is an analyst process reading in a loop; `... procs` alone runs
one sync.

`snapshot` reads a published warehouse into plain, sorted rows in which the things that
legitimately differ between two equivalent histories are replaced by stable labels: ids minted
in different runs (random UUIDv7 TypeIDs) become a label derived from their lineage,
timestamps written by the runs themselves (the run's start time) become "<run k>", JSON objects
are compared with sorted keys and rounded floats, and a review-queue pair regardless of order.
Everything else (every column of every canonical table) is compared as is.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

REPO = Path(__file__).resolve().parents[2]
PYTHON = REPO / ".venv" / "bin" / "python"
FIXTURES = REPO / "tests" / "fixtures"
SAMPLE_INBOX = REPO / "data" / "inbox"
SYSTEMS = ("csv", "gmail", "instantly")
ORG = "acme-org"

# How each canonical table's rows are told apart across histories (see `snapshot`).
_LINEAGE = {
    "contacts": ("contact_sources", "contact_id"),
    "companies": ("company_sources", "company_id"),
}
_ID_COLUMNS = (
    "id",
    "contact_id",
    "company_id",
    "deal_id",
    "winner_id",
    "loser_id",
    "id_a",
    "id_b",
)
_JSON_COLUMNS = ("metadata", "raw", "evidence", "query")


def copy_inbox(source: Path, inbox: Path, prefix: str = "") -> list[Path]:
    """Copy a csv/gmail/instantly tree into `inbox`, names prefixed (the manifest knows a file
    by system and base name, so two trees must not share a name)."""
    copied = []
    for system in SYSTEMS:
        folder = source / system
        if not folder.is_dir():
            continue
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            if path.suffix.lower() == ".md":
                continue
            target = inbox / system / f"{prefix}{path.name}"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            copied.append(target)
    return copied


@dataclass
class Site:
    """One throwaway installation: inbox, published warehouse and work database."""

    root: Path

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def db(self) -> Path:
        return self.root / "rex.duckdb"

    @property
    def work(self) -> Path:
        return self.root / ".rex.work.duckdb"

    def env(self, crash_at: str | None = None) -> dict[str, str]:
        """The contract's variables for this installation (and the crash point, if any)."""
        env = {
            "REX_INBOX_DIR": str(self.inbox),
            "REX_DUCKDB_PATH": str(self.db),
            "REX_ORG_ID": ORG,
            "REX_CONFIG": str(REPO / "rex.yaml"),
            "DAGSTER_HOME": str(self.root / "dagster_home"),
        }
        if crash_at:
            env["REX_CRASH_AT"] = crash_at
        return env

    def copy_to(self, root: Path) -> Site:
        """The same installation in another folder (inbox, both databases, fuzzy index)."""
        shutil.copytree(self.root, root, dirs_exist_ok=True, ignore=_not_state)
        return Site(root)

    def leftovers(self) -> list[str]:
        """Files a killed run may leave beside the warehouse (temporary copies, WALs)."""
        return sorted(
            p.name
            for p in self.root.iterdir()
            if p.name.endswith((".tmp", ".tmp.wal")) or p.name == f"{self.db.name}.wal"
        )


def _not_state(folder: str, names: list[str]) -> list[str]:
    """What `copy_to` leaves behind: Dagster's home and the run logs."""
    return [n for n in names if n == "dagster_home" or n.startswith("run-")]


@dataclass(frozen=True)
class Outcome:
    returncode: int
    output: str
    seconds: float
    cpu_seconds: float = 0.0

    @property
    def killed(self) -> bool:
        return self.returncode == -9

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def start_reader(db: Path, out: Path, stop: Path, mode: str) -> subprocess.Popen[bytes]:
    """An analyst process reading `db` in a loop (mode `duckdb`: raw read-only connections;
    `query`: the rex query module) until `stop` exists."""
    return subprocess.Popen(
        [str(PYTHON), "-m", "tests.hardening.procs", "read", str(db), str(out), str(stop), mode],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
    )


class Runner:
    """Runs syncs as real, separate processes, fast: a driver process imports the pipeline
    once (3 s of Dagster start-up) and forks one child per run, which dies for real when
    REX_CRASH_AT names a crash point or when `kill_after` seconds have passed."""

    def __init__(self) -> None:
        self.runs = 0
        self.proc = subprocess.Popen(
            [str(PYTHON), "-m", "tests.hardening.procs", "serve"],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(
        self,
        site: Site,
        crash_at: str | None = None,
        kill_after: float | None = None,
        timeout: float = 240,
        checks: bool | None = None,
    ) -> Outcome:
        """One sync in a child process. `checks` (default: unless the run is to be killed)
        also runs every asset check, and the run only counts as ok if they all pass."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.runs += 1
        log = site.root / f"run-{self.runs}.log"
        env = site.env(crash_at)
        if checks is None:
            checks = crash_at is None and kill_after is None
        request = {
            "env": env,
            "log": str(log),
            "kill_after": kill_after,
            "timeout": timeout,
            "checks": checks,
        }
        (site.root / "dagster_home").mkdir(parents=True, exist_ok=True)
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        output = log.read_text(errors="replace") if log.exists() else ""
        return Outcome(answer["returncode"], output, answer["seconds"], answer["cpu_seconds"])

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


Rows = list[tuple[Any, ...]]


def snapshot(db: Path, since: datetime | None = None) -> dict[str, Rows]:
    """Every canonical table of a published warehouse as sorted rows, ids replaced by lineage
    labels and timestamps at or after `since` (written by runs, not read from sources) by
    "<run k>", k counting the distinct run times in order. An absent file is {}."""
    from rex_pipeline.schema import CANONICAL_TABLES

    if not db.exists():
        return {}
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        tables = {
            t.name: (t.column_names, con.execute(f'SELECT * FROM "{t.name}"').fetchall())
            for t in CANONICAL_TABLES
        }
    finally:
        con.close()
    until = datetime.now(UTC)  # a source's future date (a task's due date) is no run time
    labels = _labels(tables)
    run_times = sorted(
        {
            v
            for _, rows in tables.values()
            for row in rows
            for v in row
            if isinstance(v, datetime) and since is not None and since <= v <= until
        }
    )
    stamp = {t: f"<run {k}>" for k, t in enumerate(run_times)}
    out: dict[str, Rows] = {}
    for name, (columns, rows) in tables.items():
        fixed = [
            tuple(_label_value(col, v, labels, stamp) for col, v in zip(columns, row, strict=True))
            for row in rows
        ]
        if name == "possible_duplicates":  # a pair is unordered; its ids' order is random
            a, b = columns.index("id_a"), columns.index("id_b")
            fixed = [_swap(r, a, b) if r[a] > r[b] else r for r in fixed]
        out[name] = sorted(fixed, key=repr)
    return out


def _swap(row: tuple[Any, ...], a: int, b: int) -> tuple[Any, ...]:
    values = list(row)
    values[a], values[b] = values[b], values[a]
    return tuple(values)


def _label_value(column: str, value: Any, labels: dict[str, str], stamp: dict) -> Any:
    if value is None:
        return None
    if column in _ID_COLUMNS and isinstance(value, str):
        return labels.get(value, f"<unknown {value[:5]}>")
    if isinstance(value, datetime):
        return stamp.get(value, value.isoformat())
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, float):
        return round(value, 9)
    if column in _JSON_COLUMNS and isinstance(value, str):
        return json.dumps(_rounded(json.loads(value)), sort_keys=True)  # key order: no content
    return value


def _rounded(value: Any) -> Any:
    """JSON with floats rounded: fuzzy weights are sums whose last digit depends on order."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _digest(*parts: Any) -> str:
    return hashlib.md5(repr(parts).encode()).hexdigest()[:12]


def _labels(tables: dict[str, tuple[tuple[str, ...], Rows]]) -> dict[str, str]:
    """id -> label. Contacts and companies by their smallest lineage record; activities by
    (source, external_id); deals and tasks by their content with references labelled first.
    Merge losers (gone from the canonical tables) by the winner's label and their rule."""
    labels: dict[str, str] = {}
    for entity, (table, id_col) in _LINEAGE.items():
        columns, rows = tables[table]
        key_cols = [c for c in columns if c not in (id_col, "match_rule", "match_score")]
        best: dict[str, str] = {}
        for row in rows:
            record = dict(zip(columns, row, strict=True))
            key = repr(tuple(record[c] for c in key_cols))
            entity_id = record[id_col]
            if entity_id not in best or key < best[entity_id]:
                best[entity_id] = key
        labels.update({i: f"{entity[:4]}:{_digest(k)}" for i, k in best.items()})
        columns, rows = tables[entity]
        for row in rows:  # an entity without lineage (should not happen): by content
            record = dict(zip(columns, row, strict=True))
            labels.setdefault(record["id"], f"{entity[:4]}:?{_digest(record.get('email'))}")
    for table, label_of in (
        ("deals", lambda r: _digest(*(_plain(r, labels, k) for k in sorted(r) if k != "id"))),
        ("tasks", lambda r: _digest(*(_plain(r, labels, k) for k in sorted(r) if k != "id"))),
        ("activities", lambda r: _digest(r["source"], r["external_id"])),
    ):
        columns, rows = tables[table]
        for row in rows:
            record = dict(zip(columns, row, strict=True))
            labels[record["id"]] = f"{table[:4]}:{label_of(record)}"
    for table in ("contact_merges", "company_merges"):
        columns, rows = tables[table]
        for row in rows:
            record = dict(zip(columns, row, strict=True))
            winner = labels.get(record["winner_id"], "?")
            labels.setdefault(record["loser_id"], f"loser of {winner} by {record['rule']}")
    return labels


def _plain(record: dict[str, Any], labels: dict[str, str], column: str) -> Any:
    value = record[column]
    if column.endswith("_id") and isinstance(value, str):
        return labels.get(value, value)
    if isinstance(value, datetime):
        return None  # run times differ between histories; content decides
    return value


def diff(a: dict[str, Rows], b: dict[str, Rows]) -> dict[str, dict[str, Rows]]:
    """Per table, rows only in `a` and rows only in `b` (a few of each)."""
    out = {}
    for name in sorted(set(a) | set(b)):
        left, right = a.get(name, []), b.get(name, [])
        if left != right:
            only_a = [r for r in left if r not in right][:3]
            only_b = [r for r in right if r not in left][:3]
            out[name] = {"only_first": only_a, "only_second": only_b}
    return out


def _sync(checks: bool = True) -> int:
    """Materialise every asset and check once (what `dagster asset materialize --select '*'`
    does, without the 5 s of CLI start-up); 0 when every step and check succeeded. Without
    `checks`, the assets only (a run that is about to be killed needs no checks)."""
    import dagster as dg

    from rex_pipeline.definitions import defs
    from rex_pipeline.resources import RexSettings, WorkDatabase

    result = dg.materialize(
        [*(defs.assets or []), *((defs.asset_checks or []) if checks else [])],
        resources={"rex_settings": RexSettings(), "work_db": WorkDatabase()},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    failed = [
        f"{e.step_key}: {e.event_specific_data}"
        for e in result.all_events
        if e.event_type_value == "STEP_FAILURE"
    ]
    failed += [
        f"check {e.asset_check_evaluation_data.check_name} failed"
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and not e.asset_check_evaluation_data.passed
        and e.asset_check_evaluation_data.severity.value == "ERROR"
    ]
    print("\n".join(failed) or "ok", flush=True)
    return 0 if result.success and not failed else 1


# One query, so one snapshot: the row counts analysts would add up, a checksum of the contact
# ids, and lineage rows whose contact is missing (0 in any consistent state).
FINGERPRINT_SQL = """
    SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM contact_emails),
           (SELECT count(*) FROM contact_sources),
           (SELECT count(DISTINCT contact_id) FROM contact_sources),
           (SELECT count(*) FROM companies), (SELECT count(*) FROM company_sources),
           (SELECT count(*) FROM activities), (SELECT count(*) FROM deals),
           (SELECT count(*) FROM tasks), (SELECT count(*) FROM rejected_records),
           (SELECT CAST(sum(hash(id)) AS VARCHAR) FROM contacts),
           (SELECT count(*) FROM contact_sources s ANTI JOIN contacts c ON c.id = s.contact_id)
"""


def fingerprint(con: duckdb.DuckDBPyConnection) -> list[Any]:
    return list(con.execute(FINGERPRINT_SQL).fetchall()[0])


def summary_fingerprint(db: Path) -> dict[str, Any]:
    """The table counts the query module's `summary` reports (what `rex summary` prints)."""
    from rex_pipeline.query import Warehouse

    with Warehouse(db, org_id=ORG) as warehouse:
        return warehouse.summary()["tables"]


def _read(db: Path, out: Path, stop: Path, mode: str) -> None:
    """An analyst in a loop until `stop` exists, one JSON line per observation: a fresh
    connection each time (it sees the latest publish), and every few rounds a connection held
    open across two reads a moment apart (it must keep seeing one snapshot). Errors are
    recorded, never raised."""
    with out.open("w", encoding="utf-8") as sink:
        rounds = 0
        while not stop.exists():
            rounds += 1
            record: dict[str, Any] = {"mode": mode}
            try:
                if mode == "query":
                    record["state"] = summary_fingerprint(db)
                else:
                    con = duckdb.connect(str(db), read_only=True)
                    try:
                        record["state"] = fingerprint(con)
                        if rounds % 5 == 0:
                            time.sleep(0.3)
                            record["held"] = fingerprint(con)
                    finally:
                        con.close()
            except Exception as exc:  # an analyst's error is an observation too
                record["error"] = f"{type(exc).__name__}: {exc}"
            sink.write(json.dumps(record, default=str) + "\n")
            sink.flush()
            time.sleep(0.1)


# What a run imports or builds lazily (parsers, Dagster's instance and execution machinery,
# phone and country tables): done once in the driver, it is not paid again by every forked run
# (about half of a small run's CPU time).
_WARM_MODULES = (
    "rex_pipeline.definitions",
    "rex_pipeline.sources.csv",
    "rex_pipeline.sources.gmail",
    "rex_pipeline.sources.instantly",
    "dagster._core.execution.execute_in_process",
    "dagster._core.instance.factory",
    "dagster._core.storage.event_log",
)


def _warm() -> None:
    """Import what runs need and build (and drop) one ephemeral instance, without starting a
    thread or opening a database: forking is only safe from a single-threaded process."""
    import importlib
    import threading

    import dagster as dg
    import phonenumbers

    for name in _WARM_MODULES:
        importlib.import_module(name)
    from rex_pipeline.score.countries import country_codes

    dg.DagsterInstance.ephemeral().dispose()
    phonenumbers.PhoneMetadata.load_all()
    country_codes()  # the country-name table ICP scoring builds on first use (1 s)
    assert threading.active_count() == 1, "the driver must not fork with threads running"


def _serve() -> None:
    """Import the pipeline once, then for each JSON request on stdin fork a child that runs one
    sync with the request's environment (its output to the request's log file), optionally
    SIGKILL it after `kill_after` seconds, and answer with its exit code on stdout."""
    _warm()
    answers = os.fdopen(os.dup(1), "w")  # only answers go to stdout; anything else to stderr
    os.dup2(2, 1)
    for line in sys.stdin:
        request = json.loads(line)
        started = time.perf_counter()
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:  # the run: a real process of its own, killed for real
            code = 1
            try:
                log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                os.dup2(log, 1)
                os.dup2(log, 2)
                for key in [k for k in os.environ if k.startswith("REX_")]:
                    del os.environ[key]
                os.environ.update(request["env"])
                code = _sync(request["checks"])
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        limit = request.get("kill_after") or request["timeout"]
        waited = _wait(pid, started + limit)
        if waited is None:
            os.kill(pid, signal.SIGKILL)
            _, *waited = os.wait4(pid, 0)
        status, usage = waited
        answer = {
            "returncode": os.waitstatus_to_exitcode(status),
            "seconds": time.perf_counter() - started,
            "cpu_seconds": usage.ru_utime + usage.ru_stime,
        }
        print(json.dumps(answer), file=answers, flush=True)


def _wait(pid: int, deadline: float) -> tuple[int, Any] | None:
    """The child's wait status and resource usage, or None if it still runs at `deadline`."""
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return status, usage
        if time.perf_counter() >= deadline:
            return None
        time.sleep(0.02)


if __name__ == "__main__":
    if sys.argv[1:] == ["serve"]:
        _serve()
    elif sys.argv[1:2] == ["read"]:
        _read(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]), sys.argv[5])
    else:
        sys.exit(_sync())
