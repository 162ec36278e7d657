"""Bring a copy of the last published file up to date by rewriting only the rows that changed.

A run that adds 1% of the data changes a few percent of the canonical rows, but copying every
table into a fresh file costs as much as the first publish (sorting and compressing every row
group again). Here the old file is copied byte for byte and, per table, the rows of the copy
are compared with the work database's by a hash of the whole row: rows that are gone or
changed are deleted, new or changed rows are appended. DuckDB keeps deletions as a mask of
the row group and writes appended rows as new row groups, so a checkpoint costs what changed.

Rows are compared as a multiset: a row present twice on one side and once on the other loses
one copy. Rows are matched by hash alone: one aggregate over both sides finds the hashes whose
counts differ, and only the rows with such a hash are numbered to choose the copies that go or
come (numbering every row by a window over the hash cost as much as hashing; anti joins of each
side against the other cost twice the aggregate). Two different rows agree on their 64-bit hash
with a chance of about 1 in 10^8 per million-row table, which would leave the older of them in
place until the next full publish.

Only the work side needs hashing: the published rows' hashes are the work rows' hashes at the
last publish, kept in the work database (`kept_hashes`: the rowid in the published file and the
hash of the row there), and maintained by each publish from what it deleted and added. They are
trusted only for the file the last publish wrote (the caller checks that) and only while they
sit at the rowids the file has (`_kept_fit`); otherwise the published side is hashed again.

Better still, when the work database's log of touched keys vouches for every change since the
last publish (`publish.touched`), only the rows with those keys (or, for the lineage tables,
from those files) are compared, on both sides: every other row is on both already. A +1% run
at 1M contacts then hashes a few percent of the rows instead of every row of the work side
(~2 s). Their published side's hashes are then taken from
the kept ones where those are trusted, found by a scan of the key column: hashing the logged
rows in the published file reads every column of nearly every row group, as they are scattered
(1M increment: ~1 CPU-s).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from rex_pipeline.publish.derived import PUBLISH_ORDER, Shapes, table_shapes
from rex_pipeline.publish.touched import BY_FILE, TOUCH_KEYS
from rex_pipeline.schema import Table


@dataclass(frozen=True)
class TableDelta:
    table: str
    deleted: int
    inserted: int

    @property
    def changed(self) -> bool:
        return bool(self.deleted or self.inserted)


def _hashes(catalog: str, table: Table, among: str | None = None, files: str | None = None) -> str:
    """The rowid and row hash of every row of `catalog`.`table`, or of those whose key is one
    of `among`'s (or whose file one of `files`'): found by a scan of the key column, then read
    by rowid, so only their other columns are read."""
    columns = ", ".join(f'"{c}"' for c in table.column_names)
    source = f'"{catalog}".main."{table.name}"'
    query = f"SELECT rowid AS row_id, hash({columns}) AS h FROM {source}"
    if among is None:
        return query
    return f"{query} WHERE rowid IN ({_rowids_among(catalog, table, among, files)})"


def _rowids_among(catalog: str, table: Table, among: str, files: str | None = None) -> str:
    """The rowids of `catalog`.`table`'s rows whose key (`TOUCH_KEYS`) is one of `among`'s, or
    whose file (`BY_FILE`) one of `files`': a scan of the key column (and one of the file
    column: one scan testing either would plan a join over every row)."""
    source = f'"{catalog}".main."{table.name}"'
    query = f'SELECT rowid FROM {source} WHERE "{TOUCH_KEYS[table.name]}" IN ({among})'
    if files is None:
        return query
    by_file = f'SELECT rowid FROM {source} WHERE "{BY_FILE[table.name]}" IN ({files})'
    return f"{query} UNION ALL {by_file}"


# The hashes whose number of rows differs between the published (old) and work (new) sides.
_DIFFERENT = """
    SELECT h, count(*) FILTER (WHERE new = 0) AS count_old, count(*) FILTER (WHERE new = 1)
        AS count_new
    FROM (SELECT h, 0 AS new FROM delta_old UNION ALL SELECT h, 1 AS new FROM delta_new)
    GROUP BY h HAVING count_old <> count_new
