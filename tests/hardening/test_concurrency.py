"""Analysts read while syncs run back to back, all real processes: three reader processes loop
over the published warehouse (two with plain read-only DuckDB connections, one through the rex
query module) while four syncs run one after the other on an inbox that grows before each.

Every observation must be a complete published state, the one after one of the runs (never a
mix of two runs, never a half-written file), a connection held open must keep seeing one
state, no reader may get an error, and no run may fail because of the readers.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.hardening.procs import (
    FIXTURES,
    SAMPLE_INBOX,
    Runner,
    Site,
    copy_inbox,
    fingerprint,
    start_reader,
    summary_fingerprint,
)

pytestmark = pytest.mark.integration

READERS = ("duckdb", "duckdb", "query")
# What each run adds to the inbox: the sample inbox, then the fixture exports system by system.
GROWTH = (
    ("sample", SAMPLE_INBOX, None),
    *(("fixtures", FIXTURES, system) for system in ("csv", "gmail", "instantly")),
)


@pytest.fixture
def runner() -> Iterator[Runner]:
    r = Runner()
    yield r
    r.close()


def grow(site: Site, source: Path, system: str | None) -> None:
    if system is None:
        copy_inbox(source, site.inbox, "s_")
        return
    staging = site.root / f"staging-{system}"
    copy_inbox(source, staging, "f_")
    for path in (staging / system).iterdir():
        path.rename(site.inbox / system / path.name)


def published_state(site: Site) -> tuple[list, dict]:
    con = duckdb.connect(str(site.db), read_only=True)
    try:
        raw = fingerprint(con)
    finally:
        con.close()
    return raw, summary_fingerprint(site.db)


def test_readers_see_only_complete_runs_while_syncs_run_back_to_back(
    runner: Runner, tmp_path: Path
) -> None:
    site = Site(tmp_path / "site")
    _, source, system = GROWTH[0]
    grow(site, source, system)
    assert runner.run(site).ok
    states = [published_state(site)]

    stop = tmp_path / "stop"
    outputs = [tmp_path / f"reader-{i}.jsonl" for i in range(len(READERS))]
    readers = [
        start_reader(site.db, out, stop, mode) for out, mode in zip(outputs, READERS, strict=True)
    ]
    started = time.perf_counter()
    try:
        time.sleep(1.0)  # readers up before the first sync
        for label, source, system in GROWTH[1:]:
            grow(site, source, system)
            outcome = runner.run(site)
            assert outcome.ok, f"sync after adding {label}/{system}: {outcome.output[-3000:]}"
            states.append(published_state(site))
        time.sleep(0.5)
    finally:
        stop.touch()
        for reader in readers:
            reader.wait(timeout=60)
    seconds = time.perf_counter() - started

    raw_states = [json.dumps(raw) for raw, _ in states]
    query_states = [json.dumps(summary, sort_keys=True) for _, summary in states]
    assert len(set(raw_states)) == len(states), "every run must change the warehouse"
    seen: Counter[int] = Counter()
    observations = 0
    for out in outputs:
        for line in out.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            observations += 1
            assert "error" not in record, record
            if record["mode"] == "query":
                found = json.dumps(record["state"], sort_keys=True)
                assert found in query_states, f"a state no run published: {record}"
                seen[query_states.index(found)] += 1
            else:
                found = json.dumps(record["state"])
                assert found in raw_states, f"a state no run published: {record}"
                assert record["state"][-1] == 0, "lineage of a missing contact"
                seen[raw_states.index(found)] += 1
                if "held" in record:
                    assert record["held"] == record["state"], "an open connection moved"
    assert observations >= 50, f"only {observations} reads in {seconds:.0f}s"
    assert len(seen) >= 3, f"readers saw too few of the {len(states)} states: {dict(seen)}"
    print(f"{observations} reads by {len(READERS)} readers over {len(states) - 1} syncs "
          f"in {seconds:.1f}s; reads per state: {dict(sorted(seen.items()))}")  # fmt: skip
