"""Apply a resolved, merged and scored batch to the work database in ONE transaction.

Either every canonical table reflects the batch or none does: a failure anywhere rolls back and
leaves the previous state (and the unchanged published warehouse) intact. Afterwards the batch
tables are dropped and `warehouse.publish` swaps the new analyst copy in.

Canonical rows are upserted by id; `updated_at` moves only when a row's content changed and
`created_at` never moves, so re-running on the same inbox changes nothing.

Every canonical row the apply inserts, deletes or updates has its key logged (`touch`, see
publish/touched.py) before the statement that changes it, so that the publish compares only
those rows. An org's first run (no canonical rows or staged records yet) writes everything new
and skips what only an update needs: looking up and hashing old rows, deleting, copying the
staged records aside (`_insert_first`, `_apply_staged`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from rex_pipeline import batch
from rex_pipeline.batch import reread_filter
from rex_pipeline.config import Settings
from rex_pipeline.faults import crash_point
from rex_pipeline.publish import touched
from rex_pipeline.publish.derived import table_shapes
from rex_pipeline.publish.touched import touch, touch_files
from rex_pipeline.resolve.decisions import apply_overrides_digest
from rex_pipeline.schema import TABLES_BY_NAME
from rex_pipeline.score.state import apply_insights, apply_model_hash
from rex_pipeline.warehouse import execute, mark_changed, scalar

# columns that are not "content" when deciding whether a row changed
_VOLATILE = {"updated_at", "created_at", "icp_score", "icp_score_reason", "icp_scored_at"}
_STAGED = {
    "contact": ("stg_contacts", "batch_contact_records"),
    "company": ("stg_companies", "batch_company_records_all"),
}


@dataclass
class ApplyStats:
    upserted: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)


def _content(alias: str, column: str, type_: str) -> str:
    """A column's value for comparison. A JSON object compares by its sorted entries: its key
    order is not content (survivorship folds metadata with an unordered aggregate), and a
    reordered object must not move `updated_at`. Anything else (and an object with a
    duplicate key, which no MAP can hold) compares as text."""
    value = f'{alias}."{column}"'
    if type_ != "JSON":
        return value
    entries = f"list_sort(map_entries(TRY_CAST({value} AS MAP(VARCHAR, JSON))))"
    return f"coalesce('object:' || CAST({entries} AS VARCHAR), CAST({value} AS VARCHAR))"


def _content_hash(alias: str, table: str) -> str:
    cols = [c for c in TABLES_BY_NAME[table].columns if c.name not in _VOLATILE]
    return (
        "md5(CAST(struct_pack("
        + ", ".join(f'"{c.name}" := {_content(alias, c.name, c.type)}' for c in cols)
        + ") AS VARCHAR))"
    )


def _upsert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    source: str,
    org: str,
    now: datetime,
    replace_ids: str | None = None,
) -> tuple[int, int]:
    """Replace rows of `table` by id with `source` rows; an unchanged row keeps its old values
    of created_at/updated_at, the ICP fields and its JSON text. `replace_ids` (a query of ids)
    also deletes ids that have no new row (e.g. merge losers). Returns (rows written, rows
    whose content changed)."""
    spec = TABLES_BY_NAME[table]
    if _first_run(con, f'"{table}"', org):
        return _insert_first(con, table, source, now)
    same = "(o.id IS NOT NULL AND n.__content = o.__content)"
    kept = [
        "coalesce(o.created_at, n.created_at) AS created_at",
        f"CASE WHEN {same} THEN o.updated_at ELSE $now::TIMESTAMPTZ END AS updated_at",
        *(
            f'CASE WHEN {same} THEN o."{c.name}" ELSE n."{c.name}" END AS "{c.name}"'
            for c in spec.columns
            if c.type == "JSON"
        ),
    ]
    if table == "contacts":  # the score asset sets new scores after the upsert
        kept += [f"o.{c} AS {c}" for c in ("icp_score", "icp_score_reason", "icp_scored_at")]
    # Each side's content hash is computed once (it is costly: JSON objects are sorted). The
    # old rows are fetched by rowid: a scan of the ids finds them, and only their wide columns
    # are then read (a join on id reads every column of every row).
    execute(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE upsert_rows AS
        WITH o AS (
            SELECT *, {_content_hash(table, table)} AS __content FROM "{table}"
            WHERE rowid IN (
                SELECT rowid FROM "{table}" WHERE org_id = $org AND id IN (SELECT id FROM {source})
            )
        ), n AS (
            SELECT *, {_content_hash(source, table)} AS __content FROM {source}
        )
        SELECT n.* EXCLUDE (__content) REPLACE ({", ".join(kept)}), NOT {same} AS changed
        FROM n LEFT JOIN o ON o.id = n.id
        """,
        {"now": now, "org": org},
    )
    written, changed = execute(
        con, "SELECT count(*), count(*) FILTER (WHERE changed) FROM upsert_rows"
    )[0]
    touch(
        con,
        table,
        "SELECT id FROM upsert_rows" + (f" UNION ALL {replace_ids}" if replace_ids else ""),
    )
    execute(
        con,
        f'DELETE FROM "{table}" WHERE org_id = $org AND id IN (SELECT id FROM upsert_rows'
        + (f" UNION ALL {replace_ids})" if replace_ids else ")"),
        {"org": org},
    )
    col_list = ", ".join(f'"{c}"' for c in spec.column_names)
    execute(con, f'INSERT INTO "{table}" ({col_list}) SELECT {col_list} FROM upsert_rows')
    return written, changed


