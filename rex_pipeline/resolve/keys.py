"""Identity keys of clean staged records: the exact evidence that two records are one entity.

* contacts: `email:<canonical key>` for every address, `linkedin:<url>`, `src:<natural id>`
  (HubSpot Record ID, Salesforce Id, Instantly lead id …) and always `rec:<record id>`;
* companies: `domain:<registrable domain>`; a company without a domain carries `name:<key>`, and
  a domain company claims `name:<key>` only when it is the one company of that name, so a
  name-only record can join it but two companies with different domains never merge on name;
* activities: `ext:<source>:<external id>`; deals and tasks: `src:<natural id>`.
"""

from __future__ import annotations

import polars as pl

from rex_pipeline.records import PLACE_KEY


def _is_natural(source_key: pl.Expr) -> pl.Expr:
    """`<file>:<row>` keys are positions, not identities: they never link records."""
    return source_key.is_not_null() & ~source_key.str.contains(PLACE_KEY)


def contact_keys(contacts: pl.DataFrame) -> pl.DataFrame:
    """record_id, key for every identity key of each contact record. A pair repeats when a
    record lists an address twice; `exact.resolve_by_keys` takes each pair once."""
    emails = (
        contacts.select(
            "record_id",
            key=pl.concat_list(
                pl.concat_list(pl.col("email_key")),
                pl.col("other_email_keys").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            ),
        )
        .explode("key")
        .filter(pl.col("key").is_not_null() & (pl.col("key") != ""))
        .select("record_id", key=pl.lit("email:") + pl.col("key"))
    )
    linkedin = contacts.filter(pl.col("linkedin_url").is_not_null()).select(
        "record_id", key=pl.lit("linkedin:") + pl.col("linkedin_url")
    )
    natural = contacts.filter(_is_natural(pl.col("source_key"))).select(
        "record_id", key=pl.lit("src:") + pl.col("source_key")
    )
    own = contacts.select("record_id", key=pl.lit("rec:") + pl.col("record_id"))
    return pl.concat([emails, linkedin, natural, own])


def company_keys(companies: pl.DataFrame, claimed_names: pl.DataFrame) -> pl.DataFrame:
    """record_id, key for company records. `claimed_names` (key) are `name:` keys already owned
    by an existing company: a new domain company does not claim them."""
    by_domain = companies.filter(pl.col("domain").is_not_null()).select(
        "record_id", key=pl.lit("domain:") + pl.col("domain")
    )
    name_only = companies.filter(
        pl.col("domain").is_null() & pl.col("name_key").is_not_null()
    ).select("record_id", key=pl.lit("name:") + pl.col("name_key"))
    # a domain company claims its name when it is the only domain with that name in the batch
    unique_names = (
        companies.filter(pl.col("domain").is_not_null() & pl.col("name_key").is_not_null())
        .group_by("name_key")
        .agg(pl.col("domain").n_unique().alias("domains"))
        .filter(pl.col("domains") == 1)
        .select(key=pl.lit("name:") + pl.col("name_key"))
        .join(claimed_names.select("key"), on="key", how="anti")
    )
    claims = (
        companies.filter(pl.col("domain").is_not_null() & pl.col("name_key").is_not_null())
        .select("record_id", key=pl.lit("name:") + pl.col("name_key"))
        .join(unique_names, on="key", how="semi")
    )
    own = companies.select("record_id", key=pl.lit("rec:") + pl.col("record_id"))
    return pl.concat([by_domain, name_only, claims, own])


#: The columns `natural_keys` reads, per kind (a caller may read only these).
NATURAL_KEY_COLUMNS = {
    "activity": ("record_id", "source", "external_id"),
    "deal": ("record_id", "source_system", "source_key"),
    "task": ("record_id", "source_system", "source_key"),
}


def natural_keys(frame: pl.DataFrame, kind: str) -> pl.DataFrame:
    """record_id, key for activities (`ext:`), deals and tasks (`src:`)."""
    if kind == "activity":
        key = pl.lit("ext:") + pl.col("source") + pl.lit(":") + pl.col("external_id")
    else:
        key = pl.lit("src:") + pl.col("source_system") + pl.lit(":") + pl.col("source_key")
    return frame.select("record_id", key=key)
