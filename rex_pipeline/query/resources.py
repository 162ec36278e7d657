"""The record kinds the query module answers for, and what each one allows.

Everything that reaches SQL as text — table names, column names, sort keys — comes from here or
from rex_pipeline.schema, never from the caller: callers pick among these names and are refused
otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from rex_pipeline.ids import is_id_of
from rex_pipeline.query.connection import Scope
from rex_pipeline.query.cursor import Decoder, as_int, as_text, as_timestamp, nullable
from rex_pipeline.query.errors import InvalidRequest
from rex_pipeline.schema import (
    ACTIVITIES,
    COMPANIES,
    CONTACTS,
    DEALS,
    TASKS,
    Table,
)

OwnerScoping = Literal["owner_column", "via_contact", "none"]


_DECODERS: dict[str, Decoder] = {
    "VARCHAR": as_text,
    "INTEGER": as_int,
    "BIGINT": as_int,
    "TIMESTAMPTZ": as_timestamp,
}


@dataclass(frozen=True)
class Resource:
    """One record kind: its table, id prefix, sortable columns and how an owner scope applies."""

    name: str  # plural, as in the CLI and the API path: "contacts"
    type: str  # singular, as in relationships: "contact"
    table: Table
    prefix: str
    sorts: tuple[str, ...]
    default_sort: str
    owner_scoping: OwnerScoping
    merges_table: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """The record's fields as the API returns them (org_id is the scope, not a field)."""
        return tuple(c for c in self.table.column_names if c != "org_id")

    def column_type(self, column: str) -> str:
        spec = next(c for c in self.table.columns if c.name == column)
        return spec.type.removesuffix(" NOT NULL")

    def key_decoder(self, column: str) -> Decoder:
        """How a cursor's stored sort value is checked and read back for `column`."""
        return nullable(_DECODERS[self.column_type(column)])

    def check_id(self, record_id: str) -> str:
        """Refuse anything that is not an id of this kind, with a message saying what is."""
        if not isinstance(record_id, str) or not is_id_of(self.prefix, record_id):
            raise InvalidRequest(f"{record_id!r} is not a {self.type} id ({self.prefix}_…)")
        return record_id


CONTACTS_R = Resource(
    "contacts",
    "contact",
    CONTACTS,
    "cont",
    ("created_at", "updated_at", "first_name", "last_name", "icp_score"),
    "-created_at",
    "owner_column",
    merges_table="contact_merges",
)
COMPANIES_R = Resource(
    "companies",
    "company",
    COMPANIES,
    "comp",
    ("created_at", "updated_at", "name", "domain"),
    "-created_at",
    "none",
    merges_table="company_merges",
)
ACTIVITIES_R = Resource(
    "activities",
    "activity",
    ACTIVITIES,
    "act",
    ("occurred_at", "created_at", "updated_at"),
    "-occurred_at",
    "via_contact",
)
DEALS_R = Resource(
    "deals",
    "deal",
    DEALS,
    "deal",
    ("created_at", "updated_at", "value", "name"),
    "-created_at",
    "via_contact",
)
TASKS_R = Resource(
    "tasks", "task", TASKS, "task", ("due_at", "created_at", "updated_at"), "due_at", "via_contact"
)

RESOURCES: dict[str, Resource] = {
    r.name: r for r in (CONTACTS_R, COMPANIES_R, ACTIVITIES_R, DEALS_R, TASKS_R)
}


def scope_sql(
    resource: Resource, scope: Scope, alias: str = "t", *, owner: bool = True
) -> tuple[str, list[Any]]:
    """The WHERE clause that keeps a query inside the caller's org (and owner, if any). A member
    sees their contacts, and activities/deals/tasks only through those contacts. `owner=False`
    leaves the owner part out, for a caller that applies it another way (see lists)."""
    sql, params = f"{alias}.org_id = ?", [scope.org_id]
    if not owner or scope.owner_id is None or resource.owner_scoping == "none":
        return sql, params
    if resource.owner_scoping == "owner_column":
        return f"{sql} AND {alias}.owner_id = ?", [*params, scope.owner_id]
    return (
        f"{sql} AND {alias}.contact_id IN "
        "(SELECT id FROM contacts WHERE org_id = ? AND owner_id = ?)",
        [*params, scope.org_id, scope.owner_id],
    )
