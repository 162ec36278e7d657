"""Survivorship: build the canonical row of every entity the batch touched (the `merge` stage).

Only *affected* entities are recomputed: those that received a new record, won a merge, or lost
records because their file changed. For each, all of its staged records (persisted ones plus this
batch's) are folded into one row in DuckDB SQL:

* the winner's id is the oldest entity's (decided in resolve);
* a field takes the first non-empty value in the order its rule names (rex.yaml
  `resolution.survivorship`): `oldest` = oldest record first, `newest` = most recently updated
  record first; fields without a rule use `oldest`, so empty fields fill from the others;
* stage takes the most advanced lifecycle stage (lead < prospect < customer < churned),
  `lead` when no record names one;
* tags and metadata keys are unioned (on a metadata key conflict the newest record wins);
* every address of every record is kept in contact_emails (lower case, as contacts.email;
  contact_sources keeps each as given).

The records this run writes to staging (`batch_*_records*`: new ones, and persisted ones whose
ids follow a merge) are kept apart from the persisted ones that stay as they are: those are only
read, at their row ids and only in the columns the fold needs, so the cost follows the batch.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from rex_pipeline.batch import reread_filter
from rex_pipeline.config import Settings
from rex_pipeline.schema import STAGES
from rex_pipeline.warehouse import execute, scalar


def _pick(column: str, rule: str, alias: str | None = None) -> str:
    rank = "old_rank" if rule == "oldest" else "new_rank"
    return f"arg_min({column}, {rank}) FILTER (WHERE {column} IS NOT NULL) AS {alias or column}"


def _metadata_sql(records: str) -> str:
    """Union of the records' metadata objects per entity; the newest record wins a key. Keys
    are written in sorted order, so the same records always give the same JSON text. The
    object is written as text (the same text `to_json` of a MAP gives: `->` values are
    already minified JSON), which costs a third of building the MAP. Keys and values are
    split side by side (`$.*` lists the values in key order): looking a key up with `->`
    would read "", "$…" and "/…" keys as paths, and parse the object again for every key.

    Each entity's objects are gathered in one list and merged inside it (entries sorted by
    key, then rank, then value; the first of each key wins): grouping the unnested entries
    by (entity, key) and aggregating them again in key order cost twice as much, and its
    hash table spilled at a million records."""
    entries = """list_transform(list_zip(json_keys(x.m), json_extract(x.m, '$.*')),
                     lambda e: {'k': e[1], 'r': x.r, 'v': e[2]})"""
    return f"""
        SELECT entity_id, '{{' || array_to_string(list_transform(
                   list_filter(s, lambda x, i: i = 1 OR s[i - 1].k <> x.k),
                   lambda x: to_json(x.k) || ':' || x.v), ',') || '}}' AS metadata
        FROM (
            SELECT entity_id, list_sort(flatten(list_transform(objects, lambda x: {entries})))
                AS s
            FROM (
                SELECT entity_id, list({{'r': new_rank, 'm': m}}) AS objects
                FROM (SELECT entity_id, new_rank, metadata::JSON AS m FROM {records}
                      WHERE metadata IS NOT NULL)
                WHERE json_type(m) = 'OBJECT' GROUP BY entity_id
            )
        )"""


def _drop(con: duckdb.DuckDBPyConnection, *tables: str) -> None:
    """Drop temp tables as soon as they are read: they are held in memory, and what they
    held pushed the fold's aggregations into spilling at a million records."""
    for table in tables:
        execute(con, f"DROP TABLE IF EXISTS {table}")


def _fold_metadata(con: duckdb.DuckDBPyConnection, ranked: str, into: str) -> None:
    """The metadata union as a temp table of its own: folded in the same query as the other
    fields, both aggregations held memory at once and the query cost a third more."""
    execute(con, f"CREATE OR REPLACE TEMP TABLE {into} AS {_metadata_sql(ranked)}")


