"""Bring the derived tables (contact_search, contacts_by_…, owner_records) of an updated copy of
the published file up to date in place, in proportion to what changed, instead of building
them again (at 1M contacts ~5 s a publish, mostly writing every row of each again).

`publish.delta` leaves which rows of contacts, contact_emails and companies it deleted and
added (`DELTA_KEYS`, with the rowids of contacts rows). Rows of the other contacts keep their
rowids until the file's checkpoint (`warehouse.publish` rebuilds if that renumbers them), so a
derived row is out of date exactly when its contact row was deleted or, for contact_search,
when the contact's other emails or its company's name changed; those rows are deleted, and the
added contacts rows and those contacts get new ones. owner_records likewise loses the rows of
deleted records and of the records of changed contacts (their owner may have changed), and
gets rows for the added records and those.

A new row takes a free position between its neighbours in each order (positions have gaps,
see `derived.STRIDE`): one sort of the table's old rows and the new ones in that order gives
each new row the positions of the old rows before and after it in its org; rows sharing a gap
share it evenly, or a stride apart from the neighbour of their own org when the gap is wide
(the room between two orgs). A table whose gap is too narrow, or which gains a new org, is
built again instead. That sort reads every row of the table: it is the part of an update
whose cost still follows the warehouse.
"""

from __future__ import annotations

import duckdb
import polars as pl

from rex_pipeline.publish.compression import compression_disabled
from rex_pipeline.publish.delta import added_rows, gone_rows
from rex_pipeline.publish.derived import (
    CONTACT_TABLES,
    OWNER_SORT,
    SEARCH_UNCOMPRESSED,
    STRIDE,
    TOP,
    current_derived,
    owner_rows,
    search_rows,
)
from rex_pipeline.schema import CONTACT_SEARCH, CONTACT_SEARCH_ORGS, CONTACTS_BY, OWNER_RECORDS

# The columns `publish.delta` keeps of deleted and added rows for the update.
DELTA_KEYS: dict[str, tuple[str, ...]] = {
    "contacts": ("org_id", "id"),
    "contact_emails": ("org_id", "contact_id", "email", "is_primary"),
    "companies": ("org_id", "id", "name"),
    **{kind: ("org_id", "contact_id") for kind in OWNER_SORT},
}

# Contacts whose contact_search `more` changed though their contacts row did not: a secondary
# email added or removed, or their company renamed, added or removed (multisets: EXCEPT ALL).
_REDO = """
    CREATE OR REPLACE TEMP TABLE derived_redo AS
    SELECT contact_id AS id FROM (
        (SELECT org_id, contact_id, email FROM {emails_gone} WHERE NOT is_primary
         EXCEPT ALL SELECT org_id, contact_id, email FROM {emails_added} WHERE NOT is_primary)
        UNION ALL
        (SELECT org_id, contact_id, email FROM {emails_added} WHERE NOT is_primary
         EXCEPT ALL SELECT org_id, contact_id, email FROM {emails_gone} WHERE NOT is_primary))
    UNION
    SELECT c.id FROM {db}.main.contacts AS c JOIN (
        (SELECT org_id, id, name FROM {companies_gone}
         EXCEPT ALL SELECT org_id, id, name FROM {companies_added})
        UNION ALL
        (SELECT org_id, id, name FROM {companies_added}
         EXCEPT ALL SELECT org_id, id, name FROM {companies_gone})
    ) AS r ON r.org_id = c.org_id AND r.id = c.company_id
"""


