"""Read a few fields out of the JSON `metadata` column, fast.

Only rows that mention one of the wanted keys are parsed, in one pass (`json_decode` into a
struct of just those keys). A row that is not a flat JSON object where it matters (invalid
JSON, a nested value under a wanted key) makes that fast pass fail; the slower per-key JSON
path is then used instead, so bad metadata gives NULLs, never an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

_ROW = "_row"


def _blank_to_null(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars().replace("", None)


def _decode(candidates: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    struct = pl.Struct({key: pl.String for key in keys})
    try:
        return candidates.select(_ROW, pl.col("m").str.json_decode(struct).alias("s")).unnest("s")
    except pl.exceptions.PolarsError:
        return candidates.select(_ROW, *[_scalar_at(key) for key in keys])


def _scalar_at(key: str) -> pl.Expr:
    """The value under `key` when it is a scalar (objects and lists are not attributes)."""
    value = pl.col("m").str.json_path_match(f"$['{key}']")
    nested = value.str.starts_with("{") | value.str.starts_with("[")
    return pl.when(nested).then(None).otherwise(value).alias(key)


def metadata_fields(metadata: pl.Series, fields: Mapping[str, Sequence[str]]) -> pl.DataFrame:
    """One String column per field (same row order as `metadata`): the first non-blank value
    among the field's keys, in the given order of preference; NULL when none is there."""
    keys = list(dict.fromkeys(key for field_keys in fields.values() for key in field_keys))
    frame = metadata.cast(pl.String).rename("m").to_frame().with_row_index(_ROW)
    candidates = frame.filter(pl.col("m").str.contains_any([f'"{key}"' for key in keys]))
    values = _decode(candidates, keys).select(
        _ROW,
        *[
            pl.coalesce([_blank_to_null(pl.col(key)) for key in field_keys]).alias(name)
            for name, field_keys in fields.items()
        ],
    )
    return frame.select(_ROW).join(values, on=_ROW, how="left", maintain_order="left").drop(_ROW)
