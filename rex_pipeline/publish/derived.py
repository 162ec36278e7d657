"""The published file's layout for readers: the order canonical rows are written in, and the
derived tables built from them (search helpers for the query module). Kept apart from the
copy-and-swap in `warehouse.publish` so the query benchmark builds exactly the same layout."""

from __future__ import annotations

import duckdb

from rex_pipeline.schema import CONTACT_SEARCH

# Newest rows first, as the query module's default sort: DuckDB then skips whole row groups for
# "latest N" pages (about ten times faster on a million contacts than an unordered file).
PUBLISH_ORDER = {
    "contacts": "ORDER BY created_at DESC, id DESC",
    "companies": "ORDER BY created_at DESC, id DESC",
    "activities": "ORDER BY occurred_at DESC NULLS LAST, id DESC",
}


def build_derived_tables(con: duckdb.DuckDBPyConnection, catalog: str) -> None:
    """(Re)build the derived tables of `catalog` from its own canonical tables. Run by
    `publish` and by the query benchmark, so both get the same layout.

    contact_search holds what a name/email search looks at (first name, last name, primary
    email), lower-cased in one column, so a search scans one short string per contact instead of
    case-folding three columns; the fields are joined by spaces and search words never contain
    one, so a word cannot match across two fields."""
    target = f'"{catalog}".main."{CONTACT_SEARCH.name}"'
    con.execute(CONTACT_SEARCH.create_sql(f'"{catalog}"'))
    con.execute(
        f"INSERT INTO {target} SELECT org_id, id,"
        " lower(concat_ws(' ', first_name, last_name, email))"
        f' FROM "{catalog}".main.contacts {PUBLISH_ORDER["contacts"]}'
    )
