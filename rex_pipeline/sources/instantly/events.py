"""Instantly webhook event archives -> raw activities, and contacts for their leads.

Each event is one activity (`codes.EVENTS` says which type, subtype, direction and status);
events that *are* an email (sent, reply, auto-reply) take the `/emails` id from `email_id`, so
the same mail seen in an `/emails` export is the same activity. Other events get a stable hash
of event, time, lead and campaign. The lead's contact carries what the events reveal
(bounced, unsubscribed, interest) so nobody mails a bounced address again.
"""

from __future__ import annotations

import polars as pl

from rex_pipeline.sources.instantly.codes import (
    EVENT_SYNONYMS,
    EVENTS,
    INTEREST_STATUS,
    STATUS_BY_SUBTYPE,
)
from rex_pipeline.sources.instantly.contacts import sighted_leads
from rex_pipeline.sources.instantly.exprs import (
    address,
    flag,
    html_text,
    integer,
    json_member,
    json_object,
    json_text_member,
    stable_id,
    timestamp,
    vocab,
    without_brackets,
)
from rex_pipeline.sources.instantly.staged import SOURCE_SYSTEM, Origin, Staged

_INTERESTS = sorted({name for name in INTEREST_STATUS.values() if name})
_MESSAGE_EVENTS = [name for name, meaning in EVENTS.items() if meaning.is_message]


def events_to_records(flat: pl.DataFrame, origin: Origin) -> Staged:
    """Activities (one per event) and lead contacts of a flat event frame; an event without a
    lead address (account_error, campaign_completed ...) is rejected."""
    frame = flat.with_columns(
        event=vocab(pl.col("event_type"), EVENT_SYNONYMS),
        mailbox=address(pl.col("email_account")).str.to_lowercase(),
        lead_address=address(pl.col("lead_email")),
        occurred_at=timestamp(pl.col("timestamp")),
    ).with_columns(_meaning())
    own = sorted(frame["mailbox"].drop_nulls().unique())
    lead = pl.col("lead_address")
    frame = frame.with_columns(
        contact_email=pl.when(~lead.str.to_lowercase().is_in(own)).then(lead)
    )
    usable = frame.filter(pl.col("contact_email").is_not_null())
    activities = usable.select(
        *origin.columns(),
        "type",
        "subtype",
        "status",
        pl.coalesce(pl.col("reply_subject"), pl.col("email_subject")).alias("subject"),
        pl.coalesce(
            pl.col("reply_text"),
            pl.col("email_text"),
            html_text(pl.coalesce(pl.col("reply_html"), pl.col("email_html"))),
            pl.col("reply_text_snippet"),
        ).alias("body"),
        "contact_email",
        pl.col("mailbox").alias("owner"),
        "occurred_at",
        "direction",
        pl.lit(SOURCE_SYSTEM).alias("source"),
        pl.coalesce(
            pl.col("id"),
            pl.when(pl.col("event").is_in(_MESSAGE_EVENTS)).then(pl.col("email_id")),
            stable_id(
                pl.col("event"),
                pl.col("timestamp"),
                pl.col("contact_email").str.to_lowercase(),
                pl.col("campaign_id"),
            ),
        ).alias("external_id"),
        _metadata().alias("metadata"),
    ).with_columns(source_key=pl.lit("instantly:event:") + pl.col("external_id"))
    contacts = sighted_leads(_sightings(usable), origin, own)
    rejected = origin.rejected(
        frame.filter(pl.col("contact_email").is_null()),
        pl.concat_str(
            pl.lit("event '"), pl.col("event").fill_null("?"), pl.lit("' has no lead email")
        ),
    )
    return Staged(contacts=contacts, activities=activities, rejected=rejected, own_addresses=own)


def _meaning() -> list[pl.Expr]:
    """type, subtype, direction and status of each event; unknown events are `other` with the
    event's name as subtype."""
    event = pl.col("event")

    def attribute(name: str, default: pl.Expr) -> pl.Expr:
        table = {key: getattr(meaning, name) for key, meaning in EVENTS.items()}
        return event.replace_strict(table, default=default, return_dtype=pl.String).alias(name)

    return [
        attribute("type", pl.lit("other")),
        attribute("subtype", event),
        attribute("direction", pl.lit("na")),
        attribute("status", pl.lit("completed")),
    ]


def _sightings(events: pl.DataFrame) -> pl.DataFrame:
    """What each event says about its lead (see `contacts.sighted_leads`)."""
    subtype = pl.col("subtype")
    return events.select(
        pl.col("contact_email").alias("email"),
        "first_name",
        "last_name",
        "full_name",
        "title",
        "phone",
        "linkedin_url",
        "company_name",
        pl.coalesce(pl.col("company_domain"), pl.col("website")).alias("company_domain"),
        subtype.replace_strict(STATUS_BY_SUBTYPE, default=None, return_dtype=pl.String).alias(
            "status"
        ),
        pl.when(subtype.is_in(_INTERESTS)).then(subtype).alias("interest"),
        "campaign_id",
        "campaign_name",
        "occurred_at",
        "custom",
        "raw",
        "source_row",
    )


def _metadata() -> pl.Expr:
    return json_object(
        json_member("event_type", pl.col("event")),
        json_member("message_id", without_brackets(pl.col("message_id"))),
        json_member("thread_id", pl.col("thread_id")),
        json_member("campaign_id", pl.col("campaign_id")),
        json_member("campaign_name", pl.col("campaign_name")),
        json_member("eaccount", pl.col("mailbox")),
        json_member("step", integer(pl.col("step"))),
        json_member("variant", integer(pl.col("variant"))),
        json_member("is_first", flag(pl.col("is_first"))),
        json_member("email_id", pl.col("email_id")),
        json_member("workspace", pl.col("workspace")),
        json_member("unibox_url", pl.col("unibox_url")),
        json_member("reply_text_snippet", pl.col("reply_text_snippet")),
        json_text_member("custom_variables", pl.col("custom")),
        json_text_member("other_fields", pl.col("extra")),
    )