def _first_run(con: duckdb.DuckDBPyConnection, table: str, org: str) -> bool:
    """Whether `table` holds no row of the org yet: its first run, with nothing old to keep."""
    return not execute(con, f"SELECT 1 FROM {table} WHERE org_id = $org LIMIT 1", {"org": org})


def _insert_first(
    con: duckdb.DuckDBPyConnection, table: str, source: str, now: datetime
) -> tuple[int, int]:
    """`_upsert` into a table without rows of the org (its first run): every row is new, so
    nothing old is looked up, deleted or hashed (the content hash sorts every JSON object: at a
    million contacts most of the upsert's cost), and the rows go in straight from `source`."""
    spec = TABLES_BY_NAME[table]
    new = {"created_at": "n.created_at", "updated_at": "$now::TIMESTAMPTZ"}
    if table == "contacts":  # the score asset sets the scores after the upsert
        new |= dict.fromkeys(("icp_score", "icp_score_reason", "icp_scored_at"), "NULL")
    col_list = ", ".join(f'"{c}"' for c in spec.column_names)
    values = ", ".join(new.get(c, f'n."{c}"') for c in spec.column_names)
    touch(con, table, f"SELECT id FROM {source}")
    (written,) = execute(
        con,
        f'INSERT INTO "{table}" ({col_list}) SELECT {values} FROM {source} AS n',
        {"now": now},
    )[0]
    return int(written), int(written)  # type: ignore[call-overload]


def _delete_any(
    con: duckdb.DuckDBPyConnection, table: str, predicates: list[str], org: str
) -> None:
    """Delete the org's rows of `table` (alias t) that match any of `predicates`, one
    statement each: DuckDB pushes a lone semi-join into the scan as a filter, but plans an OR
    of them as mark joins over every row (1M warehouse, stg_companies: 0.35 s -> 0.09 s)."""
    for predicate in predicates:
        execute(con, f"DELETE FROM {table} t WHERE t.org_id = $org AND {predicate}", {"org": org})


