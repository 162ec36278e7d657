"""Canonical LinkedIn URLs, so the same profile pasted five ways matches itself:
"http://uk.linkedin.com/in/Ada-Lovelace/?trk=x", "linkedin.com/in/ada-lovelace/" and
"www.linkedin.com/in/ada-lovelace" all become "https://www.linkedin.com/in/ada-lovelace".

Profiles (/in/<slug>) and company pages (/company/<slug>) are kept; anything else (not
LinkedIn, a Sales Navigator or search URL, "urn:li:member:123") is NULL. Percent-escapes in
slugs are decoded so "jos%C3%A9" and "josé" agree.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

import polars as pl

from rex_pipeline.normalise.unique import by_distinct, map_unique

# scheme? (country or www/mobile subdomain)? linkedin.com / kind / slug
_URL = r"^(?:https?://)?(?:[a-z]{2,3}\.|www\.|m\.)?linkedin\.com/(in|company)/([^/?#\s]+)"
_NOT_IN_SLUG = re.compile(r"[/?#%\s\x00-\x1f\x7f]")


def linkedin_urls(values: pl.Series, kinds: tuple[str, ...] = ("in", "company")) -> pl.Series:
    """Canonical URL of each value, or NULL. `kinds` limits what is accepted: ("in",) for
    people, ("company",) for companies."""
    urls = by_distinct(values.cast(pl.String()), lambda v: _linkedin_urls(v, kinds))
    assert isinstance(urls, pl.Series)
    return urls.alias(values.name)


def _decoded_slug(slug: str) -> str:
    """The slug with its percent-escapes decoded, unless that yields what no slug holds ("/",
    "?", "#", "%", blanks, control characters or broken UTF-8): then the slug stays as written,
    so a canonical URL always reads back as itself ("%2F" must not become a path)."""
    try:
        decoded = unquote(slug, errors="strict").lower()
    except UnicodeDecodeError:
        return slug
    return slug if not decoded or _NOT_IN_SLUG.search(decoded) else decoded


def _linkedin_urls(values: pl.Series, kinds: tuple[str, ...]) -> pl.Series:
    frame = values.cast(pl.String()).str.strip_chars().str.to_lowercase().to_frame("v")
    parts = pl.col("v").str.extract_groups(_URL)
    frame = frame.with_columns(
        parts.struct.field("1").alias("kind"), parts.struct.field("2").alias("slug")
    )
    decoded = map_unique(
        frame.select(
            pl.when(pl.col("slug").str.contains("%", literal=True)).then("slug")
        ).to_series(),
        _decoded_slug,
        pl.String(),
    )
    slug = decoded.fill_null(frame["slug"])
    return (
        frame.with_columns(slug.alias("slug"))
        .select(
            pl.when(pl.col("kind").is_in(list(kinds)) & (pl.col("slug").str.len_chars() > 0))
            .then(pl.concat_str([pl.lit("https://www.linkedin.com/"), "kind", pl.lit("/"), "slug"]))
            .alias(values.name)
        )
        .to_series()
    )