def kept_deltas(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether `publish.delta` left what this update needs (the tables went through it)."""
    wanted = [name(t) for t in DELTA_KEYS for name in (gone_rows, added_rows)]
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name IN"
        f" ({', '.join('?' * len(wanted))})",
        wanted,
    ).fetchall()[0][0]
    return found == len(wanted)


def forget_deltas(con: duckdb.DuckDBPyConnection) -> None:
    """Drop what `publish.delta` kept and this module made (temp tables of the connection)."""
    names = [name(t) for t in DELTA_KEYS for name in (gone_rows, added_rows)]
    for name in (*names, "derived_redo", "derived_new", "derived_owners"):
        con.execute(f'DROP TABLE IF EXISTS temp.main."{name}"')


def update_derived_tables(
    con: duckdb.DuckDBPyConnection, catalog: str, stale: set[str]
) -> set[str]:
    """Update in place the derived contact tables and owner_records among `stale` (those of
    the current shape; the caller checked `kept_deltas`). Returns the derived tables still to
    build (`build_derived_tables`): the others of `stale`, any a new row found no room in, and
    contact_search_orgs when a contact table changed (it summarises their positions)."""
    db = f'"{catalog}"'
    todo = set(stale)
    current = current_derived(con, catalog)
    if CONTACT_SEARCH_ORGS.name not in current:  # positions of another kind
        return todo
    for table in sorted(stale & CONTACT_TABLES & current):
        if _update(con, db, table):
            todo.discard(table)
            todo.add(CONTACT_SEARCH_ORGS.name)
    if OWNER_RECORDS.name in stale & current:
        _update_owner_records(con, db)
        todo.discard(OWNER_RECORDS.name)
    return todo


def _update_owner_records(con: duckdb.DuckDBPyConnection, db: str) -> None:
    """owner_records without the rows of deleted records and of every record of a contact
    whose row changed (its owner may have), then with rows for the added records and those."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE derived_owners AS"
        f" SELECT id FROM {gone_rows('contacts')} UNION SELECT id FROM {added_rows('contacts')}"
    )
    theirs = "contact_id IN (SELECT id FROM derived_owners)"
    gone = " OR ".join(
        f"(kind = '{kind}' AND record_row IN (SELECT row_id FROM {gone_rows(kind)}))"
        for kind in OWNER_SORT
    )
    records = " UNION ALL ".join(
        f'SELECT id FROM {db}.main."{kind}" WHERE {theirs}' for kind in OWNER_SORT
    )
    target = f'{db}.main."{OWNER_RECORDS.name}"'
    con.execute(f"DELETE FROM {target} WHERE {gone} OR record_id IN ({records})")
    among = f"WHERE rowid IN (SELECT row_id FROM {added_rows('{kind}')}) OR {theirs}"
    con.execute(f"INSERT INTO {target} {owner_rows(db, among)}")


def _update(con: duckdb.DuckDBPyConnection, db: str, table: str) -> bool:
    """Delete `table`'s out-of-date rows and add rows for the contacts rows left without one;
    False (the table is left half-done, to be built again) when a new row finds no room."""
    target = f'{db}.main."{table}"'
    search = table == CONTACT_SEARCH.name
    redo = ""
    if search:
        con.execute(
            _REDO.format(
                db=db,
                emails_gone=gone_rows("contact_emails"),
                emails_added=added_rows("contact_emails"),
                companies_gone=gone_rows("companies"),
                companies_added=added_rows("companies"),
            )
        )
        redo = " OR contact_id IN (SELECT id FROM derived_redo)"
    con.execute(
        f"DELETE FROM {target}"
        f" WHERE contact_row IN (SELECT row_id FROM {gone_rows('contacts')}){redo}"
    )
    # contacts rows without a derived row: those the delta added, and those to redo
    missing = f"SELECT row_id FROM {added_rows('contacts')}"
    if search:
        missing += (
            f" UNION ALL SELECT rowid FROM {db}.main.contacts"
            " WHERE id IN (SELECT id FROM derived_redo)"
        )
        rows = search_rows(
            db,
            f"WHERE c.rowid IN ({missing})",
            among=f"AND contact_id IN (SELECT id FROM {added_rows('contacts')}"
            " UNION ALL SELECT id FROM derived_redo)",
        )
    else:
        column = next(c for c, t in CONTACTS_BY.items() if t.name == table)
        rows = (
            f'SELECT org_id, "{column}", id AS contact_id, rowid AS contact_row, owner_id'
            f" FROM {db}.main.contacts WHERE rowid IN ({missing})"
        )
    con.execute(f"CREATE OR REPLACE TEMP TABLE derived_new AS {rows}")
    if not con.execute("SELECT count(*) FROM derived_new").fetchall()[0][0]:
        return True
    placed = _positions(con, target, table)
    if placed is None:
        return False
    con.register("derived_placed", placed)
    try:
        with compression_disabled(con, SEARCH_UNCOMPRESSED if search else ""):
            con.execute(
                f"INSERT INTO {target} BY NAME SELECT n.*, p.* EXCLUDE (contact_row)"
                " FROM derived_new AS n JOIN derived_placed AS p USING (contact_row)"
                f" ORDER BY p.{placed.columns[1]}"
            )
    finally:
        con.unregister("derived_placed")
    return True


