"""Apply a per-value library call once per *distinct* value and broadcast the result back.

Exports repeat the same company, domain or phone thousands of times, and the libraries we trust
(email-validator, phonenumbers, nameparser, cleanco, tldextract) work on one value at a time, so
every normaliser funnels its library calls through here: cost scales with distinct values, not
rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

_KEY = "__unique_key"


def map_unique(values: pl.Series, fn: Callable[[str], Any], dtype: pl.DataType) -> pl.Series:
    """`fn` applied to each distinct non-null value; NULL stays NULL. Same length and order."""
    distinct = values.drop_nulls().unique().to_list()
    mapping = {value: fn(value) for value in distinct}
    return replace_from(values, mapping, dtype)


def replace_from(values: pl.Series, mapping: Mapping[Any, Any], dtype: pl.DataType) -> pl.Series:
    """Look each value up in `mapping` (missing or NULL -> NULL), keeping the series name."""
    if not mapping:
        return pl.Series(values.name, [None] * len(values), dtype=dtype)
    keys = pl.Series(_KEY, list(mapping.keys()), dtype=values.dtype)
    table = pl.DataFrame([keys, pl.Series("v", list(mapping.values()), dtype=dtype)])
    joined = values.alias(_KEY).to_frame().join(table, on=_KEY, how="left", maintain_order="left")
    return joined["v"].alias(values.name)


def join_unique(values: pl.Series, table: pl.DataFrame, key: str) -> pl.DataFrame:
    """Broadcast a per-distinct-value `table` (one row per `key`) back to `values`' rows,
    in order; the key column itself is dropped."""
    joined = values.alias(key).to_frame().join(table, on=key, how="left", maintain_order="left")
    return joined.drop(key)


def by_distinct(
    values: pl.Series, fn: Callable[[pl.Series], pl.Series | pl.DataFrame]
) -> pl.Series | pl.DataFrame:
    """`fn` (a vectorised function of a series) computed on the distinct values only and
    broadcast back: string work on 200k distinct company names beats the same on 1M rows."""
    distinct = values.unique()
    result = fn(distinct)
    table = result.to_frame() if isinstance(result, pl.Series) else result
    table = table.with_columns(distinct.alias(_KEY))
    joined = (
        values.alias(_KEY)
        .to_frame()
        .join(table, on=_KEY, how="left", maintain_order="left", nulls_equal=True)
    )
    out = joined.drop(_KEY)
    return out.to_series() if isinstance(result, pl.Series) else out
