"""Text clean-up shared by every normaliser: blanks to NULL, repair of UTF-8 text that was
decoded as Windows-1252 (Excel round trips: "JosÃ©" -> "José"), and accent- and case-free
matching keys."""

from __future__ import annotations

import polars as pl

from rex_pipeline.normalise.unique import map_unique

# A UTF-8 lead byte (Â..ô) followed by a continuation byte (0x80-0xBF), both as Windows-1252
# shows them. Only text with such a pair is even tried: plain accented text never has one.
_MOJIBAKE = (
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)

# Letters NFKD does not decompose, spelled the way people type them without the accent.
_FOLD = {
    "ß": "ss",
    "ø": "o",
    "đ": "d",
    "ł": "l",
    "æ": "ae",
    "œ": "oe",
    "þ": "th",
    "ı": "i",
    # apostrophes join rather than split: "O'Brien", "O’Brien" and "OBrien" agree
    "'": "",
    "’": "",
    "‘": "",
}


def blank_to_null(expr: pl.Expr) -> pl.Expr:
    """Trim whitespace (including no-break spaces) and turn empty strings into NULL."""
    return expr.str.strip_chars().replace("", None)


def _unmangle(text: str) -> str:
    try:
        fixed = text.encode("cp1252").decode("utf-8")
    except UnicodeError:
        return text
    return fixed


def repair_mojibake(values: pl.Series) -> pl.Series:
    """Undo one round of UTF-8-read-as-cp1252 ("MÃ¼ller" -> "Müller"). A value is changed only
    when its cp1252 bytes are valid UTF-8, which real accented text practically never is."""
    suspect = values.str.contains(_MOJIBAKE).fill_null(False)
    if not suspect.any():
        return values
    fixed = map_unique(values.filter(suspect), _unmangle, pl.String())
    return values.clone().scatter(suspect.arg_true(), fixed)


def fold_key(expr: pl.Expr) -> pl.Expr:
    """A matching key: lower case, accents and punctuation removed (apostrophes dropped, other
    punctuation read as a space), whitespace collapsed; NULL when nothing is left.
    "Zoë  O’Brien-Smith" -> "zoe obrien smith". Compatibility forms fold first (NFKC), so a
    styled capital such as "𝘈" lower-cases like "A"."""
    folded = (
        expr.str.normalize("NFKC")
        .str.to_lowercase()
        .str.replace_many(list(_FOLD), list(_FOLD.values()))
        .str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.replace_all(r"[^\p{L}\p{N}]+", " ")
        .str.strip_chars()
    )
    return folded.replace("", None)


def fold_key_ascii(expr: pl.Expr) -> pl.Expr:
    """`fold_key` for ASCII text, where it gives the same key at a third of the cost: ASCII
    is unchanged by NFKC and NFKD and has no marks, its letters and digits are [a-z0-9] once
    lower-cased, and of the `_FOLD` letters only the apostrophe is ASCII."""
    folded = (
        expr.str.to_lowercase()
        .str.replace_all("'", "", literal=True)
        .str.replace_all(r"[^a-z0-9]+", " ")
        .str.strip_chars()
    )
    return folded.replace("", None)


def is_ascii(expr: pl.Expr) -> pl.Expr:
    """True for text of ASCII characters only (NULL stays NULL)."""
    return expr.str.contains(r"^[\x00-\x7f]*$")
