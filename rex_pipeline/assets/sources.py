"""Source assets: one per inbox folder. Each parses the folder's new and changed files into
this run's batch and reports what it read, per file."""

import dagster as dg
import polars as pl

from rex_pipeline.assets import batch_owner
from rex_pipeline.assets.config import SyncConfig, settings_for
from rex_pipeline.assets.metadata import counts_table, markdown_table
from rex_pipeline.faults import crash_point
from rex_pipeline.ingest import Batch, stage_system
from rex_pipeline.resources import RexSettings, WorkDatabase

_DESCRIPTIONS = {
    "csv": "Contact, company, activity, deal and task CSV exports in inbox/csv/ (HubSpot, "
    "Salesforce, Apollo, LinkedIn, Google Contacts, Outlook, generic), recognised by header.",
    "gmail": "Google Takeout .mbox files and Gmail API .json/.jsonl messages in inbox/gmail/: "
    "one email activity per message, correspondents as contacts.",
    "instantly": "Instantly lead exports and email/event exports in inbox/instantly/: "
    "campaign leads as contacts, sends/replies/opens/bounces as email activities.",
}
_KINDS = {"csv": {"csv", "duckdb"}, "gmail": {"gmail", "duckdb"}, "instantly": {"json", "duckdb"}}
_NAMES = {"csv": "csv_exports", "gmail": "gmail_messages", "instantly": "instantly_exports"}
# The mail step runs first among the sources (the in-process executor starts the ready step of
# highest `dagster/priority` first). Its parser workers are processes of their own, so their
# memory adds to the run's; after the CSV step the run still holds that step's freed frames
# (polars keeps them for 10 s, `allocator.py`), and one of three 1M runs peaked at 3.93 GB
# there instead of about 2.4 GB. Run first, the workers start beside a fresh process (the step's
# peak at 1M: 1.2 GB against 2.1-2.3 GB), and the CSV step reuses the memory the mail step freed.
_OP_TAGS = {"gmail": {"dagster/priority": "1"}}


def source_metadata(batch: Batch) -> dict[str, object]:
    files = pl.DataFrame(
        [
            {
                "file": r.file_name,
                "status": r.status,
                "records": r.records_read,
                "rejected": r.records_rejected,
                "detail": r.error or ", ".join(f"{k}={v}" for k, v in r.stats.items())[:120],
                "seconds": r.seconds,
            }
            for r in batch.reports
        ],
        schema={
            "file": pl.String,
            "status": pl.String,
            "records": pl.Int64,
            "rejected": pl.Int64,
            "detail": pl.String,
            "seconds": pl.Float64,
        },
    )
    reasons = (
        dict(
            batch.rejected.group_by("reason")
            .len()
            .sort("len", descending=True)
            .head(15)
            .iter_rows()
        )
        if batch.rejected.height
        else {}
    )
    return {
        "dagster/row_count": sum(batch.counts.values()),
        "files_loaded": sum(r.status == "loaded" for r in batch.reports),
        "files_unreadable": sum(r.status != "loaded" for r in batch.reports),
        "files_unchanged_skipped": batch.skipped_unchanged,
        "records_by_entity": counts_table(dict(batch.counts), "entity", "records"),
        "rows_rejected": batch.rejected.height,
        "rejected_by_reason": counts_table(reasons, "reason"),
        "files": markdown_table(files, rows=50, max_chars=120),
        "preview": markdown_table(
            batch.frames["contacts"].select(
                "source_file", "source_row", "email", "first_name", "last_name", "company_name"
            )
            if batch.frames["contacts"].height
            else batch.frames["activities"].select(
                "source_file", "external_id", "subject", "contact_email", "direction"
            )
        ),
    }


def _source_asset(system: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=_NAMES[system],
        group_name="sources",
        kinds=_KINDS[system],
        description=_DESCRIPTIONS[system],
        pool="duckdb_write",
        op_tags=_OP_TAGS.get(system),
    )
    def _asset(
        context: dg.AssetExecutionContext,
        config: SyncConfig,
        rex_settings: RexSettings,
        work_db: WorkDatabase,
    ) -> dg.MaterializeResult:
        settings = settings_for(rex_settings, config, context)
        with work_db.connect(settings) as con:
            batch_owner.claim(context, con)
            batch = stage_system(con, settings, system, force=config.full_refresh)
        for report in batch.reports:
            if report.status != "loaded":
                context.log.warning(f"{report.file_name}: unreadable: {report.error}")
        crash_point(f"{_NAMES[system]}.done")
        return dg.MaterializeResult(metadata=source_metadata(batch))

    return _asset


csv_exports = _source_asset("csv")
gmail_messages = _source_asset("gmail")
instantly_exports = _source_asset("instantly")
SOURCE_ASSETS = [csv_exports, gmail_messages, instantly_exports]
