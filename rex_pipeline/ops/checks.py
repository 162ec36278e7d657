"""Asset checks on the published warehouse.

* Integrity (blocking): the `rules` queries, run on the published file read-only, i.e. on
  exactly what analysts see, after it is published: they report, and stop anything downstream
  of `warehouse` (they do not withhold the file; `icp_scores_valid` is the one check that runs
  before publishing).
* Records accounted for (blocking): per file, read = present in the warehouse + rejected (see
  `reconcile`), on the work database, and the published copy has all of its rows.

Both repeat the latest earlier evaluation, without querying, when it passed on the same inputs:
the integrity rules on the same published file (a publish always writes a new one), the
reconciliation on the same published file and work-database fingerprint
(`reconcile.inputs_state`: the canonical tables' generation, the manifest and every input
table's row count). So a run on an unchanged inbox costs a few event-log reads.
* Drift (warning): the run's rejected share and duplicate rate against the previous run's. The
  previous values come from this check's own earlier evaluations in the Dagster event log (their
  metadata holds the run's metrics), so the history is the one the UI shows beside the check and
  the warehouse carries no bookkeeping tables for it.

Checks run after `warehouse` in the same run, when no step writes either file. The work-database
checks also take the `duckdb_write` pool, so a check launched on its own waits for a writer.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from rex_pipeline.assets.metadata import counts_table, markdown_table
from rex_pipeline.ops import drift
from rex_pipeline.ops.reconcile import (
    ENTITIES,
    inputs_state,
    published_differences,
    reconcile,
)
from rex_pipeline.ops.rules import RULES, RULES_BY_NAME, run_rule
from rex_pipeline.resources import RexSettings
from rex_pipeline.schema import CANONICAL_TABLES
from rex_pipeline.warehouse import file_identity, work_db_path

WAREHOUSE = dg.AssetKey("warehouse")
PUBLISHED_TABLES = tuple(t.name for t in CANONICAL_TABLES)
RECONCILIATION_ROWS = 200  # files listed in the check's metadata


@contextmanager
def _read_only(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        yield con
    finally:
        con.close()


def _missing(name: str, path: Path) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=name,
        passed=False,
        description=f"{path} does not exist yet: materialise the warehouse first.",
    )


@dg.multi_asset_check(
    name="warehouse_integrity",
    specs=[
        dg.AssetCheckSpec(r.name, asset=WAREHOUSE, description=r.description, blocking=True)
        for r in RULES
    ],
    can_subset=True,
    description="Integrity of the published canonical tables (uniqueness, links, enumerations, "
    "lineage, ICP scores), checked on the analysts' file.",
)
def warehouse_integrity(
    context: dg.AssetCheckExecutionContext, rex_settings: RexSettings
) -> Iterator[dg.AssetCheckResult]:
    path = rex_settings.load().duckdb_path
    names = sorted(k.name for k in context.selected_asset_check_keys)
    if not path.exists():
        yield from (_missing(name, path) for name in names)
        return
    identity = file_identity(path)
    with _read_only(path) as con:
        for name in names:
            key = dg.AssetCheckKey(WAREHOUSE, name)
            earlier = _passed_on(context, key, "published_file", identity)
            if earlier is not None:  # the very file an earlier run checked: same result
                yield dg.AssetCheckResult(
                    check_name=name,
                    passed=True,
                    description=f"{RULES_BY_NAME[name].description} (unchanged file, "
                    f"checked in run {earlier.checked_in[:8]})",
                    metadata={
                        "violations": 0,
                        "published_file": identity,
                        "checked_in": earlier.checked_in,
                    },
                )
                continue
            outcome = run_rule(con, RULES_BY_NAME[name])
            yield dg.AssetCheckResult(
                check_name=name,
                passed=outcome.passed,
                description=outcome.rule.description
                if outcome.passed
                else f"{outcome.violations} violation(s): " + ", ".join(outcome.by_problem),
                metadata={
                    "violations": outcome.violations,
                    "violations_by_problem": counts_table(outcome.by_problem, "problem"),
                    "examples": markdown_table(outcome.sample),
                    "check_seconds": round(outcome.seconds, 3),
                    "published_file": identity or "",
                },
            )


def _run_id(context: dg.AssetCheckExecutionContext) -> str | None:
    """This run's id; None when the check is called directly (a test), outside any run."""
    try:
        return context.run.run_id
    except dg.DagsterError:  # "the dagster_run property is not set"
        return None


