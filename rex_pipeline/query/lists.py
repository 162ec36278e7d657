"""Lists of contacts, companies, activities, deals and tasks with the Rex filters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import duckdb
from pydantic import BaseModel, ValidationError

from rex_pipeline.query.connection import Scope
from rex_pipeline.query.errors import invalid_from_pydantic
from rex_pipeline.query.filters import ListRequest
from rex_pipeline.query.pages import Order, Page, fetch_page, parse_sort
from rex_pipeline.query.resources import Resource, scope_sql
from rex_pipeline.query.textsearch import text_search

M = TypeVar("M", bound=BaseModel)
# Sort keys with few distinct values (scores, amounts): pages find their last key first.
TIE_HEAVY_TYPES = frozenset({"INTEGER", "BIGINT"})


def parse_request(model: type[M], request: M | Mapping[str, Any]) -> M:
    """Validate a request given as a model or as plain values (None means "not given")."""
    if isinstance(request, model):
        return request
    values = {k: v for k, v in dict(request).items() if v is not None}  # type: ignore[call-overload]
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise invalid_from_pydantic(exc) from exc


def resource_order(resource: Resource, sort: str | None, alias: str = "t") -> tuple[Order, str]:
    """The keyset order for `sort` (or the resource's default), and its column."""
    token = sort or resource.default_sort
    column, descending = parse_sort(token, resource.sorts)
    order = Order(
        token=token,
        key=f'{alias}."{column}"',
        tiebreak=f"{alias}.id",
        descending=descending,
        key_decoder=resource.key_decoder(column),
        bound_first=resource.column_type(column) in TIE_HEAVY_TYPES,
    )
    return order, column


def select_columns(resource: Resource, fields: list[str] | None, sort_column: str) -> list[str]:
    """The requested fields plus what the cursor needs (sort column and id), de-duplicated."""
    wanted = list(fields or resource.columns)
    return list(dict.fromkeys([*wanted, sort_column, "id"]))


def filtered_page(
    conn: duckdb.DuckDBPyConnection,
    scope: Scope,
    request: ListRequest,
    source: str,
    where: list[str],
    params: list[Any],
) -> Page:
    """One keyset page of `request.resource` (aliased `t` in `source`) inside `scope`, with
    the request's sort, fields, limit and cursor and the given filter clauses."""
    resource = request.resource
    order, sort_column = resource_order(resource, request.sort)
    columns = select_columns(resource, request.fields, sort_column)
    scope_clause, scope_params = scope_sql(resource, scope)
    return fetch_page(
        conn,
        select=[f't."{c}"' for c in columns],
        source=source,
        where=[scope_clause, *where],
        params=[*scope_params, *params],
        order=order,
        key_field=sort_column,
        tiebreak_field="id",
        limit=request.limit,
        cursor=request.cursor,
        output_fields=list(request.fields) if request.fields else None,
    )


def list_records(conn: duckdb.DuckDBPyConnection, scope: Scope, request: ListRequest) -> Page:
    """One page of `request.resource` inside `scope`, filtered, sorted and keyset-paginated."""
    where, params = request.where(text_search(conn, scope.org_id))
    return filtered_page(
        conn, scope, request, f'"{request.resource.table.name}" AS t', where, params
    )
