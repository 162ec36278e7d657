"""Read the records of a CSV body into a frame of String columns, with each record's field count.

polars' reader is the fast path, but it silently pads short rows and truncates long ones, so the
field count of every record is worked out separately — vectorised, from quote parity and
delimiter counts over the lines — to reject rows with a wrong number of fields instead of
mis-mapping them. Files polars cannot read (a stray quote in an unquoted field), or whose record
boundaries it sees differently, go through Python's more lenient `csv` module: slower, but only
for broken files. There a quote that opens a value and never closes would swallow the rest of
the file into one field; its line becomes a record of its own (field count UNCLOSED, rejected)
and reading resumes on the next line, so the records after it still load.
"""

from __future__ import annotations

import csv
import io
import sys
from dataclasses import dataclass

import polars as pl

from rex_pipeline.records import UnreadableFileError

# polars reads values of any size, so the lenient path must too: the csv module refuses fields
# over 128 KiB by default (a 50 MB notes cell in a broken file would fail the whole file).
csv.field_size_limit(sys.maxsize)

FIELDS = "_fields"  # number of fields the record had (0 for an empty line)
UNCLOSED = -1  # FIELDS of a line whose quoted value never closes
_NEVER = "\x1f"  # unit separator: not in text exports


@dataclass(frozen=True)
class Records:
    frame: pl.DataFrame  # columns c0..c{width-1} (String) and FIELDS (Int64), one row per record
    reader: str  # "polars" or "python csv (...why...)"
    empty: frozenset[str] = frozenset()  # the columns without a value in any record


def empty_columns(frame: pl.DataFrame) -> frozenset[str]:
    """The cell columns in which every cell is NULL or "". A HubSpot all-properties export has
    180+ columns of which a dozen hold anything: the per-cell work (trimming, JSON, field
    counts) skips the others, so its cost follows the filled columns, not the export's width."""
    cells = [n for n in frame.columns if n != FIELDS]
    if not cells:
        return frozenset()
    longest = frame.select(pl.col(cells).str.len_bytes().max().fill_null(0)).row(0)
    return frozenset(n for n, length in zip(cells, longest, strict=True) if length == 0)


def column_name(index: int) -> str:
    """Positional column name: headers can repeat or be empty, positions cannot."""
    return f"c{index}"


def _lines(data: bytes, body: str) -> pl.Series:
    """The physical lines of `body` ("" for empty ones), split by polars' parallel reader."""
    # The fast splitter relies on this byte never occurring, and polars drops a leading BOM
    # (a second export pasted below the first): Python splits those.
    if _NEVER in body or body.startswith("\ufeff"):
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
    A line starts a new record when the quotes before it are balanced; when every line's
    quotes are, each line is a record and the grouping is skipped."""
    line, quotes = pl.col("line"), pl.col("quotes")
    counted = pl.DataFrame({"line": lines}).select(
        quotes=line.str.count_matches('"', literal=True),
        delimiters=line.str.count_matches(delimiter, literal=True),
        empty=line == "",
    )
    if counted.select((quotes % 2 == 0).all()).item():  # no line break inside a value
        return counted.select(
            pl.int_range(1, pl.len() + 1, dtype=pl.UInt32).alias("record"),
            "delimiters",
            "empty",
            "quotes",
        )
    return (
        counted.lazy()
        .with_columns(record=((quotes.cum_sum() - quotes) % 2 == 0).cum_sum())
        .group_by("record", maintain_order=True)
        .agg(pl.col("delimiters").sum(), pl.col("empty").all(), pl.col("quotes").sum())
        .collect()
    )


def _broken(lines: list[str], delimiter: str, last: bool) -> bool:
    """Whether the record read from `lines` is a quote gone wrong rather than a value with line
    breaks: it runs to the end of the file (a line appended to it would be swallowed too), or
    it spans lines and the csv module's strict mode refuses it (`"P3 ... P"6`)."""
    text = "\n".join(lines)
    if last:
        probe = csv.reader(io.StringIO(text + "\nx"), delimiter=delimiter, strict=False)
        if sum(1 for _ in probe) == 1:
            return True
    if len(lines) < 2:
        return False
    try:
        for _ in csv.reader(io.StringIO(text), delimiter=delimiter, strict=True):
            pass
    except csv.Error:
        return True
    return False


