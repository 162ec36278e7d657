"""The contact stage: `records.RAW_CONTACT` -> `records.CLEAN_CONTACT` + `records.REJECTED`.

A contact is kept when it can be recognised again: a valid email, a LinkedIn profile, or a
name together with a company or a phone. A primary email that is given but invalid rejects the
record (a typo'd address must not silently become a second person). Values that could not be
normalised are never dropped: they go to metadata (raw_stage, raw_source, invalid_emails,
invalid_phone, invalid_linkedin_url, raw_company_domain) and the raw record stays in
`rejected_records` or lineage.
"""

from __future__ import annotations

import polars as pl

from rex_pipeline import records
from rex_pipeline.config import Settings
from rex_pipeline.normalise.emails import email_flags, validate_emails
from rex_pipeline.normalise.linkedin import linkedin_urls
from rex_pipeline.normalise.metadata import with_additions
from rex_pipeline.normalise.names import fix_name_case, split_full_names
from rex_pipeline.normalise.phones import first_valid_phones, parse_phones
from rex_pipeline.normalise.record_links import company_columns
from rex_pipeline.normalise.rejects import rejected_rows
from rex_pipeline.normalise.text import blank_to_null, repair_mojibake
from rex_pipeline.normalise.unique import by_distinct
from rex_pipeline.normalise.vocab import map_vocab
from rex_pipeline.sources.csv.aliases import ALIASES, header_key

NO_IDENTITY = "no usable identity (no email, LinkedIn URL, or name with company/phone)"

_TEXT = ("full_name", "first_name", "last_name", "title", "company_name")
_ROW = "__row"


def _clean_text(frame: pl.DataFrame, settings: Settings) -> pl.DataFrame:
    """Blank -> NULL in every string column, mojibake repaired in people-facing text."""
    strings = [n for n, t in records.RAW_CONTACT.items() if t == pl.String() and n != "raw"]
    frame = frame.with_columns(*(blank_to_null(pl.col(n)).alias(n) for n in strings))
    frame = frame.with_columns(
        *(repair_mojibake(frame[n]).alias(n) for n in _TEXT),
        pl.col("org_id").fill_null(settings.org_id),
    )
    # A cell with several bare addresses ("a@x.com; b@y.com"): the first is primary.
    several = (pl.col("email").str.count_matches("@") > 1) & ~pl.col("email").str.contains(r"[<\"]")
    parts = pl.col("email").str.replace_all(r"[;,\s]+", " ").str.strip_chars().str.split(" ")
    return frame.with_columns(
        pl.when(several).then(parts.list.first()).otherwise(pl.col("email")).alias("email"),
        pl.when(several)
        .then(pl.concat_list(parts.list.slice(1), pl.col("other_emails").fill_null([])))
        .otherwise(pl.col("other_emails"))
        .alias("other_emails"),
    )


def _other_emails(frame: pl.DataFrame, primary_key: pl.Series) -> pl.DataFrame:
    """Per row: the valid further addresses and their keys (deduplicated by key, the primary's
    key excluded) and the invalid ones as given."""
    exploded = (
        frame.select(pl.col(_ROW), pl.col("other_emails").alias("given"))
        .explode("given")
        .filter(pl.col("given").is_not_null())
    )
    checked = pl.concat([exploded, validate_emails(exploded["given"])], how="horizontal")
    keys = frame.select(pl.col(_ROW), primary_key.alias("primary_key"))
    valid = (
        checked.filter(pl.col("email").is_not_null())
        .join(keys, on=_ROW, how="left", maintain_order="left")
        .filter(pl.col("email_key") != pl.col("primary_key").fill_null(""))
        .unique(subset=[_ROW, "email_key"], keep="first", maintain_order=True)
        .group_by(_ROW, maintain_order=True)
        .agg(pl.col("email").alias("valid"), pl.col("email_key").alias("valid_keys"))
    )
    invalid = (
        checked.filter(pl.col("email_error").is_not_null())
        .group_by(_ROW, maintain_order=True)
        .agg(pl.col("given").alias("invalid_emails"))
    )
    return (
        frame.select(_ROW)
        .join(valid, on=_ROW, how="left", maintain_order="left")
        .join(invalid, on=_ROW, how="left", maintain_order="left")
    )


def _emails(frame: pl.DataFrame) -> pl.DataFrame:
    """Primary and further addresses validated; an empty primary is filled from the first
    valid further address."""
    primary = validate_emails(frame["email"])
    others = _other_emails(frame, primary["email_key"])
    promote = (
        primary["email"].is_null() & frame["email"].is_null() & others["valid"].list.len().gt(0)
    ).fill_null(False)
    first, first_key = others["valid"].list.first(), others["valid_keys"].list.first()
    frame = frame.with_columns(
        email_given=frame["email"],
        email=primary["email"].zip_with(~promote, first),
        email_key=primary["email_key"].zip_with(~promote, first_key),
        email_error=primary["email_error"],
        other_emails=others["valid"]
        .zip_with(~promote, others["valid"].list.slice(1))
        .fill_null([]),
        other_email_keys=others["valid_keys"]
        .zip_with(~promote, others["valid_keys"].list.slice(1))
        .fill_null([]),
        invalid_emails=others["invalid_emails"],
    )
    return pl.concat([frame, email_flags(frame["email"])], how="horizontal")