def _positions(con: duckdb.DuckDBPyConnection, target: str, table: str) -> pl.DataFrame | None:
    """The positions of derived_new's rows in `target`'s position columns (contact_row, then a
    column each); None when one has no room, or its org no rows yet. One sort of the table's
    old and new rows in its order gives each new row its neighbours; a contacts_by table's
    descending order is its ascending one reversed within the keyed rows and the NULLs."""
    if table == CONTACT_SEARCH.name:
        key, order, columns = (
            "created_at",
            "created_at DESC NULLS LAST, contact_id DESC",
            ["position"],
        )
    else:
        key = next(c for c, t in CONTACTS_BY.items() if t.name == table)
        order, columns = f'"{key}" ASC NULLS LAST, contact_id ASC', ["pos_asc", "pos_desc"]
    old = ", ".join(columns)
    nulls = ", ".join("NULL::BIGINT" for _ in columns)
    rows = con.sql(
        f"""
        SELECT hash(org_id) AS org_key, "{key}" IS NOT NULL AS keyed, new_row, {old} FROM (
            SELECT org_id, contact_id, "{key}", NULL::BIGINT AS new_row, {old} FROM {target}
            UNION ALL SELECT org_id, contact_id, "{key}", contact_row, {nulls} FROM derived_new
        ) ORDER BY org_id, {order}
        """
    ).pl()
    rows = rows.with_columns(
        org=(pl.col("org_key") != pl.col("org_key").shift()).fill_null(True).cum_sum(),
        at=pl.int_range(pl.len()),
    )
    placed = rows.filter(pl.col("new_row").is_not_null()).select(contact_row="new_row")
    for number, column in enumerate(columns):
        in_order = (
            rows
            if number == 0
            else rows.sort(["org", "keyed", "at"], descending=[False, True, True])
        )
        found = _place(in_order, column)
        if found is None:
            return None
        placed = placed.join(found, on="contact_row", how="left")
    return placed


def _place(rows: pl.DataFrame, column: str) -> pl.DataFrame | None:
    """Positions for the new rows (`new_row` set, `column` NULL) of `rows`, which are in the
    column's order: rows sharing a gap share it evenly from its lower side, at most a stride
    apart; first in their org, they take it downwards from the org's first row, so the room
    between orgs is used from the side of the rows' own org."""
    p = pl.col(column)
    rows = rows.with_columns(lo=p.forward_fill().over("org"), hi=p.backward_fill().over("org"))
    spans = (
        rows.filter(p.is_not_null())
        .group_by("org")
        .agg(first=p.min(), last=p.max())
        .sort("org")
        .with_columns(prev_last=pl.col("last").shift(1), next_first=pl.col("first").shift(-1))
    )
    new = rows.filter(p.is_null()).join(spans, on="org", how="left", maintain_order="left")
    if new.select((pl.col("hi").is_null() & pl.col("lo").is_null()).any()).item():
        return None  # an org new to this table
    gap = ["org", "lo"]
    new = new.with_columns(
        low=pl.coalesce("lo", "prev_last", pl.lit(0)),
        high=pl.coalesce("hi", "next_first", pl.lit(TOP)),
        k=pl.len().over(gap),
        i=pl.int_range(pl.len()).over(gap),
    ).with_columns(
        s=pl.min_horizontal(pl.lit(STRIDE), (pl.col("high") - pl.col("low")) // (pl.col("k") + 1))
    )
    if new.select(pl.col("s").min()).item() < 1:
        return None
    return new.select(
        contact_row="new_row",
        **{
            column: pl.when(pl.col("lo").is_null())
            .then(pl.col("high") - pl.col("s") * (pl.col("k") - pl.col("i")))
            .otherwise(pl.col("low") + pl.col("s") * (pl.col("i") + 1))
        },
    )
