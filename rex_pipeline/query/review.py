"""The review queue: the pairs a sync scored between the review and merge thresholds
(`possible_duplicates`), strongest first, each with both records' names, so an analyst can
judge a page at a glance, ask `rex contacts explain` (or `rex companies explain`) for a pair's
evidence, and settle it in `data/overrides.yaml` (`rex overrides merge` / `keep-apart`; the
next sync honours it).

Pairs leave the queue when a sync merges one side away or applies a never_merge; a member
(`owner` scope) sees the contact pairs of which both contacts are theirs, and no company pairs
(companies have no owner)."""

from __future__ import annotations

from typing import Any, Literal

import duckdb
from pydantic import Field

from rex_pipeline.query.connection import Scope, fetch_dicts
from rex_pipeline.query.cursor import as_float
from rex_pipeline.query.errors import InvalidRequest
from rex_pipeline.query.filters import PageRequest
from rex_pipeline.query.lists import PAGING_FIELDS
from rex_pipeline.query.pages import Order, Page, fetch_page

#: What each entity's pairs show of their two records: table, and SQL per field over a record {t}.
_SIDES: dict[str, tuple[str, dict[str, str]]] = {
    "contact": (
        "contacts",
        {"name": "concat_ws(' ', {t}.first_name, {t}.last_name)", "email": "{t}.email"},
    ),
    "company": ("companies", {"name": "{t}.name", "domain": "{t}.domain"}),
}

_ORDER = Order(
    token="-score",
    key="d.score",
    tiebreak="(d.id_a || ' ' || d.id_b)",
    descending=True,
    key_decoder=as_float,
)


class ReviewRequest(PageRequest):
    """Which pairs: of contacts or companies, at least `min_score`; paged like every list."""

    entity: Literal["contact", "company"] = Field(
        "contact", description="Pairs of contacts or of companies."
    )
    min_score: float | None = Field(
        None, ge=0, le=1, description="Only pairs scoring at least this (0–1)."
    )


_QUEUE_COLUMNS = ("d.score", "d.id_a", "d.id_b", "d.reasons", "d.detected_at")


def _with_records(
    pair: dict[str, Any], records: dict[str, dict[str, Any]], fields: list[str]
) -> dict[str, Any]:
    """A queue row with what it shows of its two records, in `review_columns` order."""
    row: dict[str, Any] = {"score": pair["score"]}
    for side in ("a", "b"):
        record = records.get(pair[f"id_{side}"], {})
        row[f"id_{side}"] = pair[f"id_{side}"]
        row |= {f"{field}_{side}": record.get(field) for field in fields}
    return row | {"reasons": pair["reasons"], "detected_at": pair["detected_at"]}


def review_columns(entity: str) -> list[str]:
    """The fields of one pair, in the order they are shown."""
    fields = list(_SIDES[entity][1])
    return [
        "score",
        "id_a",
        *(f"{f}_a" for f in fields),
        "id_b",
        *(f"{f}_b" for f in fields),
        "reasons",
        "detected_at",
    ]


def review_queue(conn: duckdb.DuckDBPyConnection, scope: Scope, request: ReviewRequest) -> Page:
    """One page of the org's review queue for `request.entity`, highest score first. The page
    is chosen from the queue alone (a top-N over its few columns) and only its records' names
    are looked up: joining every pair to its records first cost 110-200 ms a page at 1M."""
    table, fields = _SIDES[request.entity]
    if scope.owner_id is not None and request.entity == "company":
        raise InvalidRequest("entity: companies have no owner; ask without an owner scope")
    where = ["d.org_id = ?", "d.entity = ?"]
    params: list[Any] = [scope.org_id, request.entity]
    if request.min_score is not None:
        where.append("d.score >= ?")
        params.append(request.min_score)
    if scope.owner_id is not None:
        owned = "(SELECT id FROM contacts WHERE org_id = ? AND owner_id = ?)"
        where.append(f"d.id_a IN {owned} AND d.id_b IN {owned}")
        params += [scope.org_id, scope.owner_id] * 2
    filters = request.model_dump(mode="json", exclude=set(PAGING_FIELDS))
    page = fetch_page(
        conn,
        select=[*_QUEUE_COLUMNS, f"{_ORDER.tiebreak} AS pair"],
        source="possible_duplicates d",
        where=where,
        params=params,
        order=_ORDER,
        key_field="score",
        tiebreak_field="pair",
        limit=request.limit,
        cursor=request.cursor,
        seal=scope.seal("possible_duplicates", filters),
    )
    ids = sorted({row[side] for row in page["data"] for side in ("id_a", "id_b")})
    shown = ", ".join(f"{expr.format(t='t')} AS {name}" for name, expr in fields.items())
    records = {
        row["id"]: row
        for row in fetch_dicts(
            conn,
            f"SELECT t.id, {shown} FROM {table} t WHERE t.org_id = ? AND t.id IN "
            "(SELECT unnest(?::VARCHAR[]))",
            [scope.org_id, ids],
        )
    }
    page["data"] = [_with_records(row, records, list(fields)) for row in page["data"]]
    return page
