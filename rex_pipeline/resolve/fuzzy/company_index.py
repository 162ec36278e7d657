"""The company profiles a sync linked, kept beside the warehouse: the next sync's starting point
and what `rex companies explain` scores.

A sync with companies in its batch links them against every company of the org (name, name
key, domain: a few columns each). It saves the profiles it linked, without the nodes it merged
away, so that the next sync reads again only the companies its own batch touches instead of
folding every staged company record (`fuzzy_stage.company_nodes`), and so that the query side
can score any two companies exactly as the sync did, with no access to the work database. A
winner of the sync's fuzzy merges is saved as it was linked, before its losers' records joined
it, and marked `stale`: the next sync profiles it again. One parquet file, replaced atomically,
carries its org, format and the sync's `loaded_at` in its key-value metadata, so a reader never
sees half of one save or mixes two.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from rex_pipeline.resolve.fuzzy.profiles import COMPANY_PROFILE, conform

#: Bumped whenever the saved profile changes shape or meaning: another version's file is
#: refused rather than trusted.
COMPANY_INDEX_FORMAT = 2  # 2: `stale` marks the profiles the next sync reads again

_FILE = "companies.parquet"
_SAVED = [name for name in COMPANY_PROFILE if name != "is_new"]  # every saved node exists


@dataclass(frozen=True)
class SavedCompanies:
    profiles: pl.DataFrame  # COMPANY_PROFILE, every node existing (`is_new` false)
    stale: pl.Series  # node ids whose saved profile predates the merges into them
    stamp: dict[str, str]  # org, format, synced_at


def company_stamp(org_id: str, synced_at: str | None) -> dict[str, str | None]:
    """The stamp of the profiles of `org_id`'s companies as staged at `synced_at` (the newest
    `loaded_at` of their records)."""
    return {"org": org_id, "format": str(COMPANY_INDEX_FORMAT), "synced_at": synced_at}


def save_company_index(
    folder: Path, profiles: pl.DataFrame, stale: pl.Series, org_id: str, synced_at: str
) -> None:
    """Write the org's company profiles (the nodes that survive the sync) to `folder`, the
    `stale` ones marked."""
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{_FILE}.partial"
    saved = conform(profiles, COMPANY_PROFILE).select(_SAVED)
    saved.with_columns(stale=pl.col("node_id").is_in(stale.implode())).write_parquet(
        partial, metadata=company_stamp(org_id, synced_at)
    )
    os.replace(partial, folder / _FILE)


def read_company_index(folder: Path) -> SavedCompanies | None:
    """The saved profiles with their stamp; None when no sync has saved any. Read in one go: a
    save meanwhile replaces the file, it never changes the one being read."""
    try:
        data = (folder / _FILE).read_bytes()
    except FileNotFoundError:
        return None
    metadata = pl.read_parquet_metadata(io.BytesIO(data))
    stamp = {key: metadata.get(key, "") for key in ("org", "format", "synced_at")}
    frame = pl.read_parquet(io.BytesIO(data)).with_columns(is_new=pl.lit(False))
    stale = frame.filter(pl.col("stale")) if "stale" in frame.columns else frame.clear()
    return SavedCompanies(conform(frame, COMPANY_PROFILE), stale["node_id"], stamp)
