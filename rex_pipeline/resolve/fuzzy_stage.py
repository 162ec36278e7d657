"""The fuzzy step of the resolve stage: link contacts (and companies) that share no exact key.

After exact resolution every record belongs to a node (an existing entity, or one minted for
this batch). This step builds one profile per node from all of its staged records, asks
`resolve.fuzzy` for scored candidate pairs (only pairs touching this batch's nodes), clusters
them safely (no chains through conflicting evidence, overrides honoured), and rewrites the
batch decisions: records of a losing node move to the winner (rule `fuzzy`/`must_merge`), an
existing losing entity is recorded as a merge, and pairs between the two thresholds become
`possible_duplicates` (`batch_possible_duplicates_<entity>`).

Contacts are incremental: a `ContactIndex` of the existing contacts is kept next to the work
database (`.<db>.fuzzy-index/`, stamped with the newest `loaded_at` of the staged contacts it
reflects). Each run adds its own contacts at the end of this step (the features it linked them
with, computed once; nodes merged away leave, winners are re-read) and saves only that delta,
stamped with the run's `loaded_at`; a run finding a stale stamp refreshes the index with the
contacts that received records since, and rebuilds it when missing or foreign. The index only
proposes partners: their profiles are read fresh from the staged records and their pairs scored
again, and pairs naming a node that no longer exists are dropped, so a stale index can miss
candidates but never cause a wrong merge. The staged records read for the batch's nodes and
their partners are kept for the run (a temporary table), so the winners re-indexed at the end
are profiled without reading the staged contacts again. Companies are few and every one is a
candidate partner, so a batch with companies links them against all: each sync saves the
company profiles it linked beside the contact index (`resolve.fuzzy.company_index`), and the
next reads again from `stg_companies` only the companies its batch touches (`company_nodes`).
An empty batch skips both entities.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from rex_pipeline import batch
from rex_pipeline.batch import reread_filter
from rex_pipeline.config import Settings
from rex_pipeline.handover import registered
from rex_pipeline.normalise.emails import email_keys
from rex_pipeline.resolve.entities import ENTITY_TABLE, created_of
from rex_pipeline.resolve.fuzzy import (
    CONTACT_COMPARISONS,
    ContactIndex,
    Overrides,
    build_contact_index,
    cluster,
    cluster_stats,
    contact_candidates,
    find_company_pairs,
    forget_contacts,
    grow_contact_index,
    load_contact_index,
    possible_duplicates,
    refresh_contact_index,
    resolve_overrides,
    score_candidates,
    text,
)
from rex_pipeline.resolve.fuzzy.company_index import (
    company_stamp,
    read_company_index,
    save_company_index,
)
from rex_pipeline.resolve.fuzzy.index import INDEX_FORMAT, index_folder, read_stamp
from rex_pipeline.resolve.fuzzy.model import empty_pairs
from rex_pipeline.resolve.fuzzy.profiles import COMPANY_PROFILE, conform
from rex_pipeline.warehouse import execute, scalar

#: Records per first and last name spelling among the org's staged records and this batch.
_NAME_POPULARITY_SQL = """
WITH known AS (
    SELECT s.first_name, s.last_name FROM stg_contacts s
    WHERE s.org_id = $org AND NOT {reread}
    UNION ALL SELECT first_name, last_name FROM batch_clean_contacts
)
SELECT 'first' AS kind, first_name AS spelling, count(*) AS n FROM known GROUP BY first_name
UNION ALL SELECT 'last', last_name, count(*) FROM known GROUP BY last_name
"""

#: A node's name is the spelling most of its records use, so one record's initial or typo
#: ("D.", "Hamiltosn") does not become the name the node is compared by. Ties go to the
#: spelling more of the org's records carry (a typo is rare: Kalasenards over Kalasenars), then
#: to the oldest. Those counts include this batch, so a first load and a later sync agree; only
#: the spellings of the nodes profiled are looked up. An initial is never the first name while
#: a record spells one out: a tie of "Marko" and "M." went to the initial, which more records
#: carry, and as "M." Marko fitted his colleague Mark. Each field is the `first` of the node's
#: records in a fixed order: the same choice as arg_min/arg_max over a struct of the order's
#: columns (NULLs sort as a struct would), several times faster on a whole warehouse. Most
#: nodes hold a single record (six in ten on a first load): their profile is that record's
#: fields as they are, so only the nodes of several records go through the ordered
#: aggregates, whose sort keys and list building are what this query costs.
_PROFILES_SQL = """
WITH recs AS (
    SELECT coalesce(m.winner_id, s.entity_id) AS node_id, FALSE AS is_new,
           coalesce(s.created_at, s.loaded_at) AS age, s.record_id, s.first_name, s.last_name,
           s.email_key, s.other_email_keys, s.phone, s.linkedin_url, s.title,
           s.company_key, s.company_domain
    FROM {records} s
    LEFT JOIN batch_merges_contact m ON s.entity_id = m.loser_id
    WHERE s.org_id = $org AND {wanted} AND NOT {reread}
    {batch}
), sizes AS (
    SELECT node_id, count(*) AS n FROM recs GROUP BY node_id
), multi AS (
    SELECT recs.* FROM recs JOIN sizes USING (node_id) WHERE sizes.n > 1
), popularity AS (
    SELECT kind, spelling, n FROM {popularity}
), first_pop AS (
    SELECT spelling, n FROM popularity
    WHERE kind = 'first' AND spelling IN (SELECT first_name FROM multi)
), last_pop AS (
    SELECT spelling, n FROM popularity
    WHERE kind = 'last' AND spelling IN (SELECT last_name FROM multi)
), counted AS (
    SELECT multi.*, count(*) OVER (PARTITION BY node_id, first_name) AS first_n,
           count(*) OVER (PARTITION BY node_id, last_name) AS last_n,
           coalesce(fp.n, 0) AS first_pop, coalesce(lp.n, 0) AS last_pop
    FROM multi
    LEFT JOIN first_pop fp ON fp.spelling = multi.first_name
    LEFT JOIN last_pop lp ON lp.spelling = multi.last_name
), nodes AS (
    SELECT node_id, bool_or(is_new) AS is_new, min(age) AS created_at,
        first(record_id ORDER BY age, record_id) AS first_record,
        first(first_name ORDER BY regexp_matches(first_name, '{initial}'),
                  first_n DESC, first_pop DESC, age, record_id)
            FILTER (WHERE first_name IS NOT NULL) AS first_name,
        first(last_name ORDER BY last_n DESC, last_pop DESC, age, record_id)
            FILTER (WHERE last_name IS NOT NULL) AS last_name,
        list_sort(list_filter(list_distinct(flatten(list(
            list_prepend(email_key, coalesce(other_email_keys, []::VARCHAR[]))))),
            lambda k: k IS NOT NULL)) AS email_keys,
        first(company_key ORDER BY age, record_id) FILTER (WHERE company_key IS NOT NULL)
            AS company_key,
        first(company_domain ORDER BY age, record_id)
            FILTER (WHERE company_domain IS NOT NULL) AS company_domain,
        list_sort(list_distinct(list(phone) FILTER (WHERE phone IS NOT NULL))) AS phones,
        first(linkedin_url ORDER BY age, record_id) FILTER (WHERE linkedin_url IS NOT NULL)
            AS linkedin_url,
        first(title ORDER BY age DESC NULLS FIRST, record_id DESC NULLS FIRST)
            FILTER (WHERE title IS NOT NULL) AS title
    FROM counted GROUP BY node_id
    UNION ALL
    -- a single record: what each aggregate above gives for one row (no phone: NULL, as
    -- list() of no rows; lists sorted, as above, so every run lists them alike)
    SELECT recs.node_id, is_new, age, record_id, first_name, last_name,
        list_sort(list_filter(list_distinct(
            list_prepend(email_key, coalesce(other_email_keys, []::VARCHAR[]))),
            lambda k: k IS NOT NULL)),
        company_key, company_domain,
        CASE WHEN phone IS NOT NULL THEN [phone] END,
        linkedin_url, title
    FROM recs JOIN sizes USING (node_id) WHERE sizes.n = 1
)
SELECT node_id, is_new, created_at, first_record, first_name, last_name, email_keys,
       list_transform(email_keys, lambda k: split_part(k, '@', 2)) AS email_domains,
       company_key, company_domain, phones, linkedin_url, title
