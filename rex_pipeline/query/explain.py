"""Why two contacts are one contact, or two: a sync's own evidence for any pair.

Every sync leaves the matching features and block keys of the org's contacts in the contact
index beside the warehouse (`resolve.fuzzy.index`). Scoring a pair from it gives the levels,
weights, name frequencies and population a sync would use now, whether or not blocking ever
put the two side by side, so an analyst can ask about a pair the review queue never showed.
Blocking says whether a sync compares them at all: they must share a block key whose block is
within its size limit (and, as syncs link new records, one of them must gain a record). The
verdict is the pair's own: clustering can still keep a merge-grade pair apart (a conflict with
a third record of the cluster) and `data/overrides.yaml` has the last word.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from rex_pipeline.config import ResolutionSettings
from rex_pipeline.query import detail
from rex_pipeline.query.connection import Scope
from rex_pipeline.query.errors import NotFound, WarehouseUnavailable
from rex_pipeline.query.resources import CONTACTS_R
from rex_pipeline.resolve.fuzzy.compare import CONTACT_COMPARISONS, score_pairs
from rex_pipeline.resolve.fuzzy.contacts import NAME_BLOCK_CAPS
from rex_pipeline.resolve.fuzzy.index import (
    INDEX_FORMAT,
    ContactIndex,
    index_folder,
    load_contact_index,
    read_stamp,
)
from rex_pipeline.resolve.fuzzy.model import explanation, reasons


def explain_contacts(
    conn: duckdb.DuckDBPyConnection,
    scope: Scope,
    warehouse: Path,
    resolution: ResolutionSettings,
    id_a: str,
    id_b: str,
) -> dict[str, Any]:
    """The evidence for contacts `id_a` and `id_b` (merged-away ids stand for their winners):
    decision, score, reasons and per field level, weight and similarity, plus whether blocking
    pairs them; or, when both are one contact, the merges that made it so."""
    a, note_a = detail.resolve(conn, scope, CONTACTS_R, id_a)
    b, note_b = detail.resolve(conn, scope, CONTACTS_R, id_b)
    answer: dict[str, Any] = {"contacts": [a["id"], b["id"]], "requested": [id_a, id_b]}
    if a["id"] == b["id"]:
        merges = [note for note in (note_a, note_b) if note is not None]
        return {**answer, "same_contact": True, "decision": "one contact", "merges": merges}
    index, stamp = _index(warehouse, scope.org_id)
    idx = _index_rows(index, [a["id"], b["id"]])
    pair = pl.DataFrame({"a": [idx[0]], "b": [idx[1]]}, schema={"a": pl.UInt32, "b": pl.UInt32})
    row = (
        score_pairs(index.features, pair)
        .with_columns(reasons(CONTACT_COMPARISONS))
        .row(0, named=True)
    )
    merge_at, review_at = resolution.merge_threshold, resolution.review_threshold
    return {
        **answer,
        "same_contact": False,
        **explanation(row, CONTACT_COMPARISONS, merge_at, review_at),
        "blocking": _blocking(index, idx, resolution.max_block_size),
        "thresholds": {"merge": merge_at, "review": review_at},
        "index": {"contacts": index.features.live_nodes, "synced_at": stamp["loaded_at"]},
    }


def _index(warehouse: Path, org_id: str) -> tuple[ContactIndex, dict[str, Any]]:
    """The contact index beside `warehouse`, if a sync of `org_id` wrote it with this version,
    read whole (a sync saving it meanwhile removes and rewrites its stamp)."""
    folder = index_folder(warehouse)
    stamp = read_stamp(folder)
    if stamp is None:
        raise WarehouseUnavailable(
            f"no contact index beside {warehouse}: it is written by a sync with fuzzy matching "
            "on (resolution.fuzzy), or a sync is writing it now"
        )
    if stamp.get("org") != org_id:
        raise WarehouseUnavailable(
            f"the contact index beside {warehouse} is org {stamp.get('org')!r}'s (the last "
            f"sync's): sync org {org_id!r} to explain its contacts"
        )
    if stamp.get("format") != INDEX_FORMAT:
        raise WarehouseUnavailable(
            "the contact index was written by another version of rex_pipeline: the next sync "
            "rewrites it"
        )
    try:
        index = load_contact_index(folder)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise WarehouseUnavailable(f"the contact index could not be read ({exc}): retry") from exc
    if read_stamp(folder) != stamp:
        raise WarehouseUnavailable("a sync rewrote the contact index while it was read: retry")
    return index, stamp


def _index_rows(index: ContactIndex, contact_ids: list[str]) -> list[int]:
    """Each contact's row in the index (a contact the last sync did not index is not found:
    the index is written before the sync publishes, so a failed publish leaves it ahead)."""
    rows = index.features.nodes.filter(pl.col("node_id").is_in(contact_ids))
    found = dict(zip(rows["node_id"], rows["idx"], strict=True))
    missing = [c for c in contact_ids if c not in found]
    if missing:
        raise NotFound(
            f"contact {missing[0]} is not in the contact index of the last sync: run a sync"
        )
    return [found[c] for c in contact_ids]


def _blocking(index: ContactIndex, idx: list[int], max_block_size: int) -> dict[str, Any]:
    """The block keys the two share, each with its size and limit; `compared` when one of the
    blocks is small enough to be used (a larger one is a common name or word, not a person)."""
    keys = index.keys
    mine = keys.filter(pl.col("idx").is_in(idx))
    shared = mine.group_by("rule", "key").agg(pl.col("idx").n_unique()).filter(pl.col("idx") == 2)
    sizes = (
        keys.join(shared.select("key"), on="key", how="semi")
        .group_by("key")
        .agg(nodes=pl.col("idx").n_unique())
    )
    blocks = []
    for rule, nodes in shared.join(sizes, on="key").sort("rule").select("rule", "nodes").rows():
        limit = min(max_block_size, NAME_BLOCK_CAPS.get(rule, max_block_size))
        blocks.append({"rule": rule, "nodes": nodes, "limit": limit, "used": nodes <= limit})
    return {"compared": any(b["used"] for b in blocks), "shared_blocks": blocks}
