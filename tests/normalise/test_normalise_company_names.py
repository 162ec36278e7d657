"""Company name keys with cleanco; the fast `basename` is exactly cleanco's."""

from __future__ import annotations

import random

import cleanco
import polars as pl
import pytest
from cleanco.clean import get_unique_terms

from rex_pipeline.normalise.company_names import basename, company_keys, strip_legal_suffixes


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("ACME Corp.", "acme"),
        ("Acme Corporation, Inc.", "acme"),
        ("The Acme Company LLC", "acme"),  # cleanco strips "Company" too
        ("  Acme  ", "acme"),
        ("Acme GmbH & Co. KG", "acme"),
        ("Acme Pty Ltd", "acme"),
        ("Société Générale S.A.", "societe generale"),
        ("SOCIÉTÉ GÉNÉRALE", "societe generale"),
        ("Johnson & Johnson", "johnson and johnson"),
        ("Johnson and Johnson", "johnson and johnson"),
        ("Acme Holdings Inc", "acme holdings"),
        ("Theory Inc", "theory"),  # only a whole leading word "the" goes
        ("Inc.", "inc"),  # nothing but a legal form: keyed on its own words
        ("The Company", "company"),
        ("", None),
        (None, None),
    ],
)
def test_company_keys(name: str | None, key: str | None) -> None:
    assert company_keys(pl.Series([name], dtype=pl.String())).item() == key


def test_suffixes_are_stripped_until_stable() -> None:
    assert cleanco.basename("Acme Corporation, Inc.") == "Acme Corporation"
    assert strip_legal_suffixes("Acme Corporation, Inc.") == "Acme"
    assert strip_legal_suffixes("The Acme Company LLC") == "The Acme"


def test_fast_basename_is_exactly_cleanco() -> None:
    rng = random.Random(3)
    terms = sorted(get_unique_terms())
    words = ["Acme", "The", "Global", "Société", "Holdings", "&", "Co.", "Müller", "Pty", "Ltd"]
    words += ["(UK)", "Company", "Corp.", "S.A.", "GmbH", "KG", "LLC,", "-", "¨x", "Ａcme", "AB"]
    names = []
    for _ in range(4000):
        name = " ".join(rng.choices(words, k=rng.randint(1, 4)))
        name += " " + " ".join(rng.choices(terms, k=rng.randint(0, 3)))
        names.append(name + rng.choice(["", "", ".", ",", " ,", "!", ")"]))
    for name in names:
        assert basename(name) == cleanco.basename(name), name
