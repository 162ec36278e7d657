"""The entities the warehouse already holds, as resolution looks them up: by id, in the
canonical table of their kind."""

from __future__ import annotations

import duckdb
import polars as pl

from rex_pipeline.handover import registered

ENTITY_TABLE = {"contact": "contacts", "company": "companies"}


def created_of(
    con: duckdb.DuckDBPyConnection, org_id: str, entity: str, ids: pl.Series
) -> pl.DataFrame:
    """entity_id, created_at of those of `ids` the warehouse holds (the others are new)."""
    table = ENTITY_TABLE[entity]
    frame = pl.DataFrame({"entity_id": ids.unique()})
    with registered(con, "__ids", frame):
        return con.sql(
            f'SELECT t.id AS entity_id, t.created_at FROM "{table}" t '
            "JOIN __ids ON t.id = __ids.entity_id WHERE t.org_id = ?",
            params=[org_id],
        ).pl()