FROM nodes
"""


_BATCH_RECORDS = """UNION ALL
    SELECT a.entity_id, TRUE, coalesce(c.created_at, $now::TIMESTAMPTZ), c.record_id,
           c.first_name,
           c.last_name, c.email_key, c.other_email_keys, c.phone, c.linkedin_url, c.title,
           c.company_key, c.company_domain
    FROM batch_clean_contacts c JOIN batch_assign_contact a USING (record_id)
    WHERE {batch_wanted}"""

_COMPANY_PROFILES_SQL = """
WITH recs AS (
    SELECT coalesce(m.winner_id, s.entity_id) AS node_id, FALSE AS is_new,
           coalesce(s.created_at, s.loaded_at) AS age, s.record_id, s.name, s.name_key,
           s.domain
    FROM stg_companies s
    LEFT JOIN batch_merges_company m ON s.entity_id = m.loser_id
    WHERE s.org_id = $org AND NOT {reread} {among}
    UNION ALL
    SELECT a.entity_id, TRUE, coalesce(c.created_at, $now::TIMESTAMPTZ), c.record_id, c.name,
           c.name_key, c.domain
    FROM batch_company_records c JOIN batch_assign_company a USING (record_id)
    WHERE TRUE {among_batch}
)
SELECT node_id, bool_or(is_new) AS is_new, min(age) AS created_at,
    first(record_id ORDER BY age, record_id) AS first_record,
    first(name ORDER BY age, record_id) FILTER (WHERE name IS NOT NULL) AS name,
    first(name_key ORDER BY age, record_id) FILTER (WHERE name_key IS NOT NULL) AS name_key,
    first(domain ORDER BY age, record_id) FILTER (WHERE domain IS NOT NULL) AS domain
