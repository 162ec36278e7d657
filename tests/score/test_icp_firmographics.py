"""Company size bands, industries (Apollo and LinkedIn vocabularies) and countries."""

from __future__ import annotations

import polars as pl
import pytest

from rex_pipeline.score import countries
from rex_pipeline.score.countries import country_codes, country_of, country_of_text
from rex_pipeline.score.industries import INDUSTRIES, industry_of, industry_of_text
from rex_pipeline.score.model import load_icp_model
from rex_pipeline.score.sizes import size_band_of, size_band_of_text
from tests.fresh_imports import imports_module


@pytest.mark.parametrize(
    ("size", "band"),
    [
        ("51-200", "51-200"),
        ("51-200 employees", "51-200"),
        ("1,001-5,000 employees", "1001-5000"),
        ("1.001-5.000 Mitarbeiter", "1001-5000"),
        ("2-10", "1-10"),
        ("10,001+ employees", "10001+"),
        ("5001-10,000", "5001-10000"),
        ("120", "51-200"),  # Apollo "# Employees"
        ("1200.0", "1001-5000"),  # a count that went through a float column
        ("50-100", "51-200"),  # not aligned with our bands: by midpoint
        ("5k+", "1001-5000"),
        ("Self-employed", "1-10"),
        ("0", None),
        ("unknown", None),
        ("", None),
    ],
)
def test_size_band_of_text(size: str, band: str | None) -> None:
    assert size_band_of_text(size) == band


def test_size_band_of_series_accepts_plain_counts() -> None:
    sizes = pl.Series([120, None, 25_000], dtype=pl.Int64)
    assert size_band_of(sizes).to_list() == ["51-200", None, "10001+"]


@pytest.mark.parametrize(
    ("industry", "canonical"),
    [
        # LinkedIn, old and 2022 vocabularies
        ("Computer Software", "Software"),
        ("Software Development", "Software"),
        ("IT Services and IT Consulting", "IT Services"),
        ("Information Technology and Services", "IT Services"),
        ("Technology, Information and Internet", "Internet"),
        ("Computer & Network Security", "Cybersecurity"),
        ("Financial Services", "Financial Services"),
        ("Hospital & Health Care", "Healthcare"),
        ("Hospitals and Health Care", "Healthcare"),
        ("Staffing and Recruiting", "Staffing & Recruiting"),
        # Apollo (lower case, ampersands)
        ("information technology & services", "IT Services"),
        ("computer software", "Software"),
        ("marketing & advertising", "Marketing & Advertising"),
        ("venture capital & private equity", "Financial Services"),
        # HubSpot enum
        ("COMPUTER_SOFTWARE", "Software"),
        # free text
        ("B2B SaaS platform", "Software"),
        ("Healthcare software", "Software"),
        ("Commercial banking", "Banking"),
        ("Basket weaving", "Other"),
        ("N/A", None),
        ("  ", None),
    ],
)
def test_industry_of_text(industry: str, canonical: str | None) -> None:
    assert industry_of_text(industry) == canonical


def test_industry_of_series_applies_team_aliases_first() -> None:
    texts = pl.Series(["Dev Shop", "computer software", None])
    assert industry_of(texts).to_list() == ["Other", "Software", None]
    assert industry_of(texts, {"dev shop": "IT Services"}).to_list() == [
        "IT Services",
        "Software",
        None,
    ]
    assert set(industry_of(texts).drop_nulls()) <= set(INDUSTRIES)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("United States", "US"),
        ("USA", "US"),
        ("us", "US"),
        ("United Kingdom", "GB"),
        ("UK", "GB"),
        ("Deutschland", "DE"),
        ("Germany", "DE"),
        ("San Francisco, California, United States", "US"),
        ("Los Angeles, CA", None),  # a state, not Canada
        ("Atlantis", None),
    ],
)
def test_country_of_text(text: str, code: str | None) -> None:
    assert country_of_text(text) == code


def test_a_region_code_is_read_without_loading_the_locale_table() -> None:
    """The ICP model's country keys are codes: loading it must not load every locale's
    country names (about a second of each run's start)."""
    countries._names.cache_clear()
    assert [country_of_text(code) for code in ("US", " gb ", "de")] == ["US", "GB", "DE"]
    assert countries._names.cache_info().currsize == 0
    assert country_of_text("UK") == "GB"  # a nickname, not a region code: the table is read


def test_country_of_series() -> None:
    assert country_of(pl.Series(["France", None, "fr"])).to_list() == ["FR", None, "FR"]


def test_every_country_code_found_in_data_is_a_valid_model_key() -> None:
    codes = country_codes()
    model = load_icp_model({"firmographic": {"country": {"points": dict.fromkeys(codes, 1)}}})
    assert tuple(model.firmographic.country.points) == codes


def test_country_names_load_without_the_geocoding_data() -> None:
    """The names come from phonenumbers' locale table alone: importing it the usual way runs
    the geodata package, 40 MB of geocoding data loaded on every run that scores a country."""
    script = (
        "from rex_pipeline.score.countries import country_of_text\n"
        "assert country_of_text('Deutschland') == 'DE'"
    )
    assert not imports_module(script, "phonenumbers.geodata")
