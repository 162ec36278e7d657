"""Given-name facts from Faker's US frequency lists (en_US `first_names_male` and
`first_names_female`, weighted by how many people carry each name).

The `nicknames` package relates names across genders (Aaron has nickname Erin) and through
rare third names (Ana and Anna are both nicknames of Bryanna), which turns colleagues with
look-alike names into one person. Two facts from real name counts keep those apart:

* gender: a name only on the male list and one only on the female list are two people, unless
  the shorter is a clipping of the longer (Chris / Christine, Alex / Alexandra): clipped forms
  are worn by both;
* common given names: the ~700 names of the lists. Two names that are not forms of each other
  are nicknames of one person only through a common given name they both shorten (Bob and Rob
  through Robert, not Ana and Anna through Bryanna).
"""

from __future__ import annotations

import functools

import polars as pl

#: The shorter name is a clipping of the longer when it is its first letters, this many at least.
MIN_CLIPPING = 3


@functools.cache
def name_genders() -> pl.DataFrame:
    """name (lower case), gender ("m" or "f"): names on one of the two lists only; names on
    both (Jamie) or on neither have no gender here."""
    from faker.providers.person.en_US import Provider

    male = {name.lower() for name in Provider.first_names_male}
    female = {name.lower() for name in Provider.first_names_female}
    rows = [(n, "m") for n in male - female] + [(n, "f") for n in female - male]
    return pl.DataFrame(rows, schema={"name": pl.String, "gender": pl.String}, orient="row")


@functools.cache
def common_given_names() -> pl.Series:
    """Every name on either list, lower case."""
    from faker.providers.person.en_US import Provider

    names = {n.lower() for n in (*Provider.first_names_male, *Provider.first_names_female)}
    return pl.Series("name", sorted(names), dtype=pl.String)


def _clipping(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    """One name is the first letters of the other (chris / christine)."""
    short = pl.when(a.str.len_chars() <= b.str.len_chars()).then(a).otherwise(b)
    long = pl.when(a.str.len_chars() <= b.str.len_chars()).then(b).otherwise(a)
    return (short.str.len_chars() >= MIN_CLIPPING) & long.str.starts_with(short)


def same_gender_pairs(pairs: pl.DataFrame, left: str, right: str) -> pl.DataFrame:
    """The rows of `pairs` whose two names (columns `left`, `right`) may be one person's:
    not a male-only and a female-only name, unless one is a clipping of the other. Names
    without a gender here pass."""
    genders = name_genders()
    joined = pairs.join(
        genders.rename({"name": left, "gender": "__g_left"}), on=left, how="left"
    ).join(genders.rename({"name": right, "gender": "__g_right"}), on=right, how="left")
    g_left, g_right = pl.col("__g_left"), pl.col("__g_right")
    crossed = (g_left != g_right) & ~_clipping(pl.col(left), pl.col(right))
    return joined.filter(~crossed.fill_null(False)).drop("__g_left", "__g_right")
