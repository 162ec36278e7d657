"""Normalise this run's raw batch into clean staged records.

Runs the normalisers (rex_pipeline.normalise) over every raw entity table of the batch, gives
every record its stable `record_id`, drops the org's own mailboxes from the contacts (they are
never contacts: rejected with that reason), and writes `batch_clean_*` plus the rejections.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import polars as pl

from rex_pipeline import batch, records
from rex_pipeline.config import Settings
from rex_pipeline.ingest import RAW_SCHEMAS

CLEAN_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "contacts": records.CLEAN_CONTACT,
    "companies": records.CLEAN_COMPANY,
    "activities": records.CLEAN_ACTIVITY,
    "deals": records.CLEAN_DEAL,
    "tasks": records.CLEAN_TASK,
}


@dataclass
class NormaliseStats:
    read: dict[str, int] = field(default_factory=dict)
    clean: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)


def _normalisers() -> dict[str, Callable[..., tuple[pl.DataFrame, pl.DataFrame]]]:
    from rex_pipeline import normalise

    return {
        "contacts": normalise.normalise_contacts,
        "companies": normalise.normalise_companies,
        "activities": normalise.normalise_activities,
        "deals": normalise.normalise_deals,
        "tasks": normalise.normalise_tasks,
    }


def own_addresses(con: duckdb.DuckDBPyConnection, settings: Settings) -> tuple[set[str], set[str]]:
    """(own addresses, own domains): config entries with an @ are addresses, others domains;
    plus the sending mailboxes exports showed us (persisted and this batch's)."""
    addresses = {d for d in settings.own_domains if "@" in d}
    domains = {d for d in settings.own_domains if "@" not in d}
    addresses |= {
        r[0]
        for r in con.execute(
            "SELECT address FROM own_addresses WHERE org_id = ?", [settings.org_id]
        ).fetchall()
    }
    if batch.exists(con, "batch_own_addresses"):
        addresses |= {
            r[0] for r in con.execute("SELECT address FROM batch_own_addresses").fetchall()
        }
    return {a.lower() for a in addresses}, domains


def _with_record_id(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> pl.DataFrame:
    """A stable id per input record: md5 of its lineage (same file + row + key = same id)."""
    con.register("__clean", frame)
    try:
        return con.sql(
            "SELECT md5(concat_ws('|', org_id, source_system, source_file, "
            "coalesce(CAST(source_row AS VARCHAR), ''), coalesce(source_key, ''))) AS record_id, "
            "* FROM __clean"
        ).pl()
    finally:
        con.unregister("__clean")


def _split_own(
    contacts: pl.DataFrame, raw: pl.DataFrame, addresses: set[str], domains: set[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    email = pl.col("email").str.to_lowercase()
    is_own = email.is_in(list(addresses)) | email.str.split("@").list.last().is_in(list(domains))
    own = contacts.filter(is_own.fill_null(False))
    kept = contacts.filter(~is_own.fill_null(False)).with_columns(
        pl.col("other_emails").list.eval(
            pl.element().filter(
                ~pl.element().str.to_lowercase().is_in(list(addresses))
                & ~pl.element().str.split("@").list.last().str.to_lowercase().is_in(list(domains))
            )
        )
    )
    rejected = (
        own.join(raw.select("record_id", "raw"), on="record_id", how="left").select(
            "org_id",
            "source_system",
            "source_file",
            "source_row",
            "raw",
            reason=pl.lit("the org's own address: never a contact"),
        )
        if own.height
        else records.empty(records.REJECTED)
    )
    return kept, rejected


def normalise_batch(con: duckdb.DuckDBPyConnection, settings: Settings) -> NormaliseStats:
    stats = NormaliseStats()
    rejected: list[pl.DataFrame] = []
    addresses, domains = own_addresses(con, settings)
    for entity, normalise in _normalisers().items():
        raw = batch.read_or_empty(con, f"batch_raw_{entity}", RAW_SCHEMAS[entity])
        raw = raw.filter(pl.col("org_id") == settings.org_id)
        stats.read[entity] = raw.height
        clean, bad = normalise(raw.drop("file_sha", strict=False), settings)
        clean = records.conform(clean, CLEAN_SCHEMAS[entity])
        # file_sha travels with the record (same lineage columns on both sides)
        keys = ["source_system", "source_file", "source_row", "source_key"]
        clean = clean.join(
            raw.select([*keys, "file_sha"]).unique(keys), on=keys, how="left", nulls_equal=True
        )
        clean = _with_record_id(con, clean)
        if entity == "contacts":
            raw_ids = _with_record_id(con, raw.select([*LINEAGE_COLS]))
            clean, own = _split_own(clean, raw_ids, addresses, domains)
            bad = pl.concat([records.conform(bad, records.REJECTED), own])
        stats.clean[entity] = clean.height
        stats.rejected[entity] = bad.height
        rejected.append(records.conform(bad, records.REJECTED))
        batch.replace(con, f"batch_clean_{entity}", clean)
    batch.replace(con, "batch_rejected_normalise", pl.concat(rejected))
    return stats


LINEAGE_COLS = tuple(records.LINEAGE)
