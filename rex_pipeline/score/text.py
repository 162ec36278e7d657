"""Small text helpers shared by the parsers: one normal form for free text, and a way to run a
per-value Python parser over a polars column without a per-row loop."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import polars as pl

_NON_WORD = re.compile(r"[^\w+]+")


def normalise(text: str) -> str:
    """Case-folded words separated by single spaces: "Sr. Software-Engineer" -> "sr software
    engineer", "information technology & services" -> "information technology and services".
    Both vendors' vocabularies and people's typing collapse onto the same key."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("&", " and ")
    return _NON_WORD.sub(" ", text.replace("_", " ")).strip()


def map_unique(values: pl.Series, parse: Callable[[str], str | None]) -> pl.Series:
    """Apply `parse` to each distinct non-null value once and map the column through the
    results. Real columns repeat a few thousand titles or industries across millions of rows,
    so this costs one Python call per distinct value, not per row."""
    values = values.cast(pl.String)
    distinct = values.drop_nulls().unique()
    if distinct.is_empty():
        return pl.Series(values.name, [None] * len(values), dtype=pl.String)
    parsed = pl.Series([parse(v) for v in distinct.to_list()], dtype=pl.String)
    return values.replace_strict(distinct, parsed, default=None, return_dtype=pl.String)