def _take_over(con: duckdb.DuckDBPyConnection, stg: str, records: str, assigned: str) -> bool:
    """On the first run into an empty staged table, the batch's record table becomes it (a
    rename, in the apply transaction): with nothing staged, it holds exactly the records this
    batch assigned, and copying them cost a second write of every record (1M contacts: ~4.4
    CPU-s, companies ~2.5). Only when the two tables have the same columns and types in the
    same order (staged tables have no constraints or indexes to lose) and every assigned
    record is there; otherwise the caller copies."""
    if scalar(con, f"SELECT count(*) FROM {stg}"):
        return False
    catalog = str(scalar(con, "SELECT current_database()"))
    shapes = table_shapes(con, catalog)
    if shapes.get((catalog, stg)) != shapes.get((catalog, records)):
        return False
    count = f"SELECT (SELECT count(*) FROM {records}) = (SELECT count(*) FROM {assigned})"
    if not scalar(con, count):
        return False
    execute(con, f"DROP TABLE {stg}")
    execute(con, f"ALTER TABLE {records} RENAME TO {stg}")
    return True


def _apply_staged(con: duckdb.DuckDBPyConnection, entity: str, org: str) -> str:
    """Persist the batch's staged records. The batch's record table holds the records this
    batch assigned (new, or of a re-read file) and every other staged record of the entities
    it touched, unchanged but for merged-away ids (a large company has thousands): only the
    assigned records and those of merged-away entities are written over, so the cost follows
    the batch. Returns where the written rows are, for the lineage tables: `staged_<entity>`,
    or, on the org's first run (nothing staged yet, nothing to delete), its staged records
    themselves, written straight from the batch without a copy in between."""
    stg, records = _STAGED[entity]
    losers = f"SELECT loser_id FROM batch_merges_{entity}"
    if _first_run(con, stg, org):
        if not _take_over(con, stg, records, f"batch_assign_{entity}"):
            execute(
                con,
                f"""INSERT INTO {stg} BY NAME SELECT * FROM {records}
                    WHERE record_id IN (SELECT record_id FROM batch_assign_{entity})""",
            )
        return f"(SELECT * FROM {stg} WHERE org_id = $org)"
    # the staged records of merged-away entities, found once: deleted by rowid (valid until the
    # transaction ends), not by a second scan of the table for their ids
    execute(
        con,
        f"""CREATE OR REPLACE TEMP TABLE merged_away AS SELECT rowid AS row_id, record_id
            FROM {stg} WHERE org_id = $org AND entity_id IN ({losers})""",
        {"org": org},
    )
    execute(
        con,
        f"""CREATE OR REPLACE TEMP TABLE staged_{entity} AS
            SELECT * FROM {records} WHERE record_id IN (
                SELECT record_id FROM batch_assign_{entity}
                UNION ALL SELECT record_id FROM merged_away)""",
    )
    merged_away = "t.rowid IN (SELECT row_id FROM merged_away)"
    _delete_any(con, stg, [merged_away, reread_filter(con, "t")], org)
    execute(con, "DROP TABLE merged_away")
    execute(con, f"INSERT INTO {stg} BY NAME SELECT * FROM staged_{entity}")
    return f"staged_{entity}"


def _apply_keys(
    con: duckdb.DuckDBPyConnection, entity: str, keys_table: str, org: str, now: datetime
) -> None:
    execute(
        con,
        f"""DELETE FROM identity_keys WHERE org_id = $org AND entity = '{entity}'
            AND key IN (SELECT key FROM {keys_table})""",
        {"org": org},
    )
    execute(
        con,
        f"""INSERT INTO identity_keys
            SELECT $org, '{entity}', key, entity_id, $now::TIMESTAMPTZ FROM {keys_table}""",
        {"org": org, "now": now},
    )
    if batch.exists(con, f"batch_merges_{entity}"):
        _repoint_keys(con, entity, org)


