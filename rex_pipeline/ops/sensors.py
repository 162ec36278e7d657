"""The sensors: an incremental sync when the inbox or the analysts' decisions change.

The inbox sensor compares the inbox with a JSON cursor of file names, sizes, mtimes and hashes
(`inbox_watch`), waits while a changed file is still being written, and requests one run per
change set with a run key derived from it, so the same change never runs twice. The run itself
skips files already loaded (the manifest), so only the changed files are parsed.

The overrides sensor keeps the digest of the decisions in `data/overrides.yaml` as its cursor:
when an analyst changes them (and the file has been left alone for the settle time), it starts
a sync, which applies them even though nothing in the inbox changed (`resolve.decisions`).
"""

import time

import dagster as dg

from rex_pipeline.config import SyncSettings
from rex_pipeline.ops.inbox_watch import Cursor, Decision, evaluate, stat_inbox
from rex_pipeline.ops.jobs import SYNC_JOB_NAME, sync_job, sync_run_config
from rex_pipeline.resolve.decisions import overrides_digest
from rex_pipeline.resolve.fuzzy.overrides import OverridesError, load_overrides
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


def build_overrides_sensor(sync: SyncSettings) -> dg.SensorDefinition:
    @dg.sensor(
        name="overrides_sensor",
        job=sync_job,
        minimum_interval_seconds=sync.sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Starts an incremental sync when the decisions in the overrides file "
        "(must_merge / never_merge) change, so they apply without waiting for new files.",
    )
    def overrides_sensor(
        context: dg.SensorEvaluationContext, rex_settings: RexSettings
    ) -> dg.SensorResult:
        settings = rex_settings.load()
        path = settings.overrides_path
        try:
            if path.exists() and time.time() - path.stat().st_mtime < settings.sync.settle_seconds:
                return dg.SensorResult(skip_reason=f"Waiting for {path} to be saved")
            digest = overrides_digest(load_overrides(path))
        except (OSError, OverridesError) as exc:
            return dg.SensorResult(skip_reason=f"Decisions not read, none applied: {exc}")
        if context.cursor is None:  # first tick: the next sync applies whatever is pending
            return dg.SensorResult(skip_reason="Watching the decisions from now on", cursor=digest)
        if digest == context.cursor:
            return dg.SensorResult(skip_reason="The decisions are unchanged")
        context.log.info(f"the decisions in {path} changed: starting a sync to apply them")
        job = context.repository_def.get_job(SYNC_JOB_NAME)  # type: ignore[union-attr]
        request = dg.RunRequest(
            run_key=f"overrides-{digest[:16]}-{time.time_ns()}",  # a change back runs again
            run_config=sync_run_config(job, full_refresh=False),
            tags={"rex/sync": "incremental", "rex/trigger": "overrides"},
        )
        return dg.SensorResult(run_requests=[request], cursor=digest)

    return overrides_sensor
