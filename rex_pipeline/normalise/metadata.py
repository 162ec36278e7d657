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


def add_to_metadata(metadata: pl.Expr, additions: dict[str, pl.Expr]) -> pl.Expr:
    """`metadata` with each non-NULL addition set as a key; NULL or blank metadata becomes
    an object holding just the additions (or NULL when there are none)."""
    members = pl.concat_str(
        [_member(k, v) for k, v in additions.items()], separator=",", ignore_nulls=True
    )
    members = pl.when(members.str.len_chars() > 0).then(members)
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
