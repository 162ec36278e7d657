"""`Warehouse`: the Python API of the query module — every Rex-API question, for one scope, over
a read-only connection that is closed when the caller is done (use it as a context manager; a
fresh Warehouse sees the latest publish)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, ParamSpec, TypeVar

import duckdb
from pydantic import ValidationError

from rex_pipeline.config import ResolutionSettings, load_settings
from rex_pipeline.query import detail, lists, review, smartlist, summary, timeline, views
from rex_pipeline.query.connection import Scope, open_readonly
from rex_pipeline.query.errors import (
    InvalidRequest,
    QueryError,
    WarehouseUnavailable,
    invalid_from_pydantic,
)
from rex_pipeline.query.filters import LIST_REQUESTS, ListRequest
from rex_pipeline.query.layout import Layout, detect
from rex_pipeline.query.pages import Page
from rex_pipeline.query.resources import CONTACTS_R, RESOURCES, Resource

P = ParamSpec("P")
R = TypeVar("R")
Request = Mapping[str, Any] | None


def _answers(method: Callable[P, R]) -> Callable[P, R]:
    """Report database failures as QueryErrors (a missing table means the file is not a
    complete rex warehouse), so callers and the CLI handle one family of errors."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except (duckdb.CatalogException, duckdb.BinderException) as exc:
            raise WarehouseUnavailable(
                f"the warehouse is incomplete (re-run the pipeline): {exc}"
            ) from exc
        except duckdb.Error as exc:
            raise QueryError(f"the warehouse could not answer: {exc}") from exc

    return wrapper


def _merge(request: Request, params: Mapping[str, Any]) -> dict[str, Any]:
    return {**(request or {}), **params}


