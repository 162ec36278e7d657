"""Map a file's columns onto the raw fields of its entity kind, as polars expressions.

Each field takes the first of its candidate columns that has a usable value (in alias priority);
list fields (addresses, tags) take every value. A cell that did not end up in a field — unknown
columns, vendor fields we do not map, a second phone, a date that would not parse, a LinkedIn
`urn:li:member:` in an email column — goes to `metadata` under its header, so nothing is lost.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from rex_pipeline.sources.csv.aliases import header_key
from rex_pipeline.sources.csv.dialects import Dialect
from rex_pipeline.sources.csv.reader import column_name
from rex_pipeline.sources.csv.values import (
    duration_unit_seconds,
    parse_duration,
    parse_timestamp,
    timestamp_formats,
)

TIMESTAMP_FIELDS = frozenset({"created_at", "updated_at", "occurred_at", "due_at"})
EMPTY_LIST = pl.lit([], dtype=pl.List(pl.String))
_SPLIT_MARK = "\x1f"
_JSON_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_JSON_ESCAPES.update({chr(c): f"\\u{c:04x}" for c in range(32) if chr(c) not in _JSON_ESCAPES})
_URN = r"(?i)^urn:li:"  # LinkedIn 2018 puts member URNs in the email column
_EMAIL_IN_TEXT = r"([^\s<>()\[\],;:\"']+@[^\s<>()\[\],;:\"']+)"
# Columns that name a person ("Jane Doe (jane@acme.com)") rather than hold an address.
_PERSON_REFERENCES = frozenset(header_key(h) for h in ("Associated Contact", "Contact"))


@dataclass(frozen=True)
class Column:
    """One input column: its positional name in the frame and its header."""

    name: str
    header: str

    @property
    def key(self) -> str:
        return header_key(self.header)

    @property
    def expr(self) -> pl.Expr:
        return pl.col(self.name)


@dataclass(frozen=True)
class Offer:
    """What one column offers a field: `value` (NULL when nothing usable) and `whole`, true when
    that value carries all the cell held (otherwise the cell is also kept in metadata)."""

    column: Column
    value: pl.Expr
    whole: pl.Expr = field(default_factory=lambda: pl.lit(True))
    plain: bool = False  # value is the cell itself: used whenever the cell has one


# Consumption of a cell that is used whenever it has a value: it never goes to metadata.
ALWAYS: None = None
Consumed = dict[str, pl.Expr | None]


@dataclass
class Mapping:
    """The expressions that build one kind's raw fields from a trimmed frame."""

    fields: dict[str, pl.Expr]
    metadata: pl.Expr
    source_key: pl.Expr  # needs the `_row` column
    mapped: dict[str, list[str]]  # field -> headers feeding it
    unknown: list[str]  # headers mapped to no field (kept in metadata)


def labels(headers: Sequence[str], width: int) -> list[str]:
    """Unique JSON keys for the columns: repeated headers get " (2)", empty ones their position,
    cells beyond the header "(extra field N)"."""
    seen: dict[str, int] = {}
    out = []
    for i in range(width):
        if i >= len(headers):
            out.append(f"(extra field {i - len(headers) + 1})")
            continue
        label = headers[i].strip() or f"(column {i + 1})"
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def json_object(members: Sequence[tuple[str, pl.Expr]]) -> pl.Expr:
    """A JSON object of the non-NULL (key, value) members, as one String expression.

    Built from escaped pieces rather than a struct encode, so the cost follows the filled
    cells, not the width of the export (HubSpot's has 180+ mostly empty columns)."""
    # each member `"key":"<escaped value>"` in one concat (NULL when the value is NULL):
    # chained `+` would build two intermediate columns per member
    pieces = [
        pl.concat_str(
            [
                pl.lit(json.dumps(key, ensure_ascii=False) + ':"'),
                v.str.replace_many(_JSON_ESCAPES),
                pl.lit('"'),
            ]
        )
        for key, v in members
    ]
    if not pieces:
        return pl.lit("{}")
    inner = pl.concat_str(pieces, separator=",", ignore_nulls=True).fill_null("")
    return pl.concat_str([pl.lit("{"), inner, pl.lit("}")])