def _ranks(records: str, row_id: str = "rowid", ranked_last: str | None = None) -> str:
    """SQL: each record's `row_id` with its old_rank and new_rank. The two global sorts see
    only the ordering columns and the row id, and the ranks join back by row id: sorting the
    folded columns along (metadata text, tag and email lists) cost three times as much.
    `ranked_last` (a SQL condition) puts the records it holds after all others in both
    orders."""
    last = f"coalesce({ranked_last}, false), " if ranked_last else ""
    return f"""
        SELECT {row_id} AS row_id,
            row_number() OVER (ORDER BY {last}coalesce(created_at, loaded_at), source_system,
                               source_file, source_row, record_id) AS old_rank,
            row_number() OVER (ORDER BY {last}coalesce(updated_at, created_at, loaded_at) DESC,
                               coalesce(created_at, loaded_at) DESC, source_system,
                               source_file, source_row DESC, record_id) AS new_rank
        FROM {records}"""


def _ranked(records: str, columns: list[str], ranks: str, row_id: str = "rowid") -> str:
    """`columns` of the records with their old_rank and new_rank, from `ranks` (a table or
    subquery of `_ranks`). Only the columns the fold reads are kept: a copy of every column of
    a million records is what made this stage spill (or, without a memory limit, grow past
    5 GB)."""
    return f"""
        SELECT {", ".join(f"r.{c}" for c in columns)}, k.old_rank, k.new_rank
        FROM {records} r JOIN {ranks} k ON k.row_id = r.{row_id}"""


def _old_rows(
    con: duckdb.DuckDBPyConnection, staged: str, affected: str, moved: str, into: str, org: str
) -> None:
    """`into`: the row id of every persisted record of the affected entities (except those of a
    file this run reads again) and whether it `moved` (a SQL condition on `s`): its ids follow
    a merge of this batch, or a new record replaces it. Found on the few columns these filters
    need, so that the wide records are then read only where they are needed: filtered in one
    query, every column of every staged record was read (the re-read-file anti join ran before
    the affected-entity semi join), a cost that followed the warehouse, not the batch."""
    execute(
        con,
        f"""CREATE OR REPLACE TEMP TABLE {into} AS
            SELECT s.rowid AS row_id, coalesce({moved}, false) AS moved FROM {staged} s
            WHERE s.org_id = $org AND s.entity_id IN (SELECT entity_id FROM {affected})
              AND NOT {reread_filter(con, "s")}""",
        {"org": org},
    )


def _fold_input(
    con: duckdb.DuckDBPyConnection, staged: str, rows: str, written: str, into: str
) -> None:
    """`into` (a temp view, with each record's `row_id`): what survivorship reads
    (`_FOLDED[into]`) of every record of the affected entities: the persisted ones that stay
    as they are, read at their row ids, and the ones this run writes (`written`). When no
    persisted record stays as it is (a first run), `written` holds them all and is read
    where it is: a temp copy of a million records held 0.4 GB of memory, and with it the
    fold's aggregations spilled."""
    picked = ", ".join(dict.fromkeys([*_FOLDED[into], *_RANK_COLUMNS]))
    copy = f"{into}_copy"
    _drop(con, copy)
    source = written
    if scalar(con, f"SELECT count(*) FROM {rows} WHERE NOT moved"):
        execute(
            con,
            f"""CREATE TEMP TABLE {copy} AS
                SELECT {picked} FROM {staged}
                WHERE rowid IN (SELECT row_id FROM {rows} WHERE NOT moved)
                UNION ALL SELECT {picked} FROM {written}""",
        )
        source = copy
    execute(
        con,
        f"CREATE OR REPLACE TEMP VIEW {into} AS SELECT rowid AS row_id, {picked} FROM {source}",
    )


def _fold_done(con: duckdb.DuckDBPyConnection, into: str, *tables: str) -> None:
    """Forget the fold's input view and temp tables."""
    execute(con, f"DROP VIEW IF EXISTS {into}")
    _drop(con, f"{into}_copy", *tables)