def _earlier_evaluations(
    instance: dg.DagsterInstance, check: dg.AssetCheckKey, run_id: str | None, limit: int
) -> Iterator[tuple[str, dg.AssetCheckEvaluation]]:
    """(run id, evaluation) of `check` in earlier runs, newest first, from the event log
    (planned, i.e. queued or running, executions have no evaluation yet)."""
    for record in instance.event_log_storage.get_asset_check_execution_history(check, limit=limit):
        evaluation = record.evaluation
        if record.run_id != run_id and isinstance(evaluation, dg.AssetCheckEvaluation):
            yield record.run_id, evaluation


@dataclass(frozen=True)
class EarlierPass:
    """An earlier run's passing evaluation of a check, on the same inputs as this run's."""

    checked_in: str  # the run that really ran the queries (a reused pass names its origin)
    evaluation: dg.AssetCheckEvaluation


def _passed_on(
    context: dg.AssetCheckExecutionContext, check: dg.AssetCheckKey, marker: str, value: str | None
) -> EarlierPass | None:
    """The latest earlier evaluation of `check`, if it passed on the same inputs: its metadata
    `marker` equals `value` (the published file's identity — inode, size and modification
    time: a publish always writes a new file — or a fingerprint of the work database)."""
    history = _earlier_evaluations(context.instance, check, _run_id(context), limit=5)
    latest = next(history, None) if value is not None else None
    if latest is None:
        return None
    run_id, evaluation = latest
    checked = evaluation.metadata.get(marker)
    if not (evaluation.passed and checked is not None and checked.value == value):
        return None
    origin = evaluation.metadata.get("checked_in", dg.TextMetadataValue(run_id))
    return EarlierPass(str(origin.value), evaluation)


def _attach_read_only(con: duckdb.DuckDBPyConnection, path: Path, alias: str) -> None:
    quoted = str(path).replace("'", "''")
    con.execute(f"ATTACH '{quoted}' AS {alias} (READ_ONLY)")


def _reconciliation_table(frame: pl.DataFrame) -> dg.MetadataValue:
    """Every file, the ones that don't add up first (a file name is long: shown whole)."""
    ordered = frame.sort(pl.col("missing") == 0, "source_system", "source_file")
    shown = ordered.drop("org_id") if frame["org_id"].n_unique() <= 1 else ordered
    return markdown_table(shown, rows=RECONCILIATION_ROWS, max_chars=80)


@dg.asset_check(
    asset=WAREHOUSE,
    name="records_accounted_for",
    blocking=True,
    pool="duckdb_write",
    description="Nothing read is lost: for every input file, the records read equal the records "
    "that reached the warehouse (contact_sources / company_sources rows of existing contacts "
    "and companies; staged activities, deals and tasks whose row exists) plus the rejected "
    "ones; and the analysts' copy holds every row of the work database.",
)
def records_accounted_for(
    context: dg.AssetCheckExecutionContext, rex_settings: RexSettings
) -> dg.AssetCheckResult:
    published = rex_settings.load().duckdb_path
    work = work_db_path(published)
    for path in (work, published):
        if not path.exists():
            return _missing("records_accounted_for", path)
    started = time.perf_counter()
    with _read_only(work) as con:
        # what was checked: the work database's inputs and the very published file
        state = f"{inputs_state(con)};published={file_identity(published)}"
        key = dg.AssetCheckKey(WAREHOUSE, "records_accounted_for")
        earlier = _passed_on(context, key, "inputs_state", state)
        if earlier is not None:  # nothing it reads changed since: the same result
            return _reused(earlier, time.perf_counter() - started)
        result = reconcile(con)
        _attach_read_only(con, published, "published")
        differences = published_differences(con, "published", PUBLISHED_TABLES)
    totals = result.totals()
    present = sum(totals[e] for e in ENTITIES)
    problems = []
    if not result.passed:
        problems.append(f"{result.mismatches.height} file(s) don't add up")
    if differences:
        problems.append("published copy differs: " + ", ".join(sorted(differences)))
    return dg.AssetCheckResult(
        passed=not problems,
        description=f"{totals['read']} records read from {result.files.height} files: "
        f"{present} in the warehouse, {totals['rejected']} rejected"
        + (f"; {'; '.join(problems)}" if problems else ""),
        metadata={
            "files": result.files.height,
            "records_read": totals["read"],
            "records_present": present,
            "records_staged": totals["staged"],
            "records_rejected": totals["rejected"],
            "records_missing": totals["missing"],
            "present_by_entity": counts_table({e: totals[e] for e in ENTITIES}, "entity"),
            "reconciliation": _reconciliation_table(result.files),
            "mismatched_files": markdown_table(result.mismatches, rows=20, max_chars=80),
            "published_vs_work": counts_table(
                {t: f"work {w}, published {p}" for t, (w, p) in differences.items()},
                "table",
                "rows",
            ),
            "inputs_state": state,
            "check_seconds": round(time.perf_counter() - started, 3),
        },
    )


