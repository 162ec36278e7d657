"""Email validation, stored form, provider-aware matching keys and flags."""

from __future__ import annotations

import random

import polars as pl
import pytest

from rex_pipeline.normalise import emails
from rex_pipeline.normalise.emails import (
    email_flags,
    email_keys,
    is_placeholder_address,
    is_role_address,
    validate_email_value,
    validate_emails,
)


def _one(value: str | None) -> dict:
    return validate_emails(pl.Series([value], dtype=pl.String())).row(0, named=True)


def test_valid_address_keeps_local_part_and_lowercases_domain() -> None:
    row = _one("  Ada.Lovelace@Example.COM ")
    assert row == {
        "email": "Ada.Lovelace@example.com",
        "email_key": "ada.lovelace@example.com",
        "email_error": None,
    }


def test_invalid_address_carries_the_validator_message() -> None:
    row = _one("ada@@acme.com")
    assert row["email"] is None and row["email_key"] is None
    assert row["email_error"] == "The part after the @-sign contains invalid characters: '@'."
    assert "period" in _one("ada@localhost")["email_error"]
    assert _one("ada lovelace@acme.com")["email_error"].endswith("SPACE.")


@pytest.mark.parametrize("blank", [None, "", "   ", "\u00a0"])
def test_blank_is_not_given_rather_than_invalid(blank: str | None) -> None:
    assert _one(blank) == {"email": None, "email_key": None, "email_error": None}


def test_mailto_prefix_display_name_and_idn() -> None:
    assert _one("mailto:ada@acme.com")["email"] == "ada@acme.com"
    assert _one("Ada Lovelace <ada@acme.com>")["email"] == "ada@acme.com"
    assert _one("ada@xn--bcher-kva.ch")["email"] == "ada@bücher.ch"
    assert _one("josé@acme.com")["email_key"] == "josé@acme.com"


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("Ada.Lovelace+news@GoogleMail.com", "adalovelace@gmail.com"),
        ("a.d.a@gmail.com", "ada@gmail.com"),
        ("ada.lovelace+crm@outlook.de", "ada.lovelace@outlook.de"),
        ("ada.lovelace+x@hotmail.co.uk", "ada.lovelace@hotmail.co.uk"),
        ("ada+x@live.com", "ada@live.com"),
        ("ada+x@msn.com", "ada@msn.com"),
        ("ada+x@fastmail.fm", "ada@fastmail.fm"),
        ("ada+x@me.com", "ada@me.com"),
        ("a.d_a-l+x@proton.me", "adal@proton.me"),
        ("a.d_a-l@protonmail.ch", "adal@protonmail.ch"),
        ("ada-shopping@yahoo.co.uk", "ada@yahoo.co.uk"),
        ("ada-x@ymail.com", "ada@ymail.com"),
        # dots and tags are significant everywhere else
        ("Ada.Lovelace+crm@acme.com", "ada.lovelace+crm@acme.com"),
        ("ada.lovelace@outlook.acme.com", "ada.lovelace@outlook.acme.com"),
        ("ada-l@acme.com", "ada-l@acme.com"),
        ("a.d.a@gmail.com.br", "a.d.a@gmail.com.br"),
        # a tag alone is not stripped to nothing
        ("+tag@gmail.com", "+tag@gmail.com"),
    ],
)
def test_matching_key_provider_rules(address: str, key: str) -> None:
    assert email_keys(pl.Series([address])).item() == key


def test_role_mailbox_names_are_lowercased_like_email_validator() -> None:
    assert _one("Info@Acme.com")["email"] == "info@acme.com"
    assert _one("Sales@Acme.com")["email"] == validate_email_value("Sales@Acme.com")[0]


def test_free_and_disposable_flags_are_independent() -> None:
    frame = email_flags(
        pl.Series(["ada@gmail.com", "ada@acme.co.uk", "ada@mailinator.com", "x@guerrillamail.com"])
    )
    assert frame["email_domain"].to_list() == [
        "gmail.com",
        "acme.co.uk",
        "mailinator.com",
        "guerrillamail.com",
    ]
    assert frame["is_free_email"].to_list() == [True, False, True, False]
    assert frame["is_disposable_email"].to_list() == [False, False, True, True]
    assert email_flags(pl.Series([None], dtype=pl.String())).row(0) == (None, None, None)


def test_role_and_placeholder_detection() -> None:
    values = pl.Series(
        ["Info@acme.com", "no-reply@acme.com", "ada@acme.com", "test@example.com", "x@none.com"]
    )
    frame = values.to_frame("e").select(
        is_role_address(pl.col("e")).alias("role"),
        is_placeholder_address(pl.col("e")).alias("placeholder"),
    )
    assert frame["role"].to_list() == [True, True, False, False, False]
    assert frame["placeholder"].to_list() == [False, False, False, True, True]


def test_one_library_call_per_distinct_value(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = emails.validate_email_value

    def counting(value: str) -> tuple[str | None, str | None]:
        calls.append(value)
        return real(value)

    monkeypatch.setattr(emails, "validate_email_value", counting)
    result = validate_emails(pl.Series(["bad@", "bad@", "ok@acme.com", None] * 50))
    assert result.height == 200
    assert calls == ["bad@"]  # the valid one took the fast path, the invalid one once


def _random_addresses(count: int) -> list[str]:
    """Addresses built from the awkward corners of the syntax."""
    rng = random.Random(11)
    local_bits = [
        "ada",
        "Ada",
        "a.b",
        "x+tag",
        "o'neil",
        "a_b-c",
        "Info",
        "POSTMASTER",
        "é",
        "a..b",
    ]
    local_bits += [".a", "a.", '"q"', "a b", "a(b)", "!#$%&*/=?^`{|}~", "x" * 70]
    domain_bits = ["acme.com", "ACME.COM", "a-b.co.uk", "xn--bcher-kva.ch", "ab--cd.com", "x.test"]
    domain_bits += ["x.local", "a.b.c", "x.123", "x.c", "-a.com", "a-.com", "a_b.com", "localhost"]
    domain_bits += ["x" * 64 + ".com", "mail.acme.invalid", "exämple.com", "a.museum", "b.onion"]
    out = []
    for _ in range(count):
        local = "".join(rng.choices(local_bits, k=rng.randint(1, 2)))
        domain = rng.choice(domain_bits)
        if rng.random() < 0.05:
            domain = ".".join(["y" * 60] * 5) + ".com"  # too long
        out.append(f"{local}@{domain}")
    return out


def test_fast_path_accepts_only_what_email_validator_accepts_identically() -> None:
    values = pl.Series(_random_addresses(3000)).unique()
    fast = emails._fast_path(values)
    assert fast.height > 100  # the comparison is not vacuous
    for value, normalised in fast.select("value", "email").iter_rows():
        assert validate_email_value(value) == (normalised, None), value


def test_whole_column_equals_library_value_by_value() -> None:
    values = _random_addresses(1500)
    result = validate_emails(pl.Series(values))
    for value, row in zip(values, result.iter_rows(), strict=True):
        expected = validate_email_value(value)
        assert (row[0], row[2]) == expected, value