# The canonical contact's fields picked from one record, and the staged column each reads.
_CONTACT_FIELDS = {
    "first_name": "first_name",
    "last_name": "last_name",
    "phone": "phone",
    "title": "title",
    "linkedin_url": "linkedin_url",
    "source": "source",
    "source_detail": "source_detail",
    "company_id": "company_id",
    "owner_id": "owner",
}
# What the fold reads of each record (besides the columns that rank the records).
_FOLDED = {
    "contact_fold_records": [
        *("entity_id", "org_id", "email", "other_emails", "stage", "tags", "metadata"),
        *("created_at", "loaded_at", *dict.fromkeys(_CONTACT_FIELDS.values())),
    ],
    "company_fold_records": [
        *("entity_id", "org_id", "record_id", "name", "domain", "industry", "size"),
        *("description", "metadata", "created_at", "loaded_at"),
    ],
}
_RANK_COLUMNS = ("record_id", "source_system", "source_file", "source_row", "updated_at")


def build_contact_records(
    con: duckdb.DuckDBPyConnection, settings: Settings, now: datetime
) -> None:
    """`batch_contact_records`: the contact records this run writes to staging, with ids
    following this batch's merges: its new records, and the persisted ones of affected contacts
    whose ids a merge moves. The persisted records that stay as they are are only listed (in
    `old_contact_rows`): rewriting them changed nothing but cost a copy of every column.
    `batch_affected_contact` lists the contacts to fold again, `contact_fold_records` what the
    fold reads of all of their records."""
    params = {"org": settings.org_id, "now": now}
    execute(
        con,
        f"""
        CREATE OR REPLACE TABLE batch_affected_contact AS
        SELECT DISTINCT entity_id FROM (
            SELECT entity_id FROM batch_assign_contact
            UNION ALL SELECT winner_id FROM batch_merges_contact
            UNION ALL SELECT loser_id FROM batch_merges_contact
            UNION ALL SELECT s.entity_id FROM stg_contacts s
                WHERE s.org_id = $org AND {reread_filter(con, "s")}
            UNION ALL SELECT c.id FROM contacts c
                JOIN batch_merges_company m ON c.company_id = m.loser_id WHERE c.org_id = $org
        )""",
        params,
    )
    moved = """(s.entity_id IN (SELECT loser_id FROM batch_merges_contact)
                OR s.company_id IN (SELECT loser_id FROM batch_merges_company)
                OR s.record_id IN (SELECT record_id FROM batch_clean_contacts))"""
    _old_rows(
        con, "stg_contacts", "batch_affected_contact", moved, "old_contact_rows", settings.org_id
    )
    execute(
        con,
        """
        CREATE OR REPLACE TABLE batch_contact_records AS
        WITH old AS (
            SELECT s.* REPLACE (
                coalesce(cm.winner_id, s.entity_id) AS entity_id,
                coalesce(km.winner_id, s.company_id) AS company_id)
            FROM stg_contacts s
            LEFT JOIN batch_merges_contact cm ON s.entity_id = cm.loser_id
            LEFT JOIN batch_merges_company km ON s.company_id = km.loser_id
            WHERE s.rowid IN (SELECT row_id FROM old_contact_rows WHERE moved)
        ), new AS (
            SELECT c.*, a.entity_id, coalesce(km.winner_id, ca.entity_id) AS company_id,
                   -- a record seen before keeps the explanation of its first match
                   CASE WHEN prev.entity_id = a.entity_id THEN prev.match_rule
                        ELSE a.match_rule END AS match_rule,
                   CASE WHEN prev.entity_id = a.entity_id THEN prev.match_score
                        ELSE a.match_score END AS match_score,
                   coalesce(prev.loaded_at, $now::TIMESTAMPTZ) AS loaded_at
            FROM batch_clean_contacts c
            JOIN batch_assign_contact a USING (record_id)
            LEFT JOIN batch_assign_company ca ON ca.record_id = c.record_id || ':company'
            LEFT JOIN batch_merges_company km ON ca.entity_id = km.loser_id
            LEFT JOIN stg_contacts prev ON prev.record_id = c.record_id AND prev.org_id = $org
        )
        SELECT * FROM old UNION ALL BY NAME SELECT * FROM new
        """,
        params,
    )
    _fold_input(
        con, "stg_contacts", "old_contact_rows", "batch_contact_records", "contact_fold_records"
    )