def _repoint_keys(con: duckdb.DuckDBPyConnection, entity: str, org: str) -> None:
    """Point the identity keys of merged-away ids at their winners. A delete and re-insert
    rather than an UPDATE: at the next checkpoint DuckDB rewrites every row group an UPDATE
    touched, and merged ids are spread over all of the identity map's row groups, while a
    delete is kept as a mask and new rows are appended (1M warehouse, 3,800 merged contacts:
    1.4 CPU-s of statement and checkpoint -> 0.6). The keys found are deleted by their rowid
    (valid until the transaction ends): finding them again by entity id would scan the whole
    identity map a second time (4M keys: ~0.1 s)."""
    execute(
        con,
        f"""CREATE OR REPLACE TEMP TABLE repointed_keys AS
            SELECT k.rowid AS __row, k.* REPLACE (m.winner_id AS entity_id) FROM identity_keys k
            JOIN (SELECT loser_id, any_value(winner_id) AS winner_id
                  FROM batch_merges_{entity} GROUP BY ALL) AS m
              ON k.org_id = $org AND k.entity = $entity AND k.entity_id = m.loser_id""",
        {"org": org, "entity": entity},
    )
    execute(con, "DELETE FROM identity_keys WHERE rowid IN (SELECT __row FROM repointed_keys)")
    execute(con, "INSERT INTO identity_keys SELECT * EXCLUDE (__row) FROM repointed_keys")
    execute(con, "DROP TABLE repointed_keys")


# the canonical tables that point at an entity: (their column, the tables)
_POINTING = {
    "contact": ("contact_id", ("activities", "deals", "tasks")),
    "company": ("company_id", ("contacts", "activities", "deals")),
}


def _apply_merges(con: duckdb.DuckDBPyConnection, entity: str, org: str, now: datetime) -> None:
    table = "contact_merges" if entity == "contact" else "company_merges"
    execute(
        con,
        f"""INSERT INTO {table} SELECT $org, winner_id, loser_id, rule, score, $now::TIMESTAMPTZ
            FROM batch_merges_{entity}""",
        {"org": org, "now": now},
    )
    # everything that pointed at a loser follows its winner
    column, pointing = _POINTING[entity]
    for t in pointing:
        touch(
            con,
            t,
            f"""SELECT x.id FROM {t} x WHERE x.org_id = $org AND x.{column} IN
                (SELECT loser_id FROM batch_merges_{entity})""",
            {"org": org},
        )
        execute(
            con,
            f"""UPDATE {t} x SET {column} = m.winner_id FROM batch_merges_{entity} m
                WHERE x.org_id = $org AND x.{column} = m.loser_id""",
            {"org": org},
        )
    if entity == "company":
        execute(
            con,
            """UPDATE stg_contacts x SET company_id = m.winner_id FROM batch_merges_company m
               WHERE x.org_id = $org AND x.company_id = m.loser_id""",
            {"org": org},
        )


def _apply_natural(
    con: duckdb.DuckDBPyConnection, kind: str, table: str, org: str, now: datetime
) -> None:
    records = f"SELECT record_id FROM batch_clean_{table}"
    _delete_any(con, f"stg_{table}", [f"t.record_id IN ({records})", reread_filter(con, "t")], org)
    execute(
        con,
        f"""INSERT INTO stg_{table} BY NAME
            SELECT c.*, a.entity_id, a.match_rule, a.match_score, $now::TIMESTAMPTZ AS loaded_at
            FROM batch_clean_{table} c JOIN batch_assign_{kind} a USING (record_id)""",
        {"now": now},
    )
    execute(
        con,
        f"CREATE OR REPLACE TEMP TABLE natural_keys AS SELECT DISTINCT key, entity_id "
        f"FROM batch_assign_{kind}",
    )
    _apply_keys(con, kind, "natural_keys", org, now)


