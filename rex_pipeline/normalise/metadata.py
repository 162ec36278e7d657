"""Adding keys to a record's metadata JSON without a per-row Python loop.

Metadata is a JSON object string whose keys differ per row (custom CRM fields), so it cannot
be decoded into one polars struct. New keys are JSON-encoded by polars and spliced in front of
the closing brace; a value that is NULL adds nothing. (If the source already had a key of the
same name, the added one comes later and wins for JSON readers such as DuckDB and `json`.)
"""

from __future__ import annotations

import polars as pl


def _member(key: str, value: pl.Expr) -> pl.Expr:
    """`"key":<json value>` for a non-NULL value (string, number or list), else NULL."""
    encoded = pl.struct(value.alias(key)).struct.json_encode()
    return pl.when(value.is_not_null()).then(encoded.str.slice(1, encoded.str.len_chars() - 2))


def _members(additions: dict[str, pl.Expr]) -> pl.Expr:
    """The members the non-NULL additions contribute, comma-separated; NULL when none."""
    members = pl.concat_str(
        [_member(k, v) for k, v in additions.items()], separator=",", ignore_nulls=True
    )
    return pl.when(members.str.len_chars() > 0).then(members)


def add_to_metadata(metadata: pl.Expr, additions: dict[str, pl.Expr]) -> pl.Expr:
    """`metadata` with each non-NULL addition set as a key; NULL or blank metadata becomes
    an object holding just the additions (or NULL when there are none)."""
    members = _members(additions)
    body = metadata.str.strip_chars()
    empty = body.is_null() | body.str.contains(r"^\{\s*\}$") | (body.str.len_chars() == 0)
    return (
        pl.when(members.is_null())
        .then(metadata)
        .when(empty)
        .then(pl.concat_str([pl.lit("{"), members, pl.lit("}")]))
        .otherwise(
            pl.concat_str(
                [
                    body.str.strip_suffix("}").str.strip_chars_end(),
                    pl.lit(","),
                    members,
                    pl.lit("}"),
                ]
            )
        )
    )


def with_additions(frame: pl.DataFrame, additions: dict[str, pl.Expr]) -> pl.Series:
    """`add_to_metadata` of the frame's `metadata` column, worked out only for the rows that
    gain a key: few records do, and rewriting every record's JSON costs far more than
    finding those few."""
    metadata = frame.get_column("metadata")
    if not additions:
        return metadata
    # a row gains a key exactly when one of the additions is not NULL (see `_member`): found
    # without JSON-encoding every row's additions
    gains = pl.any_horizontal([value.is_not_null() for value in additions.values()])
    rows = frame.select(gains).to_series().arg_true()
    if rows.is_empty():
        return metadata
    changed = frame[rows].select(add_to_metadata(pl.col("metadata"), additions)).to_series()
    return metadata.clone().scatter(rows, changed)
