"""The one Dagster `Definitions` object of rex_pipeline (`defs`).

sources (csv_exports, gmail_messages, instantly_exports) → normalised_records →
resolved_identities → canonical_records → icp_scores → warehouse
"""

from __future__ import annotations

import dagster as dg

from rex_pipeline.assets.publish import WAREHOUSE_DEPS, build_warehouse_asset
from rex_pipeline.assets.sources import SOURCE_ASSETS
from rex_pipeline.assets.stages import canonical_records, normalised_records, resolved_identities
from rex_pipeline.resources import RexSettings, WorkDatabase

warehouse = build_warehouse_asset(WAREHOUSE_DEPS)

defs = dg.Definitions(
    assets=[*SOURCE_ASSETS, normalised_records, resolved_identities, canonical_records, warehouse],
    resources={"rex_settings": RexSettings(), "work_db": WorkDatabase()},
    executor=dg.in_process_executor,
)
