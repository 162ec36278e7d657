"""The task stage: `records.RAW_TASK` -> `records.CLEAN_TASK` + `records.REJECTED`.

A task needs a title. Priority maps to low/medium/high (unknown -> NULL, raw kept in metadata);
status maps to pending/completed, missing -> pending.
"""

from __future__ import annotations

import polars as pl

from rex_pipeline import records
from rex_pipeline.config import Settings
from rex_pipeline.normalise.metadata import add_to_metadata
from rex_pipeline.normalise.record_links import with_links
from rex_pipeline.normalise.rejects import rejected_rows
from rex_pipeline.normalise.text import blank_to_null
from rex_pipeline.normalise.vocab import map_vocab


def normalise_tasks(raw: pl.DataFrame, settings: Settings) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(CLEAN_TASK frame, REJECTED frame); every input row ends in exactly one of them."""
    given = records.conform(raw, records.RAW_TASK)
    strings = [n for n, t in records.RAW_TASK.items() if t == pl.String() and n != "raw"]
    frame = given.with_columns(*(blank_to_null(pl.col(n)).alias(n) for n in strings))
    frame = with_links(
        frame.with_columns(pl.col("org_id").fill_null(settings.org_id)), company=False
    )
    priority = map_vocab(frame["priority"], "task_priority")
    status = map_vocab(frame["status"], "task_status")
    frame = frame.with_columns(
        priority=priority,
        status=pl.when(pl.col("status").is_null()).then(pl.lit("pending")).otherwise(status),
        metadata=add_to_metadata(
            pl.col("metadata"),
            {
                "raw_priority": pl.when(priority.is_null()).then(pl.col("priority")),
                "raw_status": pl.when(status.is_null()).then(pl.col("status")),
                "invalid_contact_email": pl.when(pl.col("contact_email_error").is_not_null()).then(
                    pl.col("contact_email_given")
                ),
            },
        ),
        reason=pl.when(pl.col("title").is_null()).then(pl.lit("task has no title")),
    )
    rejected = rejected_rows(
        given.with_columns(frame["org_id"], frame["reason"]), "reason", records.RAW_TASK
    )
    clean = frame.filter(pl.col("reason").is_null())
    return records.conform(clean, records.CLEAN_TASK), rejected
