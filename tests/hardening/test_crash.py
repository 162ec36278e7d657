"""Crash safety, with real processes: a sync is killed with SIGKILL (no cleanup of any kind) at
named points of a run (`rex_pipeline.faults.crash_point`) and at random moments. After every
kill the analysts' warehouse must be exactly the state before the run or exactly the state
after it, never a mixture; and the next run must complete and leave the same warehouse (every
row and value of every canonical table, ids of existing records unchanged) as a run that was
never interrupted.

History used: `s0` = the sample inbox (data/inbox) synced once; the run under test adds the
fixture exports (tests/fixtures: csv, gmail, instantly, including broken files). Each kill point
is a separate run; points are chained on one installation (each killed run is followed by the
next killed run, then one clean run), which is also the harshest order: a run that follows a
killed one finds its leftovers (stale batch tables, WAL, temporary copies).

By default a representative subset of points runs (parse, stage, between assets, inside the
apply transaction, every step of the publish); REX_HARDENING_ALL=1 runs every point.
"""

from __future__ import annotations

import csv
import io
import os
import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from tests.hardening.procs import (
    FIXTURES,
    SAMPLE_INBOX,
    Outcome,
    Rows,
    Runner,
    Site,
    copy_inbox,
    diff,
    snapshot,
)

pytestmark = pytest.mark.integration

ALL_POINTS = os.environ.get("REX_HARDENING_ALL") == "1"

# Killed here, a run has committed nothing: the warehouse stays as it was.
BEFORE_COMMIT = [
    ("csv.parsed", True),  # files parsed, nothing staged yet
    ("gmail.chunk_staged", True),  # mid-file: part of an mbox in the batch tables
    ("instantly.staged", ALL_POINTS),
    ("csv_exports.done", ALL_POINTS),  # between assets
    ("gmail_messages.done", ALL_POINTS),
    ("instantly_exports.done", ALL_POINTS),
    ("normalised_records.done", True),
    ("resolved_identities.done", ALL_POINTS),
    ("canonical_records.done", ALL_POINTS),
    ("icp_scores.done", ALL_POINTS),
    ("apply.begun", ALL_POINTS),  # inside the apply transaction
    ("apply.contacts_upserted", True),
    ("apply.before_commit", ALL_POINTS),
]
# Points reached after the commit, in the order they are chained, and the published state
# each leaves: "old" until a publish has swapped the new copy in. The first kill is in the
# run that commits; the later runs have nothing new to load but apply and publish again.
AFTER_COMMIT = [
    ("publish.copy.contacts", "old", True),  # the temporary copy is half-written
    ("apply.committed", "old", True),  # committed, batch tables not yet dropped
    ("publish.attached", "old", ALL_POINTS),
    ("publish.copy.stage_changes", "old", ALL_POINTS),
    ("publish.before_replace", "old", True),  # the copy is complete, not swapped in
    ("publish.replaced", "new", True),  # swapped in, directory not yet synced
    ("warehouse.published", "new", ALL_POINTS),  # before the checks ran
]
# A first run killed: no warehouse may appear before one is complete.
FIRST_RUN = [("publish.before_replace", True), ("apply.before_commit", ALL_POINTS)]

ENTITY_TABLES = ("contacts", "companies", "activities", "deals", "tasks")


@dataclass
class History:
    """The warehouse before (`old`) and after (`new`) the run under test, uninterrupted."""

    s0: Site
    since: datetime
    old: dict[str, Rows]
    new: dict[str, Rows]
    old_ids: set[str]


@pytest.fixture(scope="module")
def runner() -> Iterator[Runner]:
    r = Runner()
    yield r
    r.close()


