"""Why two contacts (or two companies) are one, or two: a sync's own evidence for any pair.

Every sync leaves the matching features and block keys of the org's contacts in the contact
index beside the warehouse (`resolve.fuzzy.index`), and the profiles of its companies beside
it (`resolve.fuzzy.company_index`). Scoring a pair from them gives the levels, weights, name
frequencies and population a sync would use now, whether or not blocking ever put the two side
by side, so an analyst can ask about a pair the review queue never showed. Blocking says
whether a sync compares them at all: they must share a block key whose block is within its
size limit (and, as syncs link new records, one of them must gain a record). The verdict is the
pair's own: clustering can still keep a merge-grade pair apart (a conflict with a third record
of the cluster) and `data/overrides.yaml` has the last word.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from rex_pipeline.config import ResolutionSettings
from rex_pipeline.query import detail
from rex_pipeline.query.connection import Scope
from rex_pipeline.query.errors import NotFound, WarehouseUnavailable
from rex_pipeline.query.resources import COMPANIES_R, CONTACTS_R, Resource
from rex_pipeline.resolve.fuzzy.companies import (
    AMBIGUOUS,
    COMPANY_COMPARISONS,
    COMPANY_PRIOR_WEIGHT,
    company_block_keys,
    company_features,
    company_pairs,
    score_company_pairs,
)
from rex_pipeline.resolve.fuzzy.company_index import COMPANY_INDEX_FORMAT, read_company_index
from rex_pipeline.resolve.fuzzy.compare import score_pairs
from rex_pipeline.resolve.fuzzy.contact_weights import (
    CONTACT_COMPARISONS,
    prior_weight,
    scale_bits,
)
from rex_pipeline.resolve.fuzzy.contacts import NAME_BLOCK_CAPS
from rex_pipeline.resolve.fuzzy.index import (
    INDEX_FORMAT,
    ContactIndex,
    index_folder,
    load_contact_index,
    read_stamp,
)
from rex_pipeline.resolve.fuzzy.model import Comparison, explanation, reasons


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
    answer = _pair(conn, scope, CONTACTS_R, id_a, id_b)
    if answer["same"]:
        return answer
    index, stamp = _contact_index(warehouse, scope.org_id)
    idx = _index_rows(index.features.nodes, answer["ids"], "contact")
    scored = score_pairs(index.features, _pair_frame(idx))
    population = scale_bits(index.features.population)
    return {
        **_judged(answer, scored, CONTACT_COMPARISONS, resolution),
        "prior": {"bits": prior_weight(population), "population_bits": population},
        "blocking": _blocking(index.keys, idx, resolution.max_block_size, NAME_BLOCK_CAPS),
        "index": {"nodes": index.features.live_nodes, "synced_at": stamp["loaded_at"]},
    }


def explain_companies(
    conn: duckdb.DuckDBPyConnection,
    scope: Scope,
    warehouse: Path,
    resolution: ResolutionSettings,
    id_a: str,
    id_b: str,
) -> dict[str, Any]:
    """`explain_contacts` for two companies, from the company profiles the last sync saved.
    A merge-grade pair a sync would still send to review (a company without a domain whose
    name fits companies of several domains) gets that decision and a `note` saying why."""
    answer = _pair(conn, scope, COMPANIES_R, id_a, id_b)
    if answer["same"]:
        return answer
    profiles, stamp = _company_index(warehouse, scope.org_id)
    # as a sync that brought records to both: the pairs it would find around them
    both = pl.col("node_id").is_in(answer["ids"])
    nodes = company_features(profiles.with_columns(is_new=both))
    idx = _index_rows(nodes, answer["ids"], "company")
    judged = _judged(
        answer, score_company_pairs(nodes, _pair_frame(idx)), COMPANY_COMPARISONS, resolution
    )
    node_a, node_b = sorted(answer["ids"])
    linked = company_pairs(nodes, resolution).filter(node_a=node_a, node_b=node_b)
    if not linked.is_empty() and linked["decision"][0] != judged["decision"]:
        # the one company rule beyond the pair's own evidence
        judged |= {"decision": linked["decision"][0], "note": AMBIGUOUS}
    return {
        **judged,
        "prior": {"bits": COMPANY_PRIOR_WEIGHT, "population_bits": 0.0},
        "blocking": _blocking(company_block_keys(nodes), idx, resolution.max_block_size, {}),
        "index": {"nodes": nodes.height, "synced_at": stamp["synced_at"]},
    }


def _pair(
    conn: duckdb.DuckDBPyConnection, scope: Scope, resource: Resource, id_a: str, id_b: str
) -> dict[str, Any]:
    """The two visible records' ids (merged-away ids followed to their winners); when both are
    one record, the whole answer: the merges that made it so."""
    a, note_a = detail.resolve(conn, scope, resource, id_a)
    b, note_b = detail.resolve(conn, scope, resource, id_b)
    answer = {
        "entity": resource.type,
        "ids": [a["id"], b["id"]],
        "requested": [id_a, id_b],
        "same": a["id"] == b["id"],
    }
    if not answer["same"]:
        return answer
    merges = [note for note in (note_a, note_b) if note is not None]
    return {**answer, "decision": f"one {resource.type}", "merges": merges}


def _pair_frame(idx: list[int]) -> pl.DataFrame:
    return pl.DataFrame({"a": [idx[0]], "b": [idx[1]]}, schema={"a": pl.UInt32, "b": pl.UInt32})


def _judged(
    answer: dict[str, Any],
    scored: pl.DataFrame,
    comparisons: Sequence[Comparison],
    resolution: ResolutionSettings,
) -> dict[str, Any]:
    """`answer` with the scored pair's verdict, score, reasons and evidence by the thresholds."""
    merge_at, review_at = resolution.merge_threshold, resolution.review_threshold
    row = scored.with_columns(reasons(comparisons)).row(0, named=True)
    return {
        **answer,
        **explanation(row, comparisons, merge_at, review_at),
        "thresholds": {"merge": merge_at, "review": review_at},
    }


