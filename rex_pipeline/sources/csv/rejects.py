"""Why a record of a CSV file cannot be used, as one polars expression (NULL: usable).

Blank rows, a Salesforce footer that slipped into the data, a header repeated mid-file (two
exports pasted together), a line whose quoted value never closes, rows whose field count differs
from the header's, and rows that carry nothing that identifies a record. Each becomes a REJECTED
row with its reason, never a silent drop.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from rex_pipeline.sources.csv.aliases import EntityKind
from rex_pipeline.sources.csv.layout import FOOTER_PATTERNS
from rex_pipeline.sources.csv.reader import FIELDS, UNCLOSED, column_name

BLANK_ROW = "blank row"
UNCLOSED_QUOTE = (
    "unclosed quote: a quoted value on this line never ends "
    "(the lines after it are read as rows of their own)"
)

# The fields without which a record identifies nothing, and how to say so.
CONTENT_FIELDS: dict[EntityKind, tuple[tuple[str, ...], str]] = {
    "contacts": (
        ("email", "other_emails", "full_name", "first_name", "last_name", "phone", "linkedin_url"),
        "name, email, phone or LinkedIn URL",
    ),
    "companies": (("name", "domain", "linkedin_url"), "company name, domain or LinkedIn URL"),
    "deals": (
        ("name", "contact_email", "company_domain", "company_name", "value"),
        "deal name, amount, contact or company",
    ),
    "tasks": (("title", "contact_email"), "task title or contact"),
    "activities": (("subject", "body", "contact_email", "type"), "type, subject, body or contact"),
}
_FOOTER = "(?i)^(?:" + "|".join(FOOTER_PATTERNS) + ")$"


def _all_null(exprs: Sequence[pl.Expr]) -> pl.Expr:
    return pl.all_horizontal([e.is_null() for e in exprs]) if exprs else pl.lit(True)


def _repeated_header(headers: Sequence[str], width: int, empty: frozenset[str]) -> pl.Expr:
    """The record repeats the header row. A column without values cannot repeat a header
    that names it, and matches a blank one."""
    checks = []
    for i, header in enumerate(headers[:width]):
        expected = header.strip() or None
        if column_name(i) in empty:
            if expected is not None:
                return pl.lit(False)
            continue
        checks.append(pl.col(column_name(i)).eq_missing(pl.lit(expected, pl.String)))
    return pl.all_horizontal(checks) if checks else pl.lit(True)


def reject_reason(
    kind: EntityKind,
    headers: Sequence[str],
    labels: Sequence[str],
    width: int,
    empty: frozenset[str] = frozenset(),
) -> pl.Expr:
    """The reason a record is rejected, over the trimmed cells c0..c{width-1}, FIELDS and the
    mapped fields of `kind`. The `empty` columns are NULL in every record: they are left out
    of the per-cell checks."""
    n = len(headers)
    named = n
    while named > 1 and not headers[named - 1].strip():
        named -= 1  # a header ending in a delimiter: rows may leave the nameless column out
    filled_at = [i for i in range(width) if column_name(i) not in empty]
    cells = {i: pl.col(column_name(i)) for i in filled_at}
    fields = pl.col(FIELDS)
    blank = _all_null(list(cells.values()))
    first = pl.col(column_name(0))
    footer = first.str.contains(_FOOTER) & _all_null([c for i, c in cells.items() if i >= 1])
    repeated = _repeated_header(headers, width, empty)
    extras_blank = _all_null([c for i, c in cells.items() if i >= n])
    wrong_count = (fields < named) | ((fields > n) & ~extras_blank)
    content, what = CONTENT_FIELDS[kind]
    named_cells = [pl.when(c.is_not_null()).then(pl.lit(labels[i])) for i, c in cells.items()]
    filled = (
        pl.concat_str(named_cells, separator=", ", ignore_nulls=True) if named_cells else pl.lit("")
    )
    return (
        pl.when(fields == UNCLOSED)
        .then(pl.lit(UNCLOSED_QUOTE))
        .when(blank)
        .then(pl.lit(BLANK_ROW))
        .when(footer)
        .then(pl.lit("salesforce report footer line"))
        .when(repeated)
        .then(pl.lit("repeated header row"))
        .when(wrong_count)
        .then(pl.format("wrong field count: expected {}, got {}", pl.lit(n), fields))
        .when(_all_null([pl.col(f) for f in content]))
        .then(pl.format("{}: only {} (no {})", pl.lit(BLANK_ROW), filled, pl.lit(what)))
    )