def _phones(frame: pl.DataFrame, region: str) -> pl.DataFrame:
    """The record's phone; when the one given is not a valid number, the first valid one of
    its other phone columns (an export's mapping takes the first phone column that has a
    value, and keeps the others in metadata under their headers)."""
    phones = parse_phones(frame["phone"], region)
    invalid = phones["phone"].is_null() & frame["phone"].is_not_null()
    phones = phones.with_columns(phone_invalid=invalid)  # noted in metadata either way
    rows = (invalid & frame["metadata"].is_not_null()).arg_true()
    if rows.is_empty():
        return phones
    try:
        metadata = frame["metadata"].gather(rows).str.json_decode(infer_schema_length=None)
    except pl.exceptions.PolarsError:  # values of clashing types under one key: no retry
        return phones
    if not isinstance(metadata.dtype, pl.Struct):
        return phones
    rank = {key: i for i, key in enumerate(ALIASES["contacts"]["phone"])}
    columns = [f.name for f in metadata.dtype.fields if header_key(f.name) in rank]
    if not columns:
        return phones
    columns.sort(key=lambda name: rank[header_key(name)])
    others = first_valid_phones([metadata.struct.field(c) for c in columns], region)
    return phones.with_columns(
        phone=phones["phone"].scatter(rows, others["phone"]),
        phone_extension=phones["phone_extension"].scatter(rows, others["phone_extension"]),
    )


def _people_fields(frame: pl.DataFrame, settings: Settings) -> pl.DataFrame:
    """Names, phone, LinkedIn, stage and source."""
    need_split = pl.col("first_name").is_null() | pl.col("last_name").is_null()
    full = frame.select(pl.when(need_split).then("full_name")).to_series()
    split = split_full_names(full)
    phones = _phones(frame, settings.default_phone_region)
    stage = map_vocab(frame["stage"], "stage")
    source = map_vocab(frame["source"], "source")
    return frame.with_columns(
        first_name=fix_name_case(frame["first_name"]).fill_null(split["first_name"]),
        last_name=fix_name_case(frame["last_name"]).fill_null(split["last_name"]),
        phone_given=frame["phone"],
        phone=phones["phone"],
        phone_extension=phones["phone_extension"],
        phone_invalid=phones["phone_invalid"],
        linkedin_given=frame["linkedin_url"],
        linkedin_url=linkedin_urls(frame["linkedin_url"], ("in",)),
        stage=stage,
        raw_stage=pl.when(stage.is_null()).then(pl.col("stage")),
        source=pl.when(pl.col("source").is_not_null()).then(source.fill_null("other")),
        raw_source=pl.when(source.is_null()).then(pl.col("source")),
    )


def _company_fields(frame: pl.DataFrame) -> pl.DataFrame:
    company = company_columns(frame["company_domain"], frame["company_name"], frame["email_domain"])
    return frame.with_columns(
        raw_company_domain=pl.when(company["website_unused"]).then(pl.col("company_domain")),
        company_domain=company["company_domain"],
        company_key=company["company_key"],
    )


def _tags(tags: pl.Series) -> pl.Series:
    """Trimmed, blanks dropped, duplicates (ignoring case) removed, first spelling kept;
    computed once per distinct tag list."""

    def clean(lists: pl.Series) -> pl.Series:
        element = pl.element()
        return (
            lists.list.eval(element.str.strip_chars())
            .list.eval(element.filter(element.str.len_chars() > 0))
            .list.eval(element.filter(element.str.to_lowercase().is_first_distinct()))
        )

    cleaned = by_distinct(tags, clean)
    assert isinstance(cleaned, pl.Series)
    return cleaned.alias(tags.name)


def _reason() -> pl.Expr:
    invalid = pl.format("invalid email '{}': {}", pl.col("email_given"), pl.col("email_error"))
    has_name = pl.col("first_name").is_not_null() | pl.col("last_name").is_not_null()
    has_anchor = pl.any_horizontal(
        pl.col("company_name").is_not_null(),
        pl.col("company_domain").is_not_null(),
        pl.col("phone").is_not_null(),
    )
    identified = (
        pl.col("email").is_not_null()
        | pl.col("linkedin_url").is_not_null()
        | (has_name & has_anchor)
    )
    return (
        pl.when(pl.col("email_error").is_not_null())
        .then(invalid)
        .when(~identified)
        .then(pl.lit(NO_IDENTITY))
    )


def normalise_contacts(raw: pl.DataFrame, settings: Settings) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(CLEAN_CONTACT frame, REJECTED frame) for raw staged contacts; every input row ends in
    exactly one of them."""
    given = records.conform(raw, records.RAW_CONTACT).with_row_index(_ROW)
    frame = _clean_text(given.drop("raw"), settings)  # `raw` only matters to rejections
    frame = _emails(frame)
    frame = _people_fields(frame, settings)
    frame = _company_fields(frame)
    frame = frame.with_columns(tags=_tags(frame["tags"]), reason=_reason())
    frame = frame.with_columns(
        metadata=with_additions(
            frame,
            {
                "raw_stage": pl.col("raw_stage"),
                "raw_source": pl.col("raw_source"),
                "invalid_emails": pl.col("invalid_emails"),
                "invalid_phone": pl.when(pl.col("phone_invalid")).then("phone_given"),
                "phone_extension": pl.col("phone_extension"),
                "invalid_linkedin_url": pl.when(pl.col("linkedin_url").is_null()).then(
                    "linkedin_given"
                ),
                "raw_company_domain": pl.col("raw_company_domain"),
            },
        )
    )
    # Rejections carry the record exactly as the parser gave it (rows are still in order).
    rejected = rejected_rows(
        given.with_columns(frame["org_id"], frame["reason"]), "reason", records.RAW_CONTACT
    )
    # the clean columns first, so the filter copies only those
    clean = records.conform(frame, records.CLEAN_CONTACT).filter(frame["reason"].is_null())
    return clean, rejected
