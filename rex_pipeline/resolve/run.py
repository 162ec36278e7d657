"""Resolve this run's clean batch against the identity map (the `resolve` stage).

Reads `batch_clean_*`, looks up only the batch's keys in `identity_keys`, and writes the
decisions as batch tables: `batch_assign_<entity>` (record → id, rule, score),
`batch_merges_<entity>` (winner, loser, rule, score) and `batch_keys_<entity>` (key → id).
Nothing durable changes here; publish applies the decisions in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import polars as pl

from rex_pipeline import batch
from rex_pipeline.config import Settings
from rex_pipeline.ids import new_ids
from rex_pipeline.resolve import keys as identity
from rex_pipeline.resolve.exact import Resolution, resolve_by_keys
from rex_pipeline.resolve.fuzzy_stage import link_companies, link_contacts

ENTITY_TABLE = {"contact": "contacts", "company": "companies"}


@dataclass
class ResolveStats:
    input_records: dict[str, int] = field(default_factory=dict)
    entities_touched: dict[str, int] = field(default_factory=dict)
    new_entities: dict[str, int] = field(default_factory=dict)
    merges: dict[str, int] = field(default_factory=dict)
    rules: dict[str, dict[str, int]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def lookup_keys(
    con: duckdb.DuckDBPyConnection, org_id: str, entity: str, keys: pl.DataFrame
) -> pl.DataFrame:
    """key, entity_id for the given keys that the identity map already knows."""
    wanted = keys.select("key").unique()
    con.register("__keys", wanted)
    try:
        return con.sql(
            "SELECT k.key, k.entity_id FROM identity_keys k JOIN __keys USING (key) "
            "WHERE k.org_id = ? AND k.entity = ?",
            params=[org_id, entity],
        ).pl()
    finally:
        con.unregister("__keys")


def created_of(
    con: duckdb.DuckDBPyConnection, org_id: str, entity: str, ids: pl.Series
) -> pl.DataFrame:
    table = ENTITY_TABLE[entity]
    frame = pl.DataFrame({"entity_id": ids.unique()})
    con.register("__ids", frame)
    try:
        return con.sql(
            f'SELECT t.id AS entity_id, t.created_at FROM "{table}" t '
            "JOIN __ids ON t.id = __ids.entity_id WHERE t.org_id = ?",
            params=[org_id],
        ).pl()
    finally:
        con.unregister("__ids")


def _record_order(frame: pl.DataFrame) -> pl.DataFrame:
    """Older records first: they mint ids and win fields under the "oldest" rule."""
    order = ["created_at", "source_system", "source_file", "source_row", "record_id"]
    return (
        frame.select(order)
        .sort(order, nulls_last=True)
        .with_row_index("record_order")
        .select("record_id", pl.col("record_order").cast(pl.Int64))
    )


def _resolve(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    entity: str,
    frame: pl.DataFrame,
    record_keys: pl.DataFrame,
) -> Resolution:
    existing = lookup_keys(con, settings.org_id, entity, record_keys)
    created = created_of(con, settings.org_id, entity, existing["entity_id"])
    keyed = record_keys.join(_record_order(frame), on="record_id")
    return resolve_by_keys(keyed, existing, created, entity)


def _write(con: duckdb.DuckDBPyConnection, entity: str, res: Resolution) -> None:
    batch.replace(con, f"batch_assign_{entity}", res.assignments)
    batch.replace(con, f"batch_merges_{entity}", res.merges)
    batch.replace(con, f"batch_keys_{entity}", res.keys)


def _stats(stats: ResolveStats, entity: str, frame: pl.DataFrame, res: Resolution) -> None:
    stats.input_records[entity] = frame.height
    stats.entities_touched[entity] = res.assignments["entity_id"].n_unique()
    stats.new_entities[entity] = res.new_entities
    stats.merges[entity] = res.merges.height
    stats.rules[entity] = dict(
        res.assignments.group_by("match_rule").len().sort("match_rule").iter_rows()
    )


def resolve_companies(
    con: duckdb.DuckDBPyConnection, settings: Settings, stats: ResolveStats, now: datetime
) -> None:
    companies = batch.table(con, "batch_clean_companies").with_columns(from_contact=pl.lit(False))
    contacts = batch.table(con, "batch_clean_contacts")
    derived = identity.company_records_from_contacts(contacts)
    frame = pl.concat([companies, derived], how="diagonal_relaxed")
    batch.replace(con, "batch_company_records", frame)
    names = frame.filter(pl.col("name_key").is_not_null()).select(
        key=pl.lit("name:") + pl.col("name_key")
    )
    claimed = lookup_keys(con, settings.org_id, "company", names)
    record_keys = identity.company_keys(frame, claimed)
    res = _resolve(con, settings, "company", frame, record_keys)
    _write(con, "company", res)
    stats.extra.update(link_companies(con, settings, now))
    res.assignments = batch.table(con, "batch_assign_company")
    res.merges = batch.table(con, "batch_merges_company")
    _stats(stats, "company", frame, res)


def resolve_contacts(
    con: duckdb.DuckDBPyConnection, settings: Settings, stats: ResolveStats, now: datetime
) -> None:
    contacts = batch.table(con, "batch_clean_contacts")
    res = _resolve(con, settings, "contact", contacts, identity.contact_keys(contacts))
    _write(con, "contact", res)
    stats.extra.update(link_contacts(con, settings, now))
    res.assignments = batch.table(con, "batch_assign_contact")
    res.merges = batch.table(con, "batch_merges_contact")
    _stats(stats, "contact", contacts, res)


def assign_natural_ids(
    con: duckdb.DuckDBPyConnection, settings: Settings, kind: str, table: str
) -> int:
    """Activities, deals and tasks: look up their natural key, mint an id when unseen.
    Returns the number of new ids."""
    frame = batch.table(con, f"batch_clean_{table}")
    record_keys = identity.natural_keys(frame, kind)
    existing = lookup_keys(con, settings.org_id, kind, record_keys)
    assigned = record_keys.join(existing, on="key", how="left")
    unseen = (
        assigned.filter(pl.col("entity_id").is_null()).select("key").unique(maintain_order=True)
    )
    minted = unseen.with_columns(new_id=pl.Series(new_ids(kind, unseen.height), dtype=pl.String))
    assigned = assigned.join(minted, on="key", how="left").select(
        "record_id",
        "key",
        entity_id=pl.coalesce("entity_id", "new_id"),
        match_rule=pl.when(pl.col("new_id").is_not_null())
        .then(pl.lit("new"))
        .otherwise(pl.lit("key")),
        match_score=pl.lit(1.0),
    )
    batch.replace(con, f"batch_assign_{kind}", assigned)
    return minted.height


def resolve_batch(
    con: duckdb.DuckDBPyConnection, settings: Settings, now: datetime
) -> ResolveStats:
    stats = ResolveStats()
    resolve_companies(con, settings, stats, now)
    resolve_contacts(con, settings, stats, now)
    review = pl.concat(
        [batch.table(con, f"batch_possible_duplicates_{e}") for e in ("company", "contact")],
        how="vertical_relaxed",
    )
    batch.replace(con, "batch_possible_duplicates", review)
    for kind, table in (("activity", "activities"), ("deal", "deals"), ("task", "tasks")):
        stats.new_entities[kind] = assign_natural_ids(con, settings, kind, table)
    return stats
