"""What is in the warehouse for one org, at a glance: what `make run` prints after a sync."""

from __future__ import annotations

from typing import Any

import duckdb

from rex_pipeline.query.connection import Scope, fetch_dicts
from rex_pipeline.query.resources import CONTACTS_R, RESOURCES, scope_sql
from rex_pipeline.schema import CANONICAL_TABLES

TOP_CONTACTS = 5


def existing_tables(conn: duckdb.DuckDBPyConnection) -> set[str]:
    rows = conn.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'")
    return {name for (name,) in rows.fetchall()}


def summary(conn: duckdb.DuckDBPyConnection, scope: Scope) -> dict[str, Any]:
    """Row counts of every table of the contract (None when the table is missing), rejected
    records by reason, and the top contacts by ICP score. An owner scope narrows the record
    kinds it applies to (contacts, and their activities, deals and tasks)."""
    present = existing_tables(conn)
    parts, params = [], []
    for table in CANONICAL_TABLES:
        if table.name not in present:
            continue
        resource = RESOURCES.get(table.name)
        if resource is not None:
            where, where_params = scope_sql(resource, scope)
        else:
            where, where_params = "t.org_id = ?", [scope.org_id]
        parts.append(f'SELECT ? AS name, count(*) AS n FROM "{table.name}" AS t WHERE {where}')
        params += [table.name, *where_params]
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