def _python_rows(body: str, delimiter: str) -> tuple[list[list[str]], list[int]]:
    """Rows and field counts by the csv module. A broken quote costs only its own line: that
    line becomes a row with field count UNCLOSED and reading resumes on the next one."""
    lines = body.split("\n")
    rows: list[list[str]] = []
    counts: list[int] = []
    start = 0
    while start < len(lines):
        rest = (lines[i] + "\n" for i in range(start, len(lines)))  # no copy per restart
        reader = csv.reader(rest, delimiter=delimiter, strict=False)
        first = start  # the line the next row starts on
        broken = None
        for row in reader:
            end = start + reader.line_num
            if _broken(lines[first:end], delimiter, last=end >= len(lines)):
                broken = first
                break
            rows.append(row)
            counts.append(len(row))
            first = end
        if broken is None:
            return rows, counts
        rows.append(next(csv.reader([lines[broken]], delimiter=delimiter, strict=False)))
        counts.append(UNCLOSED)
        start = broken + 1
    return rows, counts


def read_with_python_csv(body: str, delimiter: str, n_columns: int, why: str) -> Records:
    """The lenient path: Python's csv module, for files polars cannot split (a stray quote)."""
    try:
        rows, counts = _python_rows(body, delimiter)
    except csv.Error as exc:  # nothing left that reads this file
        raise UnreadableFileError(f"not readable as CSV: {exc}") from exc
    width = max([n_columns, *map(len, rows)])
    columns = {
        column_name(i): [row[i] if i < len(row) and row[i] != "" else None for row in rows]
        for i in range(width)
    }
    frame = pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String)).with_columns(
        pl.Series(FIELDS, counts, dtype=pl.Int64)
    )
    return Records(frame, f"python csv ({why})", empty_columns(frame))


def read_records(body: str, delimiter: str, n_columns: int) -> Records:
    """All records of `body` (the text after the header row) as String columns.

    The frame is at least `n_columns` wide; wider when some record has more fields, so the
    extra values are kept for the rejected row instead of being cut off. A record's field count
    is the delimiters on its lines, less those inside its (quoted) values, plus one."""
    body = body.removesuffix("\n")
    if body == "":
        names = [column_name(i) for i in range(n_columns)]
        schema = {**dict.fromkeys(names, pl.String), FIELDS: pl.Int64}
        return Records(pl.DataFrame(schema=schema), "polars", frozenset(names))
    data = body.encode("utf-8")
    shapes = _record_shapes(_lines(data, body), delimiter)
    if shapes.get_column("quotes").sum() % 2:
        return read_with_python_csv(body, delimiter, n_columns, "odd number of quotes")
    width = max(n_columns, int(shapes.get_column("delimiters").max() or 0) + 1)
    names = [column_name(i) for i in range(width)]
    try:
        frame = pl.read_csv(  # the schema sets the width: no header row glued to a copy
            data,
            has_header=False,
            schema=dict.fromkeys(names, pl.String),
            missing_columns="insert",
            separator=delimiter,
            quote_char='"',
            truncate_ragged_lines=True,
        )
    except pl.exceptions.PolarsError as exc:
        return read_with_python_csv(body, delimiter, n_columns, f"polars: {str(exc)[:80]}")
    if frame.height != shapes.height:
        why = f"polars saw {frame.height} records, quote parity {shapes.height}"
        return read_with_python_csv(body, delimiter, n_columns, why)
    empty = empty_columns(frame)
    in_values = [
        pl.col(n).str.count_matches(delimiter, literal=True).fill_null(0)
        for n in names
        if n not in empty
    ]
    quoted = pl.sum_horizontal(in_values) if in_values else pl.lit(0)
    fields = (
        pl.when(shapes.get_column("empty"))
        .then(0)
        .otherwise(shapes.get_column("delimiters") - quoted + 1)
        .cast(pl.Int64)
        .alias(FIELDS)
    )
    frame = frame.with_columns(fields)
    used = max(n_columns, int(frame.get_column(FIELDS).max() or 0))
    return Records(frame.select(*names[:used], FIELDS), "polars", empty & set(names[:used]))
