"""Suspicious drift between runs: the share of rejected records, or the share of contact records
that collapsed into another contact, jumping compared with the previous run.

The numbers are per run: over the files the run loaded (manifest rows written at or after the
run's start), so a run on an unchanged inbox measures nothing and is never compared. A jump is an
increase of more than `TOLERANCE` (absolute, as a share) on a run big enough to mean something.
No Dagster here: the check stores these metrics in its metadata and passes the previous run's
back in.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import duckdb

from rex_pipeline.ops.lineage import FILE_BALANCE

TOLERANCE = 0.10  # a share may rise by up to 10 percentage points from one run to the next
MIN_RECORDS = 20  # smaller runs are too noisy to compare (3 rows, 1 bad = 33 %)
METRICS = ("rejected_share", "duplicate_rate")


@dataclass(frozen=True)
class RunMetrics:
    """What one run's files contained, for one org."""

    records: int  # input records read (staged + rejected)
    rejected: int
    contact_records: int
    contacts: int  # distinct contacts those contact records resolved to

    @property
    def rejected_share(self) -> float | None:
        return self.rejected / self.records if self.records else None

    @property
    def duplicate_rate(self) -> float | None:
        if not self.contact_records:
            return None
        return 1 - self.contacts / self.contact_records

    def size(self, metric: str) -> int:
        """The number the metric is a share of."""
        return self.records if metric == "rejected_share" else self.contact_records

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), **{m: getattr(self, m) for m in METRICS}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunMetrics:
        return cls(
            records=int(data["records"]),
            rejected=int(data["rejected"]),
            contact_records=int(data["contact_records"]),
            contacts=int(data["contacts"]),
        )


def run_metrics(con: duckdb.DuckDBPyConnection, since: datetime) -> dict[str, RunMetrics]:
    """Per org, the metrics of the files loaded at or after `since` (the run's start); a run
    that loaded no file (an unchanged inbox) reads nothing but the manifest."""
    loaded = con.execute("SELECT count(*) FROM manifest WHERE loaded_at >= ?", [since])
    if not loaded.fetchall()[0][0]:
        return {}
    rows = con.execute(
        f"""
        WITH run_files AS (
            SELECT org_id, source_system, file_name AS source_file FROM manifest
            WHERE loaded_at >= $since),
        balance AS (SELECT * FROM ({FILE_BALANCE}) SEMI JOIN run_files
                    USING (org_id, source_system, source_file)),
        contacts AS (SELECT s.org_id, count(*) AS records, count(DISTINCT s.entity_id) AS ids
                     FROM stg_contacts s SEMI JOIN run_files
                     USING (org_id, source_system, source_file) GROUP BY s.org_id)
        SELECT b.org_id, sum(b.staged + b.rejected), sum(b.rejected),
               coalesce(any_value(c.records), 0), coalesce(any_value(c.ids), 0)
        FROM balance b LEFT JOIN contacts c USING (org_id)
        GROUP BY b.org_id ORDER BY b.org_id""",
        {"since": since},
    ).fetchall()
    return {org: RunMetrics(*(int(v) for v in values)) for org, *values in rows}


@dataclass(frozen=True)
class Drift:
    metric: str
    current: float | None
    previous: float | None
    jumped: bool
    explanation: str


def compare(
    metric: str,
    current: RunMetrics | None,
    previous: RunMetrics | None,
    tolerance: float = TOLERANCE,
    min_records: int = MIN_RECORDS,
) -> Drift:
    """Did `metric` jump from the previous run to this one?"""
    now = getattr(current, metric) if current else None
    before = getattr(previous, metric) if previous else None
    if current is None or now is None:
        return Drift(metric, None, before, False, "this run loaded no new records")
    if current.size(metric) < min_records:
        size = current.size(metric)
        return Drift(metric, now, before, False, f"{size} records this run: too few to compare")
    if before is None:
        return Drift(metric, now, None, False, f"{now:.1%} this run; no earlier run to compare")
    jumped = now - before > tolerance
    verdict = "more than" if jumped else "within"
    explanation = f"{now:.1%} this run vs {before:.1%} the run before ({verdict} +{tolerance:.0%})"
    return Drift(metric, now, before, jumped, explanation)
