"""Handing polars frames to DuckDB queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import polars as pl


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> Iterator[None]:
    """`frame` readable as `name` by the queries of the block.

    It goes over as Arrow in the layout polars holds it (strings as string views), so no
    string is copied on the way. Registered as a polars frame, DuckDB would export it at
    polars' oldest compatibility level, which first copies every string column into Arrow's
    large_string layout: at 1M rows of ten text columns that is a quarter of the hand-over."""
    con.register(name, frame.to_arrow(compat_level=pl.CompatLevel.newest()))
    try:
        yield
    finally:
        con.unregister(name)
