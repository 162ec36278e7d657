"""The middle of the graph: normalise → resolve → merge. Each asset is a thin call into a
pure stage module and reports its numbers; all data stays in the work database's batch."""

from datetime import UTC, datetime

import dagster as dg

from rex_pipeline import batch
from rex_pipeline.assets import batch_owner
from rex_pipeline.assets.config import SyncConfig, settings_for
from rex_pipeline.assets.metadata import PREVIEW_ROWS, counts_table, markdown_table
from rex_pipeline.assets.sources import SOURCE_ASSETS
from rex_pipeline.faults import crash_point
from rex_pipeline.merge.links import build_canonical_links
from rex_pipeline.merge.survivorship import (
    build_canonical_companies,
    build_canonical_contacts,
    build_company_records,
    build_contact_records,
)
from rex_pipeline.resolve.run import resolve_batch
from rex_pipeline.resources import RexSettings, WorkDatabase
from rex_pipeline.staging import normalise_batch
from rex_pipeline.warehouse import scalar

RESOLVE_MEMORY_LIMIT = "1536MB"
"""Resolve works on polars frames and uses DuckDB to fold and store them: a bounded DuckDB
cache leaves the memory to polars (at a million contacts, DuckDB's own default of 80% of RAM
made the stage peak near 4.4 GB). Below ~1.5 GB its profile queries spill to disk and read it
back (1M: 3.2 GB read in the step at 512 MB, 1.0 GB at 1 GB, 0.46 GB at 1.5 GB; 1 -> 1.5 GB
saved 4-8 CPU-s in two back-to-back pairs), and the run's peak stays that of normalising."""

MERGE_MEMORY_LIMIT = "2GB"
"""Survivorship groups every record of the batch by entity: at a million records (575k
contacts) its aggregations spill past 1 GB, which cost half of the fold's CPU (1M, contact
fold: 16.5 CPU-s at 1 GB, 11.7 at 2 GB; the step peaks near 2 GB, below the run's peak)."""


@dg.asset(
    group_name="normalise",
    kinds={"polars", "duckdb"},
    deps=SOURCE_ASSETS,
    pool="duckdb_write",
    description="Raw records of this run made canonical: validated emails with provider-aware "
    "matching keys, registrable domains, E.164 phones, parsed names, company keys, mapped "
    "stages/sources. Records that cannot be used go to rejected_records with the reason.",
)
def normalised_records(
    context: dg.AssetExecutionContext,
    config: SyncConfig,
    rex_settings: RexSettings,
    work_db: WorkDatabase,
) -> dg.MaterializeResult:
    settings = settings_for(rex_settings, config)
    with work_db.connect(settings) as con:
        batch_owner.claim(context, con)
        batch.require(con, "batch_raw_contacts", "normalised_records", "the source assets")
        stats = normalise_batch(con, settings)
        rejected = batch.table(con, "batch_rejected_normalise")
        preview = batch.table(
            con,
            "batch_clean_contacts",
            ["email", "email_key", "first_name", "last_name", "phone", "company_domain", "stage"],
            limit=PREVIEW_ROWS,
        )
    crash_point("normalised_records.done")
    reasons = rejected.get_column("reason").str.replace(r"'.*'", "'…'").value_counts(sort=True)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(stats.clean.values()),
            "records_in": counts_table(stats.read, "entity", "records"),
            "records_clean": counts_table(stats.clean, "entity", "records"),
            "rows_rejected": sum(stats.rejected.values()),
            "record_ids_kept": counts_table(stats.record_ids_kept, "entity", "records"),
            "rejected_by_reason": counts_table(dict(reasons.head(15).iter_rows()), "reason"),
            "preview": markdown_table(preview),
        }
    )


