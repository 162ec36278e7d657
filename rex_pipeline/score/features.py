"""Everything the ICP model looks at, one row per contact: seniority and department from the
title, industry / size band / country of the company, and counts of engagement signals.

Attributes missing from the canonical columns are looked for in the JSON `metadata` the
sources keep (Apollo's `Seniority`, `# Employees`, `Company Country`, HubSpot's
`Country/Region` …): enrichment exports often carry them on the contact, not the company.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from rex_pipeline.records import COMPANY_FACTS_ON_CONTACTS
from rex_pipeline.score.countries import country_of
from rex_pipeline.score.industries import industry_of
from rex_pipeline.score.metadata import metadata_fields
from rex_pipeline.score.model import ENGAGEMENT_SIGNALS, Engagement, IcpModel
from rex_pipeline.score.sizes import size_band_of
from rex_pipeline.score.times import UTC_TS, as_utc, utc_column
from rex_pipeline.score.titles import department_of, seniority_of, title_features

# Metadata keys holding each attribute, in order of preference (header names as exported).
SIZE_KEYS = COMPANY_FACTS_ON_CONTACTS["size"]
CONTACT_METADATA_KEYS: dict[str, tuple[str, ...]] = {
    "seniority": ("Seniority", "seniority"),
    "department": ("Departments", "Department", "departments", "department"),
    "industry": COMPANY_FACTS_ON_CONTACTS["industry"],
    "size": SIZE_KEYS,
    "country": (
        "Country",
        "country",
        "Country/Region",
        "Company Country",
        "company_country",
        "IP Country",
    ),
}
COMPANY_METADATA_KEYS: dict[str, tuple[str, ...]] = {
    "size": SIZE_KEYS,
    "country": ("Company Country", "company_country", "Country", "country", "Country/Region"),
}

FEATURE_COLUMNS: tuple[str, ...] = tuple(IcpModel().criteria())  # the fixed order of reasons
DEFAULT_RECENT_DAYS = 30  # window of "recent activity" when the model has no such rule
_KIND_COLUMNS = ("type", "subtype", "direction", "status")


def _blank_to_null(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.String).str.strip_chars().replace("", None)


def _companies_view(companies: pl.DataFrame, model: IcpModel) -> pl.DataFrame:
    """Each company's industry, size band and country, parsed once per company rather than
    once per contact."""
    meta = metadata_fields(companies["metadata"], COMPANY_METADATA_KEYS)
    size_text = pl.coalesce(_blank_to_null("size"), pl.lit(meta["size"]))
    raw = companies.select(
        pl.col("id").alias("company_id"),
        _blank_to_null("industry").alias("industry"),
        size_text.alias("size"),
    )
    return raw.select(
        "company_id",
        industry_of(raw["industry"], model.firmographic.industry.aliases).alias("company_industry"),
        size_band_of(raw["size"]).alias("company_size_band"),
        country_of(meta["country"]).alias("company_country"),
    ).unique("company_id", keep="first", maintain_order=True)


def _attributes(contacts: pl.DataFrame, companies: pl.DataFrame, model: IcpModel) -> pl.DataFrame:
    """Attributes per contact: the title's, then the company's, then the contact's own
    metadata for whatever the title and company do not say (only those rows are parsed)."""
    joined = contacts.select(
        "id",
        pl.col("stage").cast(pl.String).str.strip_chars().str.to_lowercase(),
        _blank_to_null("title").alias("title"),
        "company_id",
        "metadata",
    ).join(_companies_view(companies, model), on="company_id", how="left", maintain_order="left")
    joined = pl.concat([joined, title_features(joined["title"])], how="horizontal")
    known = ("seniority", "department", "company_industry", "company_size_band", "company_country")
    gaps = pl.any_horizontal(pl.col(known).is_null())
    meta = metadata_fields(
        joined.select(pl.when(gaps).then(pl.col("metadata"))).to_series(), CONTACT_METADATA_KEYS
    )
    aliases = model.firmographic.industry.aliases
    return joined.select(
        "id",
        "stage",
        pl.col("title").is_not_null().alias("has_title"),
        pl.coalesce(pl.col("seniority"), seniority_of(meta["seniority"])),
        pl.coalesce(pl.col("department"), department_of(meta["department"])),
        pl.coalesce(pl.col("company_industry"), industry_of(meta["industry"], aliases)).alias(
            "industry"
        ),
        pl.coalesce(pl.col("company_size_band"), size_band_of(meta["size"])).alias("company_size"),
        pl.coalesce(pl.col("company_country"), country_of(meta["country"])).alias("country"),
    )


def reference_time(
    activities: pl.DataFrame,
    engagement: Engagement,
    now: datetime,
    latest_activity: datetime | None = None,
) -> datetime:
    """The moment engagement windows end: the newest activity not later than `now` (so the
    same data always scores the same), or `now` itself when the model says `run` or there
    is no activity. Activities planned after it (a meeting next week) still count.
    `latest_activity` is the newest of the whole org's when `activities` holds only some
    contacts' (an incremental run): a contact then scores as it would among all of them."""
    now = as_utc(now)
    if engagement.relative_to == "run":
        return now
    newest = (
        None
        if activities.is_empty()
        else activities.select(
            pl.col("occurred_at").filter(pl.col("occurred_at") <= now).max()
        ).item()
    )
    candidates = [as_utc(t) for t in (newest, latest_activity) if t is not None]
    candidates = [t for t in candidates if t <= now]
    return max(candidates) if candidates else now


