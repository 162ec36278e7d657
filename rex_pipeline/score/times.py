"""UTC everywhere: the run time and warehouse timestamps, whatever zone they arrive in."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

UTC_TS = pl.Datetime("us", "UTC")


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime (a naive one is taken to be UTC already)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def utc_column(name: str, dtype: pl.DataType) -> pl.Expr:
    """A timestamp column as UTC microseconds (naive values are taken to be UTC)."""
    moment = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        moment = (
            moment.dt.convert_time_zone("UTC")
            if dtype.time_zone
            else moment.dt.replace_time_zone("UTC")
        )
    return moment.cast(UTC_TS, strict=False)
