"""Blocking: which pairs are worth comparing at all.

Each blocking rule gives every node zero or more *block keys*; two nodes become a candidate
pair when they share a key. Blocks larger than `max_block_size` nodes are dropped whole: a key
that many nodes share (a placeholder slipped through, "john|smith" in a huge warehouse) says
little and would cost quadratically. Only pairs with at least one *new* node are produced, so
an incremental run costs in proportion to its new data, not to the warehouse.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

#: Columns of a block-key frame: idx (node row), is_new, rule (name), key (64-bit hash).
KEY_COLUMNS = ("idx", "is_new", "rule", "key")


def block_keys(nodes: pl.DataFrame, rule: str, *parts: pl.Expr) -> pl.DataFrame:
    """Block keys of one rule: the values `parts` evaluated on `nodes` (which must carry idx,
    is_new), hashed together with the rule name; a NULL part gives no key. Each (node, key)
    must appear once. Hashes join much faster than strings; a collision only adds a pair."""
    values = [part.alias(f"p{i}") for i, part in enumerate(parts)]
    return (
        nodes.select("idx", "is_new", *values)
        .drop_nulls([f"p{i}" for i in range(len(parts))])
        .select(
            "idx",
            "is_new",
            rule=pl.lit(rule),
            key=pl.struct(pl.lit(rule), *(pl.col(f"p{i}") for i in range(len(parts)))).hash(0),
        )
    )


def candidate_pairs(
    keys: pl.DataFrame, max_block_size: int, caps: Mapping[str, int] | None = None
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Pairs (a < b, integer idx) of nodes sharing a block key, with `rule_mask`: a bit per
    rule that proposed the pair (bit i = the i-th of `rule_names(keys)`; decode with
    `rules_of`). Also counts for reporting: blocks used, blocks dropped as too large. `caps`
    lowers the block size limit of some rules."""
    names = rule_names(keys)
    # only blocks holding a new node matter: on an incremental run that is a small share
    if not keys["is_new"].all():
        touched = keys.filter(pl.col("is_new")).select("key").unique()
        keys = keys.join(touched, on="key", how="semi")
    bits = {name: 1 << i for i, name in enumerate(names)}
    keys = keys.select(
        "idx",
        "is_new",
        "key",
        bit=pl.col("rule").replace_strict(bits, return_dtype=pl.UInt32),
        limit=pl.col("rule").replace_strict(
            {name: min(max_block_size, (caps or {}).get(name, max_block_size)) for name in names},
            return_dtype=pl.UInt32,
        ),
    )
    sizes = keys.group_by("key").agg(n=pl.len(), limit=pl.col("limit").first())
    usable = sizes.filter(pl.col("n") >= 2)
    kept = usable.filter(pl.col("n") <= pl.col("limit"))
    stats = {"blocks": kept.height, "blocks_too_large": usable.height - kept.height}
    in_blocks = keys.join(kept.select("key"), on="key", how="semi")
    new_side = in_blocks.filter(pl.col("is_new")).select("key", "bit", a="idx")
    pairs = (
        new_side.join(in_blocks.select("key", b="idx", b_new="is_new"), on="key")
        .filter(pl.col("a") != pl.col("b"))
        # a pair of two new nodes is found from both sides: keep one
        .filter(~pl.col("b_new") | (pl.col("a") < pl.col("b")))
        .select(
            pl.min_horizontal("a", "b").alias("a"), pl.max_horizontal("a", "b").alias("b"), "bit"
        )
        .group_by("a", "b")
        .agg(rule_mask=pl.col("bit").bitwise_or())
        .sort("a", "b")
    )
    stats["pairs"] = pairs.height
    return pairs, stats


def rule_names(keys: pl.DataFrame) -> list[str]:
    """The rules of a block-key frame in bit order."""
    return sorted(keys["rule"].unique().to_list())


def rules_of(mask: pl.Expr, names: list[str]) -> pl.Expr:
    """The sorted rule names of a `rule_mask`."""
    return pl.concat_list(
        [pl.when((mask & (1 << i)) > 0).then(pl.lit(name)) for i, name in enumerate(names)]
    ).list.drop_nulls()
