"""A reusable index of the warehouse's existing contact nodes: their matching features and
block keys, computed once.

An incremental run then computes features only for its new (or touched) nodes and looks them
up in the index, so its cost follows the new data instead of re-reading every existing
profile. Build the index after a run (from the published profiles), keep it next to the
warehouse with `save`, `load` it at the next run, and rebuild it from time to time: name
frequencies and shared lines of the index are those of the day it was built. The nodes per
spelling of each name (`ContactFeatures.spellings`) are saved too and kept up to date through
a run, so no step counts every name of the warehouse again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from rex_pipeline.resolve.fuzzy.contacts import Candidates, contact_block_keys, contact_candidates
from rex_pipeline.resolve.fuzzy.features import ContactFeatures, contact_features
from rex_pipeline.resolve.fuzzy.spelling import SpellingCounts

_FRAMES = ("nodes", "emails", "phones", "keys")

#: Bumped whenever features or block keys change shape or meaning: an index saved by another
#: version is rebuilt rather than trusted.
INDEX_FORMAT = 4  # 4: an initial no longer names a node whose records spell the name out

#: A saved index is a base part plus delta parts; once the deltas hold more than this share
#: of the base's nodes, the next save rewrites it whole (compaction).
COMPACT_SHARE = 0.25

_NO_IDX = pl.Series("idx", [], dtype=pl.UInt32)


@dataclass(frozen=True)
class ContactIndex:
    features: ContactFeatures
    keys: pl.DataFrame  # block keys of the indexed nodes (KEY_COLUMNS), stale idx included
    size: int  # idx values of the index are below this
    saved_size: int = 0  # idx below this are in the folder it was loaded from
    #: idx replaced since then; their rows stay in the frames until saved, marked
    #: `features.stale`, so a run never copies the whole index to replace a few nodes
    dropped: pl.Series = field(default_factory=lambda: _NO_IDX)

    def save(self, directory: str | Path) -> None:
        """Write the index so that the cost follows what changed since it was loaded: a delta
        part with the nodes added and the idx dropped since, or (first save, foreign folder,
        or deltas grown past COMPACT_SHARE of the base) the whole index as a new base."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        meta = _read_meta(folder)
        fits = meta is not None and meta["size"] == self.saved_size and self.saved_size > 0
        grown = fits and (meta["delta_nodes"] + self.size - self.saved_size) > (
            COMPACT_SHARE * meta["base_nodes"]
        )
        if not fits or grown:
            for old in folder.glob("part-*.parquet"):
                old.unlink()
            self._write_part(folder, 0, lower=0, dropped=_NO_IDX)
            meta = {"parts": 1, "base_nodes": self.features.live_nodes, "delta_nodes": 0}
        else:
            assert meta is not None
            self._write_part(folder, meta["parts"], lower=self.saved_size, dropped=self.dropped)
            meta = {**meta, "parts": meta["parts"] + 1}
            meta["delta_nodes"] += self.size - self.saved_size
        self.features.shared.to_frame("phone").write_parquet(folder / "shared.parquet")
        spellings = self.features.spellings  # carried through the run: no recount
        pl.concat(
            [
                spellings.first.with_columns(kind=pl.lit("first")),
                spellings.last.with_columns(kind=pl.lit("last")),
            ]
        ).write_parquet(folder / "spellings.parquet")
        meta |= {"size": self.size, "population": self.features.population}
        meta["spellings_size"] = self.size  # the spellings belong to this save only
        (folder / "index.json").write_text(json.dumps(meta), encoding="utf-8")

    def _write_part(self, folder: Path, part: int, lower: int, dropped: pl.Series) -> None:
        frames = {**{n: getattr(self.features, n) for n in _FRAMES[:3]}, "keys": self.keys}
        for name, frame in frames.items():
            added = frame.filter(pl.col("idx") >= lower) if lower else frame
            self.features.live(added).write_parquet(folder / f"part-{part}-{name}.parquet")
        dropped.to_frame("idx").write_parquet(folder / f"part-{part}-dropped.parquet")


def index_folder(warehouse: Path) -> Path:
    """Where the contact index of the warehouse file `warehouse` is kept: beside it (with
    the company profiles of `company_index`)."""
    return warehouse.with_name(f".{warehouse.stem}.fuzzy-index")


