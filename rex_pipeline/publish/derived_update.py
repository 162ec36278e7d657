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
built again instead. That sort reads the key columns of every row of the table: it is the part
of an update whose cost still follows the warehouse. It is the only one: the neighbours in every
position column come from that one order (plain fills, no sort or group-by of the whole table
in polars), and the positions are worked out for the new rows alone (`_place`, in DuckDB; a
DuckDB window over the whole table, by contrast, took seconds).
"""

from __future__ import annotations

import duckdb
import polars as pl

from rex_pipeline.handover import registered
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

# Contacts whose contact_search `more_values` changed though their contacts row did not: a secondary
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
    for name in (*names, "derived_redo", "derived_new", "derived_owners", *_POSITIONING):
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
    columns = _positions(con, target, table)
    if columns is None:
        return False
    with compression_disabled(con, SEARCH_UNCOMPRESSED if search else ""):
        con.execute(
            f"INSERT INTO {target} BY NAME SELECT n.*, {', '.join(f'p.{c}' for c in columns)}"
            " FROM derived_new AS n JOIN derived_placed AS p USING (contact_row)"
            f" ORDER BY p.{columns[0]}"
        )
    return True


# The temp tables `_positions` makes (the connection's; dropped by `forget_deltas`).
_POSITIONING = ("derived_near", "derived_spans", "derived_placed")


def _filled(value: pl.Expr, org: pl.Expr, backward: bool = False) -> pl.Expr:
    """`value` filled from the nearest row before (or after) that has one, within the org:
    a plain fill, undone where the value came from another org (`.over` costs a group-by)."""
    source = pl.when(value.is_not_null()).then(org)
    if backward:
        return pl.when(source.backward_fill() == org).then(value.backward_fill())
    return pl.when(source.forward_fill() == org).then(value.forward_fill())


def _positions(con: duckdb.DuckDBPyConnection, target: str, table: str) -> list[str] | None:
    """Positions for derived_new's rows in `target`'s position columns (temp table
    derived_placed: contact_row, a column each and flags); returns the columns, or None when
    one has no room, or its org no rows yet.

    One sort of the table's old rows and the new ones in its order gives each new row its
    neighbours in every column (the positions of the old rows before and after it, `lo` and
    `hi`); only the new rows, and each org's extreme positions, go on to `_place`. A
    contacts_by table's descending order is its ascending one reversed within the keyed rows
    and within the NULLs, keyed rows first: a keyed row's neighbours there are the keyed old
    rows next to it (the one after it comes before it) or, below the lowest of them, the last
    unkeyed old row (`unkeyed_bottom`); an unkeyed row's are the unkeyed old rows next to it
    or, above the last of them, the first keyed old row (`keyed_top`)."""
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
    org = pl.col("org")
    rows = rows.with_columns(
        org=(pl.col("org_key") != pl.col("org_key").shift()).fill_null(True).cum_sum(),
        seq=pl.int_range(pl.len()),
    )
    first = pl.col(columns[0])
    near = [_filled(first, org).alias("lo"), _filled(first, org, backward=True).alias("hi")]
    spans = [first.min().alias("first"), first.max().alias("last")]
    if len(columns) == 2:
        desc, keyed = pl.col("pos_desc"), pl.col("keyed")
        of_keyed, of_unkeyed = desc.filter(keyed), desc.filter(~keyed)
        mine = [pl.when(keyed).then(desc), pl.when(~keyed).then(desc)]
        after = [_filled(d, org, backward=True) for d in mine]
        before = [_filled(d, org) for d in mine]
        near += [
            pl.when(keyed).then(after[0]).otherwise(after[1]).alias("lo_desc"),
            pl.when(keyed).then(before[0]).otherwise(before[1]).alias("hi_desc"),
        ]
        spans += [
            desc.min().alias("first_desc"),
            desc.max().alias("last_desc"),
            of_keyed.max().alias("keyed_top"),
            of_unkeyed.min().alias("unkeyed_bottom"),
        ]
    found = rows.select("org", "new_row", "keyed", "seq", *near).filter(
        pl.col("new_row").is_not_null()
    )
    extremes = rows.filter(first.is_not_null()).group_by("org").agg(spans)
    for name, frame in (("derived_near", found), ("derived_spans", extremes)):
        with registered(con, "__frame", frame):
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM __frame")
    places = [_place(columns[0], "n.lo", "n.hi", "n.seq", "first", "last")]
    if len(columns) == 2:
        places.append(
            _place(
                "pos_desc",
                "coalesce(n.lo_desc, CASE WHEN NOT n.keyed THEN s.keyed_top END)",
                "coalesce(n.hi_desc, CASE WHEN n.keyed THEN s.unkeyed_bottom END)",
                "n.keyed DESC, n.seq DESC",
                "first_desc",
                "last_desc",
            )
        )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE derived_placed AS SELECT contact_row, "
        + ", ".join(f"p{i}.{column}, p{i}.bad AS bad{i}" for i, (column, _) in enumerate(places))
        + " FROM "
        + " JOIN ".join(
            f"({query}) AS p{i}" + (" USING (contact_row)" if i else "")
            for i, (_, query) in enumerate(places)
        )
    )
    bad = " OR ".join(f"bad{i}" for i in range(len(places)))
    if con.execute(f"SELECT bool_or({bad}) FROM derived_placed").fetchall()[0][0]:
        return None
    return columns


def _place(column: str, lo: str, hi: str, order: str, first: str, last: str) -> tuple[str, str]:
    """(`column`, a query of contact_row, `column` and `bad` for derived_near's rows): the
    positions of the old rows before (`lo`) and after (`hi`) each new row in the column's
    order, expressions over derived_near `n` and derived_spans `s` (its org's `first` and
    `last` positions), decide where it goes. New rows sharing a gap share it evenly from its
    lower side, at most a stride apart; first in their org, they take it downwards from the
    org's first row, so the room between orgs is used from the side of the rows' own org.
    `bad`: no room, or an org new to the table. `order`: the new rows' order in the column."""
    gap = f"PARTITION BY n.org, {lo}"
    return (
        column,
        f"""
        SELECT contact_row, CASE WHEN lo IS NULL THEN high - step * (k - i)
                                 ELSE low + step * (i + 1) END AS {column},
               (lo IS NULL AND hi IS NULL) OR step < 1 AS bad
        FROM (
            SELECT *, least({STRIDE}, (high - low) // (k + 1)) AS step FROM (
                SELECT n.new_row AS contact_row, {lo} AS lo, {hi} AS hi,
                       coalesce({lo}, s.prev_last, 0) AS low,
                       coalesce({hi}, s.next_first, {TOP}) AS high,
                       count(*) OVER ({gap}) AS k,
                       row_number() OVER ({gap} ORDER BY {order}) - 1 AS i
                FROM derived_near AS n LEFT JOIN (
                    SELECT *, lag({last}) OVER (ORDER BY org) AS prev_last,
                           lead({first}) OVER (ORDER BY org) AS next_first
                    FROM derived_spans
                ) AS s ON s.org = n.org
            )
        )
    """,
    )
