"""The activity stage: `records.RAW_ACTIVITY` -> `records.CLEAN_ACTIVITY` + `records.REJECTED`.

An activity needs an external_id (its identity within its source) and something to attach it
to: a valid contact email or a company (domain or name). Type, status and direction are mapped
to the contract's vocabularies (unknown type -> "other", unknown or missing direction -> "na",
unknown status -> NULL); raw values that did not map are kept in metadata, and so is an
invalid contact email.
"""

from __future__ import annotations

import polars as pl

from rex_pipeline import records
from rex_pipeline.config import Settings
from rex_pipeline.normalise.metadata import with_additions
from rex_pipeline.normalise.record_links import invalid_email_note, with_links
from rex_pipeline.normalise.rejects import rejected_rows
from rex_pipeline.normalise.text import blank_to_null
from rex_pipeline.normalise.vocab import map_vocab

_AS_GIVEN = ("raw", "subject", "body")  # message text is stored exactly as the source gave it


def _reason() -> pl.Expr:
    # A mail message is an activity even without a counterparty (self-sent mail, notes to
    # self); a CRM activity row that names nobody is a broken row.
    attached = pl.any_horizontal(
        pl.col("contact_email").is_not_null(),
        pl.col("company_domain").is_not_null(),
        pl.col("company_key").is_not_null(),
        pl.col("source_system").is_in(["gmail", "instantly"]),
    )
    no_target = pl.coalesce(
        pl.format("no contact email or company ({})", invalid_email_note()),
        pl.lit("no contact email or company"),
    )
    return (
        pl.when(pl.col("external_id").is_null())
        .then(pl.lit("missing external_id"))
        .when(~attached)
        .then(no_target)
    )


def normalise_activities(
    raw: pl.DataFrame, settings: Settings
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(CLEAN_ACTIVITY frame, REJECTED frame); every input row ends in exactly one of them."""
    given = records.conform(raw, records.RAW_ACTIVITY)
    strings = [
        n for n, t in records.RAW_ACTIVITY.items() if t == pl.String() and n not in _AS_GIVEN
    ]
    # `raw` only matters to rejections, which take it from `given`
    frame = given.drop("raw").with_columns(*(blank_to_null(pl.col(n)).alias(n) for n in strings))
    frame = with_links(
        frame.with_columns(pl.col("org_id").fill_null(settings.org_id)), company=True
    )
    frame = frame.with_columns(
        _type=map_vocab(frame["type"], "activity_type"),
        _status=map_vocab(frame["status"], "activity_status"),
        _direction=map_vocab(frame["direction"], "direction"),
    )
    metadata = with_additions(
        frame,
        {
            "raw_type": pl.when(pl.col("_type").is_null()).then(pl.col("type")),
            "raw_status": pl.when(pl.col("_status").is_null()).then(pl.col("status")),
            "raw_direction": pl.when(pl.col("_direction").is_null()).then(pl.col("direction")),
            "invalid_contact_email": pl.when(pl.col("contact_email_error").is_not_null()).then(
                pl.col("contact_email_given")
            ),
            "raw_company_domain": pl.when("website_unused").then("company_domain_given"),
        },
    )
    frame = frame.with_columns(
        type=pl.col("_type").fill_null("other"),
        status=pl.col("_status"),
        direction=pl.col("_direction").fill_null("na"),
        source=pl.coalesce(pl.col("source").str.to_lowercase(), pl.col("source_system")),
        metadata=metadata,
        reason=_reason(),
    )
    rejected = rejected_rows(
        given.with_columns(frame["org_id"], frame["reason"]), "reason", records.RAW_ACTIVITY
    )
    # the clean columns first, so the filter copies only those
    clean = records.conform(frame, records.CLEAN_ACTIVITY).filter(frame["reason"].is_null())
    return clean, rejected
