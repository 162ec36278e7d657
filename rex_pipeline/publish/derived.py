"""The published file's layout for readers: the order canonical rows are written in, and the
derived tables built from them for the query module. Kept apart from the copy-and-swap in
`warehouse.publish` so the query benchmark builds exactly the same layout.

Derived tables are built from the file's own canonical tables, so they can never disagree with
them; the query module works without them (older files), only slower. An updated copy of the
last published file touches only those whose canonical tables changed (`stale_derived`),
updating them in place (publish/derived_update.py): the others still hold the right rows and
rowids (a checkpoint may renumber the rows of a table with deletions, never those of an
untouched one; `warehouse.publish` rebuilds the derived tables of a table it renumbered).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from rex_pipeline.publish.compression import compression_disabled
from rex_pipeline.schema import (
    CONTACT_SEARCH,
    CONTACT_SEARCH_ORGS,
    CONTACTS_BY,
    DERIVED_INPUTS,
    DERIVED_TABLES,
    OWNER_RECORDS,
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
    FROM {db}.main.contact_emails WHERE NOT is_primary {among} GROUP BY org_id, contact_id
"""


# Positions rise along each order with gaps: a full build numbers an org's rows STRIDE apart,
# after HEAD strides of room before the org's first row (orgs never overlap), so rows a later
# publish adds take free positions between their neighbours (publish/derived_update.py) and no
# other row moves. Room for ~a million rows ahead of an org's newest and 20 halvings of a gap
# between two rows; 2^62 leaves room for millions of orgs.
STRIDE = 2**20
HEAD = 2**20
TOP = 2**62


@dataclass(frozen=True)
class PositionColumn:
    """A position column of a derived contact table (contact_search_orgs spans each)."""

    table: str
    column: str

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}"


# contact_search's strings are stored plain (see _build_contact_search).
SEARCH_UNCOMPRESSED = "fsst,dict_fsst,zstd"
POSITION_COLUMNS: tuple[PositionColumn, ...] = (
    PositionColumn(CONTACT_SEARCH.name, "position"),
    *(
        PositionColumn(table.name, column)
        for table in CONTACTS_BY.values()
        for column in ("pos_asc", "pos_desc")
    ),
)

# Where each org's positions start (in strides): HEAD strides after the previous org's rows.
_ORG_BASES = """
    SELECT org_id, row_number() OVER (ORDER BY org_id) * {head}
                   + sum(n) OVER (ORDER BY org_id) - n AS base
    FROM (SELECT org_id, count(*) AS n FROM {db}.main.contacts GROUP BY org_id)
"""

# What each derived table is built from (canonical tables, and derived ones built before it).
_SEARCH_FROM = frozenset({"contacts", "contact_emails", "companies"})
CONTACT_TABLES = frozenset({CONTACT_SEARCH.name, *(t.name for t in CONTACTS_BY.values())})
BUILT_FROM: dict[str, frozenset[str]] = {
    CONTACT_SEARCH.name: _SEARCH_FROM,
    CONTACT_SEARCH_ORGS.name: _SEARCH_FROM,
    **{t.name: frozenset({"contacts"}) for t in CONTACTS_BY.values()},
    OWNER_RECORDS.name: frozenset(DERIVED_FROM),
}


Shapes = dict[tuple[str, str], tuple[list[str], list[str]]]


def table_shapes(con: duckdb.DuckDBPyConnection, *catalogs: str) -> Shapes:
    """(column names, data types) of every table of `catalogs`, by (catalog, table): one read
    of the catalog (duckdb_columns() costs ~5 ms a call on a warehouse: 28 calls a publish)."""
    rows = con.execute(
        f"""SELECT database_name, table_name, list(column_name ORDER BY column_index),
                   list(data_type ORDER BY column_index)
            FROM duckdb_columns() WHERE schema_name = 'main'
            AND database_name IN ({", ".join("?" * len(catalogs))}) GROUP BY ALL""",
        list(catalogs),
    ).fetchall()
    return {(db, name): (list(columns), list(types)) for db, name, columns, types in rows}