"""

# Rows of side `a` not matched on side `b`: of each hash `a` has more copies of, the copies
# beyond `b`'s count (numbered among equal rows, so duplicates pair up).
_UNMATCHED = """
    SELECT row_id FROM (
        SELECT a.row_id, row_number() OVER (PARTITION BY a.h) AS n, d.count_{b} AS other
        FROM delta_{a} a JOIN delta_diff d ON d.h = a.h AND d.count_{a} > d.count_{b}
    ) WHERE n > other
"""


def gone_rows(table: str) -> str:
    """The temp table `apply_table_delta` leaves with the kept columns (and rowid, `row_id`) of
    the published rows it deleted."""
    return f"delta_gone_{table}"


def added_rows(table: str) -> str:
    """The temp table `apply_table_delta` leaves with the kept columns (and rowid, `row_id`) of
    the rows it added."""
    return f"delta_added_{table}"


def kept_hashes(table: str) -> str:
    """The work database's table of (row_id, h): the rowid and row hash of each row of the
    published file's `table`, as the last publish left them."""
    return f"published_hashes_{table}"


def _kept_fit(con: duckdb.DuckDBPyConnection, published: str, work: str, table: Table) -> bool:
    """Whether `table`'s kept hashes sit at exactly the rowids `published` has. A checkpoint
    that merges row groups renumbers the rows after a deleted one (keeping their order), which
    changes the set of rowids: then the hashes are no longer where the rows are."""
    kept = kept_hashes(table.name)
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main'"
        " AND table_name = ?",
        [work, kept],
    ).fetchall()[0][0]
    if not exists:
        return False
    fingerprint = 'SELECT count(*), sum(hash({rowid})) FROM "{db}".main."{table}"'
    have = con.execute(fingerprint.format(rowid="row_id", db=work, table=kept)).fetchall()
    want = con.execute(fingerprint.format(rowid="rowid", db=published, table=table.name))
    return have == want.fetchall()


def record_hashes(con: duckdb.DuckDBPyConnection, published: str, work: str, table: Table) -> None:
    """Keep the hashes of every row of `published`.`table` (one written afresh)."""
    con.execute(
        f'CREATE OR REPLACE TABLE "{work}".main."{kept_hashes(table.name)}" AS'
        f" {_hashes(published, table)}"
    )


