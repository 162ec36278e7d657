"""The published file's layout for readers: the order canonical rows are written in, and the
derived tables built from them for the query module. Kept apart from the copy-and-swap in
`warehouse.publish` so the query benchmark builds exactly the same layout.

Derived tables are built from the file's own canonical tables, so they can never disagree with
them; the query module works without them (older files), only slower. An updated copy of the
last published file rebuilds only those whose canonical tables changed (`stale_derived`): the
others still hold the right rows and rowids (a checkpoint may renumber the rows of a table with
deletions, never those of an untouched one; `warehouse.publish` rebuilds the derived tables of
a table it renumbered).
"""

from __future__ import annotations

import duckdb

from rex_pipeline.publish.compression import compression_disabled
from rex_pipeline.schema import (
    CONTACT_SEARCH,
    CONTACT_SEARCH_ORGS,
    CONTACTS_BY,
    DERIVED_INPUTS,
    OWNER_RECORDS,
    Table,
)

# Newest rows first, as the query module's default sort: DuckDB then skips whole row groups for
# "latest N" pages (about ten times faster on a million contacts than an unordered file).
PUBLISH_ORDER = {
    "contacts": "ORDER BY created_at DESC NULLS LAST, id DESC",
    "companies": "ORDER BY created_at DESC, id DESC",
    "activities": "ORDER BY occurred_at DESC NULLS LAST, id DESC",
}

# The owner_records sort key: an integer, because DuckDB's min/max of a string column keep
# only its first bytes, too few to tell owners apart ("maria@northwind…", "mario@northwind…").
OWNER_KEY = "md5_number_upper(concat_ws(chr(0), {org}, {owner}))"
# The records a member sees through their contacts, with each kind's default sort column (see
# query/resources.py): owner_records has that column only.
OWNER_SORT = {"activities": "occurred_at", "deals": "created_at", "tasks": "due_at"}

# The canonical tables the derived tables are built from: derived_inputs keeps their row counts.
DERIVED_FROM = ("contacts", "activities", "deals", "tasks")

# What a smart list's free text looks at besides the name and primary email (see
# query/smartlist.py): the contact's other addresses, its company's name, its custom values.
_OTHER_EMAILS = """
    SELECT org_id, contact_id, string_agg(email, ' ' ORDER BY email) AS emails
    FROM {db}.main.contact_emails WHERE NOT is_primary GROUP BY org_id, contact_id
"""


# What each derived table is built from (canonical tables, and derived ones built before it).
_SEARCH_FROM = frozenset({"contacts", "contact_emails", "companies"})
BUILT_FROM: dict[str, frozenset[str]] = {
    CONTACT_SEARCH.name: _SEARCH_FROM,
    CONTACT_SEARCH_ORGS.name: _SEARCH_FROM,
    **{t.name: frozenset({"contacts", CONTACT_SEARCH_ORGS.name}) for t in CONTACTS_BY.values()},
    OWNER_RECORDS.name: frozenset(DERIVED_FROM),
}


def stale_derived(
    con: duckdb.DuckDBPyConnection, catalog: str, changed: set[str]
) -> set[str] | None:
    """The derived tables of `catalog` that the `changed` canonical tables make out of date, or
    that are missing or of another shape; None (all of them) when there is no derived_inputs
    table to vouch for the rest."""
    found = dict(
        con.execute(
            "SELECT table_name, list(column_name ORDER BY column_index) FROM duckdb_columns()"
            " WHERE database_name = ? AND schema_name = 'main' GROUP BY table_name",
            [catalog],
        ).fetchall()
    )

    def current(table: Table) -> bool:
        return tuple(found.get(table.name) or ()) == table.column_names

    if not current(DERIVED_INPUTS):
        return None
    stale = {name for name, sources in BUILT_FROM.items() if sources & changed}
    own = (CONTACT_SEARCH, *CONTACTS_BY.values(), OWNER_RECORDS)
    stale |= {t.name for t in own if not current(t)}
    if CONTACT_SEARCH.name in stale or not current(CONTACT_SEARCH_ORGS):
        stale |= {CONTACT_SEARCH_ORGS.name, CONTACT_SEARCH.name}
    if CONTACT_SEARCH_ORGS.name in stale:  # their positions count on from its
        stale |= {t.name for t in CONTACTS_BY.values()}
    return stale


def build_derived_tables(
    con: duckdb.DuckDBPyConnection, catalog: str, only: set[str] | None = None
) -> None:
    """(Re)build the derived tables of `catalog` from its own canonical tables: all of them, or
    `only` those named (see `stale_derived`). Run by `publish` and by the query benchmark, so
    both get the same layout."""
    db = f'"{catalog}"'
    if only is None or CONTACT_SEARCH.name in only:
        _build_contact_search(con, db)
    for column, table in CONTACTS_BY.items():
        if only is None or table.name in only:
            _build_contacts_by(con, db, column)
    if only is None or OWNER_RECORDS.name in only:
        _build_owner_records(con, db)
    con.execute(DERIVED_INPUTS.create_sql(db))
    con.execute(
        f'INSERT INTO {db}.main."{DERIVED_INPUTS.name}" '
        + " UNION ALL ".join(
            f"SELECT '{table}', count(*) FROM {db}.main.\"{table}\"" for table in DERIVED_FROM
        )
    )