def build_canonical_contacts(con: duckdb.DuckDBPyConnection, settings: Settings) -> int:
    """`batch_canonical_contacts` and `batch_canonical_contact_emails` for affected contacts;
    returns the number of records folded."""
    rules = settings.resolution.survivorship
    picks = ",\n".join(
        _pick(column, rules.get(name, "oldest"), name) for name, column in _CONTACT_FIELDS.items()
    )
    stages = "[" + ", ".join(f"'{s}'" for s in STAGES) + "]"
    records = "contact_fold_records"
    execute(con, f"CREATE OR REPLACE TEMP TABLE contact_ranks AS {_ranks(records, 'row_id')}")
    ranked = f"({_ranked(records, _FOLDED[records], 'contact_ranks', 'row_id')})"
    _fold_metadata(con, ranked, "contact_metadata")
    execute(
        con,
        f"""
        CREATE OR REPLACE TABLE batch_canonical_contacts AS
        WITH agg AS (
            SELECT entity_id AS id, any_value(org_id) AS org_id,
                arg_min(lower(email), old_rank) FILTER (WHERE email IS NOT NULL) AS email,
                {picks},
                arg_max(stage, list_position({stages}, stage)) FILTER (WHERE stage IS NOT NULL)
                    AS stage,
                list_sort(list_distinct(flatten(list(tags) FILTER (WHERE tags IS NOT NULL))))
                    AS tags,
                min(coalesce(created_at, loaded_at)) AS created_at
            FROM {ranked} GROUP BY entity_id
        )
        SELECT agg.id, agg.org_id, agg.email, agg.first_name, agg.last_name, agg.phone,
               agg.title, agg.linkedin_url, coalesce(agg.stage, 'lead') AS stage,
               agg.source, agg.source_detail,
               agg.company_id, agg.owner_id,
               NULL::INTEGER AS icp_score, NULL::VARCHAR AS icp_score_reason,
               NULL::TIMESTAMPTZ AS icp_scored_at,
               coalesce(agg.tags, []::VARCHAR[]) AS tags,
               coalesce(md.metadata, '{{}}')::JSON AS metadata,
               agg.created_at, NULL::TIMESTAMPTZ AS updated_at
        FROM agg LEFT JOIN contact_metadata md ON md.entity_id = agg.id
        """,
    )
    # every address of a record, lower case as `contacts.email`, in one pass over the records
    execute(
        con,
        f"""
        CREATE OR REPLACE TABLE batch_canonical_contact_emails AS
        WITH addresses AS (
            SELECT entity_id, org_id,
                   unnest(CASE WHEN email IS NULL THEN other_emails
                          ELSE list_prepend(email, coalesce(other_emails, [])) END) AS email
            FROM {ranked} WHERE email IS NOT NULL OR other_emails IS NOT NULL
        ), distinct_addresses AS (
            SELECT DISTINCT entity_id, org_id, lower(email) AS email FROM addresses
        )
        SELECT a.entity_id AS contact_id, a.org_id, a.email,
               coalesce(a.email = c.email, false) AS is_primary
        FROM distinct_addresses a JOIN batch_canonical_contacts c ON c.id = a.entity_id
        """,
    )
    folded = int(scalar(con, "SELECT count(*) FROM contact_ranks") or 0)
    _fold_done(con, records, "contact_ranks", "contact_metadata")
    return folded