def apply_table_delta(
    con: duckdb.DuckDBPyConnection,
    published: str,
    work: str,
    table: Table,
    keep: tuple[str, ...] = (),
    trust_kept: bool = False,
    touched: str | None = None,
    touched_files: str | None = None,
) -> TableDelta:
    """Make `published`.`table` hold the same rows as `work`.`table`, touching only the
    differences. New rows go in the publish order, after the old ones. With `keep` columns,
    what was deleted and added is left in temp tables (`gone_rows`, `added_rows`) for the
    derived tables to follow (their caller drops them).

    `trust_kept`: the caller knows `published` is the file the last publish wrote, so its
    kept hashes (`kept_hashes`) stand for its rows where they fit them. Either way the kept
    hashes describe `published`.`table` afterwards (until a checkpoint renumbers it).

    `touched` (a query of keys of the table's `TOUCH_KEYS` column): the caller knows that
    every row of either side whose key is not among them is on both (`publish.touched`), so
    only the rows with those keys are compared, on both sides; `touched_files` (a query of
    files, with `touched`): so are the rows from those files (`BY_FILE`)."""
    hashes = f'"{work}".main."{kept_hashes(table.name)}"'
    use_kept = (trust_kept or touched is not None) and _kept_fit(con, published, work, table)
    if touched is not None and trust_kept and use_kept:
        # the kept hashes of the logged rows: hashing them in the published file would read
        # every column of nearly every row group (the logged rows are scattered through it)
        rows = _rowids_among(published, table, touched, touched_files)
        old = f"SELECT row_id, h FROM {hashes} WHERE row_id IN ({rows})"
    elif touched is not None:
        old = _hashes(published, table, touched, touched_files)
    elif use_kept:
        old = f"SELECT row_id, h FROM {hashes}"
    else:
        old = _hashes(published, table)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE delta_old AS {old};
        CREATE OR REPLACE TEMP TABLE delta_new AS {_hashes(work, table, touched, touched_files)};
        CREATE OR REPLACE TEMP TABLE delta_diff AS {_DIFFERENT};
        CREATE OR REPLACE TEMP TABLE delta_gone AS {_UNMATCHED.format(a="old", b="new")};
        CREATE OR REPLACE TEMP TABLE delta_added AS {_UNMATCHED.format(a="new", b="old")};
        """
    )
    if keep:
        kept = ", ".join(f'"{c}"' for c in keep)
        con.execute(
            f'CREATE OR REPLACE TEMP TABLE "{gone_rows(table.name)}" AS'
            f' SELECT rowid AS row_id, {kept} FROM "{published}".main."{table.name}"'
            " WHERE rowid IN (SELECT row_id FROM delta_gone)"
        )
    deleted = con.execute(
        f'DELETE FROM "{published}".main."{table.name}"'
        " WHERE rowid IN (SELECT row_id FROM delta_gone)"
    ).fetchall()[0][0]
    last = f'SELECT max(rowid) FROM "{published}".main."{table.name}"'
    last_row = con.execute(last).fetchall()[0][0]
    after = -1 if last_row is None else int(last_row)
    columns = ", ".join(f'"{c}"' for c in table.column_names)
    # a table without a publish order gets its new rows in the work table's order, whichever
    # way the plan finds them (the file is then the same however many rows were compared)
    order = PUBLISH_ORDER.get(table.name, "ORDER BY rowid")
    inserted = con.execute(
        f'INSERT INTO "{published}".main."{table.name}" ({columns})'
        f' SELECT {columns} FROM "{work}".main."{table.name}"'
        f" WHERE rowid IN (SELECT row_id FROM delta_added) {order}"
    ).fetchall()[0][0]
    if keep:  # appended rows take rowids after every older one (deleted ones too)
        con.execute(
            f'CREATE OR REPLACE TEMP TABLE "{added_rows(table.name)}" AS'
            f' SELECT rowid AS row_id, {kept} FROM "{published}".main."{table.name}"'
            f" WHERE rowid > {after}"
        )
        found = con.execute(f'SELECT count(*) FROM "{added_rows(table.name)}"').fetchall()
        if found[0][0] != inserted:  # not so after all: no record, the derived tables rebuild
            con.execute(f'DROP TABLE "{added_rows(table.name)}"')
    _follow(con, published, table, hashes, use_kept, touched is None, after, int(inserted))
    con.execute(
        "DROP TABLE delta_old; DROP TABLE delta_new; DROP TABLE delta_diff;"
        " DROP TABLE delta_gone; DROP TABLE delta_added"
    )
    return TableDelta(table.name, int(deleted), int(inserted))


def _follow(
    con: duckdb.DuckDBPyConnection,
    published: str,
    table: Table,
    kept: str,
    use_kept: bool,
    whole: bool,
    after: int,
    inserted: int,
) -> None:
    """Make the kept hashes describe `published`.`table` after a delta: without the rows it
    deleted (or, when the whole published side was hashed, from those hashes), with the hashes
    of the appended rows, which take the rowids after `after`. Kept hashes that did not fit
    the published rows, with only some of them hashed, are dropped."""
    if use_kept:
        con.execute(f"DELETE FROM {kept} WHERE row_id IN (SELECT row_id FROM delta_gone)")
    elif not whole:
        con.execute(f"DROP TABLE IF EXISTS {kept}")
        return
    else:
        con.execute(
            f"CREATE OR REPLACE TABLE {kept} AS SELECT row_id, h FROM delta_old"
            " WHERE row_id NOT IN (SELECT row_id FROM delta_gone)"
        )
    added = con.execute(
        f"INSERT INTO {kept} {_hashes(published, table)} WHERE rowid > {after}"
    ).fetchall()[0][0]
    if added != inserted:  # appended rows were not where expected: trust no hashes
        con.execute(f"DROP TABLE {kept}")


def same_columns(
    con: duckdb.DuckDBPyConnection,
    published: str,
    work: str,
    table: Table,
    shapes: Shapes | None = None,
) -> bool:
    """Whether `published` has `table` with the columns it is defined with, of the types `work`
    has them in (a file written by an older schema is published afresh). `shapes`: both
    catalogs' `table_shapes`, read once for every table."""
    shapes = shapes if shapes is not None else table_shapes(con, published, work)
    old = shapes.get((published, table.name))
    return (
        old is not None
        and old[0] == list(table.column_names)
        and old == shapes.get((work, table.name))
    )
