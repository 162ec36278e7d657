"""What the canonical tables changed by since the last publish: the keys of the rows each apply
wrote, deleted or updated, logged in the work database (`touched_keys`), so that publishing looks at
those rows instead of every row.

A table's rows are logged by one key column (`TOUCH_KEYS`), or, for the lineage tables, by
that or by their file (`BY_FILE`): every row the apply inserts, deletes or updates has its key
or file logged, in the apply's transaction (a rolled-back apply logs nothing). The log is a
superset of what changed: a row whose key (and file) is not in it is the same as when the log
started.

The log starts empty at each successful publish, when the published file holds exactly the
canonical tables. It vouches for every change since only while `publish_state.touched_generation`
equals `generation`: each apply that keeps it complete moves it along with the generation it
bumps, so anything else that changes the tables and bumps the generation (`mark_changed`)
without logging leaves the log untrusted until the next publish starts a new one (a change
made by hand without `mark_changed` is not published at all until the next change, as before).
"""

from __future__ import annotations

import duckdb

TOUCHED = "touched_keys"

# The key column each logged table's rows are logged by. The other canonical tables (merges,
# the review queue, rejected records, saved views) are small and compared whole.
TOUCH_KEYS: dict[str, str] = {
    "contacts": "id",
    "contact_emails": "contact_id",
    "companies": "id",
    "activities": "id",
    "deals": "id",
    "tasks": "id",
    "contact_sources": "contact_id",
    "company_sources": "company_id",
    "stage_changes": "contact_id",
}


# Tables whose rows may instead be logged by the file they come from (`touch_files`): a lineage
# row of a record read from a file of the batch is logged by its file rather than by its entity,
# so a large company that gains a record does not have its thousands of other rows compared
# (1M increment: company_sources 214k rows compared -> ~10k).
BY_FILE: dict[str, str] = {"contact_sources": "source_file", "company_sources": "source_file"}


def _files_of(table: str) -> str:
    """The `table_name` under which `table`'s rows logged by file are."""
    return f"{table}:{BY_FILE[table]}"


def touch(
    con: duckdb.DuckDBPyConnection,
    table: str,
    keys: str,
    params: dict[str, object] | None = None,
) -> None:
    """Log `keys` (a query of one column) as keys of `table`'s rows this apply changes.
    Called before a delete or update (the rows it will change) and for what it inserts. An
    untrusted log is not kept (no publish would use it; a first run would log every row)."""
    assert table in TOUCH_KEYS, table
    _log(con, table, keys, params)


def touch_files(
    con: duckdb.DuckDBPyConnection,
    table: str,
    files: str,
    params: dict[str, object] | None = None,
) -> None:
    """Log `files` (a query of file names) as the `BY_FILE` values of `table`'s rows this
    apply changes: every row of either side from one of them is compared."""
    _log(con, _files_of(table), files, params)


def _log(
    con: duckdb.DuckDBPyConnection, name: str, values: str, params: dict[str, object] | None
) -> None:
    """Add the values of `values` (a query of one column) to the log under `name`, while the
    log is trusted."""
    if not trusted(con):
        return
    con.execute(f"INSERT INTO {TOUCHED} SELECT '{name}', k FROM ({values}) AS t(k)", params)


def advance(con: duckdb.DuckDBPyConnection) -> None:
    """Inside the apply transaction, after `mark_changed`: the log stays trusted if it was
    complete before this apply (which logged everything it changed)."""
    con.execute(
        "UPDATE publish_state SET touched_generation = generation"
        " WHERE touched_generation = generation - 1"
    )


def trusted(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the log holds every change since the last publish."""
    rows = con.execute("SELECT touched_generation = generation FROM publish_state").fetchall()
    return bool(rows and rows[0][0])


# Above this share of a table's rows, comparing the logged rows on both sides costs more than
# hashing the work side whole against the kept hashes (a full refresh logs every row).
MOST = 0.1


def logged_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """How many keys the log holds per table."""
    rows = con.execute(f"SELECT table_name, count(*) FROM {TOUCHED} GROUP BY ALL").fetchall()
    return {name: int(n) for name, n in rows}


def worth_it(con: duckdb.DuckDBPyConnection, catalog: str, table: str, logged: int) -> bool:
    """Whether comparing only `logged` keys of `catalog`.`table` beats comparing it whole."""
    if not logged:
        return True
    rows = con.execute(f'SELECT count(*) FROM "{catalog}".main."{table}"').fetchall()[0][0]
    return logged <= MOST * rows


def touched_keys(catalog: str, table: str) -> str:
    """A query of the logged keys of `table` (in the work database `catalog`)."""
    return f"SELECT key FROM \"{catalog}\".main.{TOUCHED} WHERE table_name = '{table}'"


def touched_files(catalog: str, table: str) -> str | None:
    """A query of the logged files of `table`, or None for a table not logged by file."""
    return touched_keys(catalog, _files_of(table)) if table in BY_FILE else None


def restart(con: duckdb.DuckDBPyConnection) -> None:
    """In the transaction that records a successful publish: the published file holds the
    canonical tables, so the log starts again, empty and trusted."""
    con.execute("UPDATE publish_state SET touched_generation = generation")
    con.execute(f"DELETE FROM {TOUCHED}")