def read_stamp(folder: Path) -> dict[str, Any] | None:
    """What a run wrote the index for (org, newest `loaded_at`, INDEX_FORMAT); None while a
    save is under way (it removes the stamp first) or when there is no index."""
    try:
        return json.loads((folder / "stamp.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _read_meta(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / "index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def build_contact_index(profiles: pl.DataFrame) -> ContactIndex:
    """Index existing contact nodes (their `is_new` is ignored: indexed nodes are existing)."""
    existing = profiles.with_columns(is_new=pl.lit(False))
    features = contact_features(existing)
    return ContactIndex(features=features, keys=contact_block_keys(features), size=existing.height)


def load_contact_index(directory: str | Path) -> ContactIndex:
    folder = Path(directory)
    meta = _read_meta(folder)
    if meta is None:
        raise FileNotFoundError(f"no contact index in {folder}")
    parts = range(meta["parts"])
    dropped = pl.read_parquet([folder / f"part-{i}-dropped.parquet" for i in parts])["idx"]
    # one scan per frame over all parts, the dropped rows filtered as they are read
    frames = {name: _scan_live(folder, name, parts, dropped) for name in _FRAMES}
    keys = frames.pop("keys")
    features = ContactFeatures(
        **frames,
        population=meta["population"],
        shared=pl.read_parquet(folder / "shared.parquet")["phone"],
        counts=_saved_spellings(folder, meta),
    )
    return ContactIndex(features=features, keys=keys, size=meta["size"], saved_size=meta["size"])


def _scan_live(folder: Path, name: str, parts: range, dropped: pl.Series) -> pl.DataFrame:
    """One frame of the saved parts, without the rows of `dropped` idx (no filter to run when
    nothing was dropped: a compacted index)."""
    scan = pl.scan_parquet([folder / f"part-{i}-{name}.parquet" for i in parts])
    if not dropped.is_empty():
        scan = scan.filter(~pl.col("idx").is_in(dropped.implode()))
    return scan.collect()


def _saved_spellings(folder: Path, meta: dict[str, Any]) -> SpellingCounts | None:
    """The name counts saved with the index, if written by the save that wrote `meta` (else
    they are counted from the nodes when needed)."""
    if meta.get("spellings_size") != meta["size"]:
        return None
    try:
        saved = pl.read_parquet(folder / "spellings.parquet")
    except OSError:
        return None
    kinds = {kind: saved.filter(pl.col("kind") == kind).drop("kind") for kind in ("first", "last")}
    return SpellingCounts(**kinds)


def refresh_contact_index(index: ContactIndex, profiles: pl.DataFrame) -> ContactIndex:
    """The index with the given existing nodes added, or replaced by their newer profiles
    (name frequencies of the other nodes stay those of the day they were indexed)."""
    if profiles.is_empty():
        return index
    existing = profiles.with_columns(is_new=pl.lit(False))
    return grow_contact_index(index, contact_candidates(existing, index), existing.height)


def grow_contact_index(index: ContactIndex, found: Candidates, added: int) -> ContactIndex:
    """The index holding what `contact_candidates(profiles, index)` found (`added` profiles):
    the features a run computed to link its nodes are the ones it saves for the next run."""
    # `found` holds the index's frames (stale rows included) with the profiles' rows after
    # them: those are existing already, so only the profiles' rows are marked, and the
    # index's frames are chained to them, not copied
    old_nodes, old_keys = index.features.nodes.height, index.keys.height
    nodes = pl.concat(
        [
            found.features.nodes.slice(0, old_nodes),
            _existing(found.features.nodes.slice(old_nodes)),
        ],
        rechunk=False,
    )
    keys = pl.concat([index.keys, _existing(found.keys.slice(old_keys))], rechunk=False)
    return ContactIndex(
        features=replace(found.features, nodes=nodes),
        keys=keys,
        size=index.size + added,
        saved_size=index.saved_size,
        dropped=pl.concat([index.dropped, found.replaced.cast(pl.UInt32)]),
    )


def _existing(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with every row marked existing (`is_new` false), in one chunk per column."""
    return frame.with_columns(is_new=pl.lit(False)).rechunk()


def forget_contacts(index: ContactIndex, node_ids: pl.Series) -> ContactIndex:
    """The index without the given nodes (merged away: they are no one's partner any more);
    their rows stay in the frames as `features.stale` (no copy of the index)."""
    features = index.features.without(node_ids)
    gone = features.stale.slice(index.features.stale.len())  # what `without` appended
    if gone.is_empty():
        return index
    return ContactIndex(
        features=features,
        keys=index.keys,
        size=index.size,
        saved_size=index.saved_size,
        dropped=pl.concat([index.dropped, gone.cast(pl.UInt32)]),
    )