def build_company_records(
    con: duckdb.DuckDBPyConnection, settings: Settings, now: datetime
) -> None:
    """`batch_company_records_all`: the company records this run writes to staging (its new
    ones, and persisted ones whose id a merge moves); `batch_affected_company` lists the
    companies to fold again, `company_fold_records` all of their records (as for contacts)."""
    params = {"org": settings.org_id, "now": now}
    execute(
        con,
        f"""
        CREATE OR REPLACE TABLE batch_affected_company AS
        SELECT DISTINCT entity_id FROM (
            SELECT entity_id FROM batch_assign_company
            UNION ALL SELECT winner_id FROM batch_merges_company
            UNION ALL SELECT loser_id FROM batch_merges_company
            UNION ALL SELECT s.entity_id FROM stg_companies s
                WHERE s.org_id = $org AND {reread_filter(con, "s")}
        )""",
        params,
    )
    moved = """(s.entity_id IN (SELECT loser_id FROM batch_merges_company)
                OR s.record_id IN (SELECT record_id FROM batch_company_records))"""
    _old_rows(
        con, "stg_companies", "batch_affected_company", moved, "old_company_rows", settings.org_id
    )
    execute(
        con,
        """
        CREATE OR REPLACE TABLE batch_company_records_all AS
        WITH old AS (
            SELECT s.* REPLACE (coalesce(m.winner_id, s.entity_id) AS entity_id)
            FROM stg_companies s
            LEFT JOIN batch_merges_company m ON s.entity_id = m.loser_id
            WHERE s.rowid IN (SELECT row_id FROM old_company_rows WHERE moved)
        ), new AS (
            SELECT c.* EXCLUDE (from_contact), a.entity_id,
                   CASE WHEN prev.entity_id = a.entity_id THEN prev.match_rule
                        ELSE a.match_rule END AS match_rule,
                   CASE WHEN prev.entity_id = a.entity_id THEN prev.match_score
                        ELSE a.match_score END AS match_score,
                   coalesce(prev.loaded_at, $now::TIMESTAMPTZ) AS loaded_at
            FROM batch_company_records c
            JOIN batch_assign_company a USING (record_id)
            LEFT JOIN stg_companies prev ON prev.record_id = c.record_id AND prev.org_id = $org
        )
        SELECT * FROM old UNION ALL BY NAME SELECT * FROM new
        """,
        params,
    )
    _fold_input(
        con,
        "stg_companies",
        "old_company_rows",
        "batch_company_records_all",
        "company_fold_records",
    )


def build_canonical_companies(con: duckdb.DuckDBPyConnection) -> None:
    """Company files outrank what contact records say of their company (its name, and the
    industry and size enrichment exports put on contact rows); then the fields' rules."""
    records = "company_fold_records"
    ranks = _ranks(records, "row_id", ranked_last="record_id LIKE '%:company'")
    execute(con, f"CREATE OR REPLACE TEMP TABLE company_ranks AS {ranks}")
    ranked = f"({_ranked(records, _FOLDED[records], 'company_ranks', 'row_id')})"
    _fold_metadata(con, ranked, "company_metadata")
    execute(
        con,
        f"""
        CREATE OR REPLACE TABLE batch_canonical_companies AS
        WITH agg AS (
            SELECT entity_id AS id, any_value(org_id) AS org_id,
                {_pick("name", "oldest")}, {_pick("domain", "oldest")},
                {_pick("industry", "newest")}, {_pick("size", "newest")},
                {_pick("description", "newest")},
                min(coalesce(created_at, loaded_at)) AS created_at
            FROM {ranked} GROUP BY entity_id
        )
        SELECT agg.id, agg.org_id, agg.name, agg.domain, agg.industry, agg.size,
               agg.description, coalesce(md.metadata, '{{}}')::JSON AS metadata,
               agg.created_at, NULL::TIMESTAMPTZ AS updated_at
        FROM agg LEFT JOIN company_metadata md ON md.entity_id = agg.id
        """,
    )
    _fold_done(con, records, "company_ranks", "company_metadata")
