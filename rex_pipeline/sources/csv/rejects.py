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


def reject_reason(
    kind: EntityKind, headers: Sequence[str], labels: Sequence[str], width: int
) -> pl.Expr:
    """The reason a record is rejected, over the trimmed cells c0..c{width-1}, FIELDS and the
    mapped fields of `kind`."""
    n = len(headers)
    named = n
    while named > 1 and not headers[named - 1].strip():
        named -= 1  # a header ending in a delimiter: rows may leave the nameless column out
    cells = [pl.col(column_name(i)) for i in range(width)]
    fields = pl.col(FIELDS)
    blank = _all_null(cells)
    footer = cells[0].str.contains(_FOOTER) & _all_null(cells[1:])
    repeated = pl.all_horizontal(
        c.eq_missing(pl.lit(h.strip() or None, pl.String))
        for c, h in zip(cells, headers, strict=False)
    )
    extras_blank = _all_null(cells[n:])
    wrong_count = (fields < named) | ((fields > n) & ~extras_blank)
    content, what = CONTENT_FIELDS[kind]
    filled = pl.concat_str(
        [
            pl.when(c.is_not_null()).then(pl.lit(name))
            for c, name in zip(cells, labels, strict=True)
        ],
        separator=", ",
        ignore_nulls=True,
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
