"""What a lead's Instantly state means on its contact record: stage, tags and metadata, and the
contact records for leads seen only in mail or webhook events.

Tag scheme (tags are unioned when records merge, so only lasting facts become tags; the current
state is in metadata):
- `instantly:bounced`, `instantly:unsubscribed`: never mail this address again;
- `instantly:<interest>` for interested, meeting_booked, meeting_completed, won, not_interested,
  wrong_person, lost, no_show (not out_of_office or neutral, which pass);
- `campaign:<campaign name>` for each campaign the lead is in.

Metadata: `{"instantly": {lead_id, status, interest_status, counts, campaign_ids, ...},
"custom_variables": {...}}`, namespaced because contacts merge across sources.
"""

from __future__ import annotations

from collections.abc import Collection

import polars as pl

from rex_pipeline.records import conform
from rex_pipeline.sources.instantly.codes import (
    DO_NOT_MAIL_STATUSES,
    STAGE_BY_INTEREST,
    STAGE_RANK,
    TAGGED_INTERESTS,
)
from rex_pipeline.sources.instantly.exprs import json_member, json_object, json_text_member
from rex_pipeline.sources.instantly.staged import Origin

OUTBOUND = "outbound"  # contacts.source of everyone Instantly mails


def stage(interest: pl.Expr) -> pl.Expr:
    """lead, or prospect/customer as the interest status says (the merge never goes back)."""
    return interest.replace_strict(STAGE_BY_INTEREST, default="lead", return_dtype=pl.String)


def tags(status: pl.Expr, interest: pl.Expr, campaign_name: pl.Expr) -> pl.Expr:
    """The tags of one record (see the module docstring)."""
    return pl.concat_list(
        pl.when(status.is_in(DO_NOT_MAIL_STATUSES)).then(pl.lit("instantly:") + status),
        pl.when(interest.is_in(TAGGED_INTERESTS)).then(pl.lit("instantly:") + interest),
        pl.lit("campaign:") + campaign_name,
    ).list.drop_nulls()


def source_key(lead: pl.Expr) -> pl.Expr:
    """`instantly:lead:<id>`, or `instantly:lead:<email>` where Instantly gave no id."""
    return pl.lit("instantly:lead:") + lead


def metadata(instantly: list[pl.Expr], custom: pl.Expr) -> pl.Expr:
    """`{"instantly": {<members>}, "custom_variables": <custom JSON>}` without NULL members."""
    state = json_object(*instantly)
    return json_object(
        json_text_member("instantly", pl.when(state != "{}").then(state)),
        json_text_member("custom_variables", custom),
    )


def _non_empty(values: pl.Expr) -> pl.Expr:
    return pl.when(values.list.len() > 0).then(values)


# What mail and events tell about a lead: one row per email object or event.
LEAD_SIGHTING: dict[str, pl.DataType] = {
    "email": pl.String(),
    "first_name": pl.String(),
    "last_name": pl.String(),
    "full_name": pl.String(),
    "title": pl.String(),
    "phone": pl.String(),
    "linkedin_url": pl.String(),
    "company_name": pl.String(),
    "company_domain": pl.String(),
    "status": pl.String(),  # bounced / unsubscribed, when the event says so
    "interest": pl.String(),
    "campaign_id": pl.String(),
    "campaign_name": pl.String(),
    "occurred_at": pl.Datetime("us", "UTC"),
    "custom": pl.String(),
    "raw": pl.String(),
    "source_row": pl.Int64(),
}
_LATEST = [
    "email",
    "first_name",
    "last_name",
    "full_name",
    "title",
    "phone",
    "linkedin_url",
    "company_name",
    "company_domain",
    "status",
    "interest",
    "campaign_name",
    "custom",
    "raw",
]


def sighted_leads(sightings: pl.DataFrame, origin: Origin, own: Collection[str]) -> pl.DataFrame:
    """One contact per lead address seen in this file's mail or events, so that activities of
    leads no lead export names still attach: the latest value of each field, the union of the
    tags and the most advanced stage. The org's own mailboxes never become contacts."""
    seen = conform(sightings, LEAD_SIGHTING).with_columns(
        key=pl.col("email").str.to_lowercase(),
        tags=tags(pl.col("status"), pl.col("interest"), pl.col("campaign_name")),
        rank=stage(pl.col("interest")).replace_strict(STAGE_RANK, return_dtype=pl.Int64),
    )
    leads = (
        seen.filter(pl.col("key").is_not_null() & ~pl.col("key").is_in(list(own)))
        .sort("occurred_at", nulls_last=False, maintain_order=True)
        .group_by("key", maintain_order=True)
        .agg(
            pl.col(_LATEST).drop_nulls().last(),
            pl.col("source_row").min(),
            pl.col("occurred_at").max().alias("updated_at"),
            pl.col("tags").list.explode(keep_nulls=False, empty_as_null=False).unique().sort(),
            pl.col("rank").max(),
            pl.col("campaign_id").drop_nulls().unique().sort().alias("campaign_ids"),
        )
    )
    rank_names = {rank: name for name, rank in STAGE_RANK.items()}
    return leads.select(
        *origin.columns(),
        source_key(pl.col("key")).alias("source_key"),
        "email",
        "first_name",
        "last_name",
        "full_name",
        "title",
        "phone",
        "linkedin_url",
        pl.col("rank").replace_strict(rank_names, return_dtype=pl.String).alias("stage"),
        pl.lit(OUTBOUND).alias("source"),
        pl.coalesce(pl.col("campaign_name"), pl.col("campaign_ids").list.first()).alias(
            "source_detail"
        ),
        "company_name",
        "company_domain",
        "tags",
        metadata(
            [
                json_member("status", pl.col("status")),
                json_member("interest_status", pl.col("interest")),
                json_member("campaign_ids", _non_empty(pl.col("campaign_ids"))),
                json_member("campaign_name", pl.col("campaign_name")),
            ],
            pl.col("custom"),
        ).alias("metadata"),
        "updated_at",
    )