def _signals(kinds: pl.DataFrame) -> pl.DataFrame:
    """For each distinct (type, subtype, direction, status), which engagement signals it is.
    Computed on the few distinct combinations, not on every activity."""

    def text(column: str) -> pl.Expr:
        return pl.col(column).cast(pl.String).str.strip_chars().str.to_lowercase().fill_null("")

    subtype, kind, direction = text("subtype"), text("type"), text("direction")
    live = ~text("status").is_in(("draft", "rejected"))
    bounce = subtype.str.contains("bounce")
    unsubscribe = subtype.str.contains(r"unsub|opt.?out")
    automatic = subtype.str.contains(r"auto|out.?of.?office|ooo")
    noise = bounce | unsubscribe | automatic
    meeting = live & ((kind == "meeting") | subtype.str.contains("meeting"))
    return kinds.with_columns(
        inbound_reply=live & (kind == "email") & (direction == "inbound") & ~noise,
        meeting=meeting,
        # The contact took part: they wrote to us, met or spoke with us (our own outbound
        # emails say nothing about their interest).
        recent_activity=live & ~noise & ((direction == "inbound") | meeting | (kind == "call")),
        bounce=bounce,
        unsubscribe=unsubscribe,
    ).filter(pl.any_horizontal(ENGAGEMENT_SIGNALS))


def engagement_counts(
    activities: pl.DataFrame, engagement: Engagement, reference: datetime
) -> pl.DataFrame:
    """Per contact, how many activities match each signal inside that signal's window."""
    rules = engagement.rules()
    windows = {s: rules[s].within_days if s in rules else None for s in ENGAGEMENT_SIGNALS}
    windows["recent_activity"] = windows["recent_activity"] or DEFAULT_RECENT_DAYS
    kinds = activities.select(_KIND_COLUMNS).unique()
    counts = []
    for name, days in windows.items():
        hit = pl.col(name)
        if days:
            hit = hit & (pl.col("occurred_at") >= reference - timedelta(days=days))
        counts.append(hit.fill_null(False).sum().cast(pl.UInt32).alias(name))
    return (
        activities.lazy()
        .select("contact_id", "occurred_at", *_KIND_COLUMNS)
        .filter(pl.col("contact_id").is_not_null())
        .join(_signals(kinds).lazy(), on=list(_KIND_COLUMNS), how="inner", nulls_equal=True)
        .group_by("contact_id")
        .agg(counts)
        .collect()
    )


def build_features(
    contacts: pl.DataFrame,
    companies: pl.DataFrame,
    activities: pl.DataFrame,
    model: IcpModel,
    now: datetime,
    latest_activity: datetime | None = None,
) -> pl.DataFrame:
    """One row per contact (input order kept): id, stage, has_title, the attribute features
    (NULL = unknown), engagement signal counts (0 when none) and `reference_at`, the moment
    engagement windows end (see `reference_time`)."""
    activities = activities.with_columns(
        utc_column("occurred_at", activities.schema["occurred_at"]).alias("occurred_at")
    )
    reference = reference_time(activities, model.engagement, now, latest_activity)
    counts = engagement_counts(activities, model.engagement, reference)
    return (
        _attributes(contacts, companies, model)
        .join(counts.rename({"contact_id": "id"}), on="id", how="left", maintain_order="left")
        .with_columns(
            pl.col(list(ENGAGEMENT_SIGNALS)).fill_null(0),
            pl.lit(reference, dtype=UTC_TS).alias("reference_at"),
        )
    )
