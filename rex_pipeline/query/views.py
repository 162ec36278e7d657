"""Saved smart-list views: named requests stored in `saved_views` by the pipeline (from the
`views:` section of rex.yaml), listed and run here with the smart-list compiler."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb
from pydantic import ValidationError

from rex_pipeline.query.connection import Scope, fetch_dicts, valid_text
from rex_pipeline.query.errors import InvalidRequest, NotFound, invalid_from_pydantic
from rex_pipeline.query.smartlist import SmartListRequest

MAX_NAME_LENGTH = 200


def list_views(conn: duckdb.DuckDBPyConnection, scope: Scope) -> list[dict[str, Any]]:
    """Every view of the org: name, description and the stored request, by name."""
    return fetch_dicts(
        conn,
        "SELECT name, description, query FROM saved_views WHERE org_id = ? ORDER BY name",
        [scope.org_id],
    )


def view_request(
    conn: duckdb.DuckDBPyConnection,
    scope: Scope,
    name: str,
    overrides: Mapping[str, Any] | None = None,
) -> SmartListRequest:
    """The stored request of view `name`, with paging overrides (limit, cursor, sort, fields)
    applied; a stored request that no longer validates is reported with the view's name."""
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME_LENGTH:
        raise InvalidRequest(f"view name: must be a text of 1 to {MAX_NAME_LENGTH} characters")
    try:
        valid_text(name)
    except ValueError as exc:
        raise InvalidRequest(f"view name: {exc}") from None
    rows = fetch_dicts(
        conn, "SELECT query FROM saved_views WHERE org_id = ? AND name = ?", [scope.org_id, name]
    )
    if not rows:
        known = ", ".join(v["name"] for v in list_views(conn, scope)) or "none"
        raise NotFound(f"no saved view {name!r} in org {scope.org_id} (views: {known})")
    stored = rows[0]["query"]
    if not isinstance(stored, dict):
        raise InvalidRequest(f"saved view {name!r}: its query is not a JSON object")
    values = {**stored, **{k: v for k, v in (overrides or {}).items() if v is not None}}
    try:
        return SmartListRequest.model_validate(values)
    except ValidationError as exc:
        raise InvalidRequest(f"saved view {name!r}: {invalid_from_pydantic(exc)}") from exc
