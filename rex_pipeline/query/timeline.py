"""A contact's (or company's) history as one chronological stream: its activities, lifecycle
stage changes, merges and deal events (created, won, lost), paged like every list.

Each event is `{"at", "event", "record_id", "summary", "detail"}`. Deals have no close time, so
won/lost events are dated by the deal's last update — the time the pipeline saw it close. A
winner's history includes what was recorded under the ids merged into it: a stage change's
detail names the contact_id it was recorded under.
"""

from __future__ import annotations

from typing import Any, Literal

import duckdb
from pydantic import BaseModel, ConfigDict, Field

from rex_pipeline.query.connection import Scope
from rex_pipeline.query.cursor import MAX_CURSOR_LENGTH, as_text, as_timestamp, nullable
from rex_pipeline.query.detail import absorbed_ids
from rex_pipeline.query.pages import DEFAULT_LIMIT, MAX_LIMIT, Order, Page, fetch_page
from rex_pipeline.query.resources import ACTIVITIES_R, COMPANIES_R, CONTACTS_R, DEALS_R, scope_sql

Subject = Literal["contact", "company"]
EVENT_FIELDS = ["at", "event", "record_id", "summary", "detail"]


class TimelineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Events per page.")
    cursor: str | None = Field(
        None, max_length=MAX_CURSOR_LENGTH, description="next_cursor of the previous page."
    )
    newest_first: bool = Field(False, description="Newest events first.")


def _events_sql(
    subject: Subject, record_id: str, absorbed: list[str], scope: Scope
) -> tuple[str, list[Any]]:
    """UNION ALL of every event source for one contact or company, visible in `scope` (the
    caller resolved it there), including the stage changes and merges recorded under the ids
    `absorbed` into it (a merge moves activities and deals to the winner, not those). `key` is
    unique per event and breaks ties between events at the same instant."""
    own_ids = [record_id, *absorbed]
    column = f"{subject}_id"  # subject is a Literal: contact_id or company_id
    # A contact's records are its owner's: the contact was found in scope, so a member scope
    # needs no join through the member's contacts (a company's records do).
    owner = subject == "company"
    act_scope, act_params = scope_sql(ACTIVITIES_R, scope, alias="a", owner=owner)
    deal_scope, deal_params = scope_sql(DEALS_R, scope, alias="d", owner=owner)
    deal_summary = (
        "coalesce(d.name, d.id) || coalesce(' (' || (d.value / 100.0)::DECIMAL(18, 2)"
        " || ' ' || d.currency || ')', '')"
    )
    deal_detail = "json_object('status', d.status, 'stage_id', d.stage_id, 'value', d.value)"
    parts = [
        (
            "SELECT coalesce(a.occurred_at, a.created_at) AS at, 'activity' AS event,"
            " a.id AS record_id,"
            " a.type || coalesce(' ' || nullif(a.direction, 'na'), '')"
            " || coalesce(' · ' || a.subject, '')"
            " AS summary,"
            " json_object('type', a.type, 'subtype', a.subtype, 'direction', a.direction,"
            " 'subject', a.subject, 'source', a.source, 'deal_id', a.deal_id) AS detail,"
            " 'activity:' || a.id AS key"
            f" FROM activities AS a WHERE {act_scope} AND a.{column} = ?",
            [*act_params, record_id],
        ),
        (
            f"SELECT d.created_at, 'deal_created', d.id, {deal_summary}, {deal_detail},"
            " 'deal_created:' || d.id"
            f" FROM deals AS d WHERE {deal_scope} AND d.{column} = ?",
            [*deal_params, record_id],
        ),
        (
            f"SELECT d.updated_at, 'deal_' || d.status, d.id, {deal_summary}, {deal_detail},"
            " 'deal_' || d.status || ':' || d.id"
            f" FROM deals AS d WHERE {deal_scope} AND d.{column} = ?"
            " AND d.status IN ('won', 'lost')",
            [*deal_params, record_id],
        ),
        (
            "SELECT m.merged_at, 'merge', m.loser_id,"
            " 'absorbed ' || m.loser_id || ' (' || m.rule || ')',"
            " json_object('loser_id', m.loser_id, 'rule', m.rule, 'score', m.score),"
            " 'merge:' || m.loser_id"
            f" FROM {subject}_merges AS m WHERE m.org_id = ? AND list_contains(?, m.winner_id)",
            [scope.org_id, own_ids],
        ),
    ]
    if subject == "contact":
        parts.append(
            (
                "SELECT s.changed_at, 'stage_change', NULL,"
                " coalesce(s.from_stage, '(none)') || ' → ' || s.to_stage,"
                " json_object('from_stage', s.from_stage, 'to_stage', s.to_stage,"
                " 'contact_id', s.contact_id),"
                " 'stage_change:' || s.contact_id || ':' || coalesce(s.from_stage, '')"
                " || '>' || s.to_stage"
                " FROM stage_changes AS s WHERE s.org_id = ? AND list_contains(?, s.contact_id)",
                [scope.org_id, own_ids],
            )
        )
    sql = " UNION ALL ".join(part for part, _ in parts)
    params = [p for _, part_params in parts for p in part_params]
    return f"({sql}) AS t", params


def timeline(
    conn: duckdb.DuckDBPyConnection,
    scope: Scope,
    subject: Subject,
    record_id: str,
    request: TimelineRequest,
) -> Page:
    """One page of the events of a resolved (visible, not merged-away) contact or company."""
    resource = CONTACTS_R if subject == "contact" else COMPANIES_R
    absorbed = absorbed_ids(conn, scope, resource, record_id)
    source, params = _events_sql(subject, record_id, absorbed, scope)
    order = Order(
        token="-timeline" if request.newest_first else "timeline",
        key="t.at",
        tiebreak="t.key",
        descending=request.newest_first,
        key_decoder=nullable(as_timestamp),
        tiebreak_decoder=as_text,
    )
    return fetch_page(
        conn,
        select=["t.at", "t.event", "t.record_id", "t.summary", "t.detail", "t.key"],
        source=source,
        where=[],
        params=params,
        order=order,
        key_field="at",
        tiebreak_field="key",
        limit=request.limit,
        cursor=request.cursor,
        seal=scope.seal(f"{subject}_timeline", {"id": record_id}),
        output_fields=EVENT_FIELDS,
    )
