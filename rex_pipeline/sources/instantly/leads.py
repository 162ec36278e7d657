"""Instantly leads (UI CSV export, API v2 lead objects) -> raw contacts."""

from __future__ import annotations

import polars as pl

from rex_pipeline.sources.instantly.codes import INTEREST_STATUS, LEAD_STATUS
from rex_pipeline.sources.instantly.contacts import OUTBOUND, metadata, source_key, stage, tags
from rex_pipeline.sources.instantly.exprs import (
    address,
    integer,
    json_member,
    json_text_member,
    timestamp,
    vocab,
)
from rex_pipeline.sources.instantly.staged import Origin, Staged


def leads_to_contacts(flat: pl.DataFrame, origin: Origin) -> Staged:
    """Contacts of a flat lead frame; a lead without a usable address is rejected."""
    frame = flat.with_columns(
        address=address(pl.col("email")),
        status_name=vocab(pl.col("status"), LEAD_STATUS),
        interest_name=vocab(pl.col("interest_status"), INTEREST_STATUS),
    )
    has_address = pl.col("address").is_not_null()
    contacts = frame.filter(has_address).select(
        *origin.columns(),
        source_key(pl.coalesce(pl.col("id"), pl.col("address").str.to_lowercase())).alias(
            "source_key"
        ),
        pl.col("address").alias("email"),
        "full_name",
        "first_name",
        "last_name",
        "phone",
        "title",
        "linkedin_url",
        stage(pl.col("interest_name")).alias("stage"),
        pl.lit(OUTBOUND).alias("source"),
        pl.coalesce(pl.col("campaign_name"), pl.col("campaign_id")).alias("source_detail"),
        "company_name",
        pl.coalesce(pl.col("company_domain"), pl.col("website")).alias("company_domain"),
        tags(pl.col("status_name"), pl.col("interest_name"), pl.col("campaign_name")).alias("tags"),
        metadata(_instantly_state(), pl.col("custom")).alias("metadata"),
        timestamp(pl.col("created_at")).alias("created_at"),
        timestamp(pl.col("updated_at")).alias("updated_at"),
    )
    rejected = origin.rejected(
        frame.filter(~has_address),
        pl.when(pl.col("email").is_null())
        .then(pl.lit("lead has no email address"))
        .otherwise(pl.lit("lead email is not a usable address: ") + pl.col("email")),
    )
    return Staged(contacts=contacts, rejected=rejected)


def _instantly_state() -> list[pl.Expr]:
    """The lead's Instantly state and the fields we keep but do not map."""
    return [
        json_member("lead_id", pl.col("id")),
        json_member("status", pl.col("status_name")),
        json_member("interest_status", pl.col("interest_name")),
        json_member("verification_status", pl.col("verification_status")),
        json_member("email_open_count", integer(pl.col("open_count"))),
        json_member("email_reply_count", integer(pl.col("reply_count"))),
        json_member("email_click_count", integer(pl.col("click_count"))),
        json_member(
            "campaign_ids",
            pl.when(pl.col("campaign_id").is_not_null()).then(pl.concat_list("campaign_id")),
        ),
        json_member("campaign_name", pl.col("campaign_name")),
        json_member("list_id", pl.col("list_id")),
        json_member("website", pl.col("website")),
        json_member("personalization", pl.col("personalization")),
        json_member("last_contacted_at", timestamp(pl.col("last_contacted_at"))),
        json_text_member("other_fields", pl.col("extra")),
    ]
