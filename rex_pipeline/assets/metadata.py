"""Helpers that turn run results into Dagster metadata (markdown previews, tables, schemas)."""

from __future__ import annotations

from typing import Any

import dagster as dg
import polars as pl

from rex_pipeline.schema import Table

# Rows a markdown preview shows: what the assets read of a batch table to show it.
PREVIEW_ROWS = 10


def markdown_table(
    frame: pl.DataFrame, rows: int = PREVIEW_ROWS, max_chars: int = 40
) -> dg.MetadataValue:
    """A markdown preview of the first rows (long strings cut, lists and JSON shown as text)."""
    if frame.is_empty():
        return dg.MetadataValue.md("_no rows_")
    head = frame.head(rows)
    preview = head.with_columns(
        pl.Series(c, [None if v is None else str(v)[:max_chars] for v in head[c].to_list()])
        for c in head.columns
    )
    with pl.Config(
        tbl_formatting="MARKDOWN",
        tbl_hide_column_data_types=True,
        tbl_hide_dataframe_shape=True,
        tbl_rows=rows,
        tbl_cols=-1,
        fmt_str_lengths=max_chars + 3,
        tbl_width_chars=10_000,
    ):
        return dg.MetadataValue.md(str(preview))


def counts_table(
    counts: dict[str, Any], key: str = "key", value: str = "count"
) -> dg.MetadataValue:
    """A small two-column markdown table from a dict."""
    if not counts:
        return dg.MetadataValue.md("_none_")
    lines = [f"| {key} | {value} |", "|---|---:|"]
    lines += [f"| {k} | {v} |" for k, v in counts.items()]
    return dg.MetadataValue.md("\n".join(lines))


def column_schema(table: Table) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(c.name, c.type.replace(" NOT NULL", ""), description=c.comment)
            for c in table.columns
        ]
    )
