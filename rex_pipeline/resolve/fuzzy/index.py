"""A reusable index of the warehouse's existing contact nodes: their matching features and
block keys, computed once.

An incremental run then computes features only for its new (or touched) nodes and looks them
up in the index, so its cost follows the new data instead of re-reading every existing
profile. Build the index after a run (from the published profiles), keep it next to the
warehouse with `save`, `load` it at the next run, and rebuild it from time to time: name
frequencies and shared lines of the index are those of the day it was built.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from rex_pipeline.resolve.fuzzy.contacts import contact_block_keys
from rex_pipeline.resolve.fuzzy.features import ContactFeatures, contact_features

_FRAMES = ("nodes", "emails", "phones")


@dataclass(frozen=True)
class ContactIndex:
    features: ContactFeatures
    keys: pl.DataFrame  # block keys of the indexed nodes (KEY_COLUMNS)
    size: int  # idx values of the index are below this

    def save(self, directory: str | Path) -> None:
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        for name in _FRAMES:
            getattr(self.features, name).write_parquet(folder / f"{name}.parquet")
        self.keys.write_parquet(folder / "keys.parquet")
        self.features.shared.to_frame("phone").write_parquet(folder / "shared.parquet")
        meta = {"size": self.size, "population": self.features.population}
        (folder / "index.json").write_text(json.dumps(meta), encoding="utf-8")


def build_contact_index(profiles: pl.DataFrame) -> ContactIndex:
    """Index existing contact nodes (their `is_new` is ignored: indexed nodes are existing)."""
    existing = profiles.with_columns(is_new=pl.lit(False))
    features = contact_features(existing)
    return ContactIndex(features=features, keys=contact_block_keys(features), size=existing.height)


def load_contact_index(directory: str | Path) -> ContactIndex:
    folder = Path(directory)
    meta = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    frames = {name: pl.read_parquet(folder / f"{name}.parquet") for name in _FRAMES}
    features = ContactFeatures(
        **frames,
        population=meta["population"],
        shared=pl.read_parquet(folder / "shared.parquet")["phone"],
    )
    return ContactIndex(
        features=features, keys=pl.read_parquet(folder / "keys.parquet"), size=meta["size"]
    )


def refresh_contact_index(index: ContactIndex, profiles: pl.DataFrame) -> ContactIndex:
    """The index with the given existing nodes added, or replaced by their newer profiles
    (name frequencies of the other nodes stay those of the day they were indexed)."""
    if profiles.is_empty():
        return index
    existing = profiles.with_columns(is_new=pl.lit(False))
    base = index.features.without(existing["node_id"])
    fresh = contact_features(existing, offset=index.size, population=base)
    replaced = index.features.nodes.filter(pl.col("node_id").is_in(existing["node_id"].implode()))
    kept = index.keys.filter(~pl.col("idx").is_in(replaced["idx"].implode()))
    return ContactIndex(
        features=base.plus(fresh),
        keys=pl.concat([kept, contact_block_keys(fresh)]),
        size=index.size + existing.height,
    )
