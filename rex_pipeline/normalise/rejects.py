"""Turning records that cannot be used into `records.REJECTED` rows, with the original fields."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from rex_pipeline import records

_LINEAGE = tuple(records.LINEAGE)


def original_fields(schema: Mapping[str, pl.DataType]) -> pl.Expr:
    """The record's `raw` JSON, or, when a parser left it empty, the staged fields as JSON."""
    fields = [name for name in schema if name not in _LINEAGE]
    return pl.coalesce(pl.col("raw"), pl.struct(fields).struct.json_encode())


def rejected_rows(
    frame: pl.DataFrame, reason: str, schema: Mapping[str, pl.DataType]
) -> pl.DataFrame:
    """REJECTED rows for the rows of `frame` whose `reason` column is set. `frame` holds the
    raw staged columns of `schema`, as the parser gave them, plus the `reason` column."""
    rejected = frame.filter(pl.col(reason).is_not_null()).select(
        *[c for c in records.REJECTED if c not in ("raw", "reason")],
        original_fields(schema).alias("raw"),
        pl.col(reason).alias("reason"),
    )
    return records.conform(rejected, records.REJECTED)
