"""One record with its relationships and the related records `included`, as the Rex API answers
`GET /contacts/:id`. An id that was merged away is answered with the record that absorbed it
(following chains of merges), and the answer says so in `meta`, because an id once given must
keep working for whoever stored it."""

from __future__ import annotations

from typing import Any

import duckdb

from rex_pipeline.query.connection import Scope, fetch_dicts
from rex_pipeline.query.errors import NotFound
from rex_pipeline.query.resources import (
    ACTIVITIES_R,
    COMPANIES_R,
    CONTACTS_R,
    DEALS_R,
    TASKS_R,
    Resource,
    scope_sql,
)

MAX_MERGE_HOPS = 20

# relationship name -> (foreign-key column, related resource; None = a member, no table)
RELATIONSHIPS: dict[str, dict[str, tuple[str, Resource | None]]] = {
    CONTACTS_R.name: {"company": ("company_id", COMPANIES_R), "owner": ("owner_id", None)},
    COMPANIES_R.name: {},
    ACTIVITIES_R.name: {
        "contact": ("contact_id", CONTACTS_R),
        "deal": ("deal_id", DEALS_R),
        "company": ("company_id", COMPANIES_R),
    },
    DEALS_R.name: {"contact": ("contact_id", CONTACTS_R), "company": ("company_id", COMPANIES_R)},
    TASKS_R.name: {"contact": ("contact_id", CONTACTS_R)},
}


def fetch_record(
    conn: duckdb.DuckDBPyConnection, scope: Scope, resource: Resource, record_id: str
) -> dict[str, Any] | None:
    """The record with this exact id if it is visible in `scope`, else None."""
    where, params = scope_sql(resource, scope)
    columns = ", ".join(f't."{c}"' for c in resource.columns)
    rows = fetch_dicts(
        conn,
        f'SELECT {columns} FROM "{resource.table.name}" AS t WHERE {where} AND t.id = ?',
        [*params, record_id],
    )
    return rows[0] if rows else None


def merge_winner(
    conn: duckdb.DuckDBPyConnection, scope: Scope, resource: Resource, loser_id: str
) -> dict[str, Any] | None:
    """Where a merged-away id ended up: the last winner of its chain of merges, with the rule
    and time of the first merge; None if the id was never merged away."""
    if resource.merges_table is None:
        return None
    merges = f'"{resource.merges_table}"'
    rows = fetch_dicts(
        conn,
        f"""
        WITH RECURSIVE chain(id, rule, merged_at, hops) AS (
            SELECT winner_id, rule, merged_at, 1 FROM {merges}
            WHERE org_id = ? AND loser_id = ?
            UNION ALL
            SELECT m.winner_id, c.rule, c.merged_at, c.hops + 1
            FROM chain AS c JOIN {merges} AS m ON m.org_id = ? AND m.loser_id = c.id
            WHERE c.hops < ?
        )
        SELECT id, rule, merged_at FROM chain ORDER BY hops DESC LIMIT 1
        """,
        [scope.org_id, loser_id, scope.org_id, MAX_MERGE_HOPS],
    )
    return rows[0] if rows else None


def absorbed_ids(
    conn: duckdb.DuckDBPyConnection, scope: Scope, resource: Resource, winner_id: str
) -> list[str]:
    """Every id merged into `winner_id`, directly or through a chain of merges: the ids its
    history may still be recorded under (stage_changes keep the id they were seen with)."""
    if resource.merges_table is None:
        return []
    merges = f'"{resource.merges_table}"'
    rows = conn.execute(
        f"""
        WITH RECURSIVE absorbed(id, hops) AS (
            SELECT loser_id, 1 FROM {merges} WHERE org_id = ? AND winner_id = ?
            UNION ALL
            SELECT m.loser_id, a.hops + 1
            FROM absorbed AS a JOIN {merges} AS m ON m.org_id = ? AND m.winner_id = a.id
            WHERE a.hops < ?
        )
        SELECT DISTINCT id FROM absorbed ORDER BY id
        """,
        [scope.org_id, winner_id, scope.org_id, MAX_MERGE_HOPS],
    ).fetchall()
    return [row[0] for row in rows]


def resolve(
    conn: duckdb.DuckDBPyConnection, scope: Scope, resource: Resource, record_id: str
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The visible record for an id, following merges; and the merge note when it was one."""
    resource.check_id(record_id)
    record = fetch_record(conn, scope, resource, record_id)
    if record is not None:
        return record, None
    winner = merge_winner(conn, scope, resource, record_id)
    if winner is not None:
        record = fetch_record(conn, scope, resource, winner["id"])
        if record is not None:
            note = {
                "requested_id": record_id,
                "merged_into": winner["id"],
                "merge_rule": winner["rule"],
                "merged_at": winner["merged_at"],
            }
            return record, note
    who = f" for owner {scope.owner_id}" if scope.owner_id else ""
    raise NotFound(f"no {resource.type} {record_id} in org {scope.org_id}{who}")


def get_record(
    conn: duckdb.DuckDBPyConnection, scope: Scope, resource: Resource, record_id: str
) -> dict[str, Any]:
    """`{"data": record + relationships, "included": [related records], "meta"?: merge note}`."""
    record, merge_note = resolve(conn, scope, resource, record_id)
    relationships: dict[str, Any] = {}
    included: list[dict[str, Any]] = []
    for name, (column, related) in RELATIONSHIPS[resource.name].items():
        related_id = record.get(column)
        if related_id is None:
            relationships[name] = {"data": None}
            continue
        related_type = related.type if related else "member"
        relationships[name] = {"data": {"type": related_type, "id": related_id}}
        if related is not None:
            found = fetch_record(conn, scope, related, related_id)
            if found is not None:
                included.append({"type": related.type, **found})
    answer: dict[str, Any] = {"data": {**record, "relationships": relationships}}
    answer["included"] = included
    if merge_note:
        answer["meta"] = merge_note
    return answer
