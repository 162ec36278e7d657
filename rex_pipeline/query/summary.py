"""What is in the warehouse for one org, at a glance: what `make run` prints after a sync."""

from __future__ import annotations

from typing import Any

import duckdb

from rex_pipeline.publish.derived import OWNER_KEY
from rex_pipeline.query.connection import Scope, fetch_dicts
from rex_pipeline.query.layout import Layout
from rex_pipeline.query.resources import CONTACTS_R, RESOURCES, scope_sql
from rex_pipeline.schema import CANONICAL_TABLES, OWNER_RECORDS

TOP_CONTACTS = 5


def existing_tables(conn: duckdb.DuckDBPyConnection) -> set[str]:
    rows = conn.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'")
    return {name for (name,) in rows.fetchall()}


def _count_sql(table: str, scope: Scope, layout: Layout) -> tuple[str, list[Any]]:
    """How many rows of `table` the scope sees. A member's activities, deals and tasks are
    counted in owner_records when the file has it (no join through the member's contacts)."""
    resource = RESOURCES.get(table)
    if resource is None:
        return f'SELECT count(*) FROM "{table}" AS t WHERE t.org_id = ?', [scope.org_id]
    if resource.owner_scoping == "via_contact" and scope.owner_id and layout.owner_records:
        key = OWNER_KEY.format(org="?", owner="?")
        return (
            f'SELECT count(*) FROM "{OWNER_RECORDS.name}" WHERE kind = ? AND owner_key = {key}'
            " AND org_id = ? AND owner_id = ?",
            [table, scope.org_id, scope.owner_id, scope.org_id, scope.owner_id],
        )
    where, where_params = scope_sql(resource, scope)
    return f'SELECT count(*) FROM "{table}" AS t WHERE {where}', where_params


def summary(conn: duckdb.DuckDBPyConnection, scope: Scope, layout: Layout) -> dict[str, Any]:
    """Row counts of every table of the contract (None when the table is missing), rejected
    records by reason, and the top contacts by ICP score. An owner scope narrows the record
    kinds it applies to (contacts, and their activities, deals and tasks)."""
    present = existing_tables(conn)
    parts, params = [], []
    for table in CANONICAL_TABLES:
        if table.name not in present:
            continue
        sql, sql_params = _count_sql(table.name, scope, layout)
        parts.append(f"SELECT ? AS name, ({sql}) AS n")
        params += [table.name, *sql_params]
    counted = {r["name"]: r["n"] for r in fetch_dicts(conn, " UNION ALL ".join(parts), params)}
    counts = {t.name: counted.get(t.name) for t in CANONICAL_TABLES}

    rejected: list[dict[str, Any]] = []
    if "rejected_records" in present:
        rejected = fetch_dicts(
            conn,
            "SELECT reason, count(*) AS count FROM rejected_records WHERE org_id = ?"
            " GROUP BY reason ORDER BY count DESC, reason",
            [scope.org_id],
        )
    top: list[dict[str, Any]] = []
    if "contacts" in present:
        where, where_params = scope_sql(CONTACTS_R, scope)
        top = fetch_dicts(
            conn,
            "SELECT t.id, t.first_name, t.last_name, t.email, t.stage, t.icp_score,"
            f" t.icp_score_reason FROM contacts AS t WHERE {where} AND t.icp_score IS NOT NULL"
            " ORDER BY t.icp_score DESC, t.id LIMIT ?",
            [*where_params, TOP_CONTACTS],
        )
    return {
        "org_id": scope.org_id,
        "owner_id": scope.owner_id,
        "tables": counts,
        "rejected_by_reason": rejected,
        "top_contacts": top,
    }
