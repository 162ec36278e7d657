"""People's names: splitting a full name, repairing ALL-CAPS / all-lower casing, matching keys.

nameparser does the linguistics ("Lovelace, Ada", "Dr. Ada Lovelace PhD", "van der Berg",
"O'Neil", "McDonald") and only repairs a name written in one case, so "DeShawn" or "McDONALD"
stay as typed. It costs ~120 µs a name, so two vectorised shortcuts take the plain cases it
would treat plainly anyway (a test checks they agree with it):

* a full name of exactly two Latin-letter words ("José Müller", "Lovelace, Ada"), neither of which
  nameparser knows as a title, suffix, particle, conjunction or capitalisation exception, is
  given name + family name;
* such a word written in one case is re-cased as "Xxxx" (Mac/Mc words excluded).

Everything else goes to nameparser, once per distinct value.
"""

from __future__ import annotations

import dataclasses
import functools

import polars as pl
from nameparser import Lexicon, ParsedName, Parser

from rex_pipeline.normalise.text import fold_key
from rex_pipeline.normalise.unique import by_distinct, join_unique, map_unique

#: Surnames that start with "Mac" but are not Gaelic: nameparser's Mac rule would write
#: "MacHado"; these keep one capital.
MAC_EXCEPTIONS: tuple[str, ...] = (
    "Macario",
    "Macaluso",
    "Macedo",
    "Macek",
    "Macey",
    "Machado",
    "Machar",
    "Machin",
    "Machlin",
    "Macias",
    "Maciel",
    "Mack",
    "Mackie",
    "Mackle",
    "Macklin",
    "Macon",
    "Macquarie",
    "Macy",
)


@functools.cache
def _parser() -> Parser:
    base = Lexicon.default()
    extra = tuple((name.lower(), name) for name in MAC_EXCEPTIONS)
    lexicon = dataclasses.replace(
        base, capitalization_exceptions=(*base.capitalization_exceptions, *extra)
    )
    return Parser(lexicon=lexicon)


@functools.cache
def _vocabulary() -> pl.Series:
    """Every word nameparser gives a special meaning to, lower case: such words never take a
    shortcut."""
    lex = _parser().lexicon
    words: set[str] = set()
    for field in (
        "titles",
        "given_name_titles",
        "after_given_titles",
        "suffix_acronyms",
        "suffix_acronyms_ambiguous",
        "suffix_words",
        "particles",
        "particles_ambiguous",
        "conjunctions",
        "conjunctions_ambiguous",
        "bound_given_names",
        "maiden_markers",
        "surnames",
        "honorific_tails",
    ):
        words |= {w.lower().rstrip(".") for w in getattr(lex, field)}
    words |= {key.lower() for key, _ in lex.capitalization_exceptions}
    return pl.Series(sorted(words), dtype=pl.String())


# Latin letters, accented ones included, whose case mapping is one letter to one letter
# ("ß" upper-cases to "SS", so it is left to nameparser).
_LETTER = "[A-Za-z\u00c0-\u00d6\u00d8-\u00de\u00e0-\u00f6\u00f8-\u00fe]"


def _plain_word(word: pl.Expr) -> pl.Expr:
    """A word of 2+ Latin letters nameparser has no rule for (not a Mac/Mc name, not a
    roman numeral, not in its vocabulary)."""
    lower = word.str.to_lowercase()
    return (
        word.str.contains(f"^{_LETTER}{{2,}}$")
        & ~lower.str.contains(r"^(mc|mac)")
        & ~lower.str.contains(r"^[ivxlcdm]+$")
        & ~lower.is_in(_vocabulary().implode())
    )


def _with_case_fixed(parsed: ParsedName) -> str:
    """The original text with nameparser's case repair applied token by token (spans are
    kept, so nothing is reordered or dropped)."""
    original = parsed.original
    repaired = _parser().capitalized(parsed)
    out: list[str] = []
    at = 0
    for before, after in zip(parsed.tokens, repaired.tokens, strict=True):
        if before.span is None:
            continue
        out.append(original[at : before.span.start])
        out.append(after.text)
        at = before.span.end
    out.append(original[at:])
    return "".join(out)


def fix_case(text: str) -> str:
    """One name field re-cased by nameparser if written all upper or all lower."""
    return _with_case_fixed(_parser().parse(text))


