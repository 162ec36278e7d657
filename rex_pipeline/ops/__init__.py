"""Operating rex_pipeline in Dagster: the sync job, the daily full sync, the inbox and overrides
sensors and the warehouse checks, registered in `rex_pipeline.definitions`.

The schedule's cron/timezone and the sensor's interval are read from rex.yaml (`sync:`, or the
file named by REX_CONFIG) when the definitions load; everything else at run time.
"""

from __future__ import annotations

from rex_pipeline.config import load_settings
from rex_pipeline.ops.checks import WAREHOUSE_CHECKS
from rex_pipeline.ops.jobs import sync_job
from rex_pipeline.ops.schedules import build_full_sync_schedule
from rex_pipeline.ops.sensors import build_inbox_sensor, build_overrides_sensor

_SYNC = load_settings().sync
full_sync_schedule = build_full_sync_schedule(_SYNC)
inbox_sensor = build_inbox_sensor(_SYNC)
overrides_sensor = build_overrides_sensor(_SYNC)

__all__ = ["WAREHOUSE_CHECKS", "full_sync_schedule", "inbox_sensor", "overrides_sensor", "sync_job"]
