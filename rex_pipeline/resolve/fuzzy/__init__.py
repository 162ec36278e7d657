"""Fuzzy identity resolution: link the nodes the exact stage could not join by keys.

    pairs = find_candidate_pairs(profiles, settings)        # blocking + scoring, new nodes only
    clusters = cluster(profiles, pairs, overrides, settings)  # node_id -> cluster winner
    review = possible_duplicates(pairs, clusters)            # for `possible_duplicates`
    stats = cluster_stats(clusters, pairs)                    # for run metadata

and the same with `find_company_pairs` for companies. `explain_pair` gives the evidence for
any two contact profiles. For incremental runs, `build_contact_index` the existing nodes once
(save/load it between runs) and pass `index=` with only the new nodes' profiles; a run that
keeps the index computes features once: `contact_candidates` + `score_candidates`, then
`grow_contact_index` with what it found. Pure
polars/rapidfuzz: no Dagster, no database.
"""

from rex_pipeline.resolve.fuzzy.cluster import cluster, cluster_stats, possible_duplicates
from rex_pipeline.resolve.fuzzy.companies import COMPANY_COMPARISONS, find_company_pairs
from rex_pipeline.resolve.fuzzy.contact_weights import CONTACT_COMPARISONS
from rex_pipeline.resolve.fuzzy.contacts import (
    Candidates,
    contact_candidates,
    explain_pair,
    find_candidate_pairs,
    score_candidates,
)
from rex_pipeline.resolve.fuzzy.index import (
    ContactIndex,
    build_contact_index,
    forget_contacts,
    grow_contact_index,
    load_contact_index,
    refresh_contact_index,
)
from rex_pipeline.resolve.fuzzy.overrides import (
    Overrides,
    OverridesError,
    ResolvedOverrides,
    load_overrides,
    resolve_overrides,
)
from rex_pipeline.resolve.fuzzy.profiles import (
    CLUSTER_COLUMNS,
    COMPANY_PROFILE,
    CONTACT_PROFILE,
    PAIR_COLUMNS,
)

__all__ = [
    "CLUSTER_COLUMNS",
    "COMPANY_COMPARISONS",
    "COMPANY_PROFILE",
    "CONTACT_COMPARISONS",
    "CONTACT_PROFILE",
    "PAIR_COLUMNS",
    "Candidates",
    "ContactIndex",
    "Overrides",
    "OverridesError",
    "ResolvedOverrides",
    "build_contact_index",
    "cluster",
    "cluster_stats",
    "contact_candidates",
    "explain_pair",
    "find_candidate_pairs",
    "find_company_pairs",
    "forget_contacts",
    "grow_contact_index",
    "load_contact_index",
    "load_overrides",
    "possible_duplicates",
    "refresh_contact_index",
    "resolve_overrides",
    "score_candidates",
]
