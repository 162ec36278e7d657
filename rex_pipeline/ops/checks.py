"""Asset checks on the published warehouse.

* Integrity (blocking): the `rules` queries, run on the published file read-only, i.e. on
  exactly what analysts see. The publish step already gates bad data inside its transaction;
  these checks report, and stop anything downstream of `warehouse`.
* Records accounted for (blocking): per file, read = staged + rejected, on the work database.
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
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb

from rex_pipeline.assets.metadata import counts_table, markdown_table
from rex_pipeline.ops import drift
from rex_pipeline.ops.lineage import balance
from rex_pipeline.ops.rules import RULES, RULES_BY_NAME, run_rule
from rex_pipeline.resources import RexSettings
from rex_pipeline.warehouse import work_db_path

WAREHOUSE = dg.AssetKey("warehouse")


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
    with _read_only(path) as con:
        for name in names:
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
                },
            )


@dg.asset_check(
    asset=WAREHOUSE,
    name="records_accounted_for",
    blocking=True,
    pool="duckdb_write",
    description="Nothing read is dropped silently: for every input file, the records read equal "
    "the staged records plus the rejected ones.",
)
def records_accounted_for(rex_settings: RexSettings) -> dg.AssetCheckResult:
    work = work_db_path(rex_settings.load().duckdb_path)
    if not work.exists():
        return _missing("records_accounted_for", work)
    started = time.perf_counter()
    with _read_only(work) as con:
        result = balance(con)
    return dg.AssetCheckResult(
        passed=result.passed,
        description=f"{result.read} records read from {result.files} files: {result.staged} "
        f"staged, {result.rejected} rejected"
        + ("" if result.passed else f"; {result.mismatches.height} file(s) don't add up"),
        metadata={
            "files": result.files,
            "records_read": result.read,
            "records_staged": result.staged,
            "records_rejected": result.rejected,
            "mismatched_files": markdown_table(result.mismatches, rows=20),
            "check_seconds": round(time.perf_counter() - started, 3),
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
    storage = instance.event_log_storage
    for record in storage.get_asset_check_execution_history(check, limit=history):
        evaluation = record.evaluation  # planned (queued or running) executions have none yet
        if record.run_id == run_id or not isinstance(evaluation, dg.AssetCheckEvaluation):
            continue
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
        before = previous_metrics(context.instance, key, run_id)
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