def current_derived(con: duckdb.DuckDBPyConnection, catalog: str) -> set[str]:
    """The derived tables `catalog` has with the columns this code builds them with."""
    shapes = table_shapes(con, catalog)
    return {
        t.name
        for t in DERIVED_TABLES
        if (catalog, t.name) in shapes and tuple(shapes[catalog, t.name][0]) == t.column_names
    }


def stale_derived(
    con: duckdb.DuckDBPyConnection, catalog: str, changed: set[str]
) -> set[str] | None:
    """The derived tables of `catalog` that the `changed` canonical tables make out of date, or
    that are missing or of another shape; None (all of them) when there is no derived_inputs
    table to vouch for the rest."""
    current = current_derived(con, catalog)
    if DERIVED_INPUTS.name not in current:
        return None
    stale = {name for name, sources in BUILT_FROM.items() if sources & changed}
    stale |= {t.name for t in DERIVED_TABLES if t.name not in current}
    if CONTACT_SEARCH_ORGS.name not in current:  # positions of another kind: all built again
        stale |= CONTACT_TABLES
    if stale & CONTACT_TABLES:  # it summarises their positions
        stale.add(CONTACT_SEARCH_ORGS.name)
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
    if only is None or CONTACT_SEARCH_ORGS.name in only:
        summarise_positions(con, db)
    if only is None or OWNER_RECORDS.name in only:
        _build_owner_records(con, db)
    con.execute(DERIVED_INPUTS.create_sql(db))
    con.execute(
        f'INSERT INTO {db}.main."{DERIVED_INPUTS.name}" '
        + " UNION ALL ".join(
            f"SELECT '{table}', count(*) FROM {db}.main.\"{table}\"" for table in DERIVED_FROM
        )
    )


def metadata_values(column: str) -> str:
    """SQL: every scalar value of JSON `column`, at any depth, joined by spaces; what free text
    matches in custom fields. Not `$.*`: it gives a nested object as its raw JSON, so its keys
    matched (`employeecount` found every contact with custom_variables). json_value('$..*') is
    the scalars (NULL for objects and arrays) as JSON; `->>` unquotes them. ~0.6 s more than
    `$.*` per million contacts on one core."""
    return f"array_to_string(list_transform(json_value({column}, '$..*'), lambda v: v->>'$'), ' ')"


def search_rows(db: str, where: str = "", among: str = "") -> str:
    """contact_search's columns but the position, for the contacts `c` (all, or those `where`
    says), with `contact_row` their rowid: the text a search looks at beside the sort columns.
    `among` (e.g. "AND contact_id IN (…)") limits the emails aggregated to theirs."""
    return f"""
        SELECT c.org_id, c.id AS contact_id, c.rowid AS contact_row, c.owner_id, c.created_at,
               c.updated_at, c.first_name, c.last_name, c.icp_score,
               lower(concat_ws(' ', c.first_name, c.last_name, c.email)) AS text,
               lower(concat_ws(' ', e.emails, co.name, {metadata_values("c.metadata")}))
                   AS more_values
        FROM {db}.main.contacts AS c
        LEFT JOIN ({_OTHER_EMAILS.format(db=db, among=among)}) AS e
          ON e.org_id = c.org_id AND e.contact_id = c.id
        LEFT JOIN {db}.main.companies AS co ON co.org_id = c.org_id AND co.id = c.company_id
        {where}
    """