def _relink_activities(con: duckdb.DuckDBPyConnection, org: str, now: datetime) -> None:
    """Activities and tasks whose contact was unknown when they loaded link up as soon as a
    contact with that address exists: only this run's contact keys can link new ones. Those
    keys were all (re)written with `first_seen_at = now`, which lets the scan of the identity
    map skip its older row groups; the few links found are then applied."""
    for table in ("activities", "tasks", "deals"):
        execute(
            con,
            f"""CREATE OR REPLACE TEMP TABLE relinked AS
                SELECT s.entity_id AS id, k.entity_id AS contact_id
                FROM stg_{table} s JOIN identity_keys k
                  ON k.org_id = s.org_id AND k.entity = 'contact'
                 AND k.key = 'email:' || s.contact_email_key
                WHERE s.org_id = $org AND k.first_seen_at = $now::TIMESTAMPTZ
                  AND k.key IN (SELECT key FROM batch_keys_contact)""",
            {"org": org, "now": now},
        )
        if scalar(con, "SELECT count(*) FROM relinked"):
            touch(con, table, "SELECT id FROM relinked")
            execute(
                con,
                f"""UPDATE {table} x SET contact_id = r.contact_id FROM relinked r
                    WHERE x.org_id = $org AND x.contact_id IS NULL AND x.id = r.id""",
                {"org": org},
            )
    execute(con, "DROP TABLE relinked")


def _apply_sources(con: duckdb.DuckDBPyConnection, org: str, staged: dict[str, str]) -> None:
    """contact_sources / company_sources are the lineage projection of the staged records,
    kept in step with them: the rows of the staged records this run replaced (those of
    re-read files and of merged-away entities) are deleted, and the records it wrote
    (`staged[entity]`, see `_apply_staged`) are projected; every other row stays as it is, so
    the cost follows the batch and not the warehouse."""
    for entity, table, id_col, email in (
        ("contact", "contact_sources", "contact_id", "email"),
        ("company", "company_sources", "company_id", "domain"),
    ):
        losers = f"SELECT loser_id FROM batch_merges_{entity}"
        files = "SELECT file_name FROM batch_files"
        # the rows of the batch's files (those re-read files lose, those its records bring) by
        # their file; the others (of merged-away entities) by their entity
        touch_files(con, table, files)
        keys = (
            f"{losers} UNION ALL SELECT entity_id FROM {staged[entity]} AS s"
            f" WHERE NOT coalesce(s.source_file IN ({files}), false)"
        )
        touch(con, table, keys, {"org": org} if "$org" in keys else None)
        _delete_any(con, table, [f"t.{id_col} IN ({losers})", reread_filter(con, "t")], org)
        execute(
            con,
            f"""INSERT INTO {table} (org_id, {id_col}, source_system, source_file, source_row,
                    source_key, email, match_rule, match_score)
                SELECT org_id, entity_id, source_system, source_file, source_row, source_key,
                       {email}, match_rule, match_score FROM {staged[entity]} AS s
                WHERE org_id = $org""",
            {"org": org},
        )
        if staged[entity] == f"staged_{entity}":
            execute(con, f"DROP TABLE staged_{entity}")


def _apply_rejected(con: duckdb.DuckDBPyConnection, org: str) -> None:
    execute(
        con,
        f"DELETE FROM rejected_records r WHERE r.org_id = $org AND {reread_filter(con, 'r')}",
        {"org": org},
    )
    for name in ("batch_rejected_source", "batch_rejected_normalise"):
        if batch.exists(con, name):
            execute(
                con,
                f"INSERT INTO rejected_records BY NAME SELECT org_id, source_system, source_file, "
                f"source_row, raw::JSON AS raw, reason FROM {name} WHERE org_id = $org",
                {"org": org},
            )


def _apply_stage_changes(con: duckdb.DuckDBPyConnection, org: str, now: datetime) -> None:
    touch(con, "stage_changes", "SELECT id FROM batch_canonical_contacts")
    execute(
        con,
        """INSERT INTO stage_changes
           SELECT n.org_id, n.id, o.stage, n.stage, $now::TIMESTAMPTZ
           FROM batch_canonical_contacts n LEFT JOIN contacts o ON o.id = n.id AND o.org_id = $org
           WHERE n.stage IS NOT NULL AND n.stage IS DISTINCT FROM o.stage""",
        {"org": org, "now": now},
    )


