"""Read-only answers to the Rex API's questions, straight from the published DuckDB warehouse.

    from rex_pipeline.query import Warehouse

    with Warehouse() as wh:  # REX_DUCKDB_PATH / REX_ORG_ID, read-only
        page = wh.list_contacts(stage="prospect", sort="-icp_score", limit=25)
        more = wh.list_contacts(stage="prospect", sort="-icp_score", cursor=page["next_cursor"])
        contact = wh.get_contact("cont_01h…")  # with relationships and included
        events = wh.contact_timeline("cont_01h…")
        hits = wh.search({"query": {"groups": [...]}, "q": "acme"})

Modules, one job each: connection (read-only open, Scope), cursor (opaque keyset cursors sealed
to their query), pages (keyset paging), layout (which derived tables the file has), candidates
(pages read through a derived table), resources (what each record kind allows), filters (list
requests), textsearch (free text), lists, smartlist (OR-of-AND compiler), detail (one record +
relationships), timeline, summary, views (saved smart lists), formatting (table/JSON/CSV for
the CLI), warehouse (the facade).
"""

from rex_pipeline.query.connection import Scope
from rex_pipeline.query.errors import (
    InvalidCursor,
    InvalidRequest,
    NotFound,
    QueryError,
    WarehouseUnavailable,
)
from rex_pipeline.query.filters import (
    ActivityListRequest,
    CompanyListRequest,
    ContactListRequest,
    DealListRequest,
    TaskListRequest,
)
from rex_pipeline.query.pages import MAX_LIMIT, Page
from rex_pipeline.query.smartlist import Condition, Group, SmartListRequest, SmartQuery
from rex_pipeline.query.timeline import TimelineRequest
from rex_pipeline.query.warehouse import Warehouse

__all__ = [
    "MAX_LIMIT",
    "ActivityListRequest",
    "CompanyListRequest",
    "Condition",
    "ContactListRequest",
    "DealListRequest",
    "Group",
    "InvalidCursor",
    "InvalidRequest",
    "NotFound",
    "Page",
    "QueryError",
    "Scope",
    "SmartListRequest",
    "SmartQuery",
    "TaskListRequest",
    "TimelineRequest",
    "Warehouse",
    "WarehouseUnavailable",
]
