"""The fuzzy step of the resolve stage: link contacts that share no exact key.

After exact resolution every record belongs to a node (an existing contact, or a contact minted
for this batch). This step builds one profile per node from all of its staged records, asks
`resolve.fuzzy` for scored candidate pairs (only pairs touching this batch's nodes), clusters
them safely (no chains through conflicting evidence, overrides honoured), and rewrites the
batch decisions: records of a losing node move to the winner (rule `fuzzy`/`must_merge`), an
existing losing contact is recorded as a merge, and pairs between the two thresholds become
`possible_duplicates`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import duckdb
import polars as pl

from rex_pipeline import batch
from rex_pipeline.config import Settings
from rex_pipeline.normalise.emails import email_keys
from rex_pipeline.resolve.fuzzy import (
    Overrides,
    cluster,
    cluster_stats,
    find_candidate_pairs,
    load_overrides,
    possible_duplicates,
    resolve_overrides,
)
from rex_pipeline.warehouse import execute

_PROFILES_SQL = """
WITH recs AS (
    SELECT coalesce(m.winner_id, s.entity_id) AS node_id, FALSE AS is_new,
           coalesce(s.created_at, s.loaded_at) AS age, s.first_name, s.last_name,
           s.email_key, s.other_email_keys, s.phone, s.linkedin_url, s.title,
           s.company_key, s.company_domain
    FROM stg_contacts s
    LEFT JOIN batch_merges_contact m ON s.entity_id = m.loser_id
    WHERE s.org_id = $org AND NOT EXISTS (
        SELECT 1 FROM batch_files f WHERE f.org_id = s.org_id
           AND f.source_system = s.source_system AND f.file_name = s.source_file)
    UNION ALL
    SELECT a.entity_id, TRUE, coalesce(c.created_at, $now::TIMESTAMPTZ), c.first_name,
           c.last_name, c.email_key, c.other_email_keys, c.phone, c.linkedin_url, c.title,
           c.company_key, c.company_domain
    FROM batch_clean_contacts c JOIN batch_assign_contact a USING (record_id)
), nodes AS (
    SELECT node_id, bool_or(is_new) AS is_new, min(age) AS created_at,
        arg_min(first_name, age) FILTER (WHERE first_name IS NOT NULL) AS first_name,
        arg_min(last_name, age) FILTER (WHERE last_name IS NOT NULL) AS last_name,
        list_filter(list_distinct(flatten(list(
            list_prepend(email_key, coalesce(other_email_keys, []::VARCHAR[]))))),
            lambda k: k IS NOT NULL) AS email_keys,
        arg_min(company_key, age) FILTER (WHERE company_key IS NOT NULL) AS company_key,
        arg_min(company_domain, age) FILTER (WHERE company_domain IS NOT NULL)
            AS company_domain,
        list_distinct(list(phone) FILTER (WHERE phone IS NOT NULL)) AS phones,
        arg_min(linkedin_url, age) FILTER (WHERE linkedin_url IS NOT NULL) AS linkedin_url,
        arg_max(title, age) FILTER (WHERE title IS NOT NULL) AS title
    FROM recs GROUP BY node_id
)
SELECT node_id, is_new, created_at, first_name, last_name, email_keys,
       list_transform(email_keys, lambda k: split_part(k, '@', 2)) AS email_domains,
       company_key, company_domain, phones, linkedin_url, title
