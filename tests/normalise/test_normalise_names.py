"""Full-name splitting, case repair and name keys; the vectorised shortcuts agree with
nameparser."""

from __future__ import annotations

import itertools

import polars as pl
import pytest

from rex_pipeline.normalise.names import (
    fix_case,
    fix_name_case,
    name_key,
    split_full_names,
    split_name,
)


def _split(value: str | None) -> tuple[str | None, str | None]:
    return split_full_names(pl.Series([value], dtype=pl.String())).row(0)


@pytest.mark.parametrize(
    ("full", "first", "last"),
    [
        ("Ada Lovelace", "Ada", "Lovelace"),
        ("Lovelace, Ada", "Ada", "Lovelace"),
        ("Dr. Ada Lovelace PhD", "Ada", "Lovelace"),
        ("ada lovelace", "Ada", "Lovelace"),
        ("ADA LOVELACE", "Ada", "Lovelace"),
        ("LOVELACE, ADA", "Ada", "Lovelace"),
        ("ronald mcdonald", "Ronald", "McDonald"),
        ("hans van der berg", "Hans", "van der Berg"),
        ("shaquille o'neal", "Shaquille", "O'Neal"),
        ("SEÁN O’BRIEN", "Seán", "O’Brien"),  # curly apostrophe from a cp1252 export
        ("José Müller", "José", "Müller"),
        ("Zoë  Saldaña ", "Zoë", "Saldaña"),
        ("Ada LOVELACE", "Ada", "LOVELACE"),  # mixed case is kept as written
        ("Mary Ann Smith", "Mary", "Smith"),
        ("Ada", "Ada", None),
        ("ada@acme.com", None, None),  # an address is not a name
        ("1234", None, None),
        ("   ", None, None),
        (None, None, None),
    ],
)
def test_split_full_names(full: str | None, first: str | None, last: str | None) -> None:
    assert _split(full) == (first, last)


def test_fix_name_case_repairs_one_case_values_only() -> None:
    given = ["ADA", "lovelace", "mcdonald", "MACHADO", "DE LA CRUZ", "o'neil", "DeShawn", "ÅSA"]
    given += ["McDONALD", "van der Berg", None]
    assert fix_name_case(pl.Series(given)).to_list() == [
        "Ada",
        "Lovelace",
        "McDonald",
        "Machado",  # not Gaelic: nameparser alone would write "MacHado"
        "de la Cruz",
        "O'Neil",
        "DeShawn",
        "Åsa",
        "McDONALD",
        "van der Berg",
        None,
    ]


def test_name_key_strips_case_accents_and_punctuation() -> None:
    names = ["Zoë  O’Brien-Smith", "ZOE O'BRIEN SMITH", "Zoe OBrien Smith", "Søren Ørsted", None]
    keys = pl.DataFrame({"n": names}).select(name_key(pl.col("n"))).to_series().to_list()
    assert keys == ["zoe obrien smith"] * 3 + ["soren orsted", None]


_WORDS = ["Ada", "LOVELACE", "grace", "Van", "de", "Dr", "Jr", "Mac", "McKay", "II", "Ann"]
_WORDS += ["Mary", "MACHADO", "Lee", "Mill", "Bin", "Del", "Sir", "Esq", "Ho", "Ng", "Al", "Le"]
_WORDS += ["José", "ZOË", "søren", "Ñúñez", "Þór", "ÉMILE", "Straße", "Dóra", "Ðorđe", "Öz"]


def test_two_word_shortcut_agrees_with_nameparser() -> None:
    names = [f"{a} {b}" for a, b in itertools.product(_WORDS, repeat=2)]
    names += [f"{b}, {a}" for a, b in itertools.product(_WORDS, repeat=2)]
    names += [n.lower() for n in names[:100]] + [n.upper() for n in names[100:200]]
    result = split_full_names(pl.Series(names))
    for name, row in zip(names, result.iter_rows(), strict=True):
        assert row == split_name(name), name


def test_case_shortcut_agrees_with_nameparser() -> None:
    words = [w for word in _WORDS for w in (word, word.lower(), word.upper())]
    words += ["MACKENZIE", "iv", "XI", "O'NEIL", "MÜLLER", "smith"]
    result = fix_name_case(pl.Series(words)).to_list()
    for word, fixed in zip(words, result, strict=True):
        assert fixed == fix_case(word), word