@pytest.fixture(scope="module")
def history(runner: Runner, tmp_path_factory: pytest.TempPathFactory) -> History:
    root = tmp_path_factory.mktemp("crash")
    since = datetime.now(UTC)
    s0 = Site(root / "s0")
    copy_inbox(SAMPLE_INBOX, s0.inbox, "s_")
    assert_ok(runner.run(s0))
    baseline = grown(s0, root / "baseline")
    assert_ok(runner.run(baseline))
    return History(s0, since, snapshot(s0.db, since), snapshot(baseline.db, since), ids(s0.db))


def grown(s0: Site, root: Path) -> Site:
    """A copy of s0 whose inbox has gained the fixture exports."""
    site = s0.copy_to(root)
    copy_inbox(FIXTURES, site.inbox, "f_")
    return site


def ids(db: Path, tables: tuple[str, ...] = ENTITY_TABLES) -> set[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        query = " UNION ALL ".join(f"SELECT id FROM {t}" for t in tables)
        return {r[0] for r in con.execute(query).fetchall()}
    finally:
        con.close()


def assert_ok(outcome: Outcome) -> None:
    assert outcome.ok, outcome.output[-3000:]


def assert_killed(outcome: Outcome, point: str) -> None:
    """The run really died at the point (a point never reached would prove nothing)."""
    assert outcome.killed, f"{point} was not reached: rc={outcome.returncode}"


def assert_same(expected: dict[str, Rows], found: dict[str, Rows], what: str) -> None:
    assert found == expected, f"{what}: {diff(expected, found)}"


def report(point: str, outcome: Outcome, state: str, site: Site) -> None:
    """One line per kill (shown with `pytest -s`)."""
    print(f"| {point} | {outcome.returncode} | {state} | {', '.join(site.leftovers()) or '-'} "
          f"| {outcome.seconds:.1f} s |")  # fmt: skip


def assert_recovers(runner: Runner, site: Site, history: History) -> None:
    """The next, uninterrupted run completes (every check passing) with the uninterrupted
    result; existing ids are kept and nothing is left behind."""
    outcome = runner.run(site)
    assert_ok(outcome)
    assert_same(history.new, snapshot(site.db, history.since), "after the recovery run")
    report("(recovery run)", outcome, "new", site)
    assert history.old_ids <= ids(site.db)
    assert site.leftovers() == []


def test_kills_before_the_commit_leave_the_old_warehouse(
    runner: Runner, history: History, tmp_path: Path
) -> None:
    site = grown(history.s0, tmp_path / "site")
    for point, enabled in BEFORE_COMMIT:
        if not enabled:
            continue
        outcome = runner.run(site, crash_at=point)
        assert_killed(outcome, point)
        assert_same(history.old, snapshot(site.db, history.since), f"killed at {point}")
        report(point, outcome, "old", site)
    assert_recovers(runner, site, history)


def test_kills_after_the_commit_publish_the_old_or_the_new_warehouse(
    runner: Runner, history: History, tmp_path: Path
) -> None:
    site = grown(history.s0, tmp_path / "site")
    for point, state, enabled in AFTER_COMMIT:
        if not enabled:
            continue
        outcome = runner.run(site, crash_at=point)
        assert_killed(outcome, point)
        expected = history.old if state == "old" else history.new
        assert_same(expected, snapshot(site.db, history.since), f"killed at {point}")
        report(point, outcome, state, site)
        if point == "apply.committed":  # the commits are in the WAL the next run replays
            assert site.work.with_name(site.work.name + ".wal").exists()
        if point == "publish.before_replace":  # a complete copy, left beside the file
            assert site.leftovers()
    assert_recovers(runner, site, history)


def test_a_killed_first_run_publishes_nothing(
    runner: Runner, history: History, tmp_path: Path
) -> None:
    site = Site(tmp_path / "fresh")
    copy_inbox(SAMPLE_INBOX, site.inbox, "s_")
    for point, enabled in FIRST_RUN:
        if not enabled:
            continue
        assert_killed(runner.run(site, crash_at=point), point)
        assert not site.db.exists(), f"killed at {point}: a warehouse was published"
    assert_ok(runner.run(site))
    assert_same(history.old, snapshot(site.db, history.since), "first run after kills")
    assert site.leftovers() == []


def test_a_lost_work_database_is_rebuilt_with_the_same_ids(
    runner: Runner, history: History, tmp_path: Path
) -> None:
    """The warehouse copied to a new machine (no work database), the rebuild killed half-way:
    the next run re-reads the inbox and finds every contact, company and activity under its
    old id (deals and tasks keep no lineage in the warehouse, see warehouse.py)."""
    site = history.s0.copy_to(tmp_path / "moved")
    for path in site.root.glob(".rex.*"):  # the work database and the fuzzy index
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    assert_killed(runner.run(site, crash_at="bootstrap.copied"), "bootstrap.copied")
    assert_ok(runner.run(site))
    for table in ("contacts", "companies", "activities"):
        assert ids(site.db, (table,)) == ids(history.s0.db, (table,)), table


def big_hubspot_export(rows: int, seed: int) -> str:
    """A HubSpot contacts export of `rows` rows: the last tenth repeat earlier people (exact
    merges), every tenth address is upper-case, every 97th is not an address (rejections)."""
    first = ["Ada", "Grace", "Linus", "Priya", "Jonas", "Amara", "Lucas", "Mei", "Omar", "Sofia"]
    last = ["Lovelace", "Hopper", "Raman", "Weber", "Okafor", "Moreau", "Chen", "Haddad", "Walsh"]
    companies = ["Acme Robotics", "Globex", "Initech", "Bluefin Analytics", "Kestrel Robotics"]
    people = rows - rows // 10
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(
        ["Record ID", "First Name", "Last Name", "Email", "Phone Number", "Lead Status",
         "Create Date", "Associated Company"]
    )  # fmt: skip
    for i in range(rows):
        person = random.Random(seed * 1_000_003 + i % people)
        f, la, co = person.choice(first), person.choice(last), person.choice(companies)
        domain = co.lower().replace(" ", "-") + ".com"
        email = f"{f}.{la}{i % people}@{domain}".lower()
        if i % 10 == 0:
            email = email.upper()
        if i % 97 == 0:
            email = f"{f} at {domain}"
        writer.writerow(
            [str(70_000_000 + i), f, la, email, f"+1 415 555 {i % 10_000:04d}", "Open",
             f"2024-{1 + i % 12:02d}-{1 + i % 28:02d} 09:{i % 60:02d}", co]
        )  # fmt: skip
    return out.getvalue()


def test_random_kills_on_a_bigger_inbox(runner: Runner, history: History, tmp_path: Path) -> None:
    seed = int(os.environ.get("REX_HARDENING_SEED", random.randrange(1_000_000)))
    rng = random.Random(seed)
    export = big_hubspot_export(1500, seed=7)
    baseline = grown(history.s0, tmp_path / "baseline")
    (baseline.inbox / "csv" / "hubspot_contacts_big.csv").write_text(export, encoding="utf-8")
    site = baseline.copy_to(tmp_path / "site")
    clean = runner.run(baseline)
    assert_ok(clean)
    new = snapshot(baseline.db, history.since)
    # early, middle, late (a killed run skips the checks, so it is shorter than `clean`)
    windows = ((0.1, 0.45), (0.45, 0.75), (0.75, 1.0))
    delays = [rng.uniform(low, high) * clean.seconds for low, high in windows]
    for delay in delays:
        outcome = runner.run(site, kill_after=delay)
        state = snapshot(site.db, history.since)
        assert state in (history.old, new), f"seed {seed}, killed after {delay:.2f}s: mixed"
        label = "old" if state == history.old else "new"
        report(f"random kill after {delay:.1f} s (seed {seed})", outcome, label, site)
        if outcome.ok:  # finished before the kill: nothing left to interrupt
            break
    assert_ok(runner.run(site))
    assert_same(new, snapshot(site.db, history.since), f"seed {seed}: after recovery")
    assert site.leftovers() == []
