"""Canonical activities, deals and tasks of the batch, linked to contacts and companies.

They link by the same identity keys as everything else: a contact by the canonical key of the
email the record names, a company by domain, else by name. Links follow this batch's merges,
so a record naming a loser's address lands on the winner.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from rex_pipeline import batch
from rex_pipeline.config import Settings
from rex_pipeline.warehouse import execute

_LINKED = ("deals", "activities", "tasks")


def _named_keys(con: duckdb.DuckDBPyConnection) -> str:
    """SQL for the identity keys this batch's deals, activities and tasks name: the lookups
    below hold only those, so their cost follows the batch and not the identity map."""
    parts = []
    for table in _LINKED:
        if not batch.exists(con, f"batch_clean_{table}"):
            continue
        parts.append(f"SELECT 'email:' || contact_email_key FROM batch_clean_{table}")
        if table != "tasks":
            parts.append(f"SELECT 'domain:' || company_domain FROM batch_clean_{table}")
            parts.append(f"SELECT 'name:' || company_key FROM batch_clean_{table}")
    return " UNION ".join(parts) if parts else "SELECT NULL::VARCHAR WHERE FALSE"


def build_key_lookups(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Temp tables key → final id for the contacts and companies the batch's records name
    (batch decisions first), and those contacts' companies."""
    execute(con, f"CREATE OR REPLACE TEMP TABLE named_keys AS {_named_keys(con)}")
    for entity in ("contact", "company"):
        execute(
            con,
            f"""
            CREATE OR REPLACE TEMP TABLE {entity}_by_key AS
            SELECT key, entity_id FROM batch_keys_{entity}
            WHERE key IN (SELECT * FROM named_keys)
            UNION ALL
            SELECT k.key, coalesce(m.winner_id, k.entity_id) AS entity_id
            FROM identity_keys k
            LEFT JOIN batch_merges_{entity} m ON k.entity_id = m.loser_id
            WHERE k.org_id = $org AND k.entity = '{entity}'
              AND k.key IN (SELECT * FROM named_keys)
              AND k.key NOT IN (SELECT key FROM batch_keys_{entity})
            """,
            {"org": settings.org_id},
        )
    execute(
        con,
        """
        CREATE OR REPLACE TEMP TABLE company_of_contact AS
        WITH named AS (SELECT DISTINCT entity_id AS id FROM contact_by_key)
        SELECT id, company_id FROM batch_canonical_contacts WHERE id IN (SELECT id FROM named)
        UNION ALL
        SELECT c.id, coalesce(m.winner_id, c.company_id) FROM contacts c
        LEFT JOIN batch_merges_company m ON c.company_id = m.loser_id
        WHERE c.org_id = $org AND c.id IN (SELECT id FROM named)
          AND c.id NOT IN (SELECT id FROM batch_canonical_contacts)
        """,
        {"org": settings.org_id},
    )


def _first_per_id(table: str, kind: str) -> str:
    """The batch's records with their ids; one record per id (the first in file order)."""
    return f"""
        SELECT * EXCLUDE (n) FROM (
            SELECT r.*, x.entity_id AS id,
                   row_number() OVER (PARTITION BY x.entity_id
                                      ORDER BY r.source_file, r.source_row, r.record_id) AS n
            FROM batch_clean_{table} r JOIN batch_assign_{kind} x USING (record_id)
        ) WHERE n = 1"""


def build_canonical_links(
    con: duckdb.DuckDBPyConnection, settings: Settings, now: datetime
) -> None:
    build_key_lookups(con, settings)
    params = {"now": now, "org": settings.org_id}
    execute(
        con,
        f"""
        CREATE OR REPLACE TABLE batch_canonical_deals AS
        WITH d AS ({_first_per_id("deals", "deal")})
        SELECT d.id, d.org_id, d.name, ck.entity_id AS contact_id,
               coalesce(kd.entity_id, kn.entity_id, cc.company_id) AS company_id,
               d.pipeline AS pipeline_id, d.stage AS stage_id, d.value, d.currency,
               coalesce(d.status, 'open') AS status,
               coalesce(d.created_at, $now::TIMESTAMPTZ) AS created_at,
               NULL::TIMESTAMPTZ AS updated_at
        FROM d
        LEFT JOIN contact_by_key ck ON ck.key = 'email:' || d.contact_email_key
        LEFT JOIN company_of_contact cc ON cc.id = ck.entity_id
        LEFT JOIN company_by_key kd ON kd.key = 'domain:' || d.company_domain
        LEFT JOIN company_by_key kn ON kn.key = 'name:' || d.company_key
        """,
        params,
    )
    execute(
        con,
        f"""
        CREATE OR REPLACE TABLE batch_canonical_activities AS
        WITH a AS ({_first_per_id("activities", "activity")}),
        deal_names AS (
            SELECT lower(name) AS name, min(id) AS id FROM (
                SELECT id, name FROM batch_canonical_deals
                UNION ALL SELECT id, name FROM deals WHERE org_id = $org)
            GROUP BY 1
        )
        SELECT a.id, a.org_id, coalesce(a.type, 'other') AS type, a.subtype,
               coalesce(a.status, 'completed') AS status, a.subject, a.body,
               ck.entity_id AS contact_id,
               coalesce(cc.company_id, kd.entity_id, kn.entity_id) AS company_id,
               dn.id AS deal_id, a.owner AS owner_id, a.occurred_at,
               a.duration::INTEGER AS duration,
               coalesce(a.direction, 'na') AS direction, a.source, a.external_id,
               a.generated_by, a.confidence_score, a.model,
               coalesce(a.metadata, '{{}}')::JSON AS metadata,
               coalesce(a.occurred_at, $now::TIMESTAMPTZ) AS created_at,
               NULL::TIMESTAMPTZ AS updated_at
        FROM a
        LEFT JOIN contact_by_key ck ON ck.key = 'email:' || a.contact_email_key
        LEFT JOIN company_of_contact cc ON cc.id = ck.entity_id
        LEFT JOIN company_by_key kd ON kd.key = 'domain:' || a.company_domain
        LEFT JOIN company_by_key kn ON kn.key = 'name:' || a.company_key
        LEFT JOIN deal_names dn ON dn.name = lower(a.deal_ref)
        """,
        params,
    )
    execute(
        con,
        f"""
        CREATE OR REPLACE TABLE batch_canonical_tasks AS
        WITH t AS ({_first_per_id("tasks", "task")})
        SELECT t.id, t.org_id, t.title, ck.entity_id AS contact_id,
               coalesce(t.priority, 'medium') AS priority,
               coalesce(t.status, 'pending') AS status, t.due_at,
               coalesce(t.created_at, $now::TIMESTAMPTZ) AS created_at,
               NULL::TIMESTAMPTZ AS updated_at
        FROM t
        LEFT JOIN contact_by_key ck ON ck.key = 'email:' || t.contact_email_key
        """,
        params,
    )
