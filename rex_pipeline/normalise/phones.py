"""Phone numbers to E.164 with phonenumbers, kept only when `is_valid_number` says so
(phonenumbers happily parses "12345" into "+112345").

Export quirks handled before parsing: Apollo's leading apostrophe ("'+1 415-555-0100", added so
Excel keeps the "+"), Excel's `="..."` wrapper, "tel:" URIs, and extensions ("x23", "ext. 23"),
which phonenumbers reads into `extension` and E.164 leaves out. A cell holding several numbers
("415-555-0100 / 415-555-0199") yields the first valid one.

phonenumbers costs 30-60 µs a number. Numbers written "+<country code> <digits>" with nothing
but digits and separators (and, when the default region is North American, 10-digit national
numbers) take a vectorised path that asks phonenumbers' *own metadata* the questions
`is_valid_number` asks (which region of the country code claims the number, whether it matches
that region's general pattern and one of its number types) with polars regexes; everything
else, and every number that path does not accept, goes to the library. A test checks the two
agree.
"""

from __future__ import annotations

import functools

import phonenumbers
import polars as pl
from phonenumbers import PhoneMetadata

from rex_pipeline.normalise.unique import join_unique

#: Columns returned by `parse_phones`.
PHONE_RESULT: dict[str, pl.DataType] = {
    "phone": pl.String(),  # E.164, NULL when blank or not a valid number
    "phone_extension": pl.String(),
}

_E164 = phonenumbers.PhoneNumberFormat.E164
#: E.164 has at most 15 digits. phonenumbers also validates some longer numbers (a German
#: number with a long extension dialled straight through, "+49 201 00000000000"), whose "E.164"
#: form would break the contract's format: they count as not valid.
E164_MAX_DIGITS = 15


def _prepare(values: pl.Series) -> pl.Series:
    """Strip whitespace, Excel/Apollo wrappers and "tel:"; blank -> NULL."""
    cleaned = (
        values.str.strip_chars()
        .str.replace(r'^="(.*)"$', "$1")
        .str.strip_chars("'\" \t")
        .str.replace(r"^(?i:tel:)", "")
        .str.strip_chars()
    )
    return cleaned.replace("", None)


def parse_phone(value: str, region: str) -> tuple[str | None, str | None]:
    """(E.164, extension) of one value, or (None, None) when it holds no valid number."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        # A cell with several numbers or surrounding words: take the first valid one.
        matches = phonenumbers.PhoneNumberMatcher(
            value, region, leniency=phonenumbers.Leniency.VALID
        )
        number = next((m.number for m in matches), None)
        if number is None:
            return None, None
    e164 = phonenumbers.format_number(number, _E164)
    if len(e164) - 1 > E164_MAX_DIGITS:
        return None, None
    return e164, number.extension or None


_TYPE_DESCS = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)
# digits and separators only, optionally a leading "+" and an "x 23" / "ext. 23" extension
_PLAIN = r"^(\+?)([\d\s().-]+?)\s*(?:(?:x|ext\.?)\s*(\d{1,6}))?$"


def _matches(nsn: pl.Expr, desc: object) -> pl.Expr | None:
    """`_is_number_matching_desc`: the national number has a possible length and matches the
    pattern in full; None when the description has no pattern."""
    pattern = getattr(desc, "national_number_pattern", None)
    if not pattern:
        return None
    matched = nsn.str.contains(f"^(?:{pattern})$")
    lengths = list(getattr(desc, "possible_length", ()) or ())
    return matched & nsn.str.len_chars().is_in(lengths) if lengths else matched


@functools.cache
def _regions(country_code: int) -> tuple[tuple[str | None, object], ...]:
    """(leading_digits, metadata) of the regions sharing a country code, in phonenumbers'
    own order; empty for non-geographic codes (+800 ...), which stay with the library."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    metadata = [PhoneMetadata.metadata_for_region(r) for r in regions if r != "001"]
    return tuple((md.leading_digits, md) for md in metadata if md is not None)


def _valid_in(frame: pl.DataFrame, metadata: object) -> pl.Series:
    """`_number_type_helper(...) != UNKNOWN` for the `nsn` column."""
    nsn = pl.col("nsn")
    general = _matches(nsn, metadata.general_desc)  # type: ignore[attr-defined]
    types = [m for d in _TYPE_DESCS if (m := _matches(nsn, getattr(metadata, d))) is not None]
    if general is None or not types:
        return pl.Series([False] * frame.height, dtype=pl.Boolean())
    return frame.select(general & pl.any_horizontal(types)).to_series()


def _valid(country_code: int, nsn: pl.Series) -> pl.Series:
    """`is_valid_number` for national numbers under one country code: the first region that
    claims a number (by its leading digits, or by the number being valid there) decides."""
    frame = pl.DataFrame({"i": pl.int_range(len(nsn), eager=True, dtype=pl.UInt32), "nsn": nsn})
    valid = pl.Series([False] * len(nsn), dtype=pl.Boolean())
    for leading, metadata in _regions(country_code):
        if frame.is_empty():
            break
        if leading:
            claimed = frame.filter(pl.col("nsn").str.contains(f"^(?:{leading})"))
            ok = _valid_in(claimed, metadata)
        else:
            ok = _valid_in(frame, metadata)
            claimed, ok = frame.filter(ok), ok.filter(ok)
        valid = valid.scatter(claimed["i"], ok)
        frame = frame.filter(~pl.col("i").is_in(claimed["i"].implode()))
    return valid