def _apply_manifest(con: duckdb.DuckDBPyConnection, org: str, now: datetime) -> None:
    execute(
        con,
        """DELETE FROM manifest m WHERE m.org_id = $org AND EXISTS (
               SELECT 1 FROM batch_files f WHERE f.org_id = m.org_id
                  AND f.source_system = m.source_system AND f.file_name = m.file_name)""",
        {"org": org},
    )
    execute(
        con,
        "INSERT INTO manifest BY NAME SELECT *, $now::TIMESTAMPTZ AS loaded_at FROM batch_files "
        "WHERE org_id = $org",
        {"org": org, "now": now},
    )
    if batch.exists(con, "batch_own_addresses"):
        execute(
            con,
            """INSERT INTO own_addresses SELECT DISTINCT b.org_id, b.address, b.source_system
               FROM batch_own_addresses b WHERE b.org_id = $org AND NOT EXISTS (
                 SELECT 1 FROM own_addresses o
                 WHERE o.org_id = b.org_id AND o.address = b.address)""",
            {"org": org},
        )


# a contact (c) whose score differs from its new one (s)
_SCORE_DIFFERS = """(c.icp_score IS DISTINCT FROM s.icp_score
    OR c.icp_score_reason IS DISTINCT FROM s.icp_score_reason
    OR c.icp_scored_at IS DISTINCT FROM s.icp_scored_at)"""


def _apply_scores(con: duckdb.DuckDBPyConnection, org: str) -> int:
    if not batch.exists(con, "batch_icp_scores"):
        return 0
    touch(
        con,
        "contacts",
        "SELECT c.id FROM contacts c JOIN batch_icp_scores s ON c.id = s.id"
        f" WHERE c.org_id = $org AND {_SCORE_DIFFERS}",
        {"org": org},
    )
    rows = execute(
        con,
        f"""UPDATE contacts c SET icp_score = s.icp_score, icp_score_reason = s.icp_score_reason,
               icp_scored_at = s.icp_scored_at
           FROM batch_icp_scores s
           WHERE c.org_id = $org AND c.id = s.id AND {_SCORE_DIFFERS}""",
        {"org": org},
    )
    return int(rows[0][0]) if rows else 0  # type: ignore[arg-type]


def _apply_review_queue(con: duckdb.DuckDBPyConnection, org: str) -> None:
    """New pairs join the review queue (a pair seen before keeps its detected_at); pairs whose
    side was merged away leave it, and so do pairs an analyst ruled apart (never_merge)."""
    for entity in ("contact", "company"):
        if batch.exists(con, f"batch_merges_{entity}"):
            execute(
                con,
                f"""DELETE FROM possible_duplicates WHERE org_id = $org AND entity = '{entity}'
                    AND (id_a IN (SELECT loser_id FROM batch_merges_{entity})
                      OR id_b IN (SELECT loser_id FROM batch_merges_{entity}))""",
                {"org": org},
            )
        if batch.exists(con, f"batch_review_dismissed_{entity}"):
            execute(
                con,
                f"""DELETE FROM possible_duplicates p WHERE org_id = $org AND entity = '{entity}'
                    AND EXISTS (SELECT 1 FROM batch_review_dismissed_{entity} d
                                WHERE d.id_a = p.id_a AND d.id_b = p.id_b)""",
                {"org": org},
            )
    if batch.exists(con, "batch_possible_duplicates"):
        execute(
            con,
            """INSERT INTO possible_duplicates BY NAME
               SELECT b.* REPLACE (b.evidence::JSON AS evidence) FROM batch_possible_duplicates b
               WHERE NOT EXISTS (SELECT 1 FROM possible_duplicates p
                   WHERE p.org_id = b.org_id AND p.entity = b.entity
                     AND p.id_a = b.id_a AND p.id_b = b.id_b)""",
        )


