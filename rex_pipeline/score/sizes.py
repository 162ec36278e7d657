"""Company sizes -> LinkedIn-style employee bands.

Sizes arrive as LinkedIn bands ("51-200", "1,001-5,000 employees", "10,001+"), Apollo or
HubSpot head counts ("120", "1200.0"), European thousands ("1.001-5.000"), shorthand ("5k+")
or words ("Self-employed"). A range is placed by its midpoint, so bands that do not line up
with ours ("50-100") still land in the band that holds most of them.
"""

from __future__ import annotations

import re

import polars as pl

from rex_pipeline.score.text import map_unique

SIZE_BANDS: tuple[str, ...] = (
    "1-10",
    "11-50",
    "51-200",
    "201-500",
    "501-1000",
    "1001-5000",
    "5001-10000",
    "10001+",
)
_BAND_FLOORS: tuple[int, ...] = (1, 11, 51, 201, 501, 1001, 5001, 10001)

_SOLO = re.compile(r"self.?employed|myself only|freelance|sole (trader|proprietor)|solo")
_DOT_THOUSANDS = re.compile(r"\b\d{1,3}(?:\.\d{3})+\b")
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(k\b)?", re.IGNORECASE)


def band_of_count(count: float) -> str | None:
    """The band holding a head count; None for counts below one (no real company)."""
    if count < 1:
        return None
    band = SIZE_BANDS[0]
    for name, floor in zip(SIZE_BANDS, _BAND_FLOORS, strict=True):
        if count >= floor:
            band = name
    return band


def size_band_of_text(text: str) -> str | None:
    """Band of one size value (one of SIZE_BANDS), None when it holds no usable number."""
    value = text.strip().casefold()
    if _SOLO.search(value):
        return SIZE_BANDS[0]
    value = _DOT_THOUSANDS.sub(lambda m: m.group(0).replace(".", ""), value)
    value = value.replace(",", "").replace("\u202f", "").replace("\u00a0", "")
    numbers = [float(n) * (1000 if k else 1) for n, k in _NUMBER.findall(value)]
    if not numbers:
        return None
    if len(numbers) >= 2 and numbers[1] >= numbers[0]:
        low, high = numbers[0], numbers[1]
        return band_of_count(max((low + high) / 2, 1.0)) if high >= 1 else None
    return band_of_count(numbers[0])


def canonical_band_name(name: str) -> str | None:
    """A model key such as "1,001-5,000" or "10001+" as one of SIZE_BANDS; None otherwise."""
    key = re.sub(r"[\s,]|employees?", "", name.casefold())
    return key if key in SIZE_BANDS else None


def size_band_of(sizes: pl.Series) -> pl.Series:
    """Band of every size value in a column (NULL when missing or unreadable)."""
    return map_unique(sizes.cast(pl.String), size_band_of_text).alias("company_size")
