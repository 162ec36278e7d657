"""Instantly email objects (API v2 `/emails`) -> raw activities, and contacts for their leads.

Direction comes from `ue_type` (1, 3 sent; 2 received; 4 scheduled). Where it is missing, the
org's own mailboxes decide: every `eaccount` in the file and the sender of every mail `ue_type`
marks as sent are the org's; mail from one of them is outbound, mail from anyone else inbound.
"""

from __future__ import annotations

import polars as pl

from rex_pipeline.sources.instantly.codes import (
    INBOUND_UE_TYPES,
    OUTBOUND_UE_TYPES,
    SCHEDULED_UE_TYPES,
)
from rex_pipeline.sources.instantly.contacts import sighted_leads
from rex_pipeline.sources.instantly.exprs import (
    address,
    addresses,
    flag,
    html_text,
    integer,
    json_member,
    json_object,
    json_text_member,
    stable_id,
    timestamp,
    without_brackets,
)
from rex_pipeline.sources.instantly.staged import SOURCE_SYSTEM, Origin, Staged


def emails_to_records(flat: pl.DataFrame, origin: Origin) -> Staged:
    """Activities (one per email object) and lead contacts of a flat email frame; an email with
    no counterparty outside the org's mailboxes is rejected."""
    frame = flat.with_columns(
        ue=integer(pl.col("ue_type")).cast(pl.String),
        sender=address(pl.col("from_address")).str.to_lowercase(),
        mailbox=address(pl.col("eaccount")).str.to_lowercase(),
        recipients=addresses(pl.col("to_list")),
        lead_address=address(pl.col("lead")),
    )
    own = _own_addresses(frame)
    frame = frame.with_columns(direction=_direction(own)).with_columns(
        contact_email=_counterparty(own),
        occurred_at=pl.coalesce(
            timestamp(pl.col("timestamp_email")), timestamp(pl.col("timestamp_created"))
        ),
    )
    usable = frame.filter(pl.col("contact_email").is_not_null())
    activities = usable.select(
        *origin.columns(),
        pl.lit("email").alias("type"),
        pl.when(pl.col("direction") == "inbound")
        .then(
            pl.when(flag(pl.col("is_auto_reply")))
            .then(pl.lit("auto_reply"))
            .otherwise(pl.lit("reply"))
        )
        .alias("subtype"),
        pl.when(pl.col("ue").is_in(SCHEDULED_UE_TYPES))
        .then(pl.lit("scheduled"))
        .otherwise(pl.lit("completed"))
        .alias("status"),
        "subject",
        pl.coalesce(
            pl.col("body_text"), html_text(pl.col("body_html")), pl.col("content_preview")
        ).alias("body"),
        "contact_email",
        pl.col("mailbox").alias("owner"),
        "occurred_at",
        "direction",
        pl.lit(SOURCE_SYSTEM).alias("source"),
        pl.coalesce(
            pl.col("id"),
            stable_id(
                pl.col("message_id"),
                pl.col("timestamp_email"),
                pl.col("contact_email"),
                pl.col("campaign_id"),
            ),
        ).alias("external_id"),
        _metadata().alias("metadata"),
    ).with_columns(source_key=pl.lit("instantly:email:") + pl.col("external_id"))
    contacts = sighted_leads(
        usable.select(
            pl.col("contact_email").alias("email"),
            "campaign_id",
            "campaign_name",
            "occurred_at",
            "raw",
            "source_row",
        ),
        origin,
        own,
    )
    rejected = origin.rejected(
        frame.filter(pl.col("contact_email").is_null()),
        pl.lit("email has no lead address outside the org's own mailboxes"),
    )
    return Staged(contacts=contacts, activities=activities, rejected=rejected, own_addresses=own)


def _own_addresses(frame: pl.DataFrame) -> list[str]:
    """The org's sending mailboxes: every `eaccount`, and the sender of mail sent by the org."""
    sent = frame.filter(pl.col("ue").is_in(OUTBOUND_UE_TYPES))["sender"]
    return sorted(set(frame["mailbox"].drop_nulls()) | set(sent.drop_nulls()))


def _outsiders(own: list[str]) -> pl.Expr:
    """The recipients who are not the org's, in their order."""
    return pl.col("recipients").list.eval(pl.element().filter(~pl.element().is_in(own)))


def _direction(own: list[str]) -> pl.Expr:
    ue, sender = pl.col("ue"), pl.col("sender")
    return (
        pl.when(ue.is_in(OUTBOUND_UE_TYPES))
        .then(pl.lit("outbound"))
        .when(ue.is_in(INBOUND_UE_TYPES))
        .then(pl.lit("inbound"))
        .when(sender.is_in(own))
        .then(pl.lit("outbound"))
        .when(sender.is_not_null())
        .then(pl.lit("inbound"))
        .when(_outsiders(own).list.len() > 0)  # no sender given: mail to outsiders is ours
        .then(pl.lit("outbound"))
        .otherwise(pl.lit("na"))
    )


def _counterparty(own: list[str]) -> pl.Expr:
    """The lead: Instantly's `lead`, else the sender of inbound mail or the first recipient of
    outbound mail who is not one of the org's mailboxes."""
    first_outsider = _outsiders(own).list.first()
    candidate = pl.coalesce(
        pl.col("lead_address"),
        pl.when(pl.col("direction") == "inbound").then(pl.col("sender")),
        pl.when(pl.col("direction") == "outbound").then(first_outsider),
    )
    return pl.when(~candidate.str.to_lowercase().is_in(own)).then(candidate)


def _metadata() -> pl.Expr:
    return json_object(
        json_member("message_id", without_brackets(pl.col("message_id"))),
        json_member("thread_id", pl.col("thread_id")),
        json_member("campaign_id", pl.col("campaign_id")),
        json_member("campaign_name", pl.col("campaign_name")),
        json_member("eaccount", pl.col("mailbox")),
        json_member("step", integer(pl.col("step"))),
        json_member("ue_type", integer(pl.col("ue_type"))),
        json_member("lead_id", pl.col("lead_id")),
        json_member("subsequence_id", pl.col("subsequence_id")),
        json_member("list_id", pl.col("list_id")),
        json_member("from", pl.col("sender")),
        json_member("to", pl.when(pl.col("recipients").list.len() > 0).then("recipients")),
        json_member("cc", addresses(pl.col("cc_list"))),
        json_member("bcc", addresses(pl.col("bcc_list"))),
        json_member("reply_to", pl.col("reply_to")),
        json_member("is_auto_reply", flag(pl.col("is_auto_reply"))),
        json_member("is_unread", flag(pl.col("is_unread"))),
        json_member("i_status", integer(pl.col("i_status"))),
        json_member(
            "ai_interest_value", pl.col("ai_interest_value").cast(pl.Float64, strict=False)
        ),
        json_member("reminder_at", timestamp(pl.col("reminder_ts"))),
        json_member("content_preview", pl.col("content_preview")),
        json_text_member("other_fields", pl.col("extra")),
    )
