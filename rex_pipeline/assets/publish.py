"""The publish asset: apply the run in one transaction, then swap the analyst copy in."""

import time

import dagster as dg

from rex_pipeline import batch
from rex_pipeline.assets import batch_owner
from rex_pipeline.assets.config import SyncConfig, settings_for
from rex_pipeline.assets.metadata import column_schema, counts_table, markdown_table
from rex_pipeline.assets.stages import run_time
from rex_pipeline.faults import crash_point
from rex_pipeline.publish.apply import ApplyStats, apply_batch
from rex_pipeline.resources import RexSettings, WorkDatabase
from rex_pipeline.schema import CANONICAL_TABLES, CONTACTS
from rex_pipeline.warehouse import is_published, publish, scalar

PUBLISHED_HOW = {
    "written": "new file swapped in, written afresh",
    "updated": "new file swapped in: a copy of the last one, updated where it changed",
    None: "unchanged: the published file is current",
}


def table_counts(con, org_id: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    counts = {}
    for table in CANONICAL_TABLES:
        counts[table.name] = int(
            scalar(con, f'SELECT count(*) FROM "{table.name}" WHERE org_id = ?', [org_id]) or 0
        )
    return counts


def build_warehouse_asset(deps: list[dg.AssetsDefinition]) -> dg.AssetsDefinition:
    @dg.asset(
        name="warehouse",
        group_name="publish",
        kinds={"duckdb"},
        deps=deps,
        pool="duckdb_write",
        description="The canonical warehouse analysts query (REX_DUCKDB_PATH): contacts, "
        "contact_emails, companies, activities, deals, tasks, lineage, merges, review queue and "
        "rejected records. Applied in one transaction and published by an atomic file swap, so "
        "readers never block a run and never see a half-written run.",
    )
    def warehouse(
        context: dg.AssetExecutionContext,
        config: SyncConfig,
        rex_settings: RexSettings,
        work_db: WorkDatabase,
    ) -> dg.MaterializeResult:
        settings = settings_for(rex_settings, config, context)
        now = run_time(context)
        with work_db.connect(settings) as con:
            batch_owner.claim(context, con)
            started = time.perf_counter()
            if batch.exists(con, "batch_canonical_contacts"):
                stats = apply_batch(con, settings, now)
            elif not is_published(con, settings.duckdb_path):
                # a re-execution after its run applied the batch (which drops it) and failed
                # to publish: the work database is ahead of the analysts' file, publish it
                stats = ApplyStats()
            else:
                batch.require(con, "batch_canonical_contacts", "warehouse", "canonical_records")
            applied = time.perf_counter() - started
            published_as = publish(con, settings.duckdb_path)
            crash_point("warehouse.published")
            published = time.perf_counter() - started - applied
            counts = table_counts(con, settings.org_id)
            preview = con.sql(
                "SELECT id, email, first_name, last_name, title, stage, icp_score "
                "FROM contacts WHERE org_id = ? ORDER BY created_at, id LIMIT 10",
                params=[settings.org_id],
            ).pl()
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": counts["contacts"],
                "dagster/column_schema": column_schema(CONTACTS),
                "path": dg.MetadataValue.path(str(settings.duckdb_path)),
                "rows_by_table": counts_table(counts, "table", "rows"),
                "rows_written_this_run": counts_table(stats.upserted, "table", "rows"),
                "rows_changed_this_run": counts_table(stats.changed, "table", "rows"),
                "published": dg.MetadataValue.text(PUBLISHED_HOW[published_as]),
                "apply_seconds": round(applied, 3),
                "publish_seconds": round(published, 3),
                "contacts_preview": markdown_table(preview),
                **{
                    f"columns/{table.name}": dg.MetadataValue.table_schema(column_schema(table))
                    for table in CANONICAL_TABLES
                },
            }
        )

    return warehouse
