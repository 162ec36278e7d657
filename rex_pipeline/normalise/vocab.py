"""Vocabulary maps: raw CRM values -> the contract's enumerations (see schema.py).

Each table is a plain dict of *raw value -> canonical value*, written the way exports spell the
values. Lookups ignore case, spacing and punctuation ("Marketing Qualified Lead",
"marketingqualifiedlead" and "MARKETING_QUALIFIED_LEAD" are one key), so a new spelling usually
needs no new entry; a new value needs one line. Callers decide what an unknown value becomes
(NULL for a stage, "other" for a source) and keep the raw value in metadata.
"""

from __future__ import annotations

import polars as pl

from rex_pipeline import schema
from rex_pipeline.normalise.unique import by_distinct

CONTACT_SOURCES = schema.CONTACT_SOURCE_VALUES

#: Contact lifecycle (HubSpot lifecycle stages, Salesforce lead statuses, Apollo contact stages).
STAGES: dict[str, str] = {
    # HubSpot
    "subscriber": "lead",
    "lead": "lead",
    "marketingqualifiedlead": "lead",
    "MQL": "lead",
    "salesqualifiedlead": "prospect",
    "SQL": "prospect",
    "opportunity": "prospect",
    "customer": "customer",
    "evangelist": "customer",
    # Salesforce lead status
    "Open - Not Contacted": "lead",
    "Working - Contacted": "prospect",
    "Closed - Converted": "prospect",
    "Closed - Not Converted": "lead",
    "New": "lead",
    "Nurturing": "lead",
    "Qualified": "prospect",
    "Unqualified": "lead",
    # Apollo contact stages
    "Cold": "lead",
    "Approaching": "prospect",
    "Replied": "prospect",
    "Interested": "prospect",
    "Meeting Booked": "prospect",
    "Meeting Scheduled": "prospect",
    "Not Interested": "lead",
    "Unresponsive": "lead",
    "Prospect": "prospect",
    "Active Customer": "customer",
    "Former customer": "churned",
    "Churned": "churned",
    "Churned customer": "churned",
    "Lost customer": "churned",
    # "Do Not Contact", "Bad Data", "Changed Job", HubSpot "other" say nothing about the
    # stage: they stay unmapped and are kept as raw_stage in metadata.
}

#: Lead source (HubSpot original source, Salesforce lead source, common free text).
SOURCES: dict[str, str] = {
    "ORGANIC_SEARCH": "organic",
    "Organic": "organic",
    "SEO": "organic",
    "Web": "organic",
    "Website": "organic",
    "DIRECT_TRAFFIC": "organic",
    "Inbound": "organic",
    "Phone Inquiry": "organic",
    "AI_REFERRALS": "organic",
    "REFERRALS": "referral",
    "Referral": "referral",
    "Partner Referral": "referral",
    "Employee Referral": "referral",
    "External Referral": "referral",
    "Customer Referral": "referral",
    "Partner": "referral",
    "Word of mouth": "referral",
    "PAID_SEARCH": "paid",
    "Paid Social": "paid",
    "PAID_SOCIAL": "paid",
    "Advertisement": "paid",
    "Google Ads": "paid",
    "PPC": "paid",
    "SOCIAL_MEDIA": "social",
    "Organic Social": "social",
    "Social": "social",
    "LinkedIn": "social",
    "Twitter": "social",
    "Facebook": "social",
    "EMAIL_MARKETING": "email",
    "Email": "email",
    "Email Campaign": "email",
    "Newsletter": "email",
    "Trade Show": "event",
    "Conference": "event",
    "Event": "event",
    "Webinar": "event",
    "Seminar - Internal": "event",
    "Seminar - Partner": "event",
    # Bought lists and prospecting databases feed outbound, like the tools that work them.
    "Purchased List": "outbound",
    "Cold outreach": "outbound",
    "Cold Call": "outbound",
    "Cold Email": "outbound",
    "Outbound": "outbound",
    "Apollo": "outbound",
    "Instantly": "outbound",
    "ZoomInfo": "outbound",
    "Sales Prospecting": "outbound",
    "OFFLINE": "other",
    "OTHER_CAMPAIGNS": "other",
    "Other": "other",
}

ACTIVITY_TYPES: dict[str, str] = {
    "call": "call",
    "Logged call": "call",
    "Phone call": "call",
    "email": "email",
    "INCOMING_EMAIL": "email",
    "FORWARDED_EMAIL": "email",
    "Logged email": "email",
    "meeting": "meeting",
    "Event": "meeting",
    "Logged meeting": "meeting",
    "note": "note",
    "task": "task",
    "To Do": "task",
    "custom": "custom",
    "LinkedIn message": "custom",
    "SMS": "custom",
    "WhatsApp": "custom",
    "other": "other",
}