@functools.cache
def _country_codes() -> dict[int, pl.Series]:
    """Geographic country codes by length in digits (they are prefix-free): those with a
    region other than "001" (non-geographic). Read from the code table alone: loading every
    region's metadata to ask would cost ~60 ms a run, for the few codes a batch holds."""
    table = phonenumbers.COUNTRY_CODE_TO_REGION_CODE
    codes = [cc for cc, regions in table.items() if any(r != "001" for r in regions)]
    return {n: pl.Series([str(cc) for cc in codes if len(str(cc)) == n]) for n in (1, 2, 3)}


def _split_country_code(digits: pl.Expr) -> pl.Expr:
    """The country code an international number starts with, or NULL."""
    codes = _country_codes()
    return pl.coalesce(
        *(
            pl.when(digits.str.slice(0, n).is_in(codes[n].implode())).then(digits.str.slice(0, n))
            for n in (1, 2, 3)
        )
    )


def _keeps_national_prefix(country_code: int, nsn: pl.Series) -> pl.Series:
    """True where phonenumbers would *not* strip a national prefix from an international
    number (the main region's national_prefix_for_parsing does not match its start)."""
    metadata = PhoneMetadata.metadata_for_region(
        phonenumbers.region_code_for_country_code(country_code)
    )
    prefix = getattr(metadata, "national_prefix_for_parsing", None)
    if not prefix:
        return pl.Series([True] * len(nsn), dtype=pl.Boolean())
    return ~nsn.str.contains(f"^(?:{prefix})")


def _fast_path(values: pl.Series, region: str) -> pl.DataFrame:
    """The distinct values the vectorised path accepts: value, phone, phone_extension.

    It takes "+<country code><number>" with only digits and separators, and, when the default
    region is North American, 10-digit national numbers (11 with the leading 1)."""
    metadata = PhoneMetadata.metadata_for_region(region.upper())
    national_nanp = (
        metadata is not None
        and metadata.country_code == 1
        and metadata.national_prefix_for_parsing == "1"
    )
    parts = pl.col("value").str.extract_groups(_PLAIN)
    frame = values.to_frame("value").with_columns(
        plus=parts.struct.field("1") == "+",
        digits=parts.struct.field("2").str.replace_all(r"\D", ""),
        phone_extension=parts.struct.field("3"),
    )
    digits, plus = pl.col("digits"), pl.col("plus")
    national = ~plus & pl.lit(national_nanp)
    frame = frame.with_columns(
        cc=pl.when(plus)
        .then(_split_country_code(digits))
        .when(national & digits.str.contains(r"^1?\d{10}$"))
        .then(pl.lit("1"))
    )
    frame = frame.filter(pl.col("cc").is_not_null()).with_columns(
        nsn=pl.when(plus)
        .then(digits.str.slice(pl.col("cc").str.len_chars()))
        .otherwise(digits.str.slice(-10))
    )
    accepted = []
    for (cc,), group in frame.group_by("cc"):
        country_code = int(str(cc))
        keep = _keeps_national_prefix(country_code, group["nsn"]) | ~group["plus"]
        group = group.filter(keep)
        accepted.append(group.filter(_valid(country_code, group["nsn"])))
    if not accepted:
        return pl.DataFrame(schema={"value": pl.String(), **PHONE_RESULT})
    digits = pl.col("cc").str.len_chars() + pl.col("nsn").str.len_chars()
    return (
        pl.concat(accepted)
        .filter(digits <= E164_MAX_DIGITS)
        .select(
            "value", pl.concat_str([pl.lit("+"), "cc", "nsn"]).alias("phone"), "phone_extension"
        )
    )


def parse_phones(values: pl.Series, region: str) -> pl.DataFrame:
    """E.164 and extension for a column of phones as given (`PHONE_RESULT` columns, one row
    per value). `region` reads numbers written without a country code ("US")."""
    prepared = _prepare(values.cast(pl.String()))
    distinct = prepared.drop_nulls().unique()
    fast = _fast_path(distinct, region)
    rest = distinct.to_frame("value").join(fast, on="value", how="anti")["value"].to_list()
    parsed = [parse_phone(v, region) for v in rest]
    slow = pl.DataFrame(
        {
            "value": rest,
            "phone": [p[0] for p in parsed],
            "phone_extension": [p[1] for p in parsed],
        },
        schema={"value": pl.String(), **PHONE_RESULT},
    )
    return join_unique(prepared, pl.concat([fast, slow]), "value")


def first_valid_phones(candidates: list[pl.Series], region: str) -> pl.DataFrame:
    """`PHONE_RESULT` of the first valid number among several candidates per row (a record's
    mobile, work and home columns, in order of preference): an invalid first one no longer
    hides a valid second one."""
    parsed = [parse_phones(values.cast(pl.String()), region) for values in candidates]
    found = [p["phone"].is_not_null() for p in parsed]
    phone = pl.coalesce([pl.lit(p["phone"]) for p in parsed])
    extension = pl.lit(None, pl.String())
    for p, hit in zip(reversed(parsed), reversed(found), strict=True):
        extension = pl.when(pl.lit(hit)).then(pl.lit(p["phone_extension"])).otherwise(extension)
    return pl.select(phone=phone, phone_extension=extension)
