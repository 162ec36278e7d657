"""Matching forms of names, company names and titles (polars expressions).

The clean stage already canonicalised values for display and exact keys; these forms are only
for comparing: accents, case, punctuation and legal forms do not tell two people or two
companies apart.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from rex_pipeline.resolve.fuzzy.placeholders import is_placeholder_name

#: A first name that is only an initial ("M.", "m", "J. Robert"): a regular expression both
#: DuckDB and polars read.
INITIAL_NAME = r"^\s*\pL\.?(\s|$)"

# Legal forms and filler words at the end of company names ("Acme Corporation, Inc.").
_LEGAL = (
    "inc|incorporated|corp|corporation|co|company|llc|l l c|ltd|limited|plc|gmbh|ag|sa|sas|"
    "sarl|srl|spa|bv|nv|oy|ab|as|asa|pty|pte|kk|lp|llp|pc|pllc|holding|holdings"
)


def folded(text: pl.Expr) -> pl.Expr:
    """Lower case, accents removed, anything but letters/digits turned into single spaces."""
    return (
        text.str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.to_lowercase()
        .str.replace_all(r"[^\p{L}\p{N}]+", " ")
        .str.strip_chars()
    )


def person_name(text: pl.Expr) -> pl.Expr:
    """Letters only (spaces kept between words); NULL for blanks and placeholders."""
    name = (
        text.str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.to_lowercase()
        .str.replace_all(r"['’`.-]", "")
        .str.replace_all(r"[^\p{L}]+", " ")
        .str.strip_chars()
    )
    return pl.when(is_placeholder_name(name)).then(None).otherwise(name)


def first_name(text: pl.Expr) -> pl.Expr:
    """First word of the first name ("Mary Jane" -> "mary"): middle names come and go."""
    return person_name(text).str.extract(r"^(\S+)")


def last_name(text: pl.Expr) -> pl.Expr:
    """The whole last name without spaces ("van der Berg" -> "vanderberg")."""
    return person_name(text).str.replace_all(" ", "")


def company_name(text: pl.Expr) -> pl.Expr:
    """Company matching form: folded, "&" read as "and", leading "the" and trailing legal
    forms removed; NULL when nothing is left."""
    name = folded(text.str.replace_all("&", " and ", literal=True))
    name = name.str.replace(r"^the ", "").str.replace(rf"(\s+({_LEGAL}))+$", "")
    return pl.when(name.str.len_chars() > 0).then(name)


def title(text: pl.Expr) -> pl.Expr:
    cleaned = folded(text)
    return pl.when(cleaned.str.len_chars() > 0).then(cleaned)


def on_unique(values: pl.Series, form: Callable[[pl.Expr], pl.Expr]) -> pl.Series:
    """`form` applied to each distinct value once and joined back: names, companies and
    titles repeat a lot, and Unicode normalisation is the costly part of matching."""
    distinct = values.unique().to_frame("value").with_columns(out=form(pl.col("value")))
    joined = values.to_frame("value").join(distinct, on="value", how="left", maintain_order="left")
    return joined["out"].alias(values.name)
