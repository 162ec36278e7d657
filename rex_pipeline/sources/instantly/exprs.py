"""Polars expressions for reading Instantly values: addresses, timestamps, codes, flags, JSON.

Every mapper works on a *flat frame* (one String column per field, see `load`), so these are
the only places that know how Instantly writes a value.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping

import html2text
import polars as pl

from rex_pipeline.sources.times import plausible

# One address: no spaces, brackets, quotes or list separators, a dot in the domain.
_ADDRESS = r"[^@\s<>\"',;()\[\]]+@[^@\s<>\"',;()\[\]]+\.[^@\s<>\"',;()\[\]]+"


def address(expr: pl.Expr) -> pl.Expr:
    """The first e-mail address in a value ('Ada <ada@x.io>' -> 'ada@x.io'); NULL if none."""
    return expr.str.extract(f"({_ADDRESS})", 1)


def addresses(expr: pl.Expr) -> pl.Expr:
    """Every address of a comma-separated list (`to_address_email_list`), lower case."""
    return expr.str.to_lowercase().str.extract_all(_ADDRESS)


def timestamp(expr: pl.Expr) -> pl.Expr:
    """UTC time from ISO 8601 with an offset or `Z` (API), naive 'YYYY-MM-DD HH:MM:SS' (UI
    exports, read as UTC) or epoch seconds/milliseconds; NULL when unreadable or outside
    `times.plausible`'s window (year 0 or 10000 would break every reader downstream)."""
    text = expr.str.strip_chars()
    naive = text.str.replace("T", " ")
    epoch = text.cast(pl.Int64, strict=False)
    parsed = pl.coalesce(
        text.str.to_datetime("%+", time_unit="us", time_zone="UTC", strict=False),
        *(
            naive.str.to_datetime(f, time_unit="us", strict=False).dt.replace_time_zone("UTC")
            for f in ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%d")
        ),
        # epochs of 2001-09-09 .. 2286-11-20 only: other numbers are not times
        pl.when(epoch.is_between(10**12, 10**13, closed="left"))
        .then(pl.from_epoch(epoch, time_unit="ms"))
        .when(epoch.is_between(10**9, 10**10, closed="left"))
        .then(pl.from_epoch(epoch, time_unit="s"))
        .dt.replace_time_zone("UTC"),
    )
    return plausible(parsed)


def vocab(expr: pl.Expr, table: Mapping[str, str | None]) -> pl.Expr:
    """Map a code or label through one of `codes`' tables. Codes ('-1') are compared as they are,
    labels by lower case with '_' between words ('Meeting Booked' -> 'meeting_booked');
    a value the table does not know is kept in that normalised form."""
    text = expr.str.strip_chars().str.to_lowercase()
    key = (
        pl.when(text.str.contains(r"^-?\d+$"))
        .then(text)
        .otherwise(text.str.replace_all(r"[^a-z0-9]+", "_").str.strip_chars("_"))
    )
    return key.replace_strict(dict(table), default=key, return_dtype=pl.String)


def flag(expr: pl.Expr) -> pl.Expr:
    """Instantly's 0/1 integer flags (and true/false, yes/no) as Boolean; NULL stays NULL."""
    text = expr.str.strip_chars().str.to_lowercase()
    return (
        pl.when(text.is_in(["1", "true", "yes", "y", "t"]))
        .then(True)
        .when(text.is_in(["0", "false", "no", "n", "f"]))
        .then(False)
    )


def integer(expr: pl.Expr) -> pl.Expr:
    """A count or code as Int64 ('3', '3.0'); NULL when it is not a number."""
    return expr.str.strip_chars().cast(pl.Float64, strict=False).cast(pl.Int64, strict=False)


def without_brackets(expr: pl.Expr) -> pl.Expr:
    """An RFC Message-ID without its angle brackets, the form Gmail activities use as id."""
    return expr.str.strip_chars().str.strip_prefix("<").str.strip_suffix(">")


_MARKDOWN_LINE_BREAK = re.compile(r"[ \t]+\n")


def json_member(key: str, expr: pl.Expr) -> pl.Expr:
    """`"key":value` as JSON text (value typed by its column), NULL when the value is NULL."""
    encoded = pl.struct(expr.alias(key)).struct.json_encode()
    return pl.when(expr.is_not_null()).then(encoded.str.strip_prefix("{").str.strip_suffix("}"))


def json_text_member(key: str, json_text: pl.Expr) -> pl.Expr:
    """`"key":<json_text>` for a column that already holds JSON; NULL when it is NULL."""
    return pl.concat_str([pl.lit(json.dumps(key) + ":"), json_text])


def json_object(*members: pl.Expr) -> pl.Expr:
    """A JSON object of the non-NULL members (polars' `json_encode` would write the NULLs)."""
    inner = pl.concat_str(list(members), separator=",", ignore_nulls=True)
    return pl.concat_str([pl.lit("{"), inner, pl.lit("}")])


def json_object_of(frame: pl.DataFrame, columns: list[str]) -> pl.Expr:
    """A JSON object of these columns' non-NULL values, NULL when all are NULL."""
    if not columns:
        return pl.lit(None, dtype=pl.String)
    members = [json_member(c, pl.col(c)) for c in columns]
    return pl.when(pl.any_horizontal([pl.col(c).is_not_null() for c in columns])).then(
        json_object(*members)
    )


def _html_to_text(html: str) -> str:
    converter = html2text.HTML2Text(bodywidth=0)
    converter.ignore_images = True
    converter.ignore_emphasis = True
    converter.unicode_snob = True  # keep '—', 'é' instead of ASCII stand-ins
    return _MARKDOWN_LINE_BREAK.sub("\n", converter.handle(html)).strip()


def html_text(expr: pl.Expr) -> pl.Expr:
    """Plain text of an HTML body (html2text), converted once per distinct body."""

    def convert(series: pl.Series) -> pl.Series:
        unique = series.drop_nulls().unique()
        texts = {html: _html_to_text(html) for html in unique.to_list()}
        return series.replace_strict(texts, default=None, return_dtype=pl.String)

    return expr.map_batches(convert, return_dtype=pl.String)


def stable_id(*parts: pl.Expr) -> pl.Expr:
    """A SHA-256 (32 hex digits) of the parts: the same record gets the same id on every run
    and every polars version (polars' own `hash` promises neither)."""
    key = pl.concat_str([p.fill_null("") for p in parts], separator="\x1f")

    def digest(series: pl.Series) -> pl.Series:
        hashes = {k: hashlib.sha256(k.encode()).hexdigest()[:32] for k in series.unique()}
        return series.replace_strict(hashes, return_dtype=pl.String)

    return key.map_batches(digest, return_dtype=pl.String)