def _reused(earlier: EarlierPass, seconds: float) -> dg.AssetCheckResult:
    """An earlier pass on the same inputs, repeated with its numbers and tables."""
    note = f" (unchanged since run {earlier.checked_in[:8]})"
    description = (earlier.evaluation.description or "").removesuffix(note)  # a reuse's reuse
    return dg.AssetCheckResult(
        passed=True,
        description=description + note,
        metadata={
            **earlier.evaluation.metadata,
            "checked_in": earlier.checked_in,
            "check_seconds": round(seconds, 3),
        },
    )


_DRIFT_DESCRIPTIONS = {
    "rejected_share": "Warns when the share of rejected input records jumps versus the last run.",
    "duplicate_rate": "Warns when the share of contact records that collapsed into another "
    "contact (1 - contacts / records) jumps versus the last run: over-merging or a bad export.",
}


def _run_started_at(instance: dg.DagsterInstance, run_id: str) -> datetime:
    """When this run started: the manifest rows written at or after it are this run's files."""
    record = instance.get_run_record_by_id(run_id)
    if record is None:
        return datetime.now(UTC)
    if record.start_time:
        return datetime.fromtimestamp(record.start_time, UTC)
    return record.create_timestamp


def previous_metrics(
    instance: dg.DagsterInstance, check: dg.AssetCheckKey, run_id: str, history: int = 50
) -> dict[str, drift.RunMetrics]:
    """Per org, the metrics of the latest earlier run that loaded enough records to compare
    with, from this check's evaluations in the event log (newest first)."""
    metric = check.name.removesuffix("_drift")
    found: dict[str, drift.RunMetrics] = {}
    for _, evaluation in _earlier_evaluations(instance, check, run_id, limit=history):
        value = evaluation.metadata.get("run_metrics")
        if not isinstance(value, dg.JsonMetadataValue) or not isinstance(value.value, dict):
            continue
        for org, data in value.value.items():
            metrics = drift.RunMetrics.from_dict(data)
            if metrics.size(metric) >= drift.MIN_RECORDS:
                found.setdefault(org, metrics)
    return found


@dg.multi_asset_check(
    name="input_drift",
    specs=[
        dg.AssetCheckSpec(f"{m}_drift", asset=WAREHOUSE, description=_DRIFT_DESCRIPTIONS[m])
        for m in drift.METRICS
    ],
    can_subset=True,
    pool="duckdb_write",
    description="Warnings for suspicious drift between runs (never blocking).",
)
def input_drift(
    context: dg.AssetCheckExecutionContext, rex_settings: RexSettings
) -> Iterator[dg.AssetCheckResult]:
    started = time.perf_counter()
    run_id = context.run.run_id
    since = _run_started_at(context.instance, run_id)
    work = work_db_path(rex_settings.load().duckdb_path)
    metrics: dict[str, drift.RunMetrics] = {}
    if work.exists():
        with _read_only(work) as con:
            metrics = drift.run_metrics(con, since)
    run_seconds = round(time.time() - since.timestamp(), 1)
    for key in sorted(context.selected_asset_check_keys, key=lambda k: k.name):
        metric = key.name.removesuffix("_drift")
        # nothing loaded, nothing to compare: skip reading the check's history
        before = previous_metrics(context.instance, key, run_id) if metrics else {}
        results = {org: drift.compare(metric, m, before.get(org)) for org, m in metrics.items()}
        jumped = [f"{org}: {d.explanation}" for org, d in results.items() if d.jumped]
        explained = [f"{org}: {d.explanation}" for org, d in results.items()]
        shares = {
            f"{org} ({when})": f"{value:.1%}"
            for org, d in results.items()
            for when, value in (("this run", d.current), ("run before", d.previous))
            if value is not None
        }
        yield dg.AssetCheckResult(
            check_name=key.name,
            passed=not jumped,
            severity=dg.AssetCheckSeverity.WARN,
            description="; ".join(jumped or explained) or "This run loaded no new records.",
            metadata={
                metric: counts_table(shares, "org", metric),
                "run_metrics": dg.MetadataValue.json({o: m.as_dict() for o, m in metrics.items()}),
                "run_seconds_until_checks": run_seconds,
                "check_seconds": round(time.perf_counter() - started, 3),
            },
        )


WAREHOUSE_CHECKS: list[dg.AssetChecksDefinition] = [
    warehouse_integrity,
    records_accounted_for,
    input_drift,
]
