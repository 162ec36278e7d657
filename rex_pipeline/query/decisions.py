"""Whether each analyst decision (`data/overrides.yaml`) has taken effect in the warehouse.

After `rex overrides merge A B` the analyst wants to see the result of the next sync: are the
two one contact now, has the pair left the review queue, or does a reference name nobody (a
typo, or someone no export has mentioned yet)? Each side is resolved as a sync resolves it: an
id (a merged-away id stands for its winner), an email address (any of a contact's addresses)
or a domain (a company's), then the pair's state is read off the warehouse.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

import duckdb
import polars as pl

from rex_pipeline.normalise.emails import email_keys
from rex_pipeline.query import detail
from rex_pipeline.query.connection import Scope, fetch_dicts
from rex_pipeline.query.errors import InvalidRequest, NotFound
from rex_pipeline.query.resources import COMPANIES_R, CONTACTS_R

_RESOURCE_BY_PREFIX = {f"{r.prefix}_": r for r in (CONTACTS_R, COMPANIES_R)}


def decision_status(
    conn: duckdb.DuckDBPyConnection, scope: Scope, decisions: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The decisions (kind, a, b, ...) with the entity each side names now (`id_a`, `id_b`)
    and a `status`: applied, pending (the next sync applies it), waiting (a side names
    nothing in the warehouse yet) or impossible (a never_merge of one entity)."""
    refs = {side.lower() for d in decisions for side in (d["a"], d["b"])}
    entities = _entities(conn, scope, refs)
    ids = sorted({e for e in entities.values() if e is not None})
    queued = {
        frozenset((row["id_a"], row["id_b"]))
        for row in fetch_dicts(
            conn,
            "SELECT id_a, id_b FROM possible_duplicates WHERE org_id = ? "
            "AND id_a IN (SELECT unnest(?::VARCHAR[]))",
            [scope.org_id, ids],
        )
    }
    answered = []
    for decision in decisions:
        a, b = entities[decision["a"].lower()], entities[decision["b"].lower()]
        status = _status(decision, a, b, frozenset((a, b)) in queued)
        answered.append({**decision, "id_a": a, "id_b": b, "status": status})
    return answered


# Both sides name one entity: one exact key (email, domain, source id) or a merge of an earlier
# sync made it so, and a never_merge keeps entities apart, it does not split one.
IMPOSSIBLE = (
    "impossible: already one entity (a shared key, or merged by an earlier sync); "
    "never_merge does not split an entity"
)


def _status(decision: dict[str, Any], a: str | None, b: str | None, queued: bool) -> str:
    missing = [ref for ref, found in ((decision["a"], a), (decision["b"], b)) if found is None]
    if missing:
        return f"waiting: {missing[0]} is not in the warehouse"
    if decision["kind"] == "must_merge":
        return "applied: one entity" if a == b else "pending: the next sync merges them"
    if a == b:
        return IMPOSSIBLE
    if queued:
        return "pending: the next sync takes the pair off the review queue"
    return "applied: kept apart"


def _entities(
    conn: duckdb.DuckDBPyConnection, scope: Scope, refs: set[str]
) -> dict[str, str | None]:
    """The entity id each reference names now (None when it names nothing)."""
    found: dict[str, str | None] = dict.fromkeys(refs)
    for ref in refs:
        resource = _RESOURCE_BY_PREFIX.get(ref[:5])
        if resource is not None:
            with suppress(NotFound, InvalidRequest):  # nobody, or not an id at all
                found[ref] = detail.resolve(conn, scope, resource, ref)[0]["id"]
    emails = [r for r in refs if "@" in r]
    if emails:
        found |= _contacts_by_address(conn, scope, emails)
    domains = [r for r in refs if "@" not in r and r[:5] not in _RESOURCE_BY_PREFIX]
    if domains:
        rows = fetch_dicts(
            conn,
            "SELECT lower(domain) AS ref, id FROM companies "
            "WHERE org_id = ? AND lower(domain) IN (SELECT unnest(?::VARCHAR[]))",
            [scope.org_id, domains],
        )
        found |= {row["ref"]: row["id"] for row in rows}
    return found


def _contacts_by_address(
    conn: duckdb.DuckDBPyConnection, scope: Scope, emails: list[str]
) -> dict[str, str]:
    """The contact holding each address, matched by the sync's own matching key (so
    "Ada.Lovelace@gmail.com" finds the contact stored as "adalovelace@gmail.com"): the
    addresses at the same domains are read and keyed alike."""
    wanted = pl.DataFrame({"ref": emails}).with_columns(key=email_keys(pl.Series(emails)))
    domains = pl.concat([wanted["ref"], wanted["key"]]).str.split("@").list.last().unique()
    stored = conn.sql(
        "SELECT email, contact_id FROM contact_emails WHERE org_id = $org "
        "AND lower(split_part(email, '@', 2)) IN (SELECT unnest($domains::VARCHAR[]))",
        params={"org": scope.org_id, "domains": domains.to_list()},
    ).pl()
    stored = stored.with_columns(key=email_keys(stored["email"]))
    matched = wanted.join(stored, on="key").unique("ref", keep="first")
    return dict(zip(matched["ref"], matched["contact_id"], strict=True))