def _first(offers: Sequence[Offer]) -> tuple[pl.Expr, Consumed]:
    """The first usable offer, and per column whether its cell was used up."""
    if not offers:
        return pl.lit(None, pl.String), {}
    consumed: Consumed = {}
    none_before: pl.Expr = pl.lit(True)
    for index, offer in enumerate(offers):
        if index == 0 and offer.plain:
            consumed[offer.column.name] = ALWAYS
        else:
            consumed[offer.column.name] = none_before & offer.value.is_not_null() & offer.whole
        none_before = none_before & offer.value.is_null()
    return pl.coalesce([o.value for o in offers]), consumed


def _items(value: pl.Expr, split: str | None) -> pl.Expr:
    """A cell as a list of its values (split by the regex `split`), NULL cells as []."""
    if split is None:
        parts = pl.concat_list([value])
    else:
        parts = value.str.replace_all(split, _SPLIT_MARK).str.split(_SPLIT_MARK)
    return pl.when(value.is_not_null()).then(parts).otherwise(EMPTY_LIST)


def _all(offers: Sequence[Offer], split: str | None) -> tuple[pl.Expr, Consumed]:
    """Every value of every offer, trimmed, deduplicated in order; NULL when none."""
    if not offers:
        return pl.lit(None, pl.List(pl.String)), {}
    joined = pl.concat_list([_items(o.value, split) for o in offers]).list.eval(
        pl.element().str.strip_chars().filter(pl.element().str.strip_chars() != "")
    )
    values = joined.list.unique(maintain_order=True)
    consumed: Consumed = {
        o.column.name: ALWAYS if o.plain else o.value.is_not_null() & o.whole for o in offers
    }
    return values, consumed


def _none_if_empty(values: pl.Expr) -> pl.Expr:
    return pl.when(values.list.len() > 0).then(values)


class _Builder:
    """Collects field expressions and which cells they used up."""

    def __init__(self, dialect: Dialect, columns: Sequence[Column], cells: pl.DataFrame) -> None:
        self.dialect = dialect
        self.cells = cells
        self.columns = list(columns)
        self.claimed: dict[str, list[Column]] = {}
        self.consumed: dict[str, list[pl.Expr | None]] = {}
        self.fields: dict[str, pl.Expr] = {}
        taken: set[str] = set()
        by_key: dict[str, list[Column]] = {}
        for column in self.columns:
            by_key.setdefault(column.key, []).append(column)
        for field_name, keys in dialect.fields.items():
            chosen = [c for k in keys for c in by_key.get(k, []) if c.name not in taken]
            taken.update(c.name for c in chosen)
            if chosen:
                self.claimed[field_name] = chosen

    def use(self, consumed: Consumed) -> None:
        for name, expr in consumed.items():
            self.consumed.setdefault(name, []).append(expr)

    def scalar(self, field_name: str) -> None:
        offers = [self._offer(field_name, c) for c in self.claimed.get(field_name, [])]
        value, consumed = _first(offers)
        self.fields[field_name] = value
        self.use(consumed)

    def _offer(self, field_name: str, column: Column) -> Offer:
        cell = column.expr
        if field_name in TIMESTAMP_FIELDS:
            formats = timestamp_formats(self.cells.get_column(column.name))
            return Offer(column, parse_timestamp(cell, formats))
        if field_name == "duration":
            return Offer(column, parse_duration(cell, duration_unit_seconds(column.header)))
        if field_name == "contact_email" and column.key in _PERSON_REFERENCES:
            found = cell.str.extract(_EMAIL_IN_TEXT, 1)
            return Offer(column, found, found == cell)
        separator = self.dialect.value_separator
        if separator:
            first = cell.str.split(separator).list.first().str.strip_chars()
            return Offer(column, pl.when(first != "").then(first), ~cell.str.contains(separator))
        return Offer(column, cell, plain=True)

    def emails(self) -> None:
        """Primary and further addresses: the first usable address is the primary one."""
        columns = self.claimed.get("email", []) + self.claimed.get("other_emails", [])
        not_urn = [Offer(c, pl.when(~c.expr.str.contains(_URN)).then(c.expr)) for c in columns]
        separator = self.dialect.value_separator
        if len(not_urn) == 1 and not separator:  # the common case, without list machinery
            self.fields["email"] = not_urn[0].value
            self.fields["other_emails"] = pl.lit(None, pl.List(pl.String))
            self.use({not_urn[0].column.name: not_urn[0].value.is_not_null()})
            return
        split = re.escape(separator) if separator else None
        addresses, consumed = _all(not_urn, split)
        self.fields["email"] = addresses.list.first()
        self.fields["other_emails"] = _none_if_empty(addresses.list.slice(1))
        self.use(consumed)

    def tags(self) -> None:
        offers = [Offer(c, c.expr, plain=True) for c in self.claimed.get("tags", [])]
        values, consumed = _all(offers, self.dialect.tag_split)
        self.fields["tags"] = _none_if_empty(values)
        self.use(consumed)

    def metadata(self, columns: Sequence[Column]) -> pl.Expr:
        members = []
        for column in columns:
            used = self.consumed.get(column.name, [])
            if any(u is ALWAYS for u in used):
                continue
            value = column.expr
            conditions = [u for u in used if u is not None]
            if conditions:
                value = pl.when(~pl.any_horizontal(conditions)).then(value)
            members.append((column.header, value))
        return json_object(members)


