"""Read the records of a CSV body into a frame of String columns, with each record's field count.

polars' reader is the fast path, but it silently pads short rows and truncates long ones, so the
field count of every record is worked out separately — vectorised, from quote parity and
delimiter counts over the lines — to reject rows with a wrong number of fields instead of
mis-mapping them. Files polars cannot read (a stray quote in an unquoted field), or whose record
boundaries it sees differently, go through Python's more lenient `csv` module: slower, but only
for broken files.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import polars as pl

FIELDS = "_fields"  # number of fields the record had (0 for an empty line)
_NEVER = "\x1f"  # unit separator: not in text exports


@dataclass(frozen=True)
class Records:
    frame: pl.DataFrame  # columns c0..c{width-1} (String) and FIELDS (Int64), one row per record
    reader: str  # "polars" or "python csv (...why...)"


def column_name(index: int) -> str:
    """Positional column name: headers can repeat or be empty, positions cannot."""
    return f"c{index}"


def _lines(data: bytes, body: str) -> pl.Series:
    """The physical lines of `body` ("" for empty ones), split by polars' parallel reader."""
    if _NEVER in body:  # the fast splitter relies on this byte never occurring
        return pl.Series("line", body.split("\n"))
    return (
        pl.read_csv(
            data,
            has_header=False,
            separator=_NEVER,
            quote_char=None,
            infer_schema=False,
            new_columns=["line"],
            raise_if_empty=False,
        )
        .get_column("line")
        .fill_null("")
    )


def _record_shapes(lines: pl.Series, delimiter: str) -> pl.DataFrame:
    """Per record: delimiters on its lines (quoted ones included) and whether it is empty.
    A line starts a new record when the quotes before it are balanced."""
    line, quotes = pl.col("line"), pl.col("quotes")
    return (
        pl.DataFrame({"line": lines})
        .lazy()
        .with_columns(
            quotes=line.str.count_matches('"', literal=True),
            delimiters=line.str.count_matches(delimiter, literal=True),
            empty=line == "",
        )
        .with_columns(record=((quotes.cum_sum() - quotes) % 2 == 0).cum_sum())
        .group_by("record", maintain_order=True)
        .agg(pl.col("delimiters").sum(), pl.col("empty").all())
        .collect()
    )


def read_with_python_csv(body: str, delimiter: str, n_columns: int, why: str) -> Records:
    """The lenient path: Python's csv module, for files polars cannot split (a stray quote)."""
    rows = list(csv.reader(io.StringIO(body), delimiter=delimiter, strict=False))
    width = max([n_columns, *map(len, rows)])
    columns = {
        column_name(i): [row[i] if i < len(row) and row[i] != "" else None for row in rows]
        for i in range(width)
    }
    frame = pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String)).with_columns(
        pl.Series(FIELDS, [len(row) for row in rows], dtype=pl.Int64)
    )
    return Records(frame, f"python csv ({why})")


def read_records(body: str, delimiter: str, n_columns: int) -> Records:
    """All records of `body` (the text after the header row) as String columns.

    The frame is at least `n_columns` wide; wider when some record has more fields, so the
    extra values are kept for the rejected row instead of being cut off. A record's field count
    is the delimiters on its lines, less those inside its (quoted) values, plus one."""
    body = body.removesuffix("\n")
    if body == "":
        names = [column_name(i) for i in range(n_columns)]
        schema = {**dict.fromkeys(names, pl.String), FIELDS: pl.Int64}
        return Records(pl.DataFrame(schema=schema), "polars")
    data = body.encode("utf-8")
    shapes = _record_shapes(_lines(data, body), delimiter)
    width = max(n_columns, int(shapes.get_column("delimiters").max() or 0) + 1)
    names = [column_name(i) for i in range(width)]
    try:
        frame = pl.read_csv(
            delimiter.join(names).encode("utf-8") + b"\n" + data,
            separator=delimiter,
            quote_char='"',
            infer_schema=False,
            truncate_ragged_lines=True,
        )
    except pl.exceptions.PolarsError as exc:
        return read_with_python_csv(body, delimiter, n_columns, f"polars: {str(exc)[:80]}")
    if frame.height != shapes.height:
        why = f"polars saw {frame.height} records, quote parity {shapes.height}"
        return read_with_python_csv(body, delimiter, n_columns, why)
    quoted = pl.sum_horizontal(
        pl.col(n).str.count_matches(delimiter, literal=True).fill_null(0) for n in names
    )
    fields = (
        pl.when(shapes.get_column("empty"))
        .then(0)
        .otherwise(shapes.get_column("delimiters") - quoted + 1)
        .cast(pl.Int64)
        .alias(FIELDS)
    )
    frame = frame.with_columns(fields)
    used = max(n_columns, int(frame.get_column(FIELDS).max() or 0))
    return Records(frame.select(*names[:used], FIELDS), "polars")
