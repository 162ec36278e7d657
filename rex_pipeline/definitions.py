"""The one Dagster `Definitions` object of rex_pipeline (`defs`).

sources (csv_exports, gmail_messages, instantly_exports) → normalised_records →
resolved_identities → canonical_records → icp_scores → warehouse → icp_customer_insights
"""

from __future__ import annotations

import dagster as dg

from rex_pipeline import fast_exit
from rex_pipeline.assets.publish import build_warehouse_asset
from rex_pipeline.assets.score import build_insights_asset, icp_scores, icp_scores_valid
from rex_pipeline.assets.sources import SOURCE_ASSETS
from rex_pipeline.assets.stages import canonical_records, normalised_records, resolved_identities
from rex_pipeline.ops import (
    WAREHOUSE_CHECKS,
    full_sync_schedule,
    inbox_sensor,
    overrides_sensor,
    sync_job,
)
from rex_pipeline.resources import RexSettings, WorkDatabase

fast_exit.install()  # a finished run's process exits without tearing down what it loaded

warehouse = build_warehouse_asset([canonical_records, icp_scores])
icp_customer_insights = build_insights_asset(warehouse)

defs = dg.Definitions(
    assets=[
        *SOURCE_ASSETS,
        normalised_records,
        resolved_identities,
        canonical_records,
        icp_scores,
        warehouse,
        icp_customer_insights,
    ],
    asset_checks=[icp_scores_valid, *WAREHOUSE_CHECKS],
    jobs=[sync_job],
    schedules=[full_sync_schedule],
    sensors=[inbox_sensor, overrides_sensor],
    resources={"rex_settings": RexSettings(), "work_db": WorkDatabase()},
    executor=dg.in_process_executor,
)