def _build_contact_search(con: duckdb.DuckDBPyConnection, db: str) -> None:
    """contact_search: per contact, by org and newest first, the lower-cased text a search looks
    at (`text`: names and primary email; `more`: what free text also matches) beside the
    columns a contact list sorts by, and its rowid in contacts; contact_search_orgs says where
    each org's rows are. A search reads positions of one narrow table a range at a time,
    stopping at the first page's worth in the default order, instead of case-folding contacts,
    and then reads the page's contacts by rowid.

    Parts are joined by spaces and search words never contain one, so a word cannot match
    across two fields. Its strings are stored uncompressed: a rare word is looked for in every
    row, and reading plain strings is 3-5x faster than decoding FSST or ZSTD ones (measured on
    1M contacts: 25 ms vs 80-125 ms CPU); it takes ~210 MB per million contacts instead of
    ~85 MB (FSST) or ~30 MB (ZSTD)."""
    con.execute(CONTACT_SEARCH.create_sql(db))
    with compression_disabled(con, "fsst,dict_fsst,zstd"):
        con.execute(
            f"""
            INSERT INTO {db}.main."{CONTACT_SEARCH.name}"
            SELECT c.org_id,
                   row_number() OVER (ORDER BY c.org_id, c.created_at DESC NULLS LAST,
                                               c.id DESC) - 1,
                   c.id, c.rowid, c.owner_id, c.created_at, c.updated_at, c.first_name,
                   c.last_name, c.icp_score,
                   lower(concat_ws(' ', c.first_name, c.last_name, c.email)),
                   lower(concat_ws(' ', e.emails, co.name,
                         array_to_string(json_extract_string(c.metadata, '$.*'), ' ')))
            FROM {db}.main.contacts AS c
            LEFT JOIN ({_OTHER_EMAILS.format(db=db)}) AS e
              ON e.org_id = c.org_id AND e.contact_id = c.id
            LEFT JOIN {db}.main.companies AS co ON co.org_id = c.org_id AND co.id = c.company_id
            ORDER BY c.org_id, c.created_at DESC NULLS LAST, c.id DESC
            """
        )
    con.execute(CONTACT_SEARCH_ORGS.create_sql(db))
    con.execute(
        f'INSERT INTO {db}.main."{CONTACT_SEARCH_ORGS.name}"'
        f' SELECT org_id, min(position), count(*) FROM {db}.main."{CONTACT_SEARCH.name}"'
        " GROUP BY org_id ORDER BY org_id"
    )


def _build_contacts_by(con: duckdb.DuckDBPyConnection, db: str, column: str) -> None:
    """contacts_by_<column>: each org's contacts in <column> order, numbered both ways (ascending
    and descending, NULLs last in both, like the lists) and stored ascending. Positions count
    on from the org's first position in contact_search_orgs (orgs come in the same order
    everywhere), and either numbering rises or falls steadily along the stored rows, so a range
    of positions is a few row groups: a page at any depth reads fifty rows of it, then those
    contacts by rowid.

    The descending order is the ascending one reversed, apart from the NULLs, which stay last:
    one sort, not two."""
    table = CONTACTS_BY[column]
    con.execute(table.create_sql(db))
    con.execute(
        f"""
        INSERT INTO {db}.main."{table.name}"
        SELECT c.org_id, o.first_position + c.pos,
               o.first_position + CASE WHEN c."{column}" IS NULL THEN c.keyed + c.total - 1 - c.pos
                                       ELSE c.keyed - 1 - c.pos END,
               c."{column}", c.id, c.contact_row, c.owner_id
        FROM (
            SELECT org_id, "{column}", id, rowid AS contact_row, owner_id,
                   row_number() OVER (PARTITION BY org_id
                                      ORDER BY "{column}" ASC NULLS LAST, id ASC) - 1 AS pos,
                   count("{column}") OVER (PARTITION BY org_id) AS keyed,
                   count(*) OVER (PARTITION BY org_id) AS total
            FROM {db}.main.contacts
        ) AS c
        JOIN {db}.main."{CONTACT_SEARCH_ORGS.name}" AS o ON o.org_id = c.org_id
        ORDER BY c.org_id, c.pos
        """
    )


def _build_owner_records(con: duckdb.DuckDBPyConnection, db: str) -> None:
    """owner_records: which owner sees each activity, deal and task (the owner of its contact),
    ordered by kind, owner and the kind's default sort. A member's list then reads the first
    rows of its own slice instead of joining every record to the member's contacts (measured
    on 2M activities: ~115 ms -> ~17 ms). One join of all three kinds with the owned contacts,
    each owner's key computed once per contact."""
    con.execute(OWNER_RECORDS.create_sql(db))
    records = " UNION ALL ".join(
        f"SELECT '{kind}' AS kind, org_id, contact_id, \"{column}\" AS sort_key, id,"
        f' rowid AS record_row FROM {db}.main."{kind}"'
        for kind, column in OWNER_SORT.items()
    )
    con.execute(
        f"""
        INSERT INTO {db}.main."{OWNER_RECORDS.name}"
        SELECT r.org_id, r.kind, c.owner_key, c.owner_id, r.sort_key, r.id, r.record_row
        FROM ({records}) AS r
        JOIN (
            SELECT org_id, id, owner_id,
                   {OWNER_KEY.format(org="org_id", owner="owner_id")} AS owner_key
            FROM {db}.main.contacts WHERE owner_id IS NOT NULL
        ) AS c ON c.org_id = r.org_id AND c.id = r.contact_id
        ORDER BY r.kind, c.owner_key, r.sort_key DESC NULLS LAST
        """
    )
