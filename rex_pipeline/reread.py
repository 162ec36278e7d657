"""A file read again keeps its records' ids: each record of the new parse takes the record id
of the record it was in the earlier parse.

A record id hashes the record's place (file, row, source key: `staging._RECORD_ID`), and a
re-export rarely keeps places: one contact added at the top moves every later row down. A
moved row would then carry the id of the row that was there before, and everything keyed on
record ids would follow the wrong record: its `rec:` identity key would join it to that other
row's contact (the whole file chained into one contact), and its first loading (which
`oldest` survivorship reads) and first match explanation would be lost.

So, per re-read file, new records are paired with the old ones of that file:

1. same content (every clean column but the lineage), in row order among equal ones;
2. then the same natural source key or, without one, the same email (contacts), domain
   (companies) or external id (activities): an edited record, wherever it moved;
3. then the same place (a row edited where it stood).

A paired record takes the old record's id; one that is not paired keeps its place's id unless
an old record still holds that id (it moved elsewhere), when it gets an id of its own.
"""

from __future__ import annotations

import duckdb

from rex_pipeline.batch import exists, from_reread_file, rereads_known_file
from rex_pipeline.publish.derived import table_shapes
from rex_pipeline.records import PLACE_KEY
from rex_pipeline.warehouse import execute, scalar

ENTITIES = ("contacts", "companies", "activities", "deals", "tasks")
# Where a record comes from, not what it says (the parse of a re-export changes them).
_LINEAGE = {"record_id", "org_id", "source_system", "source_file", "source_row", "source_key"}
_LINEAGE |= {"file_sha", "entity_id", "match_rule", "match_score", "loaded_at"}
# Who a record is about when it has no natural source key: an edited row that also moved is
# still the same record when this stays (NULL: such a record is found by content or place).
_IDENTITY = {
    "contacts": "'email:' || email_key",
    "companies": "'domain:' || domain",
    "activities": "'ext:' || external_id",
    "deals": "NULL",
    "tasks": "NULL",
}


def keep_record_ids(con: duckdb.DuckDBPyConnection, org_id: str) -> dict[str, int]:
    """Give the records of re-read files in `batch_clean_<entity>` the ids of the records
    they were (see the module docstring); returns the ids changed per entity."""
    if not exists(con, "batch_files") or not rereads_known_file(con):
        return dict.fromkeys(ENTITIES, 0)
    database = str(scalar(con, "SELECT current_database()"))
    shapes = {table: shape[0] for (_, table), shape in table_shapes(con, database).items()}
    return {entity: _keep_ids(con, entity, org_id, shapes) for entity in ENTITIES}


def _keep_ids(
    con: duckdb.DuckDBPyConnection, entity: str, org_id: str, shapes: dict[str, list[str]]
) -> int:
    batch, staged = f"batch_clean_{entity}", f"stg_{entity}"
    if batch not in shapes or staged not in shapes:
        return 0
    known = set(shapes[staged])
    content = ", ".join(f'"{c}"' for c in shapes[batch] if c in known and c not in _LINEAGE)
    place = "source_system, source_file"
    identity = f"""coalesce(CASE WHEN NOT regexp_matches(source_key, '{PLACE_KEY}')
                                 THEN 'key:' || source_key END, {_IDENTITY[entity]})"""

    def records(table: str, alias: str) -> str:
        return f"""SELECT record_id, {place}, source_row, hash({content}) AS same,
                          {identity} AS ident
                   FROM "{table}" {alias} WHERE {from_reread_file(alias)}"""

    def pair(new: str, old: str, on: str) -> str:
        """Pairs of records equal in `on`, the first with the first (in row order)."""
        nth = f"row_number() OVER (PARTITION BY {place}, {on} ORDER BY source_row, record_id)"
        return f"""SELECT n.record_id AS new_id, o.record_id AS old_id
                   FROM (SELECT *, {nth} AS nth FROM {new} WHERE {on} IS NOT NULL) n
                   JOIN (SELECT *, {nth} AS nth FROM {old} WHERE {on} IS NOT NULL) o
                   USING (source_system, source_file, {on}, nth)"""

    execute(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE reread_ids AS
        WITH old AS ({records(staged, "s")} AND s.org_id = $org),
        new AS ({records(batch, "b")}),
        by_content AS ({pair("new", "old", "same")}),
        new_left AS (SELECT * FROM new ANTI JOIN by_content p ON p.new_id = record_id),
        old_left AS (SELECT * FROM old ANTI JOIN by_content p ON p.old_id = record_id),
        by_identity AS ({pair("new_left", "old_left", "ident")}),
        by_place AS (
            SELECT record_id AS new_id, record_id AS old_id
            FROM (SELECT * FROM new_left ANTI JOIN by_identity p ON p.new_id = record_id)
            SEMI JOIN (SELECT * FROM old_left ANTI JOIN by_identity p ON p.old_id = record_id)
              USING (record_id)
        ), paired AS (
            SELECT * FROM by_content UNION ALL SELECT * FROM by_identity
            UNION ALL SELECT * FROM by_place
        )
        SELECT n.record_id AS new_id,
               coalesce(p.old_id, CASE WHEN n.record_id IN (SELECT record_id FROM old)
                                       THEN md5(n.record_id || ':moved:' || n.same) END)
                   AS record_id
        FROM new n LEFT JOIN paired p ON p.new_id = n.record_id
        """,
        {"org": org_id},
    )
    changed = con.execute(
        f"""UPDATE "{batch}" b SET record_id = r.record_id FROM reread_ids r
            WHERE b.record_id = r.new_id AND r.record_id IS DISTINCT FROM r.new_id
              AND r.record_id IS NOT NULL"""
    ).fetchall()
    con.execute("DROP TABLE reread_ids")
    return int(changed[0][0]) if changed else 0
