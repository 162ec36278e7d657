"""Deal amounts as written ("12,500.00", "$1,200", "1.200,50 €", "1.2k", "USD 3M") ->
integer minor units plus an ISO 4217 code.

The decimal separator is read from the text: with both "." and "," present the last one is
decimal; a single kind of separator followed by exactly three digits ("1,200", "1.200") groups
thousands; otherwise it is decimal ("12,5"). Arithmetic is Decimal, never float. A currency
column's code beats a symbol in the amount ("$" is also CAD, AUD ...).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import polars as pl

from rex_pipeline.normalise.unique import join_unique

DEFAULT_CURRENCY = "USD"

#: Currency symbols and words seen in exports -> ISO code. Longer symbols first ("US$" before "$").
SYMBOLS: dict[str, str] = {
    "US$": "USD",
    "A$": "AUD",
    "AU$": "AUD",
    "C$": "CAD",
    "CA$": "CAD",
    "NZ$": "NZD",
    "R$": "BRL",
    "HK$": "HKD",
    "S$": "SGD",
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "₩": "KRW",
    "₽": "RUB",
    "₺": "TRY",
    "₪": "ILS",
    "zł": "PLN",
    "kr": "SEK",
    "Fr.": "CHF",
}

#: Digits after the decimal point, where not 2 (ISO 4217).
MINOR_DIGITS: dict[str, int] = {
    **dict.fromkeys(("JPY", "KRW", "VND", "CLP", "ISK", "PYG", "UGX", "XAF", "XOF", "HUF"), 0),
    **dict.fromkeys(("BHD", "KWD", "OMR", "JOD", "TND", "IQD", "LYD"), 3),
}

_MULTIPLIERS = {"": 1, "k": 1_000, "m": 1_000_000, "mm": 1_000_000, "b": 1_000_000_000}
_NUMBER = re.compile(r"^([+-]?)(\d[\d.,' ]*)(k|mm|m|b|bn)?$", re.IGNORECASE)
_CODE = re.compile(r"\b([A-Za-z]{3})\b")

# deals.value is BIGINT: an amount beyond it ("999999999999999999999999") is unreadable, not a
# reason to fail the run.
_MIN_INT64, _MAX_INT64 = -(2**63), 2**63 - 1

#: Columns returned by `parse_money`.
MONEY_RESULT: dict[str, pl.DataType] = {"value": pl.Int64(), "currency": pl.String()}


def _currency_in(text: str) -> tuple[str | None, str]:
    """(ISO code named in the text or None, text without it)."""
    for symbol, code in SYMBOLS.items():
        if symbol in text:
            return code, text.replace(symbol, " ")
    match = _CODE.search(text)
    if match and match.group(1).lower() not in ("k", "m", "mm", "bn"):
        return match.group(1).upper(), text[: match.start()] + " " + text[match.end() :]
    return None, text


def _amount(text: str) -> Decimal | None:
    compact = re.sub(r"\s+", "", text).replace("'", "")
    match = _NUMBER.match(compact)
    if not match:
        return None
    sign, digits, suffix = match.group(1), match.group(2), (match.group(3) or "").lower()
    suffix = "b" if suffix == "bn" else suffix
    last_dot, last_comma = digits.rfind("."), digits.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        decimal_sep = "." if last_dot > last_comma else ","
    elif last_dot >= 0 or last_comma >= 0:
        sep = "." if last_dot >= 0 else ","
        after = len(digits) - max(last_dot, last_comma) - 1
        grouped = digits.count(sep) > 1 or (after == 3 and not suffix)
        decimal_sep = None if grouped else sep
    else:
        decimal_sep = None
    if decimal_sep is None:
        number = digits.replace(".", "").replace(",", "")
    else:
        thousands = "," if decimal_sep == "." else "."
        number = digits.replace(thousands, "").replace(decimal_sep, ".")
    try:
        return Decimal(sign + number) * _MULTIPLIERS[suffix]
    except InvalidOperation:
        return None


def parse_amount(text: str, currency: str | None) -> tuple[int | None, str]:
    """(minor units or None, ISO code) of one amount. The currency column's code wins (a "$"
    may be CAD); else the symbol or code in the text; else USD."""
    named, rest = _currency_in(text)
    amount = _amount(rest.strip())
    column = (currency or "").strip().upper()
    code = column if re.fullmatch(r"[A-Z]{3}", column) else None
    code = code or (named if amount is not None else None) or DEFAULT_CURRENCY
    if amount is None:
        return None, code
    exponent = Decimal(10) ** MINOR_DIGITS.get(code, 2)
    try:
        minor = int((amount * exponent).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except InvalidOperation:  # more digits than Decimal's precision: not an amount
        return None, code
    return (minor if _MIN_INT64 <= minor <= _MAX_INT64 else None), code


def parse_money(values: pl.Series, currencies: pl.Series) -> pl.DataFrame:
    """`MONEY_RESULT` columns for amount and currency columns as given: value NULL when blank
    or unreadable; currency from the amount's symbol/code, else the column, else USD."""
    pair = pl.struct(
        text=values.cast(pl.String()).str.strip_chars().fill_null(""),
        code=currencies.cast(pl.String()).str.strip_chars().fill_null(""),
        eager=True,
    ).alias("pair")  # a struct, not a joined string: a value may hold any separator
    distinct = pair.unique()
    parsed = [parse_amount(p["text"], p["code"]) for p in distinct.to_list()]
    table = pl.DataFrame(
        {
            "pair": distinct,
            "value": [p[0] for p in parsed],
            "currency": [p[1] for p in parsed],
        },
        schema_overrides=MONEY_RESULT,
    )
    return join_unique(pair, table, "pair")