ACTIVITY_STATUSES: dict[str, str] = {
    "draft": "draft",
    "completed": "completed",
    "complete": "completed",
    "done": "completed",
    "sent": "completed",
    "delivered": "completed",
    "received": "completed",
    "opened": "completed",
    "replied": "completed",
    "held": "completed",
    "connected": "completed",
    "scheduled": "scheduled",
    "planned": "scheduled",
    "upcoming": "scheduled",
    "not started": "scheduled",
    "rejected": "rejected",
    "bounced": "rejected",
    "failed": "rejected",
    "canceled": "rejected",
    "cancelled": "rejected",
    "no show": "rejected",
}

DIRECTIONS: dict[str, str] = {
    "inbound": "inbound",
    "incoming": "inbound",
    "in": "inbound",
    "received": "inbound",
    "INCOMING_EMAIL": "inbound",
    "outbound": "outbound",
    "outgoing": "outbound",
    "out": "outbound",
    "sent": "outbound",
    "EMAIL": "outbound",
    "na": "na",
    "n/a": "na",
    "none": "na",
}

DEAL_STATUSES: dict[str, str] = {
    "open": "open",
    "In Progress": "open",
    "Won": "won",
    "Closed Won": "won",
    "Lost": "lost",
    "Closed Lost": "lost",
}

TASK_PRIORITIES: dict[str, str] = {
    "low": "low",
    "medium": "medium",
    "normal": "medium",
    "high": "high",
    "urgent": "high",
}

TASK_STATUSES: dict[str, str] = {
    "pending": "pending",
    "NOT_STARTED": "pending",
    "In Progress": "pending",
    "Waiting": "pending",
    "Waiting on someone else": "pending",
    "Deferred": "pending",
    "Open": "pending",
    "To Do": "pending",
    "completed": "completed",
    "Complete": "completed",
    "Done": "completed",
    "Closed": "completed",
}


def vocab_key(text: str) -> str:
    """Lookup form of a raw value: lower case, letters and digits only."""
    return "".join(c for c in text.lower() if c.isalnum())


def _keyed(table: dict[str, str], allowed: tuple[str, ...]) -> dict[str, str]:
    keyed = {vocab_key(raw): canonical for raw, canonical in table.items()}
    bad = set(keyed.values()) - set(allowed)
    if bad:  # a typo in a table must fail at import, not publish junk
        raise ValueError(f"vocabulary maps to values outside {allowed}: {sorted(bad)}")
    return keyed


_KEYED: dict[str, dict[str, str]] = {
    "stage": _keyed(STAGES, schema.STAGES),
    "source": _keyed(SOURCES, CONTACT_SOURCES),
    "activity_type": _keyed(ACTIVITY_TYPES, schema.ACTIVITY_TYPES),
    "activity_status": _keyed(ACTIVITY_STATUSES, schema.ACTIVITY_STATUSES),
    "direction": _keyed(DIRECTIONS, schema.DIRECTIONS),
    "deal_status": _keyed(DEAL_STATUSES, schema.DEAL_STATUSES),
    "task_priority": _keyed(TASK_PRIORITIES, schema.TASK_PRIORITIES),
    "task_status": _keyed(TASK_STATUSES, schema.TASK_STATUSES),
}


def lookup(raw: pl.Expr, table: str) -> pl.Expr:
    """The canonical value of each raw value in vocabulary `table` ("stage", "source",
    "activity_type", "activity_status", "direction", "deal_status", "task_priority",
    "task_status"), NULL when blank or unknown."""
    key = raw.str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]", "")
    return key.replace_strict(_KEYED[table], default=None, return_dtype=pl.String())


def deal_status_from_stage(stage: pl.Expr) -> pl.Expr:
    """won/lost when a deal stage says so ("closedwon", "Closed Lost", "Won - Signed"), else
    NULL: HubSpot exports carry the outcome only in the stage."""
    key = stage.str.to_lowercase().str.replace_all(r"[^\p{L}\p{N}]", "")
    return (
        pl.when(key.str.starts_with("closedwon") | key.str.starts_with("won"))
        .then(pl.lit("won"))
        .when(key.str.starts_with("closedlost") | key.str.starts_with("lost"))
        .then(pl.lit("lost"))
    )


def map_vocab(values: pl.Series, table: str) -> pl.Series:
    """`lookup` over a column, computed once per distinct raw value (a stage column of a
    million rows holds a dozen values)."""
    mapped = by_distinct(
        values.cast(pl.String()),
        lambda distinct: distinct.to_frame("v").select(lookup(pl.col("v"), table)).to_series(),
    )
    assert isinstance(mapped, pl.Series)
    return mapped.alias(values.name)
