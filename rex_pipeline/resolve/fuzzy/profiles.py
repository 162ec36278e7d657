"""The input and output shapes of fuzzy resolution.

The exact stage groups clean records that share an exact key into *nodes* (an existing
canonical entity, or a group of this run's new records) and hands one *profile* per node to
fuzzy resolution, which links nodes. Profiles of existing nodes are what lets a new record be
matched against the warehouse; `is_new` says which nodes carry this run's records, so only
pairs touching new data are scored.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

UTC_TS = pl.Datetime("us", "UTC")
STR_LIST = pl.List(pl.String)

CONTACT_PROFILE: dict[str, pl.DataType] = {
    "node_id": pl.String(),  # existing cont_… id, or a temporary id for a new node
    "is_new": pl.Boolean(),  # the node has records from this run
    "created_at": UTC_TS,  # older wins a cluster
    "first_record": pl.String(),  # record_id of its oldest record: breaks ties of age
    "first_name": pl.String(),
    "last_name": pl.String(),
    "email_keys": STR_LIST,  # canonical matching keys of every address
    "email_domains": STR_LIST,  # registrable domain of each key, same order
    "company_key": pl.String(),  # cleaned company-name key
    "company_domain": pl.String(),  # registrable non-free domain
    "phones": STR_LIST,  # E.164
    "linkedin_url": pl.String(),  # canonical https://www.linkedin.com/in/<slug>
    "title": pl.String(),
}

COMPANY_PROFILE: dict[str, pl.DataType] = {
    "node_id": pl.String(),  # existing comp_… id, or a temporary id
    "is_new": pl.Boolean(),
    "created_at": UTC_TS,
    "first_record": pl.String(),  # record_id of its oldest record: breaks ties of age
    "name": pl.String(),  # display name as given
    "name_key": pl.String(),  # cleaned name key (legal suffixes stripped, case-folded)
    "domain": pl.String(),  # registrable domain, never free-mail
}

#: Comparison evidence of one field of a pair: the level that applied, its match weight (bits)
#: and, for fuzzy comparisons, the similarity that decided it.
EVIDENCE_FIELD = pl.Struct(
    {"level": pl.String(), "weight": pl.Float64(), "similarity": pl.Float64()}
)

#: Columns of `find_candidate_pairs` / `find_company_pairs` (plus `evidence`, a struct with one
#: EVIDENCE_FIELD per comparison).
PAIR_COLUMNS: dict[str, pl.DataType] = {
    "node_a": pl.String(),  # node_a < node_b
    "node_b": pl.String(),
    "score": pl.Float64(),  # match probability 0..1
    "match_weight": pl.Float64(),  # prior + sum of the comparison weights, in bits
    "decision": pl.String(),  # merge | review
    "conflict": pl.String(),  # strong evidence of two different entities, or NULL
    "reasons": pl.String(),  # "first_name nickname (+4.5); email ..." for people to read
    "blocking_rules": STR_LIST,  # the blocking rules that proposed the pair
}

CLUSTER_COLUMNS: dict[str, pl.DataType] = {
    "node_id": pl.String(),
    "cluster_id": pl.String(),  # node_id of the cluster's winner (oldest node)
    "rule": pl.String(),  # fuzzy | must_merge for attached nodes, NULL for winners/singletons
    "score": pl.Float64(),  # score of the strongest accepted edge of the node
    "via": pl.String(),  # the node at the other end of that edge
}


def conform(frame: pl.DataFrame, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """Exactly the schema's columns in order: missing ones NULL, extra ones dropped."""
    return frame.select(
        [
            pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype).alias(name)
            for name, dtype in schema.items()
        ]
    )


def frame_of(rows: list[Mapping[str, object]], schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """Profiles from dicts (tests, `explain_pair`): missing keys are NULL."""
    if not rows:
        return pl.DataFrame(schema=dict(schema))
    return pl.DataFrame(
        [{name: row.get(name) for name in schema} for row in rows], schema=dict(schema)
    )
