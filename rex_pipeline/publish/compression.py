"""Which compression methods DuckDB may use while a block of writes runs. DuckDB compresses a
row group when it writes it (inserts, checkpoints), choosing per column among the methods that
are not disabled; the setting is the database instance's, so it is set and restored around the
writes it is meant for."""

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb


@contextmanager
def compression_disabled(con: duckdb.DuckDBPyConnection, methods: str) -> Iterator[None]:
    """Disable exactly `methods` (comma-separated; "" enables all) inside the block, then put
    back what was set before."""
    before = con.execute("SELECT current_setting('disabled_compression_methods')").fetchall()
    con.execute(f"SET disabled_compression_methods = '{methods}'")
    try:
        yield
    finally:
        con.execute(f"SET disabled_compression_methods = '{before[0][0]}'")
