"""Which analyst decisions (`data/overrides.yaml`) the warehouse reflects, per org.

A sync applies the overrides while it links its new records. A decision about two contacts or
companies that no new record touches must take effect at the next sync all the same, with
nothing new in the inbox. So the digest of the decisions a sync applied is kept: when the
file's decisions differ from it, the fuzzy stage applies them to the entities they name
(`fuzzy_stage.link_contacts` / `link_companies`), and publish stores the new digest in the same
transaction as the merges they cause, so it never claims decisions that were not applied.
Comments and the order of entries do not count: only the decisions do.
"""

from __future__ import annotations

import hashlib
import json

import duckdb
import polars as pl

from rex_pipeline import batch
from rex_pipeline.resolve.fuzzy.overrides import Overrides

_DDL = """CREATE TABLE IF NOT EXISTS overrides_state (
    org_id VARCHAR PRIMARY KEY, digest VARCHAR NOT NULL)"""
_STAGED = "batch_overrides_digest"


def overrides_digest(overrides: Overrides) -> str:
    """The decisions as a digest: the same set of pairs, however written or ordered."""
    decisions = {
        kind: sorted(sorted(pair) for pair in pairs)
        for kind, pairs in (("must", overrides.must_merge), ("never", overrides.never_merge))
    }
    return hashlib.sha256(json.dumps(decisions).encode()).hexdigest()


def decisions_changed(con: duckdb.DuckDBPyConnection, org: str, overrides: Overrides) -> bool:
    """Whether `overrides` differ from the decisions last published for `org` (before any
    sync: whether there are any); if so the digest is staged for publish."""
    digest = overrides_digest(overrides)
    con.execute(_DDL)
    rows = con.execute("SELECT digest FROM overrides_state WHERE org_id = ?", [org]).fetchall()
    stored = str(rows[0][0]) if rows else overrides_digest(Overrides())
    if stored == digest:
        con.execute(f"DROP TABLE IF EXISTS {_STAGED}")  # left by a run that failed
        return False
    batch.replace(con, _STAGED, pl.DataFrame({"org_id": [org], "digest": [digest]}))
    return True


def apply_overrides_digest(con: duckdb.DuckDBPyConnection) -> bool:
    """Inside the publish transaction: remember the staged digest; True when there was one
    (the run applied changed decisions)."""
    if not batch.exists(con, _STAGED):
        return False
    con.execute(_DDL)
    con.execute(f"INSERT OR REPLACE INTO overrides_state SELECT org_id, digest FROM {_STAGED}")
    return True