def _build_contact_search(con: duckdb.DuckDBPyConnection, db: str) -> None:
    """contact_search: per contact, by org and newest first, the lower-cased text a search looks
    at (`text`: names and primary email; `more_values`: what free text also matches) beside the
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
    columns = ", ".join(f'r."{c}"' for c in CONTACT_SEARCH.column_names if c != "position")
    with compression_disabled(con, SEARCH_UNCOMPRESSED):
        con.execute(
            f"""
            INSERT INTO {db}.main."{CONTACT_SEARCH.name}" BY NAME
            SELECT ({STRIDE}) * (o.base + row_number() OVER (
                       PARTITION BY r.org_id ORDER BY r.created_at DESC NULLS LAST,
                                                      r.contact_id DESC) - 1) AS position,
                   {columns}
            FROM ({search_rows(db)}) AS r
            JOIN ({_ORG_BASES.format(db=db, head=HEAD)}) AS o ON o.org_id = r.org_id
            ORDER BY position
            """
        )


def summarise_positions(con: duckdb.DuckDBPyConnection, db: str) -> None:
    """contact_search_orgs: each org's first and last position in every position column, so a
    reader starts at an org's first row and never reads another org's."""
    con.execute(CONTACT_SEARCH_ORGS.create_sql(db))
    con.execute(
        f'INSERT INTO {db}.main."{CONTACT_SEARCH_ORGS.name}" '
        + " UNION ALL ".join(
            f'SELECT org_id, \'{p.name}\', min("{p.column}"), max("{p.column}")'
            f' FROM {db}.main."{p.table}" GROUP BY org_id'
            for p in POSITION_COLUMNS
        )
    )


def _build_contacts_by(con: duckdb.DuckDBPyConnection, db: str, column: str) -> None:
    """contacts_by_<column>: each org's contacts in <column> order, numbered both ways (ascending
    and descending, NULLs last in both, like the lists) and stored ascending. Either numbering
    rises or falls steadily along the stored rows, so a range of positions is a few row
    groups: a page at any depth reads fifty rows of it, then those contacts by rowid.

    The descending order is the ascending one reversed, apart from the NULLs, which stay last:
    one sort, not two."""
    table = CONTACTS_BY[column]
    con.execute(table.create_sql(db))
    con.execute(
        f"""
        INSERT INTO {db}.main."{table.name}"
        SELECT c.org_id, ({STRIDE}) * (o.base + c.pos),
               ({STRIDE}) * (o.base + CASE WHEN c."{column}" IS NULL
                                         THEN c.keyed + c.total - 1 - c.pos
                                         ELSE c.keyed - 1 - c.pos END),
               c."{column}", c.id, c.contact_row, c.owner_id
        FROM (
            SELECT org_id, "{column}", id, rowid AS contact_row, owner_id,
                   row_number() OVER (PARTITION BY org_id
                                      ORDER BY "{column}" ASC NULLS LAST, id ASC) - 1 AS pos,
                   count("{column}") OVER (PARTITION BY org_id) AS keyed,
                   count(*) OVER (PARTITION BY org_id) AS total
            FROM {db}.main.contacts
        ) AS c
        JOIN ({_ORG_BASES.format(db=db, head=HEAD)}) AS o ON o.org_id = c.org_id
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
    con.execute(f'INSERT INTO {db}.main."{OWNER_RECORDS.name}" {owner_rows(db)}')


def owner_rows(db: str, among: str = "") -> str:
    """owner_records' rows, in its order, for the records of every kind, or those `among`
    says (a WHERE clause on the kind's table, `{kind}` standing for its name). With `among`,
    only the contacts of those records get an owner key: computing it for every owned
    contact cost an update more than the rest (1M contacts: ~0.3 of 0.45 s)."""
    records = " UNION ALL ".join(
        f"SELECT '{kind}' AS kind, org_id, contact_id, \"{column}\" AS sort_key, id,"
        f' rowid AS record_row FROM {db}.main."{kind}" {among.format(kind=kind)}'
        for kind, column in OWNER_SORT.items()
    )
    # a full build joins in place: materialising every record would cost a copy of them
    with_r, from_r = (
        (f"WITH r AS MATERIALIZED ({records})", "r") if among else ("", f"({records}) AS r")
    )
    theirs = " AND id IN (SELECT contact_id FROM r)" if among else ""
    return f"""
        {with_r}
        SELECT r.org_id, r.kind, c.owner_key, c.owner_id, r.sort_key, r.id, r.record_row
        FROM {from_r}
        JOIN (
            SELECT org_id, id, owner_id,
                   {OWNER_KEY.format(org="org_id", owner="owner_id")} AS owner_key
            FROM {db}.main.contacts WHERE owner_id IS NOT NULL{theirs}
        ) AS c ON c.org_id = r.org_id AND c.id = r.contact_id
        ORDER BY r.kind, c.owner_key, r.sort_key DESC NULLS LAST
    """
