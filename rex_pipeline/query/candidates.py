"""Pages read through a derived table that lists, in the page's order, the rows that may be on
them (the contacts matching a search, the activities a member sees): `Candidates`.

A page then reads only those rows of the big table, a window at a time: the first n candidates
(n = limit + 1, then 8x more while other filters leave the page short), the window's qualifying
rows by (rowid, id) in one narrow query, and the page's rows by rowid. Correct because every row
that can be on the page is a candidate: a window of the first n holds every qualifying row up
to the n-th candidate, so limit + 1 qualifying rows in it are the page.

Why rowids and no LIMIT in the big-table queries: DuckDB reads a wide row at ~0.6 ms CPU per
2048-row vector it sits in, so only the page's rows are read in full, by rowid; and DuckDB 2.0's
late materialisation (used for LIMIT queries) fails on a rowid filter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import duckdb

from rex_pipeline.query.connection import fetch_dicts

if TYPE_CHECKING:
    from rex_pipeline.query.pages import Order

WINDOW_GROWTH = 8
MAX_CANDIDATES = 4096  # beyond this, listing rowids costs more than the plain query saves
FIRST_SPAN = 4096  # positions read by the first range query (see Positions); then the rest
_AMONG_ROWS = "t.rowid IN (SELECT unnest(?::BIGINT[]))"


@dataclass(frozen=True)
class Positions:
    """The source numbers its rows in the page's order in `column` (rising within the group the
    candidates come from, steadily rising or falling along the stored rows, with gaps about
    `stride` wide); `span` (with `params`) answers the group's (first position, last position),
    so the group's clause is not needed when reading by position. Candidates are then read
    from the first FIRST_SPAN rows' worth of positions, and only if those hold too few, from
    the rest: DuckDB evaluates a filter on whole row groups of 122,880 rows, so one top-N query
    for a common word would test hundreds of thousands of rows to keep the first fifty."""

    column: str
    span: str
    params: list[Any]
    stride: int = 1


@dataclass(frozen=True)
class Candidates:
    """The rows that may be on a page, from a narrow derived table `source` (aliased `s`):
    `group` selects the rows candidates come from (an org's) and `where` keeps exactly those
    satisfying the part of the request they stand for; `order` is the page's order over the
    source's columns (its tiebreak is the id); `row` holds each row's rowid in the page's table.
    `fallback` is the same part as clauses over the page's table `t`, for when the candidates
    run long."""

    source: str
    group: str
    group_params: list[Any]
    where: list[str]
    params: list[Any]
    order: Order
    row: str
    fallback: list[str] = field(default_factory=list)
    fallback_params: list[Any] = field(default_factory=list)
    positions: Positions | None = None


class _Reader:
    """The candidates after the cursor, in page order, fetched as far as asked."""

    def __init__(
        self,
        conn: duckdb.DuckDBPyConnection,
        candidates: Candidates,
        cursor_key: tuple[Any, Any] | None,
    ) -> None:
        self.conn = conn
        self.c = candidates
        self.where, self.params = list(candidates.where), list(candidates.params)
        self.found: list[tuple[Any, ...]] = []
        self.start, self.end = 0, -1
        self.span = FIRST_SPAN  # positions the next range query reads
        after_cursor = cursor_key is not None
        if candidates.positions is not None:
            self.span = FIRST_SPAN * candidates.positions.stride
            self.start, self.end, after_cursor = self._bounds(candidates.positions, cursor_key)
        if after_cursor and cursor_key is not None:
            clause, clause_params = candidates.order.after(*cursor_key)
            self.where.append(clause)
            self.params += clause_params

    def _bounds(
        self, positions: Positions, cursor_key: tuple[Any, Any] | None
    ) -> tuple[int, int, bool]:
        """(first position to read, last position of the group, whether the cursor clause is
        still needed): reading starts after the cursor's row when it is still there; if it is
        gone (a later publish), from the top, with the cursor clause."""
        span = self.conn.execute(positions.span, positions.params).fetchall()
        if not span:
            return 0, -1, False
        start, end = span[0]
        if cursor_key is None:
            return start, end, False
        order = self.c.order
        key_test = f"{order.key} IS NULL" if cursor_key[0] is None else f"{order.key} = ?"
        at = self.conn.execute(
            f"SELECT {positions.column} FROM {self.c.source}"
            f" WHERE {positions.column} BETWEEN ? AND ? AND {key_test} AND {order.tiebreak} = ?",
            [start, end, *(v for v in cursor_key if v is not None)],
        ).fetchall()
        return (at[0][0] + 1, end, False) if at else (start, end, True)

    def first(self, wanted: int) -> list[tuple[Any, ...]]:
        """The first `wanted` candidates (fewer when there are no more): (key, id, rowid)."""
        c, order = self.c, self.c.order
        columns = f"{order.key}, {order.tiebreak}, {c.row}"
        if c.positions is None:
            where = " AND ".join([c.group, *self.where])
            return self.conn.execute(
                f"SELECT {columns} FROM {c.source} WHERE {where}"
                f" ORDER BY {order.order_by()} LIMIT ?",
                [*c.group_params, *self.params, wanted],
            ).fetchall()
        position = c.positions.column
        where = " AND ".join([*self.where, f"{position} >= ?", f"{position} < ?"])
        while len(self.found) < wanted and self.start <= self.end:
            stop = min(self.start + self.span, self.end + 1)
            rows = self.conn.execute(
                f"SELECT {columns}, {position} FROM {c.source} WHERE {where}"
                f" ORDER BY {position} LIMIT ?",
                [*self.params, self.start, stop, wanted - len(self.found)],
            ).fetchall()
            self.found += [row[:3] for row in rows]
            if len(self.found) >= wanted:  # more may follow in this range
                self.start = rows[-1][3] + 1
            else:
                self.start, self.span = stop, self.end + 1 - stop  # then the rest
        return self.found[:wanted]


def windowed_rows(
    conn: duckdb.DuckDBPyConnection,
    candidates: Candidates,
    cursor_key: tuple[Any, Any] | None,
    page: tuple[list[str], str, list[str], list[Any], Order],
    limit: int,
) -> list[dict[str, Any]] | None:
    """The page's rows (limit + 1 at most) read through `candidates`, or None when more than
    MAX_CANDIDATES would be needed or the candidates no longer describe the table. `page` is
    (select, source, where, params, order) of the page query without the part the candidates
    stand for (`where` includes the cursor clause); `cursor_key` is the cursor's position."""
    select, source, where, params, order = page
    reader = _Reader(conn, candidates, cursor_key)
    wanted = limit + 1
    while wanted <= MAX_CANDIDATES:
        found = reader.first(wanted)
        if not found:
            return []
        window, window_params = [_AMONG_ROWS], [[rowid for *_, rowid in found]]
        if found[-1][0] is not None:  # keys beyond the last candidate's cannot be on the page
            bound, bound_params = order.up_to(found[-1][0])
            window, window_params = [bound, *window], [*bound_params, *window_params]
        qualifying = conn.execute(
            f"SELECT t.rowid, {order.tiebreak} FROM {source}"
            f" WHERE {' AND '.join([*where, *window])} ORDER BY {order.order_by()}",
            [*params, *window_params],
        ).fetchall()
        ids = {rowid: row_id for _, row_id, rowid in found}
        if any(ids[rowid] != row_id for rowid, row_id in qualifying):
            return None  # the derived table no longer describes this file
        if len(qualifying) > limit or len(found) < wanted:
            return _rows_by_rowid(conn, select, source, where, params, qualifying[: limit + 1])
        wanted *= WINDOW_GROWTH
    return None


def _rows_by_rowid(
    conn: duckdb.DuckDBPyConnection,
    select: list[str],
    source: str,
    where: list[str],
    params: list[Any],
    wanted: list[tuple[int, Any]],
) -> list[dict[str, Any]] | None:
    """The rows at the `wanted` (rowid, id) pairs, in that order, still under every filter;
    None if one is missing (it cannot be: the caller just found it)."""
    if not wanted:
        return []
    fetched = fetch_dicts(
        conn,
        f"SELECT t.rowid AS __rowid, {', '.join(select)} FROM {source}"
        f" WHERE {' AND '.join([*where, _AMONG_ROWS])}",
        [*params, [rowid for rowid, _ in wanted]],
    )
    by_rowid = {row.pop("__rowid"): row for row in fetched}
    rows = [by_rowid[rowid] for rowid, _ in wanted if rowid in by_rowid]
    return rows if len(rows) == len(wanted) else None