def _batch_had_files(con: duckdb.DuckDBPyConnection) -> bool:
    """Records only ever change because a file was (re)read: no file, no change."""
    return batch.exists(con, "batch_files") and bool(
        scalar(con, "SELECT count(*) FROM batch_files")
    )


def _views_digest(con: duckdb.DuckDBPyConnection, org: str) -> object:
    return scalar(
        con,
        "SELECT md5(coalesce(string_agg(concat_ws('|', name, description, query::VARCHAR), '|' "
        "ORDER BY name), '')) FROM saved_views WHERE org_id = ?",
        [org],
    )


def _apply_views(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """saved_views mirrors the `views:` section of rex.yaml."""
    execute(con, "DELETE FROM saved_views WHERE org_id = $org", {"org": settings.org_id})
    for view in settings.views:
        execute(
            con,
            "INSERT INTO saved_views VALUES ($org, $name, $description, $query::JSON)",
            {
                "org": settings.org_id,
                "name": view.name,
                "description": view.description,
                "query": json.dumps(view.query),
            },
        )


def apply_batch(con: duckdb.DuckDBPyConnection, settings: Settings, now: datetime) -> ApplyStats:
    """The one transaction that makes a run's results durable."""
    org = settings.org_id
    stats = ApplyStats()
    execute(con, "BEGIN TRANSACTION")
    try:
        crash_point("apply.begun")
        _apply_stage_changes(con, org, now)
        staged = {}
        for entity in ("company", "contact"):
            staged[entity] = _apply_staged(con, entity, org)
            _apply_merges(con, entity, org, now)
            _apply_keys(con, entity, f"batch_keys_{entity}", org, now)
        stats.upserted["companies"], stats.changed["companies"] = _upsert(
            con,
            "companies",
            "batch_canonical_companies",
            org,
            now,
            "SELECT entity_id FROM batch_affected_company",
        )
        stats.upserted["contacts"], stats.changed["contacts"] = _upsert(
            con,
            "contacts",
            "batch_canonical_contacts",
            org,
            now,
            "SELECT entity_id FROM batch_affected_contact",
        )
        touch(
            con,
            "contact_emails",
            "SELECT entity_id FROM batch_affected_contact"
            " UNION ALL SELECT contact_id FROM batch_canonical_contact_emails",
        )
        execute(
            con,
            "DELETE FROM contact_emails WHERE org_id = $org AND contact_id IN "
            "(SELECT entity_id FROM batch_affected_contact)",
            {"org": org},
        )
        execute(
            con, "INSERT INTO contact_emails BY NAME SELECT * FROM batch_canonical_contact_emails"
        )
        crash_point("apply.contacts_upserted")
        for kind, table in (("deal", "deals"), ("activity", "activities"), ("task", "tasks")):
            _apply_natural(con, kind, table, org, now)
            stats.upserted[table], stats.changed[table] = _upsert(
                con, table, f"batch_canonical_{table}", org, now
            )
        _relink_activities(con, org, now)
        _apply_sources(con, org, staged)
        _apply_rejected(con, org)
        _apply_manifest(con, org, now)
        stats.changed["icp_scores"] = _apply_scores(con, org)
        apply_model_hash(con)
        apply_insights(con)
        views_before = _views_digest(con, org)
        _apply_views(con, settings)
        _apply_review_queue(con, org)
        decided = apply_overrides_digest(con)
        if (
            _batch_had_files(con)
            or decided
            or stats.changed["icp_scores"]
            or (_views_digest(con, org) != views_before)
        ):
            mark_changed(con)
            touched.advance(con)
        crash_point("apply.before_commit")
        execute(con, "COMMIT")
    except Exception:
        execute(con, "ROLLBACK")
        raise
    crash_point("apply.committed")
    batch.drop_all(con)
    return stats