class Warehouse:
    """Read-only access to the published warehouse for one org (and optionally one owner).

    `path` and `org_id` default to the settings (REX_DUCKDB_PATH, REX_ORG_ID, rex.yaml).
    Requests are given as keyword arguments or a mapping (`list_contacts(stage="lead")`) and
    validated by the pydantic models in `filters` and `smartlist`; every error is a QueryError.
    `cursor_secret` signs the cursors handed out (see cursor): a service whose clients should
    not be able to make their own cursors sets one, the same in every process.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        org_id: str | None = None,
        owner_id: str | None = None,
        cursor_secret: str | bytes | None = None,
    ) -> None:
        if path is None or org_id is None:  # only what is not given: "" is refused, not replaced
            settings = load_settings()
            path = settings.duckdb_path if path is None else path
            org_id = settings.org_id if org_id is None else org_id
        secret = cursor_secret.encode() if isinstance(cursor_secret, str) else cursor_secret
        try:
            self.scope = Scope(org_id=org_id, owner_id=owner_id, cursor_secret=secret or b"")
        except ValidationError as exc:
            raise invalid_from_pydantic(exc) from exc
        self.path = Path(path)
        self._connection: duckdb.DuckDBPyConnection | None = open_readonly(self.path)
        self._layout: Layout | None = None

    @property
    def _conn(self) -> duckdb.DuckDBPyConnection:
        if self._connection is None:
            raise QueryError("this Warehouse is closed; open a new one")
        return self._connection

    @property
    def layout(self) -> Layout:
        """The derived tables this file has (found on first use; the open file never changes:
        a publish replaces it, and this connection keeps reading the one it opened)."""
        if self._layout is None:
            self._layout = detect(self._conn)
        return self._layout

    def close(self) -> None:
        """Release the file (and drop the handle, so nothing DuckDB outlives the Warehouse)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- lists ---------------------------------------------------------------------------------

    @_answers
    def list_records(self, resource: str, request: Request = None, **params: Any) -> Page:
        """One page of `resource` (contacts, companies, activities, deals, tasks):
        `{"data": [...], "has_more": bool, "next_cursor": str | None}`."""
        model = LIST_REQUESTS.get(resource)
        if model is None:
            raise InvalidRequest(
                f"unknown resource {resource!r}; use one of {', '.join(RESOURCES)}"
            )
        parsed: ListRequest = lists.parse_request(model, _merge(request, params))
        return lists.list_records(self._conn, self.scope, self.layout, parsed)

    def list_contacts(self, request: Request = None, **params: Any) -> Page:
        return self.list_records("contacts", request, **params)

    def list_companies(self, request: Request = None, **params: Any) -> Page:
        return self.list_records("companies", request, **params)

    def list_activities(self, request: Request = None, **params: Any) -> Page:
        return self.list_records("activities", request, **params)

    def list_deals(self, request: Request = None, **params: Any) -> Page:
        return self.list_records("deals", request, **params)

    def list_tasks(self, request: Request = None, **params: Any) -> Page:
        return self.list_records("tasks", request, **params)

    # --- one record ----------------------------------------------------------------------------

    @_answers
    def get(self, resource: str, record_id: str) -> dict[str, Any]:
        """`{"data": {...record, "relationships": {...}}, "included": [...]}`, plus `meta`
        (requested_id, merged_into, merge_rule, merged_at) when the id was merged away."""
        return detail.get_record(self._conn, self.scope, self._resource(resource), record_id)

    def get_contact(self, contact_id: str) -> dict[str, Any]:
        return self.get("contacts", contact_id)

    def get_company(self, company_id: str) -> dict[str, Any]:
        return self.get("companies", company_id)

    def get_activity(self, activity_id: str) -> dict[str, Any]:
        return self.get("activities", activity_id)

    def get_deal(self, deal_id: str) -> dict[str, Any]:
        return self.get("deals", deal_id)

    def get_task(self, task_id: str) -> dict[str, Any]:
        return self.get("tasks", task_id)

    # --- a contact's related records and timelines ------------------------------------------

    @_answers
    def contact_related(
        self,
        contact_id: str,
        resource: Literal["deals", "activities", "tasks"],
        request: Request = None,
        **params: Any,
    ) -> Page:
        """A contact's deals, activities or tasks (a merged-away id lists the winner's)."""
        if resource not in ("deals", "activities", "tasks"):
            raise InvalidRequest(f"a contact has no {resource!r}; use deals, activities or tasks")
        contact, _ = detail.resolve(self._conn, self.scope, CONTACTS_R, contact_id)
        return self.list_records(resource, {**_merge(request, params), "contact_id": contact["id"]})

    def contact_deals(self, contact_id: str, request: Request = None, **params: Any) -> Page:
        return self.contact_related(contact_id, "deals", request, **params)

    def contact_activities(self, contact_id: str, request: Request = None, **params: Any) -> Page:
        return self.contact_related(contact_id, "activities", request, **params)

    def contact_tasks(self, contact_id: str, request: Request = None, **params: Any) -> Page:
        return self.contact_related(contact_id, "tasks", request, **params)

    @_answers
    def timeline(
        self,
        resource: Literal["contacts", "companies"],
        record_id: str,
        request: Request = None,
        **params: Any,
    ) -> Page:
        """The record's activities, stage changes, merges and deal events in time order
        (`newest_first=True` to reverse), paged like a list."""
        if resource not in ("contacts", "companies"):
            raise InvalidRequest(f"no timeline for {resource!r}; use contacts or companies")
        target = self._resource(resource)
        record, _ = detail.resolve(self._conn, self.scope, target, record_id)
        parsed = lists.parse_request(timeline.TimelineRequest, _merge(request, params))
        subject: Literal["contact", "company"] = "contact" if resource == "contacts" else "company"
        return timeline.timeline(self._conn, self.scope, subject, record["id"], parsed)

    def contact_timeline(self, contact_id: str, request: Request = None, **params: Any) -> Page:
        return self.timeline("contacts", contact_id, request, **params)

    def company_timeline(self, company_id: str, request: Request = None, **params: Any) -> Page:
        return self.timeline("companies", company_id, request, **params)

    @_answers
    def review_queue(self, request: Request = None, **params: Any) -> Page:
        """Pairs a sync left for review (`possible_duplicates`), highest score first, with
        both records' names: `entity` (contact or company), `min_score`, `limit`, `cursor`."""
        parsed = lists.parse_request(review.ReviewRequest, _merge(request, params))
        return review.review_queue(self._conn, self.scope, parsed)

    # --- why two contacts (or companies) are one, or two --------------------------------------

    @_answers
    def explain_contacts(
        self, contact_a: str, contact_b: str, resolution: ResolutionSettings | None = None
    ) -> dict[str, Any]:
        """The evidence a sync scores two contacts with (decision, score, reasons, per field
        level, weight and similarity) and whether its blocking compares them; or the merges
        that made them one contact. Read from the contact index the last sync left beside
        the warehouse; thresholds from `resolution` (default: rex.yaml's)."""
        # imported here: matching pulls in polars and rapidfuzz, which no other question needs
        from rex_pipeline.query.explain import explain_contacts

        settings = resolution or load_settings().resolution
        return explain_contacts(self._conn, self.scope, self.path, settings, contact_a, contact_b)

    @_answers
    def explain_companies(
        self, company_a: str, company_b: str, resolution: ResolutionSettings | None = None
    ) -> dict[str, Any]:
        """`explain_contacts` for two companies (name and domain evidence), from the company
        profiles the last sync with companies saved beside the warehouse."""
        from rex_pipeline.query.explain import explain_companies

        settings = resolution or load_settings().resolution
        return explain_companies(self._conn, self.scope, self.path, settings, company_a, company_b)

    @_answers
    def decision_status(self, decisions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The analysts' decisions (kind, a, b, as `resolve.overrides_file.decisions` reads
        them) with the entity each side names now and whether the decision has taken effect:
        applied, pending (the next sync applies it), waiting (a side names nobody yet) or
        impossible (a never_merge of what exact keys made one entity)."""
        from rex_pipeline.query.decisions import decision_status

        return decision_status(self._conn, self.scope, decisions)

    # --- smart lists and saved views -----------------------------------------------------------

    @_answers
    def search(self, request: smartlist.SmartListRequest | Request = None, **params: Any) -> Page:
        """Contacts matching a smart-list request
        (`{"query": {"groups": [{"conditions": [...]}]}, "q": ..., "limit": ...}`)."""
        if isinstance(request, smartlist.SmartListRequest) and not params:
            parsed = request
        else:
            values = (
                request.model_dump() if isinstance(request, smartlist.SmartListRequest) else request
            )
            parsed = lists.parse_request(smartlist.SmartListRequest, _merge(values, params))
        return smartlist.search_contacts(self._conn, self.scope, self.layout, parsed)

    @_answers
    def views(self) -> list[dict[str, Any]]:
        """The org's saved views: name, description, query."""
        return views.list_views(self._conn, self.scope)

    @_answers
    def view_request(self, name: str, **overrides: Any) -> smartlist.SmartListRequest:
        """Saved view `name`'s request with `overrides` (limit, cursor, sort, fields), checked:
        what `run_view` runs, for a caller that needs its fields (the CLI's columns)."""
        return views.view_request(self._conn, self.scope, name, overrides)

    def run_view(self, name: str, **overrides: Any) -> Page:
        """Run saved view `name`; overrides such as limit and cursor page through it."""
        return self.search(self.view_request(name, **overrides))

    @_answers
    def summary(self) -> dict[str, Any]:
        """Row counts per table, rejected records by reason, top contacts by ICP score."""
        return summary.summary(self._conn, self.scope, self.layout)

    @staticmethod
    def _resource(name: str) -> Resource:
        if name not in RESOURCES:
            raise InvalidRequest(f"unknown resource {name!r}; use one of {', '.join(RESOURCES)}")
        return RESOURCES[name]