@dg.asset(
    group_name="resolve",
    kinds={"polars", "duckdb"},
    deps=[normalised_records],
    pool="duckdb_write",
    description="Identity resolution: each clean record is matched to an existing contact or "
    "company through the persistent identity map (email key, LinkedIn URL, source ids, domain), "
    "new ones get a TypeID, and existing entities linked by new evidence merge (oldest wins).",
)
def resolved_identities(
    context: dg.AssetExecutionContext,
    config: SyncConfig,
    rex_settings: RexSettings,
    work_db: WorkDatabase,
) -> dg.MaterializeResult:
    settings = settings_for(rex_settings, config)
    with work_db.connect(settings, RESOLVE_MEMORY_LIMIT) as con:
        batch_owner.claim(context, con)
        batch.require(con, "batch_clean_contacts", "resolved_identities", "normalised_records")
        stats = resolve_batch(con, settings, run_time(context))
        merges = batch.table(con, "batch_merges_contact", limit=PREVIEW_ROWS)
        company_merges = batch.table(con, "batch_merges_company", limit=PREVIEW_ROWS)
        review = batch.table(
            con,
            "batch_possible_duplicates",
            ["entity", "id_a", "id_b", "score", "reasons"],
            limit=PREVIEW_ROWS,
        )
    crash_point("resolved_identities.done")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": stats.input_records.get("contact", 0),
            "contact_records_in": stats.input_records.get("contact", 0),
            "contacts_matched": stats.entities_touched.get("contact", 0),
            "company_records_in": stats.input_records.get("company", 0),
            "companies_matched": stats.entities_touched.get("company", 0),
            "new_ids": counts_table(stats.new_entities, "entity", "new ids"),
            "merges": counts_table(stats.merges, "entity", "merges"),
            "contact_match_rules": counts_table(stats.rules.get("contact", {}), "rule", "records"),
            "company_match_rules": counts_table(stats.rules.get("company", {}), "rule", "records"),
            "contact_merges_preview": markdown_table(merges),
            "company_merges_preview": markdown_table(company_merges),
            "review_queue_preview": markdown_table(review),
            **stats.extra,
        }
    )


@dg.asset(
    group_name="merge",
    kinds={"duckdb"},
    deps=[resolved_identities],
    pool="duckdb_write",
    description="Survivorship: the canonical row of every contact and company the run touched, "
    "folded from all of its records (oldest keeps the id, empty fields fill from the others, "
    "most advanced stage, newest title/phone, tags and metadata unioned, all emails kept), and "
    "the run's activities, deals and tasks linked to them.",
)
def canonical_records(
    context: dg.AssetExecutionContext,
    config: SyncConfig,
    rex_settings: RexSettings,
    work_db: WorkDatabase,
) -> dg.MaterializeResult:
    settings = settings_for(rex_settings, config)
    now = run_time(context)
    with work_db.connect(settings, MERGE_MEMORY_LIMIT) as con:
        batch_owner.claim(context, con)
        batch.require(con, "batch_assign_contact", "canonical_records", "resolved_identities")
        build_company_records(con, settings, now)
        build_canonical_companies(con)
        build_contact_records(con, settings, now)
        records_in = build_canonical_contacts(con, settings)
        build_canonical_links(con, settings, now)
        counts = {
            t: int(scalar(con, f"SELECT count(*) FROM batch_canonical_{t}") or 0)
            for t in ("contacts", "companies", "activities", "deals", "tasks")
        }
        preview = con.sql(
            "SELECT id, email, first_name, last_name, title, stage, company_id "
            "FROM batch_canonical_contacts LIMIT 10"
        ).pl()
    crash_point("canonical_records.done")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": counts["contacts"],
            "contact_records_in": records_in,
            "canonical_contacts_out": counts["contacts"],
            "rows_by_table": counts_table(counts, "table", "rows (touched this run)"),
            "preview": markdown_table(preview),
        }
    )


def run_time(context: dg.AssetExecutionContext) -> datetime:
    """The run's start time: every timestamp a run writes is this one, so a run is atomic
    in time as well as in data."""
    record = context.instance.get_run_record_by_id(context.run.run_id)
    started = record.start_time if record and record.start_time else None
    return datetime.fromtimestamp(started, UTC) if started else datetime.now(UTC)