FROM nodes
"""


def contact_profiles(
    con: duckdb.DuckDBPyConnection, settings: Settings, now: datetime
) -> pl.DataFrame:
    """One profile per contact node (existing contacts and this batch's nodes)."""
    return con.sql(_PROFILES_SQL, params={"org": settings.org_id, "now": now}).pl()


def _key_of(address: str) -> str | None:
    return email_keys(pl.Series([address.strip()])).item()


def load_analyst_overrides(con: duckdb.DuckDBPyConnection, settings: Settings) -> Overrides:
    """data/overrides.yaml with emails turned into matching keys and ids of contacts merged
    away since into the ids that won."""
    overrides = load_overrides(settings.overrides_path).canonicalised(_key_of)
    winners = dict(
        con.execute(
            "SELECT loser_id, winner_id FROM contact_merges WHERE org_id = ?", [settings.org_id]
        ).fetchall()
    )

    def follow(ref: str) -> str:
        seen = set()
        while ref in winners and ref not in seen:
            seen.add(ref)
            ref = winners[ref]
        return ref

    return Overrides(
        must_merge=tuple((follow(a), follow(b)) for a, b in overrides.must_merge),
        never_merge=tuple((follow(a), follow(b)) for a, b in overrides.never_merge),
    )


def _review_rows(
    pairs: pl.DataFrame, clusters: pl.DataFrame, never: list[Any], org: str, now: datetime
) -> pl.DataFrame:
    review = possible_duplicates(pairs, clusters, never=never)
    winner = clusters.select("node_id", "cluster_id")
    evidence = (
        pairs.join(winner.rename({"node_id": "node_a", "cluster_id": "ca"}), on="node_a")
        .join(winner.rename({"node_id": "node_b", "cluster_id": "cb"}), on="node_b")
        .select(
            entity_a=pl.min_horizontal("ca", "cb"),
            entity_b=pl.max_horizontal("ca", "cb"),
            score="score",
            evidence=pl.col("evidence").struct.json_encode(),
        )
        .unique(["entity_a", "entity_b", "score"], keep="first")
    )
    return review.join(evidence, on=["entity_a", "entity_b", "score"], how="left").select(
        org_id=pl.lit(org),
        entity=pl.lit("contact"),
        id_a="entity_a",
        id_b="entity_b",
        score="score",
        reasons=pl.when(pl.col("conflict").is_not_null())
        .then(pl.col("reasons") + pl.lit("; conflict: ") + pl.col("conflict"))
        .otherwise(pl.col("reasons")),
        evidence="evidence",
        detected_at=pl.lit(now, dtype=pl.Datetime("us", "UTC")),
    )


def link_contacts(
    con: duckdb.DuckDBPyConnection, settings: Settings, now: datetime
) -> dict[str, Any]:
    """Run the fuzzy step on this batch and rewrite the batch decisions; returns statistics
    for the asset metadata."""
    profiles = contact_profiles(con, settings, now)
    pairs = find_candidate_pairs(profiles, settings)
    overrides = load_analyst_overrides(con, settings)
    clusters = cluster(profiles, pairs, overrides, settings)
    never = resolve_overrides(overrides, profiles).never
    batch.replace(
        con, "batch_possible_duplicates", _review_rows(pairs, clusters, never, settings.org_id, now)
    )
    moves = clusters.filter(pl.col("rule").is_not_null()).select(
        loser="node_id", winner="cluster_id", rule="rule", score="score"
    )
    batch.replace(con, "batch_fuzzy_moves", moves)
    if moves.height:
        _apply_moves(con, settings.org_id)
    stats = cluster_stats(clusters, pairs)
    return {
        "fuzzy_nodes": profiles.height,
        "fuzzy_candidate_pairs": pairs.height,
        "fuzzy_merges": moves.height,
        "review_queue": int(
            con.execute("SELECT count(*) FROM batch_possible_duplicates").fetchall()[0][0]
        ),
        "cluster_stats": json.dumps(stats, default=str),
    }


def _apply_moves(con: duckdb.DuckDBPyConnection, org: str) -> None:
    """Records of losing nodes join the winners; existing losers become merges."""
    execute(
        con,
        """UPDATE batch_assign_contact a SET entity_id = m.winner, match_rule = m.rule,
               match_score = m.score
           FROM batch_fuzzy_moves m WHERE a.entity_id = m.loser""",
    )
    execute(
        con,
        """UPDATE batch_merges_contact x SET winner_id = m.winner
           FROM batch_fuzzy_moves m WHERE x.winner_id = m.loser""",
    )
    execute(
        con,
        """INSERT INTO batch_merges_contact (winner_id, loser_id, rule, score)
           SELECT m.winner, m.loser, m.rule, m.score FROM batch_fuzzy_moves m
           WHERE m.loser IN (SELECT id FROM contacts WHERE org_id = $org)""",
        {"org": org},
    )
    execute(
        con,
        """UPDATE batch_keys_contact k SET entity_id = m.winner
           FROM batch_fuzzy_moves m WHERE k.entity_id = m.loser""",
    )
