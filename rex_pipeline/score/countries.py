"""Country names and codes -> ISO 3166 alpha-2 codes.

Exports give "United States", "USA", "US", "Deutschland", "United Kingdom", "UK" or a whole
location ("San Francisco, California, United States"). Country names in many languages come
from the region table that ships with `phonenumbers` (offline), plus the usual nicknames.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import phonenumbers
import polars as pl

from rex_pipeline.score.text import map_unique, normalise

_NICKNAMES: dict[str, str] = {
    "usa": "US",
    "u s a": "US",
    "u s": "US",
    "united states of america": "US",
    "america": "US",
    "uk": "GB",
    "u k": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "uae": "AE",
    "korea": "KR",
    "republic of korea": "KR",
    "korea republic of": "KR",
    "russia": "RU",
    "russian federation": "RU",
    "czechia": "CZ",
    "czech republic": "CZ",
    "holland": "NL",
    "the netherlands": "NL",
    "viet nam": "VN",
    "ivory coast": "CI",
    "turkiye": "TR",
    "türkiye": "TR",
    # ISO alpha-3 codes seen in enrichment exports.
    "gbr": "GB",
    "deu": "DE",
    "fra": "FR",
    "can": "CA",
    "aus": "AU",
    "nld": "NL",
    "esp": "ES",
    "ita": "IT",
    "ind": "IN",
    "bra": "BR",
    "jpn": "JP",
    "che": "CH",
    "swe": "SE",
    "irl": "IE",
    "isr": "IL",
    "sgp": "SG",
    "chn": "CN",
    "mex": "MX",
    "pol": "PL",
}


def _locale_data() -> dict[str, dict[str, str]]:
    """phonenumbers' country names by region and language, loaded from their own module file:
    importing `phonenumbers.geodata.locale` first runs the geodata package, which loads 40 MB
    of geocoding data this never reads (0.5-0.9 s a run, against a few milliseconds)."""
    path = Path(phonenumbers.__file__).parent / "geodata" / "locale.py"
    spec = importlib.util.spec_from_file_location("phonenumbers.geodata.locale", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.LOCALE_DATA


@cache
def _names() -> dict[str, str]:
    """Normalised country name (any language in the table) or code -> alpha-2 code. The
    locale table is loaded here, on first use."""
    locale_data = _locale_data()
    table: dict[str, str] = {}
    for region, names in locale_data.items():
        if len(region) != 2 or not region.isalpha():
            continue
        for name in names.values():
            if not name.startswith("*"):  # "*aa" points to another language's entry
                table.setdefault(normalise(name), region)
    codes = {*phonenumbers.SUPPORTED_REGIONS, *(r for r in locale_data if len(r) == 2)}
    table.update({code.casefold(): code for code in codes if code.isalpha()})
    table.update(_NICKNAMES)
    return table


def country_codes() -> tuple[str, ...]:
    """Every code `country_of` can return, sorted."""
    return tuple(sorted(set(_names().values())))


def country_of_text(text: str) -> str | None:
    """Alpha-2 code of one country value or location string; None when none is recognised.
    A region code ("US", the ICP model's usual key) is answered without the locale table, so
    loading the model does not cost a run a second."""
    whole = normalise(text)
    if len(whole) == 2 and whole.upper() in phonenumbers.SUPPORTED_REGIONS:
        return whole.upper()
    names = _names()
    if whole in names:
        return names[whole]
    # A location: the country is usually the last comma-separated part.
    for part in reversed(text.split(",")):
        key = normalise(part)
        if key in names and len(key) > 2:
            return names[key]
    return None


def country_of(texts: pl.Series) -> pl.Series:
    """Alpha-2 code of every value in a column (NULL when missing or unrecognised)."""
    return map_unique(texts, country_of_text).alias("country")