FROM recs GROUP BY node_id
"""

#: The review rows `_review_rows` writes, with no rows (a batch with nothing to link).
_EMPTY_REVIEW = pl.DataFrame(
    schema={
        "org_id": pl.String,
        "entity": pl.String,
        "id_a": pl.String,
        "id_b": pl.String,
        "score": pl.Float64,
        "reasons": pl.String,
        "evidence": pl.String,
        "detected_at": pl.Datetime("us", "UTC"),
    }
)

_MERGES_TABLE = {"contact": "contact_merges", "company": "company_merges"}


#: The company nodes whose profiles a batch can change: its own (new, or existing with new
#: records), the winners of its exact merges, and those with records in a file read again
#: (`reread` is FALSE, folded away, when the batch reads no file again).
_TOUCHED_COMPANIES_SQL = """
SELECT entity_id AS node_id FROM batch_assign_company
UNION SELECT winner_id FROM batch_merges_company
UNION SELECT coalesce(m.winner_id, s.entity_id) FROM stg_companies s
    LEFT JOIN batch_merges_company m ON s.entity_id = m.loser_id
    WHERE s.org_id = $org AND {reread}
"""


def company_profiles(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    now: datetime,
    wanted: pl.Series | None = None,
) -> pl.DataFrame:
    """One profile per company node (existing companies and this batch's nodes), all of them
    or only the `wanted` ids (each profile still folds all of the node's records)."""
    params: dict[str, Any] = {"org": settings.org_id, "now": now}
    reread = reread_filter(con, "s")
    if wanted is None:
        sql = _COMPANY_PROFILES_SQL.format(reread=reread, among="", among_batch="")
        return con.sql(sql, params=params).pl()
    among = "IN (SELECT node_id FROM __wanted)"
    sql = _COMPANY_PROFILES_SQL.format(
        reread=reread,
        among=f"AND coalesce(m.winner_id, s.entity_id) {among}",
        among_batch=f"AND a.entity_id {among}",
    )
    with registered(con, "__wanted", wanted.unique().to_frame("node_id")):
        return con.sql(sql, params=params).pl()


def company_nodes(
    con: duckdb.DuckDBPyConnection, settings: Settings, now: datetime
) -> tuple[pl.DataFrame, int]:
    """Every company node's profile, as `company_profiles` reads them all, at a cost that
    follows the batch: the profiles the last sync saved (`company_index`), when they reflect
    the staged companies (stamped with the newest `loaded_at` of their records), with the
    nodes this batch touches, and the last sync's stale winners, read again. Without a current
    save (a first sync, a failed one, another org's, a full refresh), all are read. Returns
    the profiles and how many were read from the staged records."""
    saved = read_company_index(index_dir(settings))
    staged = _staged_stamp(con, settings, "stg_companies")
    if saved is None or saved.stamp != company_stamp(settings.org_id, staged):
        profiles = conform(company_profiles(con, settings, now), COMPANY_PROFILE)
        return profiles, profiles.height
    touched = con.sql(
        _TOUCHED_COMPANIES_SQL.format(reread=reread_filter(con, "s")),
        params={"org": settings.org_id},
    ).pl()["node_id"]
    wanted = pl.concat([touched, saved.stale])
    losers = con.sql("SELECT loser_id FROM batch_merges_company").pl()["loser_id"]
    gone = pl.concat([wanted, losers]).implode()
    kept = saved.profiles.filter(~pl.col("node_id").is_in(gone))
    fresh = conform(company_profiles(con, settings, now, wanted), COMPANY_PROFILE)
    return pl.concat([kept, fresh]), fresh.height


#: The staged records of the nodes profiled during one `link_contacts` (the columns the
#: profile reads): the index is refreshed with its winners' profiles from these rather than
#: from every staged record again.
_FETCHED = "fuzzy_fetched_records"
_POPULARITY = "fuzzy_name_popularity"
_FETCHED_COLUMNS = """s.org_id, s.source_system, s.source_file, s.entity_id, s.created_at,
    s.loaded_at, s.record_id, s.first_name, s.last_name, s.email_key, s.other_email_keys,
    s.phone, s.linkedin_url, s.title, s.company_key, s.company_domain"""
_WANTED = "coalesce(m.winner_id, s.entity_id) IN (SELECT node_id FROM __wanted)"


def contact_profiles(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    now: datetime,
    wanted: pl.Series | None = None,
    records: str = "stg_contacts",
) -> pl.DataFrame:
    """One profile per contact node: this batch's nodes and the existing contacts, all of
    them or only the `wanted` ids (each profile still folds all of the node's records).
    `records` is the table of staged records to fold (a subset of stg_contacts holding every
    record of the wanted nodes: then the name popularity counted once for the run, inside
    `fetched_records`, is used; it is always that of every staged record)."""
    return _profiles(con, settings, now, wanted, _BATCH_RECORDS, records)


@contextmanager
def fetched_records(con: duckdb.DuckDBPyConnection, settings: Settings) -> Iterator[None]:
    """An empty _FETCHED table and the name popularity (_POPULARITY) for the block: the
    profiles of one run count the org's names once (temporary tables: never in the
    database)."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_FETCHED} AS "
        f"SELECT {_FETCHED_COLUMNS} FROM stg_contacts s LIMIT 0"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_POPULARITY} AS "
        + _NAME_POPULARITY_SQL.format(reread=reread_filter(con, "s")),
        {"org": settings.org_id},
    )
    try:
        yield
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_FETCHED}")
        con.execute(f"DROP TABLE IF EXISTS {_POPULARITY}")


def fetch_profiles(
    con: duckdb.DuckDBPyConnection, settings: Settings, now: datetime, wanted: pl.Series
) -> pl.DataFrame:
    """`contact_profiles` of the `wanted` nodes, adding their staged records to _FETCHED
    (inside `fetched_records`). The records are found by their rowid on the few columns the
    match needs, then read whole by rowid: DuckDB would otherwise decode every column of
    every staged row to keep a few scattered ones (~3x slower on a large warehouse)."""
    with registered(con, "__wanted", wanted.unique().to_frame("node_id")):
        con.execute(
            f"""INSERT INTO {_FETCHED} SELECT {_FETCHED_COLUMNS} FROM stg_contacts s
                WHERE s.rowid IN (
                    SELECT s.rowid FROM stg_contacts s
                    LEFT JOIN batch_merges_contact m ON s.entity_id = m.loser_id
                    WHERE s.org_id = $org AND {_WANTED})""",
            {"org": settings.org_id},
        )
    return contact_profiles(con, settings, now, wanted, _FETCHED)


def _profiles(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    now: datetime,
    wanted: pl.Series | None,
    batch_records: str,
    records: str = "stg_contacts",
) -> pl.DataFrame:
    params: dict[str, Any] = {"org": settings.org_id}
    if batch_records:
        params["now"] = now
    reread = reread_filter(con, "s")
    popularity = (
        _POPULARITY if records == _FETCHED else f"({_NAME_POPULARITY_SQL.format(reread=reread)})"
    )
    sources = {
        "records": records,
        "reread": reread,
        "popularity": popularity,
        "initial": text.INITIAL_NAME,
    }
    if wanted is None:
        batch_part = batch_records.format(batch_wanted="TRUE")
        sql = _PROFILES_SQL.format(wanted="TRUE", batch=batch_part, **sources)
        return con.sql(sql, params=params).pl()
    with registered(con, "__wanted", wanted.unique().to_frame("node_id")):
        batch_part = batch_records.format(
            batch_wanted="a.entity_id IN (SELECT node_id FROM __wanted)"
        )
        sql = _PROFILES_SQL.format(wanted=_WANTED, batch=batch_part, **sources)
        return con.sql(sql, params=params).pl()


def _key_of(address: str) -> str | None:
    return email_keys(pl.Series([address.strip()])).item()


def analyst_overrides(
    con: duckdb.DuckDBPyConnection, settings: Settings, decisions: Overrides, entity: str
) -> Overrides:
    """The analysts' decisions (data/overrides.yaml, read once per run) with emails turned into
    matching keys and ids of entities merged away since into the ids that won."""
    overrides = decisions.canonicalised(_key_of)
    winners = dict(
        con.execute(
            f"SELECT loser_id, winner_id FROM {_MERGES_TABLE[entity]} WHERE org_id = ?",
            [settings.org_id],
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
    pairs: pl.DataFrame,
    clusters: pl.DataFrame,
    never: list[Any],
    org: str,
    now: datetime,
    entity: str,
) -> pl.DataFrame:
    encoded = pairs.with_columns(evidence=pl.col("evidence").struct.json_encode())
    review = possible_duplicates(encoded, clusters, never=never, carry=["evidence"])
    return review.select(
        org_id=pl.lit(org),
        entity=pl.lit(entity),
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
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    now: datetime,
    decisions: Overrides,
    *,
    decided: bool,
) -> dict[str, Any]:
    """Run the fuzzy step on this batch's contacts and rewrite the batch decisions; returns
    statistics for the asset metadata. `decisions`: the analysts' overrides; `decided`: they
    changed since the last publish, so they are applied even when the batch has no contacts."""
    started = time.perf_counter()
    batch_nodes = con.sql("SELECT DISTINCT entity_id FROM batch_assign_contact").pl()["entity_id"]
    if batch_nodes.is_empty() and not decided:  # nothing new: no pairs, no index to load
        return {**_nothing_to_link(con, "contact"), "fuzzy_seconds": 0.0}
    index = contact_index(con, settings, now)
    overrides = analyst_overrides(con, settings, decisions, "contact")
    with fetched_records(con, settings):
        if batch_nodes.is_empty():
            stats = _apply_decisions(con, settings, now, index, overrides)
        else:
            stats = _link_batch(con, settings, now, batch_nodes, index, overrides)
    return {**stats, "fuzzy_seconds": round(time.perf_counter() - started, 3)}


def _link_batch(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    now: datetime,
    batch_nodes: pl.Series,
    index: ContactIndex,
    overrides: Overrides,
) -> dict[str, Any]:
    """Link the batch's nodes against the index and save the index with them in."""
    profiles = fetch_profiles(con, settings, now, batch_nodes)
    found = contact_candidates(profiles, index)
    first = score_candidates(found.features, found.keys, settings)
    # the batch's nodes as the index will hold them: their features are computed once
    grown = grow_contact_index(index, found, profiles.height)
    # pairs of two batch nodes were scored on fresh profiles; the index only proposes the
    # existing partners, whose profiles are read fresh and whose pairs are scored again, so a
    # stale index can only miss candidates
    in_batch = profiles["node_id"].implode()
    both_new = pl.col("node_a").is_in(in_batch) & pl.col("node_b").is_in(in_batch)
    proposed = first.filter(~both_new)
    named = pl.concat(
        [proposed["node_a"], proposed["node_b"], _override_nodes(con, settings, overrides)]
    )
    named = named.filter(~named.is_in(in_batch))
    pairs = first.filter(both_new)
    if named.len():
        # pairs of a partner (the side looked up now) and a batch node (as just indexed)
        partners = fetch_profiles(con, settings, now, named)
        again = contact_candidates(partners.with_columns(is_new=pl.lit(True)), grown)
        batch_idx = again.features.idx_of(profiles["node_id"])
        rescored = score_candidates(again.features, again.keys, settings, touching=batch_idx)
        pairs = pl.concat([pairs, rescored]).sort("node_a", "node_b")
        profiles = pl.concat([profiles, partners]).unique("node_id", keep="first")
    stats = _link(con, settings, now, "contact", profiles, pairs, overrides)
    stamp = _as_stamp(con, now)  # the batch's records are staged at `now`
    _index_batch(con, settings, now, grown, batch_nodes, profiles["node_id"], stamp)
    return stats


def _apply_decisions(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    now: datetime,
    index: ContactIndex,
    overrides: Overrides,
) -> dict[str, Any]:
    """A run without new contacts whose overrides changed: the contacts they name are linked
    by the overrides alone (no pair is scored again, so nothing else merges)."""
    named = _override_nodes(con, settings, overrides).unique()
    profiles = fetch_profiles(con, settings, now, named)
    stats = _link(
        con, settings, now, "contact", profiles, empty_pairs(CONTACT_COMPARISONS), overrides
    )
    # no record is staged: the index keeps the stamp of the staged contacts it reflects
    stamp = _staged_stamp(con, settings)
    _index_batch(con, settings, now, index, profiles["node_id"], profiles["node_id"], stamp)
    return stats


def _override_nodes(
    con: duckdb.DuckDBPyConnection, settings: Settings, overrides: Overrides
) -> pl.Series:
    """Contacts the overrides name (by id or email key): their profiles join every run, so
    overrides hold whatever the batch is."""
    refs = [
        ref for pairs in (overrides.must_merge, overrides.never_merge) for p in pairs for ref in p
    ]
    if not refs:
        return pl.Series("entity_id", [], dtype=pl.String)
    keys = pl.DataFrame(
        {"key": [f"email:{r}" for r in refs if "@" in r]}, schema={"key": pl.String}
    )
    found = lookup_contact_keys(con, settings.org_id, keys)
    return pl.concat([pl.Series("entity_id", refs, dtype=pl.String), found["entity_id"]])


def lookup_contact_keys(
    con: duckdb.DuckDBPyConnection, org: str, keys: pl.DataFrame
) -> pl.DataFrame:
    with registered(con, "__ov_keys", keys):
        return con.sql(
            "SELECT k.entity_id FROM identity_keys k JOIN __ov_keys USING (key) "
            "WHERE k.org_id = ? AND k.entity = 'contact'",
            params=[org],
        ).pl()


def index_dir(settings: Settings) -> Path:
    """The contact index lives next to the work database."""
    return index_folder(settings.duckdb_path)


def contact_index(
    con: duckdb.DuckDBPyConnection, settings: Settings, now: datetime
) -> ContactIndex:
    """The saved index of existing contacts, brought up to date: built from every profile when
    missing or not from this work database, else refreshed with the contacts that received
    records since it was saved (newest `loaded_at` of the staged contacts is its stamp).
    Usually the previous run saved it with its own batch already in (`_index_batch`), so it is
    current and only loaded."""
    folder = index_dir(settings)
    current = {
        "org": settings.org_id,
        "loaded_at": _staged_stamp(con, settings),
        "format": INDEX_FORMAT,
    }
    saved = read_stamp(folder)
    if saved is not None and saved == current:
        return load_contact_index(folder)
    (folder / "stamp.json").unlink(missing_ok=True)  # an interrupted save leaves no stamp
    same_kind = saved is not None and all(saved.get(k) == current[k] for k in ("org", "format"))
    if saved is not None and same_kind and _newer(current, saved):
        index = load_contact_index(folder)
        changed = con.sql(
            "SELECT DISTINCT entity_id FROM stg_contacts "
            "WHERE org_id = ? AND loaded_at > ?::TIMESTAMPTZ",
            params=[settings.org_id, saved["loaded_at"]],
        ).pl()["entity_id"]
        return refresh_contact_index(index, _existing_profiles(con, settings, now, changed))
    return build_contact_index(_existing_profiles(con, settings, now, None))


def _index_batch(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    now: datetime,
    index: ContactIndex,
    linked: pl.Series,
    fetched: pl.Series,
    stamp: str | None,
) -> None:
    """Save the index with this batch's contacts as they will be once applied (`index` holds
    the `linked` nodes as they were linked: losers leave it, winners are re-read),
    stamped with the newest `loaded_at` of the staged contacts once applied (`stamp`), so the
    next run starts from an up-to-date index and pays only for its own records. If this run
    fails before applying a batch, the stamp matches no staged data and the next run rebuilds
    the index: stale entries never survive."""
    # gone: fuzzy losers and existing entities merged away; changed: fuzzy winners, and
    # winners of exact merges whose profiles were not read with the batch's
    merges = con.sql(
        "SELECT loser, winner, TRUE AS fuzzy FROM batch_fuzzy_moves "
        "UNION SELECT loser_id, winner_id, FALSE FROM batch_merges_contact"
    ).pl()
    index = forget_contacts(index, merges["loser"])
    changed = merges.filter(pl.col("fuzzy") | ~pl.col("winner").is_in(linked.implode()))
    changed = changed["winner"].unique()
    if changed.len():
        # every record of a winner is one of the nodes profiled (`fetched`), whose records
        # were kept: a winner is one of them, its losers too (fuzzy, or exact ones of a node)
        known = changed.is_in(fetched.implode()).all()
        records = _FETCHED if known else "stg_contacts"
        profiles = contact_profiles(con, settings, now, changed, records)
        index = refresh_contact_index(index, profiles)
    folder = index_dir(settings)
    (folder / "stamp.json").unlink(missing_ok=True)  # an interrupted save leaves no stamp
    index.save(folder)
    saved = {"org": settings.org_id, "loaded_at": stamp, "format": INDEX_FORMAT}
    (folder / "stamp.json").write_text(json.dumps(saved), encoding="utf-8")


def _staged_stamp(
    con: duckdb.DuckDBPyConnection, settings: Settings, table: str = "stg_contacts"
) -> str | None:
    """The newest `loaded_at` of the org's staged records (contacts unless `table` says
    otherwise), as the indexes stamp it."""
    return con.execute(
        f"SELECT max(loaded_at)::VARCHAR FROM {table} WHERE org_id = ?", [settings.org_id]
    ).fetchall()[0][0]


def _as_stamp(con: duckdb.DuckDBPyConnection, moment: datetime) -> str:
    """`moment` written as `max(loaded_at)::VARCHAR` will show it once applied."""
    return str(con.execute("SELECT $m::TIMESTAMPTZ::VARCHAR", {"m": moment}).fetchall()[0][0])


def _newer(current: dict[str, Any], saved: dict[str, Any]) -> bool:
    return saved["loaded_at"] is not None and (current["loaded_at"] or "") > saved["loaded_at"]


def _existing_profiles(
    con: duckdb.DuckDBPyConnection, settings: Settings, now: datetime, wanted: pl.Series | None
) -> pl.DataFrame:
    """Profiles of existing contacts only (this batch's records left out)."""
    return _profiles(con, settings, now, wanted, "")


def link_companies(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    now: datetime,
    decisions: Overrides,
    *,
    decided: bool,
) -> dict[str, Any]:
    """The same for companies: names link what domains could not (two different domains
    never merge on name alone, `find_company_pairs` marks them as conflicts). Without new
    companies, every profile is existing: only changed overrides (`decided`) can link."""
    started = time.perf_counter()
    in_batch = scalar(con, "SELECT count(*) FROM batch_assign_company")
    if not in_batch and not decided:
        return {
            **_nothing_to_link(con, "company"),
            "company_profiles_read": 0,
            "company_fuzzy_seconds": 0.0,
        }
    profiles, read = company_nodes(con, settings, now)
    pairs = find_company_pairs(profiles, settings)
    overrides = analyst_overrides(con, settings, decisions, "company")
    stats = _link(con, settings, now, "company", profiles, pairs, overrides)
    moves = con.sql("SELECT loser, winner FROM batch_fuzzy_moves").pl()
    survivors = profiles.filter(~pl.col("node_id").is_in(moves["loser"].implode()))
    # the batch's records are staged at `now`; without any, the staged companies stay as they
    # are, and an org with none (a decision-only sync) has no profiles to save
    stamp = _as_stamp(con, now) if in_batch else _staged_stamp(con, settings, "stg_companies")
    if stamp is not None:
        save_company_index(index_dir(settings), survivors, moves["winner"], settings.org_id, stamp)
    return {
        **stats,
        "company_profiles_read": read,
        "company_fuzzy_seconds": round(time.perf_counter() - started, 3),
    }


def _nothing_to_link(con: duckdb.DuckDBPyConnection, entity: str) -> dict[str, Any]:
    """An empty batch: empty review queue, same statistics keys as `_link`."""
    batch.replace(con, f"batch_possible_duplicates_{entity}", _EMPTY_REVIEW)
    batch.replace(con, f"batch_review_dismissed_{entity}", _ruled_apart([]))
    prefix = "" if entity == "contact" else "company_"
    return {
        f"{prefix}fuzzy_nodes": 0,
        f"{prefix}fuzzy_candidate_pairs": 0,
        f"{prefix}fuzzy_merges": 0,
        f"{prefix}review_queue": 0,
        f"{prefix}cluster_stats": json.dumps({}),
    }


def _link(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    now: datetime,
    entity: str,
    profiles: pl.DataFrame,
    pairs: pl.DataFrame,
    overrides: Overrides,
) -> dict[str, Any]:
    # the nodes the warehouse already holds (the others were minted this batch)
    published = created_of(con, settings.org_id, entity, profiles["node_id"])["entity_id"]
    clusters = cluster(profiles, pairs, overrides, settings, published)
    never = resolve_overrides(overrides, profiles).never
    review = _review_rows(pairs, clusters, never, settings.org_id, now, entity)
    batch.replace(con, f"batch_possible_duplicates_{entity}", review)
    batch.replace(con, f"batch_review_dismissed_{entity}", _ruled_apart(never))
    moves = clusters.filter(pl.col("rule").is_not_null()).select(
        loser="node_id", winner="cluster_id", rule="rule", score="score"
    )
    batch.replace(con, "batch_fuzzy_moves", moves)
    if moves.height:
        _apply_moves(con, settings.org_id, entity)
    stats = cluster_stats(clusters, pairs)
    prefix = "" if entity == "contact" else "company_"
    return {
        f"{prefix}fuzzy_nodes": profiles.height,
        f"{prefix}fuzzy_candidate_pairs": pairs.height,
        f"{prefix}fuzzy_merges": moves.height,
        f"{prefix}review_queue": review.height,
        f"{prefix}cluster_stats": json.dumps(stats, default=str),
    }


def _ruled_apart(never: list[tuple[str, str]]) -> pl.DataFrame:
    """The never_merge pairs (node ids, a < b): they leave the review queue, whenever they
    were queued."""
    return pl.DataFrame(never, schema={"id_a": pl.String, "id_b": pl.String}, orient="row")


def _apply_moves(con: duckdb.DuckDBPyConnection, org: str, entity: str) -> None:
    """Records of losing nodes join the winners; existing losers become merges."""
    execute(
        con,
        f"""UPDATE batch_assign_{entity} a SET entity_id = m.winner, match_rule = m.rule,
               match_score = m.score
           FROM batch_fuzzy_moves m WHERE a.entity_id = m.loser""",
    )
    execute(
        con,
        f"""UPDATE batch_merges_{entity} x SET winner_id = m.winner
           FROM batch_fuzzy_moves m WHERE x.winner_id = m.loser""",
    )
    execute(
        con,
        f"""INSERT INTO batch_merges_{entity} (winner_id, loser_id, rule, score)
           SELECT m.winner, m.loser, m.rule, m.score FROM batch_fuzzy_moves m
           WHERE m.loser IN (SELECT id FROM {ENTITY_TABLE[entity]} WHERE org_id = $org)""",
        {"org": org},
    )
    execute(
        con,
        f"""UPDATE batch_keys_{entity} k SET entity_id = m.winner
           FROM batch_fuzzy_moves m WHERE k.entity_id = m.loser""",
    )