def _contact_index(warehouse: Path, org_id: str) -> tuple[ContactIndex, dict[str, Any]]:
    """The contact index beside `warehouse`, if a sync of `org_id` wrote it with this version,
    read whole (a sync saving it meanwhile removes and rewrites its stamp)."""
    folder = index_folder(warehouse)
    stamp = read_stamp(folder)
    if stamp is None:
        raise WarehouseUnavailable(
            f"no contact index beside {warehouse}: it is written by a sync with fuzzy matching "
            "on (resolution.fuzzy), or a sync is writing it now"
        )
    _check_stamp(stamp, org_id, INDEX_FORMAT, warehouse, "contact")
    try:
        index = load_contact_index(folder)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise WarehouseUnavailable(f"the contact index could not be read ({exc}): retry") from exc
    if read_stamp(folder) != stamp:
        raise WarehouseUnavailable("a sync rewrote the contact index while it was read: retry")
    return index, stamp


def _company_index(warehouse: Path, org_id: str) -> tuple[pl.DataFrame, dict[str, str]]:
    """The company profiles beside `warehouse`, if a sync of `org_id` saved them with this
    version (one file, replaced whole: no torn read)."""
    try:
        saved = read_company_index(index_folder(warehouse))
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise WarehouseUnavailable(f"the company index could not be read ({exc}): retry") from exc
    if saved is None:
        raise WarehouseUnavailable(
            f"no company index beside {warehouse}: it is written by a sync with companies "
            "in its batch"
        )
    _check_stamp(saved.stamp, org_id, str(COMPANY_INDEX_FORMAT), warehouse, "company")
    return saved.profiles, saved.stamp


def _check_stamp(
    stamp: Mapping[str, Any], org_id: str, version: object, warehouse: Path, entity: str
) -> None:
    """Refuse an index written for another org (the last sync's) or by another version."""
    if stamp.get("org") != org_id:
        raise WarehouseUnavailable(
            f"the {entity} index beside {warehouse} is org {stamp.get('org')!r}'s (the last "
            f"sync's): sync org {org_id!r} to explain its {entity} pairs"
        )
    if stamp.get("format") != version:
        raise WarehouseUnavailable(
            f"the {entity} index was written by another version of rex_pipeline: the next "
            "sync rewrites it"
        )


def _index_rows(nodes: pl.DataFrame, ids: list[str], entity: str) -> list[int]:
    """Each record's row (`idx`) among the indexed `nodes` (one the last sync did not index
    is not found: the index is written before the sync publishes, so a failed publish leaves
    it ahead)."""
    rows = nodes.filter(pl.col("node_id").is_in(ids))
    found = dict(zip(rows["node_id"], rows["idx"], strict=True))
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(
            f"{entity} {missing[0]} is not in the {entity} index of the last sync: run a sync"
        )
    return [found[i] for i in ids]


def _blocking(
    keys: pl.DataFrame, idx: list[int], max_block_size: int, caps: Mapping[str, int]
) -> dict[str, Any]:
    """The block keys the two share, each with its size and limit (`caps` lowers some rules'
    limits); `compared` when one of the blocks is small enough to be used (a larger one is a
    common name or word, not a person)."""
    mine = keys.filter(pl.col("idx").is_in(idx))
    shared = mine.group_by("rule", "key").agg(pl.col("idx").n_unique()).filter(pl.col("idx") == 2)
    sizes = (
        keys.join(shared.select("key"), on="key", how="semi")
        .group_by("key")
        .agg(nodes=pl.col("idx").n_unique())
    )
    blocks = []
    for rule, nodes in shared.join(sizes, on="key").sort("rule").select("rule", "nodes").rows():
        limit = min(max_block_size, caps.get(rule, max_block_size))
        blocks.append({"rule": rule, "nodes": nodes, "limit": limit, "used": nodes <= limit})
    return {"compared": any(b["used"] for b in blocks), "shared_blocks": blocks}
