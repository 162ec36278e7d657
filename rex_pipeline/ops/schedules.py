"""The daily full sync: re-reads every inbox file (full_refresh), at `sync.cron` in
`sync.timezone` (rex.yaml). Running by default, so a deployed `dagster dev` keeps syncing."""

import dagster as dg

from rex_pipeline.config import SyncSettings
from rex_pipeline.ops.jobs import SYNC_JOB_NAME, sync_job, sync_run_config


def build_full_sync_schedule(sync: SyncSettings) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="daily_full_sync",
        cron_schedule=sync.cron,
        execution_timezone=sync.timezone,
        job=sync_job,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Full sync of the whole inbox ({sync.cron}, {sync.timezone}): every file "
        "is parsed again (full_refresh), so a changed parser or config reaches every record. "
        "Ids stay stable, so it changes nothing when nothing changed.",
    )
    def daily_full_sync(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        job = context.repository_def.get_job(SYNC_JOB_NAME)  # type: ignore[union-attr]
        return dg.RunRequest(
            run_config=sync_run_config(job, full_refresh=True),
            tags={"rex/sync": "full"},
        )

    return daily_full_sync
