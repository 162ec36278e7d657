"""The cheaper forms of normalising work give exactly what the general forms give: the ASCII
fold, company keys from the ASCII/non-ASCII split, metadata additions found without encoding
every row, and phone validity scattered rather than looped."""

from __future__ import annotations

import random
import string

import polars as pl
import pytest

from rex_pipeline.normalise import company_names
from rex_pipeline.normalise.company_names import _may_have_suffix, company_keys
from rex_pipeline.normalise.metadata import add_to_metadata, with_additions
from rex_pipeline.normalise.phones import parse_phones
from rex_pipeline.normalise.text import fold_key, fold_key_ascii, is_ascii
from rex_pipeline.normalise.unique import map_unique


def _ascii_texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    alphabet = string.printable + "\x00\x01\x1f\x7f" + "''''"
    words = ["The", "the", "ACME", "O'Brien", "Co.", "&", "Inc", "  ", "--", "l'oreal", "42"]
    texts = ["".join(rng.choices(alphabet, k=rng.randint(0, 24))) for _ in range(count)]
    texts += [" ".join(rng.choices(words, k=rng.randint(1, 5))) for _ in range(count)]
    return texts


def test_ascii_fold_equals_fold_key_on_ascii() -> None:
    texts = pl.Series("v", [*_ascii_texts(3000, 7), "", "   ", None], dtype=pl.String())
    frame = texts.to_frame()
    assert frame.select(is_ascii(pl.col("v")).fill_null(True).all()).item()
    general = frame.select(fold_key(pl.col("v"))).to_series()
    fast = frame.select(fold_key_ascii(pl.col("v"))).to_series()
    assert fast.equals(general)


@pytest.mark.parametrize(
    ("text", "expected"), [("acme", True), ("Société", False), ("Ａcme", False), (None, None)]
)
def test_is_ascii(text: str | None, expected: bool | None) -> None:
    frame = pl.Series("v", [text], dtype=pl.String()).to_frame()
    assert frame.select(is_ascii(pl.col("v"))).item() == expected


def _reference_keys(names: pl.Series) -> pl.Series:
    """Company keys as the general path computes them: fold_key on every name, the stripped
    name's key first, the name's own key when that is empty."""
    frame = names.cast(pl.String()).str.strip_chars().to_frame("name")
    needs = frame.select(pl.when(_may_have_suffix(pl.col("name"))).then(pl.col("name")))
    base = map_unique(needs.to_series(), company_names.strip_legal_suffixes, pl.String())
    frame = frame.with_columns(base.alias("base"))
    keys = pl.coalesce(company_names._key(pl.col("base")), company_names._key(pl.col("name")))
    return frame.select(keys).to_series()


def test_company_keys_equal_the_general_path() -> None:
    rng = random.Random(11)
    words = ["Acme", "The", "Global", "Société", "Holdings", "&", "Co.", "Müller", "Pty", "Ltd"]
    words += ["Company", "Corp.", "S.A.", "GmbH", "KG", "LLC", "Inc.", "O'Neil", "Ａcme", "ß"]
    names = [" ".join(rng.choices(words, k=rng.randint(1, 4))) for _ in range(3000)]
    names += ["Inc.", "The Company", "The", "LLC", "", "  ", "Société S.A.", "The Société"]
    series = pl.Series("company_name", [*names, None], dtype=pl.String())
    assert company_keys(series).equals(_reference_keys(series).alias("company_name"))


def test_company_keys_all_ascii_and_all_other() -> None:
    for names in (["Acme Inc", "The Company", None], ["Société S.A.", "Zoë GmbH"]):
        series = pl.Series("n", names, dtype=pl.String())
        assert company_keys(series).equals(_reference_keys(series).alias("n"))


def test_metadata_rows_found_without_encoding() -> None:
    frame = pl.DataFrame(
        {
            "metadata": ['{"a":1}', None, "{}", '{"b":2}', None],
            "note": [None, "x", None, None, None],
            "list": [None, None, [], None, ["p"]],
        },
        schema={"metadata": pl.String(), "note": pl.String(), "list": pl.List(pl.String())},
    )
    additions = {"note": pl.col("note"), "list": pl.col("list")}
    expected = frame.select(add_to_metadata(pl.col("metadata"), additions)).to_series()
    assert with_additions(frame, additions).equals(expected)
    assert with_additions(frame, {}).equals(frame["metadata"])


def test_phone_fast_path_scatters_validity() -> None:
    # +1 numbers claimed by other NANP regions and by none, among valid US ones
    values = ["+1 415 555 0100", "+1 268 464 1234", "+1 212 555 0199", "+1 000 000 0000"]
    parsed = parse_phones(pl.Series("p", values, dtype=pl.String()), "US")
    assert parsed["phone"].to_list() == ["+14155550100", "+12684641234", "+12125550199", None]
