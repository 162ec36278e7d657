"""Exact-key resolution against the persistent identity map.

Each new record carries identity keys (`email:<canonical key>`, `linkedin:<url>`,
`src:<natural source id>`, `domain:<registrable domain>` …, always `rec:<record id>`). Records
that share a key, and the existing entities that already own one of those keys, form one
connected component = one entity:

* no existing entity in the component → a new TypeID is minted;
* one → the records join it;
* several → they merge: the oldest keeps its id, the others are recorded as merged losers.

Only the batch's keys are looked up, so the cost grows with the new data, not the warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from rex_pipeline.ids import new_ids
from rex_pipeline.resolve.graph import connected_components

# When a record is attached by several keys, the rule named is the strongest one.
KEY_PRIORITY = ("src", "email", "linkedin", "domain", "name", "rec")


@dataclass
class Resolution:
    assignments: pl.DataFrame  # record_id, entity_id, match_rule, match_score
    merges: pl.DataFrame  # winner_id, loser_id, rule, score
    keys: pl.DataFrame  # key, entity_id: every batch key and the entity that owns it now
    new_entities: int


def _key_type(col: str = "key") -> pl.Expr:
    return pl.col(col).str.split_exact(":", 1).struct.field("field_0")


def _rank(col: str) -> pl.Expr:
    return pl.col(col).replace_strict(
        {k: i for i, k in enumerate(KEY_PRIORITY)}, default=len(KEY_PRIORITY), return_dtype=pl.Int32
    )


def resolve_by_keys(
    record_keys: pl.DataFrame,
    existing_keys: pl.DataFrame,
    existing_created: pl.DataFrame,
    entity: str,
) -> Resolution:
    """Resolve a batch.

    record_keys: record_id, key, record_order (smaller = older record; mints the id).
    existing_keys: key, entity_id — the identity-map rows for the batch's keys.
    existing_created: entity_id, created_at — age of those entities (oldest wins).
    """
    rk = record_keys.select("record_id", "key", "record_order").unique(["record_id", "key"])
    ek = existing_keys.select("key", "entity_id").unique()
    # a key shared by two or more members (records or existing entities) links them; keys
    # seen once link nothing, so they stay out of the graph
    key_members = pl.concat(
        [
            rk.select("key", member="record_id"),
            ek.select("key", member=pl.lit("id:") + pl.col("entity_id")),
        ]
    )
    shared = key_members.group_by("key").agg(pl.len().alias("n")).filter(pl.col("n") > 1)
    edges = key_members.join(shared, on="key", how="semi").select(a="member", b="key")
    comp = connected_components(edges)
    records = (
        rk.select("record_id", "record_order")
        .unique("record_id")
        .join(comp, left_on="record_id", right_on="node", how="left")
    )
    # records that share no key are components of their own
    offset = (comp["component"].max() or 0) + 1 if comp.height else 0
    records = records.with_columns(
        component=pl.coalesce(
            "component",
            (pl.col("component").is_null().cum_sum() + offset - 1).cast(pl.UInt32),
        )
    )
    existing = (
        ek.join(comp, left_on="key", right_on="node")
        .join(existing_created, on="entity_id", how="left")
        .select("component", "entity_id", "created_at")
        .unique()
    )
    # winner per component: the oldest existing entity, else a new id
    ranked = existing.sort(["component", "created_at", "entity_id"], nulls_last=True)
    winners = ranked.group_by("component", maintain_order=True).agg(
        pl.col("entity_id").first().alias("winner_id")
    )
    components = records.select("component").unique().join(winners, on="component", how="left")
    missing = components.filter(pl.col("winner_id").is_null())
    minted = missing.with_columns(
        winner_id=pl.Series(new_ids(entity, missing.height), dtype=pl.String)
    )
    components = pl.concat([components.filter(pl.col("winner_id").is_not_null()), minted])

    matched_on = ek.select("key").unique().with_columns(hits_existing=pl.lit(True))
    record_rule = (
        rk.join(shared.select("key"), on="key", how="semi")
        .join(matched_on, on="key", how="left")
        .with_columns(key_type=_key_type(), hits=pl.col("hits_existing").fill_null(False))
        .with_columns(rank=_rank("key_type"))
        .sort(["record_id", "hits", "rank"], descending=[False, True, False])
        .group_by("record_id", maintain_order=True)
        .agg(pl.col("key_type").first().alias("rule"))
    )
    firsts = (
        records.join(minted.select("component"), on="component", how="semi")
        .sort(["component", "record_order", "record_id"])
        .group_by("component", maintain_order=True)
        .agg(pl.col("record_id").first().alias("minter"))
    )
    assignments = (
        records.join(components, on="component")
        .join(record_rule, on="record_id", how="left")
        .join(firsts, left_on="record_id", right_on="minter", how="left", coalesce=False)
        .select(
            "record_id",
            entity_id="winner_id",
            match_rule=pl.when(pl.col("minter").is_not_null())
            .then(pl.lit("new"))
            .otherwise(pl.col("rule").fill_null("new")),
            match_score=pl.lit(1.0),
        )
    )

    # losers: the other existing entities of a component, with the key type that linked them
    loser_rule = (
        ek.join(shared.select("key"), on="key", how="semi")
        .with_columns(key_type=_key_type())
        .with_columns(rank=_rank("key_type"))
        .sort(["entity_id", "rank"])
        .group_by("entity_id", maintain_order=True)
        .agg(pl.col("key_type").first().alias("rule"))
    )
    merges = (
        existing.join(components, on="component")
        .filter(pl.col("entity_id") != pl.col("winner_id"))
        .join(loser_rule, on="entity_id", how="left")
        .select(
            "winner_id",
            loser_id="entity_id",
            rule=pl.col("rule").fill_null("email"),
            score=pl.lit(1.0),
        )
    )
    keys = (
        pl.concat(
            [
                rk.select("key", "record_id")
                .join(records, on="record_id")
                .select("key", "component"),
                ek.join(comp, left_on="key", right_on="node").select("key", "component"),
            ]
        )
        .unique()
        .join(components, on="component")
        .select("key", entity_id="winner_id")
        .unique("key")
    )
    return Resolution(assignments, merges, keys, missing.height)
