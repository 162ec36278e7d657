"""Phones to E.164 with phonenumbers, and the vectorised NANP path agreeing with it."""

from __future__ import annotations

import random

import phonenumbers
import polars as pl
import pytest

from rex_pipeline.normalise import phones
from rex_pipeline.normalise.phones import parse_phone, parse_phones


@pytest.mark.parametrize(
    ("given", "e164", "extension"),
    [
        ("'+1 415-555-2671", "+14155552671", None),  # Apollo's apostrophe
        ('="+14155552671"', "+14155552671", None),  # Excel formula wrapper
        ("tel:+1-415-555-2671", "+14155552671", None),
        ("(415) 555-2671", "+14155552671", None),
        ("415.555.2671 x12", "+14155552671", "12"),
        ("+1 415 555 2671 ext. 23", "+14155552671", "23"),
        ("+44 20 7946 0958", "+442079460958", None),
        ("+49 30 123456", "+4930123456", None),
        ("415-555-2671 / 415-555-0199", "+14155552671", None),  # several numbers: the first
        ("12345", None, None),  # phonenumbers would say +112345; not valid
        ("+1 999 555 1234", None, None),
        # valid to phonenumbers, but 16 digits: no E.164 (it has at most 15)
        ("+49 201 00000000000", None, None),
        ("n/a", None, None),
        ("  ", None, None),
        (None, None, None),
    ],
)
def test_parse_phones(given: str | None, e164: str | None, extension: str | None) -> None:
    row = parse_phones(pl.Series([given], dtype=pl.String()), "US").row(0)
    assert row == (e164, extension)


def test_default_region_reads_national_numbers() -> None:
    result = parse_phones(pl.Series(["020 7946 0958", "(415) 555-2671"]), "GB")
    assert result["phone"].to_list() == ["+442079460958", None]


def _nanp_values(count: int) -> list[str]:
    rng = random.Random(5)
    areas = ["212", "415", "416", "604", "268", "876", "787", "800", "900", "555", "123", "340"]
    out = []
    for _ in range(count):
        area, exchange = rng.choice(areas), f"{rng.randint(0, 999):03d}"
        line = f"{rng.randint(0, 9999):04d}"
        style = rng.randrange(7)
        out.append(
            [
                f"+1 {area}-{exchange}-{line}",
                f"({area}) {exchange}-{line}",
                f"1 {area} {exchange} {line}",
                f"{area}.{exchange}.{line} x{rng.randint(1, 999)}",
                f"+1{area}{exchange}{line}",
                f"{area}{exchange}{line}",
                f"+1 ({area}) {exchange}-{line} ext. 7",
            ][style]
        )
    return out


@pytest.mark.parametrize("region", ["US", "CA", "GB"])
def test_vectorised_nanp_path_agrees_with_phonenumbers(region: str) -> None:
    values = _nanp_values(1200)
    fast = phones._fast_path(pl.Series(values).unique(), region)
    assert fast.height > 150  # the comparison is not vacuous
    for value, e164, extension in fast.iter_rows():
        assert parse_phone(value, region) == (e164, extension), value
    # and the whole column, fast path or not, is what the library says value by value
    result = parse_phones(pl.Series(values), region)
    expected = [parse_phone(v, region) for v in values]
    assert list(result.iter_rows()) == expected


def _international_values(count: int) -> list[str]:
    """Real example numbers of every region, with digits perturbed, in international format
    (sometimes with the "(0)" national prefix people add)."""
    rng = random.Random(9)
    examples = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                examples.append(number)
    out = []
    for _ in range(count):
        number = rng.choice(examples)
        nsn = list(phonenumbers.national_significant_number(number))
        for _ in range(rng.randint(0, 2)):
            nsn[rng.randrange(len(nsn))] = str(rng.randint(0, 9))
        body = "".join(nsn)
        if rng.random() < 0.3:
            body = body[:-1] if rng.random() < 0.5 else body + "7"
        style = rng.randrange(4)
        cc = number.country_code
        out.append(
            [
                f"+{cc} {body[:3]} {body[3:]}",
                f"+{cc}{body}",
                f"+{cc} (0){body}",
                f"+{cc}-{body[:2]}-{body[2:6]}-{body[6:]} x12",
            ][style]
        )
    return out


def test_vectorised_international_path_agrees_with_phonenumbers() -> None:
    values = _international_values(1500)
    fast = phones._fast_path(pl.Series(values).unique(), "GB")
    assert fast.height > 300  # the comparison is not vacuous
    for value, e164, extension in fast.iter_rows():
        assert parse_phone(value, "GB") == (e164, extension), value
