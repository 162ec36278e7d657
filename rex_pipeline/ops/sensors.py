"""The inbox sensor: starts an incremental sync when files are added to or changed in the inbox.

Each tick compares the inbox with a JSON cursor of file names, sizes, mtimes and hashes
(`inbox_watch`), waits while a changed file is still being written, and requests one run per
change set with a run key derived from it, so the same change never runs twice. The run itself
skips files already loaded (the manifest), so only the changed files are parsed.
"""

import time

import dagster as dg

from rex_pipeline.config import SyncSettings
from rex_pipeline.ops.inbox_watch import Cursor, Decision, evaluate, stat_inbox
from rex_pipeline.ops.jobs import SYNC_JOB_NAME, sync_job, sync_run_config
from rex_pipeline.resources import RexSettings


def _listing(paths: list[str], limit: int = 5) -> str:
    shown = ", ".join(paths[:limit])
    return shown + (f" and {len(paths) - limit} more" if len(paths) > limit else "")


def _skip_reason(decision: Decision) -> str:
    if decision.waiting:
        return f"Waiting for files still being written: {_listing(list(decision.waiting))}"
    return "No new or changed files in the inbox"


def build_inbox_sensor(sync: SyncSettings) -> dg.SensorDefinition:
    @dg.sensor(
        name="inbox_sensor",
        job=sync_job,
        minimum_interval_seconds=sync.sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Checks the inbox every {sync.sensor_interval_seconds} s and starts an "
        "incremental sync when files are added or changed, once they have been left alone for "
        f"{sync.settle_seconds} s.",
    )
    def inbox_sensor(
        context: dg.SensorEvaluationContext, rex_settings: RexSettings
    ) -> dg.SensorResult:
        settings = rex_settings.load()
        decision = evaluate(
            Cursor.from_json(context.cursor),
            stat_inbox(settings.inbox_dir),
            now_ns=time.time_ns(),
            settle_seconds=settings.sync.settle_seconds,
        )
        cursor = decision.cursor.to_json()
        if not decision.changes:
            return dg.SensorResult(skip_reason=_skip_reason(decision), cursor=cursor)
        changed = [c.path for c in decision.changes]
        context.log.info(f"{len(changed)} new or changed file(s): {_listing(changed, 20)}")
        job = context.repository_def.get_job(SYNC_JOB_NAME)  # type: ignore[union-attr]
        request = dg.RunRequest(
            run_key=decision.run_key,
            run_config=sync_run_config(job, full_refresh=False),
            tags={"rex/sync": "incremental", "rex/changed_files": _listing(changed)[:200]},
        )
        return dg.SensorResult(run_requests=[request], cursor=cursor)

    return inbox_sensor
