"""`parse_csv_file`: one CSV export in, raw staged records of its kind out.

decode (encoding) -> layout (preamble, header, delimiter, footer) -> dialect (vendor and entity
kind, by header) -> read (polars, all String) -> map (alias table, polars expressions) -> split
usable records from rejected ones.

Row numbers: `source_row` is the 1-based position of the record among the records after the
header row. Preamble and footer lines are not counted; a blank line or an all-empty row inside
the data *is* counted (spreadsheets show it as a row) and ends as a REJECTED "blank row".
Trailing blank lines at the end of the file are not records. In a UTF-8 file with corrupt bytes
(see `decode`), the rows holding them are rejected rather than loaded with U+FFFD in place of
what the bytes meant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from rex_pipeline import records
from rex_pipeline.records import UnreadableFileError
from rex_pipeline.sources.csv.decode import decode_bytes
from rex_pipeline.sources.csv.layout import Layout, find_layout
from rex_pipeline.sources.csv.mapping import (
    build_mapping,
    json_object,
    labels,
)
from rex_pipeline.sources.csv.reader import column_name, read_records
from rex_pipeline.sources.csv.rejects import reject_reason

SOURCE_SYSTEM = "csv"
INVALID_UTF8 = "invalid UTF-8: the row holds bytes that are not text (shown as U+FFFD in raw)"
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
_OUTPUT = {
    "contacts": records.RAW_CONTACT,
    "companies": records.RAW_COMPANY,
    "activities": records.RAW_ACTIVITY,
    "deals": records.RAW_DEAL,
    "tasks": records.RAW_TASK,
}


def parse_csv_file(path: Path, org_id: str) -> records.ParsedFile:
    """Parse one CSV export into raw staged records plus rejected rows and per-file stats.

    Raises UnreadableFileError when the file cannot be read at all (missing, empty, binary, or
    no header row we recognise)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UnreadableFileError(f"cannot open file: {exc.strerror or exc}") from exc
    decoded = decode_bytes(data)
    layout = find_layout(decoded.text)
    read = read_records(layout.body, layout.delimiter, len(layout.header))
    parsed = _map(
        read.frame, layout, Path(path).name, org_id, read.empty, corrupt=decoded.replaced > 0
    )
    parsed.stats.update(
        {
            "encoding": decoded.encoding,
            "invalid_utf8_sequences": decoded.replaced,
            "delimiter": _DELIMITER_NAMES.get(layout.delimiter, layout.delimiter),
            "reader": read.reader,
            "preamble_lines_skipped": layout.preamble_lines,
            "footer_lines_skipped": layout.footer_lines,
        }
    )
    return parsed


def _map(
    frame: pl.DataFrame,
    layout: Layout,
    file_name: str,
    org_id: str,
    empty: frozenset[str] = frozenset(),
    corrupt: bool = False,
) -> records.ParsedFile:
    """The records of `frame` mapped to the dialect's raw fields; `empty` names the columns
    without a value in any record (they become NULL and get no per-cell work)."""
    dialect = layout.dialect
    width = frame.width - 1  # the cells; the last column is the field count
    names = labels(layout.header, width)
    filled = [(column_name(i), names[i]) for i in range(width) if column_name(i) not in empty]
    cells = [pl.col(name) for name, _ in filled]
    raw = json_object([(label, pl.when(pl.col(n) != "").then(pl.col(n))) for n, label in filled])
    trimmed = [c.str.strip_chars().replace("", None) for c in cells]  # cheaper than when/then
    frame = (
        frame.with_row_index("_row", offset=1)
        .with_columns(pl.col("_row").cast(pl.Int64), _raw=raw)
        .with_columns(*trimmed, *(pl.lit(None, pl.String).alias(n) for n in sorted(empty)))
    )
    mapping = build_mapping(dialect, layout.header, frame, width, file_name, empty)
    reason = reject_reason(dialect.kind, layout.header, names, width, empty)
    if corrupt and cells:
        replaced = pl.concat_str(cells, ignore_nulls=True).str.contains("\ufffd", literal=True)
        reason = pl.when(replaced).then(pl.lit(INVALID_UTF8)).otherwise(reason)
    frame = (
        frame.with_columns(**mapping.fields)
        .with_columns(
            _reason=reason,
            metadata=mapping.metadata,
            source_key=mapping.source_key,
            org_id=pl.lit(org_id),
            source_system=pl.lit(SOURCE_SYSTEM),
            source_file=pl.lit(file_name),
        )
        .rename({"_row": "source_row", "_raw": "raw"})
    )
    if dialect.kind == "activities":
        frame = frame.with_columns(source=pl.lit(SOURCE_SYSTEM), external_id=pl.col("source_key"))
    usable = frame.filter(pl.col("_reason").is_null())
    rejected = frame.filter(pl.col("_reason").is_not_null()).rename({"_reason": "reason"})
    stats: dict[str, Any] = {
        "dialect": dialect.name,
        "entity": dialect.kind,
        "rows_read": frame.height,
        "rows_rejected": rejected.height,
        "rows_with_wrong_field_count": frame.filter(
            pl.col("_reason").str.starts_with("wrong field count")
        ).height,
        "unknown_columns": mapping.unknown,
        "mapped_columns": mapping.mapped,
    }
    schema = _OUTPUT[dialect.kind]
    return records.ParsedFile(
        **{dialect.kind: records.conform(usable, schema)},
        rejected=records.conform(rejected, records.REJECTED),
        stats=stats,
    )
