"""Exact-key resolution against the persistent identity map.

Each new record carries identity keys (`email:<canonical key>`, `linkedin:<url>`,
`src:<natural source id>`, `domain:<registrable domain>` …, always `rec:<record id>`). Records
that share a key, and the existing entities that already own one of those keys, form one
connected component = one entity:

* no existing entity in the component → a new TypeID is minted;
* one → the records join it;
* several → they merge: the oldest keeps its id, the others are recorded as merged losers.

Only the batch's keys are looked up, so the cost grows with the new data, not the warehouse.

The graph works on integer nodes numbered oldest record first, so each component's root (its
smallest node) is its oldest record: that record mints the component's id, and new ids are
minted in the order of the components' oldest records. The result is the same on every run.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from rex_pipeline.ids import new_ids
from rex_pipeline.resolve.graph import component_roots

# When a record is attached by several keys, the rule named is the strongest one.
KEY_PRIORITY = ("src", "email", "linkedin", "domain", "name", "rec")
# A key an existing entity owns outranks any key only batch records share.
_NOT_OWNED = len(KEY_PRIORITY)


@dataclass
class Resolution:
    assignments: pl.DataFrame  # record_id, entity_id, match_rule, match_score
    merges: pl.DataFrame  # winner_id, loser_id, rule, score
    keys: pl.DataFrame  # key, entity_id: every batch key and the entity that owns it now
    new_entities: int


def _rank(key: pl.Expr) -> pl.Expr:
    """Position of the key's type in KEY_PRIORITY (an unknown type is a bug: it raises)."""
    key_type = key.str.head(key.str.find(":", literal=True))
    return key_type.replace_strict(
        {k: i for i, k in enumerate(KEY_PRIORITY)}, return_dtype=pl.UInt8
    )


def _strongest(frame: pl.DataFrame, by: str, score: pl.Expr) -> pl.DataFrame:
    """`by`, rule: the type of the best-scoring (smallest) key of each `by`; scores are
    `rank + k * _NOT_OWNED`, so the type is the score's remainder."""
    return (
        frame.group_by(by)
        .agg(score.min().alias("score"))
        .select(
            by,
            rule=(pl.col("score") % _NOT_OWNED).replace_strict(
                dict(enumerate(KEY_PRIORITY)), return_dtype=pl.String
            ),
        )
    )


def resolve_by_keys(
    records: pl.DataFrame,
    record_keys: pl.DataFrame,
    existing_keys: pl.DataFrame,
    existing_created: pl.DataFrame,
    entity: str,
) -> Resolution:
    """Resolve a batch.

    records: record_id, record_order (smaller = older record; the oldest of a new entity mints
      its id), one row per record.
    record_keys: record_id, key.
    existing_keys: key, entity_id — the identity-map rows for the batch's keys.
    existing_created: entity_id, created_at — age of those entities (oldest wins).
    """
    # nodes: records oldest first (0 … n-1), then the shared keys, then the existing entities
    nodes = (
        records.select("record_id", "record_order")
        .sort(["record_order", "record_id"])
        .with_row_index("node")
        .select("node", "record_id")
    )
    n_records = nodes.height
    rk = record_keys.select("record_id", "key").join(nodes, on="record_id").select("node", "key")
    ek = existing_keys.select("key", "entity_id").unique()
    # each key once, with the records that hold it (each once) and how many existing entities
    # own it: one pass over the keys (their strings are the costly part) groups them
    by_key = (
        rk.group_by("key")
        .agg(pl.col("node").unique())
        .join(ek.group_by("key").agg(owners=pl.len()), on="key", how="left")
        .with_columns(pl.col("owners").fill_null(0))
    )
    # a key shared by two or more members (records or existing entities) links them; keys
    # seen once link nothing, so they stay out of the graph
    is_shared = pl.col("node").list.len() + pl.col("owners") > 1
    shared = (
        by_key.filter(is_shared)
        .with_row_index("key_node", offset=n_records)
        .with_columns(owned=pl.col("owners") > 0, rank=_rank(pl.col("key")))
    )
    record_edges = shared.select("node", "key_node", "owned", "rank").explode("node")
    owners = ek.join(shared.select("key", "key_node", "rank"), on="key")
    entity_nodes = (
        owners.select("entity_id")
        .unique()
        .sort("entity_id")
        .with_row_index("entity_node", offset=n_records + shared.height)
    )
    owners = owners.join(entity_nodes, on="entity_id")
    roots = pl.Series(
        component_roots(
            pl.concat([record_edges["node"], owners["entity_node"]]).to_numpy(),
            pl.concat([record_edges["key_node"], owners["key_node"]]).to_numpy(),
            n_records + shared.height + entity_nodes.height,
        ),
        dtype=pl.UInt32,
    )
    nodes = nodes.with_columns(root=roots.head(n_records))

    # winner per component: the oldest existing entity, else a new id minted by the component's
    # oldest record (its root), in the order of those records
    existing = (
        entity_nodes.with_columns(root=roots.gather(entity_nodes["entity_node"]))
        .filter(pl.col("root") < n_records)  # components without batch records stay as they are
        .join(existing_created.select("entity_id", "created_at"), on="entity_id", how="left")
    )
    winners = (
        existing.sort(["root", "created_at", "entity_id"], nulls_last=True)
        .group_by("root", maintain_order=True)
        .agg(winner_id=pl.col("entity_id").first())
    )
    unclaimed = (
        nodes.filter(pl.col("node") == pl.col("root"))
        .select("root")
        .join(winners, on="root", how="anti")
        .sort("root")
    )
    minted = unclaimed.with_columns(
        winner_id=pl.Series(new_ids(entity, unclaimed.height), dtype=pl.String)
    )
    components = pl.concat([winners, minted])

    # each component's id at the position of its root, a record (every key is held by one):
    # looked up by position for every record and key, not joined on the root
    winner_of = pl.repeat(None, n_records, dtype=pl.String, eager=True).scatter(
        components["root"], components["winner_id"]
    )

    # a key an existing entity owns first, then the strongest type
    owned_first = pl.col("rank") + pl.when(pl.col("owned")).then(0).otherwise(_NOT_OWNED)
    record_rule = _strongest(record_edges, "node", owned_first)
    assignments = (
        nodes.with_columns(winner_id=winner_of.gather(nodes["root"]))
        .join(record_rule, on="node", how="left")
        .sort("node")
        .select(
            "record_id",
            entity_id="winner_id",
            match_rule=pl.when(pl.col("node").is_in(minted["root"].implode()))
            .then(pl.lit("new"))
            .otherwise(pl.col("rule").fill_null("new")),
            match_score=pl.lit(1.0),
        )
    )

    # losers: the other existing entities of a component, with the key type that linked them
    loser_rule = _strongest(owners, "entity_id", pl.col("rank"))
    merges = (
        existing.join(winners, on="root")
        .filter(pl.col("entity_id") != pl.col("winner_id"))
        .join(loser_rule, on="entity_id", how="left")
        .sort(["winner_id", "entity_id"])
        .select(
            "winner_id",
            loser_id="entity_id",
            rule=pl.col("rule").fill_null("email"),
            score=pl.lit(1.0),
        )
    )
    seen_once = by_key.filter(~is_shared).select("key", node=pl.col("node").list.first())
    key_roots = pl.concat(
        [
            shared.select("key", root=roots.gather(shared["key_node"])),
            seen_once.select("key", root=roots.gather(seen_once["node"])),
        ]
    )
    keys = key_roots.select("key", entity_id=winner_of.gather(key_roots["root"]))
    return Resolution(assignments, merges, keys, minted.height)
