"""Typed values the raw schemas need parsed at the source: timestamps (to UTC) and durations
(to seconds). Everything else stays text as given. A value that does not parse becomes NULL and
its cell stays in `metadata`, so nothing is lost; so does a time outside `times.plausible`'s
window ("0001-01-01", "9999-12-31"), which is a placeholder, not a time.
"""

from __future__ import annotations

import polars as pl

from rex_pipeline.records import UTC_TS
from rex_pipeline.sources.times import plausible

# Formats seen in exports. Slash dates are read month-first (US), as HubSpot, Salesforce and
# LinkedIn write them; two-digit years are tried before four-digit ones so "1/8/18" is 2018.
_WITH_OFFSET = (
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%dT%H:%M%z",
)
_NAIVE = (
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%d %b %Y",  # LinkedIn 2024: 13 Nov 2024
    "%d %B %Y",
    "%b %d, %Y",
    "%m/%d/%y, %I:%M %p",  # LinkedIn 2018: 1/8/18, 6:14 PM
    "%m/%d/%Y, %I:%M %p",  # Salesforce report date-time
    "%m/%d/%y %I:%M %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M",
    "%m/%d/%y",
    "%m/%d/%Y",
    "%d.%m.%Y %H:%M",  # German Outlook
    "%d.%m.%Y",
)


def _offset_z(value: pl.Expr) -> pl.Expr:
    return value.str.replace(r"(?i)z$", "+0000")


def _with_format(text: pl.Expr, fmt: str) -> pl.Expr:
    parsed = text.str.strptime(pl.Datetime("us"), fmt, strict=False)
    if fmt in _WITH_OFFSET:
        return plausible(parsed.dt.convert_time_zone("UTC").cast(UTC_TS))
    return plausible(parsed.dt.replace_time_zone("UTC"))


def _epoch_ms(text: pl.Expr) -> pl.Expr:
    millis = pl.when(text.str.contains(r"^\d{12,13}$")).then(text.cast(pl.Int64, strict=False))
    return plausible(pl.from_epoch(millis, time_unit="ms").dt.replace_time_zone("UTC"))


EPOCH_MS = "epoch-ms"
ALL_FORMATS: tuple[str, ...] = (*_WITH_OFFSET, *_NAIVE, EPOCH_MS)


def timestamp_formats(sample: pl.Series, limit: int = 2000) -> tuple[str, ...]:
    """The formats that read at least one of the first `limit` distinct values of a column.

    One export column nearly always uses one format: trying only those keeps parsing at one
    pass instead of one per known format. A value in a format not seen in the sample stays
    unparsed (NULL, its cell kept in metadata)."""
    values = sample.drop_nulls().unique(maintain_order=True).head(limit)
    probe = pl.DataFrame({"v": values}).lazy()
    text = _offset_z(pl.col("v"))
    checks = [
        (_epoch_ms(text) if f == EPOCH_MS else _with_format(text, f)).is_not_null().any().alias(f)
        for f in ALL_FORMATS
    ]
    found = probe.select(checks).collect().row(0) if values.len() else ()
    return tuple(f for f, hit in zip(ALL_FORMATS, found, strict=False) if hit)


def parse_timestamp(value: pl.Expr, formats: tuple[str, ...] = ALL_FORMATS) -> pl.Expr:
    """A String expression as UTC timestamps, trying `formats` in order. Values with an offset
    are converted to UTC; values without one are taken as UTC; 12-13 digit numbers are epoch
    milliseconds."""
    if not formats:
        return pl.lit(None, UTC_TS)
    text = _offset_z(value)
    parsed = [_epoch_ms(text) if f == EPOCH_MS else _with_format(text, f) for f in formats]
    return pl.coalesce(parsed)


def duration_unit_seconds(header: str) -> float:
    """Seconds per unit a duration column counts in, judged by its header."""
    lowered = header.casefold()
    if "(ms)" in lowered or "millisecond" in lowered:
        return 0.001
    if "(min" in lowered or "minute" in lowered:
        return 60.0
    if "(h" in lowered or "hour" in lowered:
        return 3600.0
    return 1.0


def parse_duration(value: pl.Expr, unit_seconds: float) -> pl.Expr:
    """Seconds as Int64 from "95", "1.5" (in the column's unit) or "01:02:03" / "02:03"."""
    number = (value.cast(pl.Float64, strict=False) * unit_seconds).round(0)
    clock = value.str.extract_groups(r"^(?:(\d+):)?(\d{1,2}):(\d{2})$")
    seconds = (
        clock.struct.field("1").cast(pl.Int64).fill_null(0) * 3600
        + clock.struct.field("2").cast(pl.Int64) * 60
        + clock.struct.field("3").cast(pl.Int64)
    )
    as_number = pl.when(value.str.contains(r"^\d+(?:\.\d+)?$")).then(number.cast(pl.Int64))
    return pl.coalesce([as_number, seconds])