def build_mapping(
    dialect: Dialect,
    headers: Sequence[str],
    cells: pl.DataFrame,
    width: int,
    file_name: str,
    empty: frozenset[str] = frozenset(),
) -> Mapping:
    """Expressions for the raw fields of `dialect.kind`, over `cells`: the frame whose columns
    c0..c{width-1} are already trimmed (empty cells NULL). The cells are looked at only to
    choose the date formats of timestamp columns. The `empty` columns (all NULL) add nothing
    to metadata, so they are left out of it."""
    names = labels(headers, width)
    columns = [Column(column_name(i), names[i]) for i in range(width)]
    in_header = columns[: len(headers)]
    builder = _Builder(dialect, in_header, cells)
    for field_name in dialect.fields:
        if field_name in ("email", "other_emails") and dialect.kind == "contacts":
            if field_name == "email":
                builder.emails()
        elif field_name == "tags":
            builder.tags()
        else:
            builder.scalar(field_name)
    if dialect.kind == "contacts":
        detail = builder.fields.get("source_detail", pl.lit(None, pl.String))
        builder.fields["source_detail"] = pl.coalesce([detail, pl.lit(dialect.label)])
    claimed = {c.name for cs in builder.claimed.values() for c in cs}
    key = _key_column(dialect, in_header)
    if key is not None:
        builder.use({key.name: ALWAYS})
        claimed.add(key.name)
    return Mapping(
        fields=builder.fields,
        metadata=builder.metadata([c for c in columns if c.name not in empty]),
        source_key=_source_key(dialect, key, file_name),
        mapped={f: [c.header for c in cs] for f, cs in builder.claimed.items()},
        unknown=[c.header for c in in_header if c.name not in claimed],
    )


def _key_column(dialect: Dialect, columns: Sequence[Column]) -> Column | None:
    """The column holding the export's record id, if the dialect has one."""
    if not dialect.key_prefix:
        return None
    by_key = {c.key: c for c in reversed(columns)}  # the first of repeated headers wins
    return next((by_key[k] for k in dialect.key_columns if k in by_key), None)


def _source_key(dialect: Dialect, key: Column | None, file_name: str) -> pl.Expr:
    """ "<vendor>:<id>" when the row has an id, else "<file>:<row>"."""
    fallback = pl.format("{}:{}", pl.lit(file_name), pl.col("_row"))
    if key is None:
        return fallback
    return pl.coalesce([pl.format("{}:{}", pl.lit(dialect.key_prefix), key.expr), fallback])
