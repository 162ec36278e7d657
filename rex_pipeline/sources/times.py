"""The window of times an export can mean, shared by every parser.

Exports write placeholders where they have no time ("0001-01-01", "9999-12-31", Excel's
"1900-01-00"), and a typo or an overflowed epoch lands in year 0 or 10000, which Python's
`datetime` cannot even hold (reading such a warehouse value back into Python raises). A parsed
time outside the window is therefore treated as unparsed: NULL, its text kept where the parser
keeps unparsed values.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)  # exclusive


def plausible(times: pl.Expr) -> pl.Expr:
    """UTC timestamps inside the window; NULL outside it."""
    return pl.when(times.is_between(EARLIEST, LATEST, closed="left")).then(times)


def plausible_datetime(value: datetime | None) -> datetime | None:
    """An aware datetime inside the window, else None."""
    if value is None or not EARLIEST <= value < LATEST:
        return None
    return value