def fix_name_case(values: pl.Series) -> pl.Series:
    """Repair ALL-CAPS / all-lower names ("ADA" -> "Ada", "mcdonald" -> "McDonald",
    "DE LA CRUZ" -> "de la Cruz"); mixed-case values and NULL are kept as given."""
    fixed = by_distinct(values.cast(pl.String()), _fix_name_case)
    assert isinstance(fixed, pl.Series)
    return fixed.alias(values.name)


def _fix_name_case(values: pl.Series) -> pl.Series:
    frame = values.cast(pl.String()).to_frame("v")
    v = pl.col("v")
    one_case = (v == v.str.to_uppercase()) | (v == v.str.to_lowercase())
    quick = _plain_word(v)
    titled = v.str.slice(0, 1).str.to_uppercase() + v.str.slice(1).str.to_lowercase()
    frame = frame.with_columns(
        pl.when(one_case & quick).then(titled).alias("quick"),
        pl.when(one_case & ~quick).then(v).alias("slow"),
    )
    slow = map_unique(frame["slow"], fix_case, pl.String())
    return frame.select(pl.coalesce(pl.col("quick"), slow, v).alias(values.name)).to_series()


def split_name(text: str) -> tuple[str | None, str | None]:
    """(given name, family name) of one full name by nameparser, case repaired when the name
    is written in one case; titles, middle names, suffixes and nicknames are left out
    ("dr. ada king lovelace phd" -> ("Ada", "Lovelace"))."""
    parsed = _parser().capitalized(_parser().parse(text))
    return parsed.given or None, parsed.family or None


def split_full_names(full_names: pl.Series) -> pl.DataFrame:
    """First and last name for a column of full names ("Lovelace, Ada", "ADA LOVELACE"), case
    repaired as `fix_name_case` does for the whole name. An email address or a value without
    letters gives NULLs."""
    parts = by_distinct(full_names.cast(pl.String()), _split_full_names)
    assert isinstance(parts, pl.DataFrame)
    return parts


def _split_full_names(full_names: pl.Series) -> pl.DataFrame:
    cleaned = full_names.cast(pl.String()).str.strip_chars().str.replace_all(r"\s+", " ")
    usable = cleaned.str.contains(r"\p{L}") & ~cleaned.str.contains("@", literal=True)
    frame = pl.DataFrame({"v": cleaned}).with_columns(pl.when(usable).then(pl.col("v")).alias("v"))
    v = pl.col("v")
    one_case = (v == v.str.to_uppercase()) | (v == v.str.to_lowercase())
    # "Ada Lovelace" or "Lovelace, Ada"
    parts = v.str.extract_groups(f"^({_LETTER}+)(,?) ({_LETTER}+)$")
    comma = parts.struct.field("2") == ","
    one, two = parts.struct.field("1"), parts.struct.field("3")
    first = pl.when(comma).then(two).otherwise(one)
    second = pl.when(comma).then(one).otherwise(two)
    quick = (_plain_word(first) & _plain_word(second)).fill_null(False)

    def titled(word: pl.Expr) -> pl.Expr:
        fixed = word.str.slice(0, 1).str.to_uppercase() + word.str.slice(1).str.to_lowercase()
        return pl.when(one_case).then(fixed).otherwise(word)

    frame = frame.with_columns(
        pl.when(quick).then(titled(first)).alias("first_name"),
        pl.when(quick).then(titled(second)).alias("last_name"),
        pl.when(~quick).then(v).alias("slow"),
    )
    distinct = frame["slow"].drop_nulls().unique().to_list()
    parts = [split_name(v) for v in distinct]
    table = pl.DataFrame(
        {"slow": distinct, "given": [p[0] for p in parts], "family": [p[1] for p in parts]},
        schema={"slow": pl.String(), "given": pl.String(), "family": pl.String()},
    )
    slow = join_unique(frame["slow"], table, "slow")
    return pl.DataFrame(
        {
            "first_name": frame["first_name"].fill_null(slow["given"]),
            "last_name": frame["last_name"].fill_null(slow["family"]),
        }
    )


def name_key(name: pl.Expr) -> pl.Expr:
    """Matching key of a name: case, accents and punctuation removed ("Zoë O’Brien" ->
    "zoe obrien")."""
    return fold_key(name)
