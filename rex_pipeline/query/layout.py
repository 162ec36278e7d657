"""What a published file offers beyond the contract: its derived tables (publish/derived.py),
found once per connection. A file without them (published before they existed) is answered
the slow way, with the same results."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from rex_pipeline.publish.derived import DERIVED_FROM, table_shapes
from rex_pipeline.schema import (
    CONTACT_SEARCH,
    CONTACT_SEARCH_ORGS,
    CONTACTS_BY,
    DERIVED_INPUTS,
    OWNER_RECORDS,
    Table,
)


@dataclass(frozen=True)
class Layout:
    """Which derived tables this file has, in the shape this code reads, still describing its
    canonical tables."""

    contact_search: bool = False
    owner_records: bool = False
    contacts_by: frozenset[str] = frozenset()  # the sort columns with a sorted copy


PLAIN = Layout()
FULL = Layout(contact_search=True, owner_records=True, contacts_by=frozenset(CONTACTS_BY))


def detect(conn: duckdb.DuckDBPyConnection) -> Layout:
    """The derived tables whose columns are as declared in schema.py and whose source tables
    still have the row counts they were built from: they hold rowids of those tables, and a
    file written to after its publish (rows added or removed) must not be read through them.

    Rows edited in place (same counts) are not seen: the cheapest content check, a hash of
    contacts, costs 30-60 ms per open at 1M contacts (more with activities), against ~0.2 ms
    for the counts and 10-30 ms for a whole page; the README says so."""
    catalog = str(conn.execute("SELECT current_database()").fetchall()[0][0])
    found = {name: tuple(shape[0]) for (_, name), shape in table_shapes(conn, catalog).items()}
    if found.get(DERIVED_INPUTS.name) != DERIVED_INPUTS.column_names:
        return PLAIN
    counts = " ".join(f"WHEN '{t}' THEN (SELECT count(*) FROM \"{t}\")" for t in DERIVED_FROM)
    unchanged = dict(
        conn.execute(
            f"SELECT table_name, row_count = CASE table_name {counts} END"
            f' FROM "{DERIVED_INPUTS.name}"'
        ).fetchall()
    )

    def usable(tables: tuple[Table, ...], *sources: str) -> bool:
        current = all(unchanged.get(source) for source in sources)
        return current and all(found.get(t.name) == t.column_names for t in tables)

    return Layout(
        contact_search=usable((CONTACT_SEARCH, CONTACT_SEARCH_ORGS), "contacts"),
        owner_records=usable((OWNER_RECORDS,), *DERIVED_FROM),
        contacts_by=frozenset(
            column
            for column, table in CONTACTS_BY.items()
            if usable((table, CONTACT_SEARCH_ORGS), "contacts")
        ),
    )
