"""The company stage: `records.RAW_COMPANY` -> `records.CLEAN_COMPANY` + `records.REJECTED`.

A company needs a usable domain (registrable, not free-mail, disposable or a platform) or a
name. Display name, industry, size ("51-200", "1,001-5,000 employees") and description are
kept as given, trimmed; a website that gave no usable domain is kept in metadata.
"""

from __future__ import annotations

import polars as pl

from rex_pipeline import records
from rex_pipeline.config import Settings
from rex_pipeline.normalise.company_names import company_keys
from rex_pipeline.normalise.domains import website_domains
from rex_pipeline.normalise.linkedin import linkedin_urls
from rex_pipeline.normalise.metadata import add_to_metadata
from rex_pipeline.normalise.rejects import rejected_rows
from rex_pipeline.normalise.text import blank_to_null, repair_mojibake


def normalise_companies(raw: pl.DataFrame, settings: Settings) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(CLEAN_COMPANY frame, REJECTED frame); every input row ends in exactly one of them."""
    given = records.conform(raw, records.RAW_COMPANY)
    strings = [n for n, t in records.RAW_COMPANY.items() if t == pl.String() and n != "raw"]
    frame = given.with_columns(*(blank_to_null(pl.col(n)).alias(n) for n in strings))
    frame = frame.with_columns(
        repair_mojibake(frame["name"]).alias("name"),
        pl.col("org_id").fill_null(settings.org_id),
    )
    domain = website_domains(frame["domain"])
    linkedin = linkedin_urls(frame["linkedin_url"], ("company",))
    frame = frame.with_columns(
        domain=domain,
        name_key=company_keys(frame["name"]),
        linkedin_url=linkedin,
        metadata=add_to_metadata(
            pl.col("metadata"),
            {
                "raw_domain": pl.when(domain.is_null()).then(pl.col("domain")),
                "invalid_linkedin_url": pl.when(linkedin.is_null()).then(pl.col("linkedin_url")),
            },
        ),
    )
    reason = (
        pl.when(pl.col("domain").is_null() & pl.col("name_key").is_null())
        .then(
            pl.when(given["domain"].str.strip_chars().str.len_chars() > 0)
            .then(pl.format("no name, and '{}' is not a company domain", given["domain"]))
            .otherwise(pl.lit("no usable identity (no domain or name)"))
        )
        .alias("reason")
    )
    frame = frame.with_columns(reason)
    with_raw = given.with_columns(frame["reason"], frame["org_id"])
    rejected = rejected_rows(with_raw, "reason", records.RAW_COMPANY)
    clean = frame.filter(pl.col("reason").is_null())
    return records.conform(clean, records.CLEAN_COMPANY), rejected
