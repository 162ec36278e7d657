"""The company profiles a sync linked, kept beside the warehouse for `rex companies explain`.

Companies need no incremental index: a sync with companies in its batch profiles every company
of the org anyway (name, name key, domain: a few columns). Saving those profiles, without the
nodes the sync merged away, lets the query side score any two companies exactly as the sync
did, with no access to the work database. One parquet file, replaced atomically, carries its
org, format and the sync's `loaded_at` in its key-value metadata, so a reader never sees half
of one save or mixes two.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import polars as pl

from rex_pipeline.resolve.fuzzy.profiles import COMPANY_PROFILE, conform

#: Bumped whenever the saved profile changes shape or meaning: another version's file is
#: refused rather than trusted.
COMPANY_INDEX_FORMAT = 1

_FILE = "companies.parquet"
_SAVED = [name for name in COMPANY_PROFILE if name != "is_new"]  # every saved node exists


def save_company_index(folder: Path, profiles: pl.DataFrame, org_id: str, synced_at: str) -> None:
    """Write the org's company profiles (the nodes that survive the sync) to `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{_FILE}.partial"
    stamp = {"org": org_id, "format": str(COMPANY_INDEX_FORMAT), "synced_at": synced_at}
    conform(profiles, COMPANY_PROFILE).select(_SAVED).write_parquet(partial, metadata=stamp)
    os.replace(partial, folder / _FILE)


def read_company_index(folder: Path) -> tuple[pl.DataFrame, dict[str, str]] | None:
    """The saved profiles (every node existing: `is_new` false) and their stamp (org, format,
    synced_at); None when no sync has saved any. Read in one go: a save meanwhile replaces the
    file, it never changes the one being read."""
    try:
        data = (folder / _FILE).read_bytes()
    except FileNotFoundError:
        return None
    metadata = pl.read_parquet_metadata(io.BytesIO(data))
    stamp = {key: metadata.get(key, "") for key in ("org", "format", "synced_at")}
    profiles = pl.read_parquet(io.BytesIO(data)).with_columns(is_new=pl.lit(False))
    return conform(profiles, COMPANY_PROFILE), stamp
