"""Vectorised string similarity over aligned columns of pairs (rapidfuzz `cpdist`).

Names, local parts and company names repeat a lot, so each distinct (left, right) pair is
scored once and joined back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl
from rapidfuzz import process

#: Distinct pairs from which scoring is shared among all cores.
PARALLEL_PAIRS = 10_000


def pairwise(frame: pl.DataFrame, left: str, right: str, scorer: Callable[..., Any]) -> pl.Series:
    """scorer(left, right) for every row of `frame` as Float64; NULL where either is NULL."""
    both = frame.select(l=pl.col(left), r=pl.col(right))
    distinct = both.drop_nulls().unique()
    if distinct.is_empty():
        return pl.Series("sim", [None] * frame.height, dtype=pl.Float64)
    # threads only where there is enough to share: starting them costs ~0.1-1 ms a call,
    # more than scoring the few pairs of a small batch
    workers = -1 if distinct.height >= PARALLEL_PAIRS else 1
    values = process.cpdist(
        distinct["l"].to_list(), distinct["r"].to_list(), scorer=scorer, workers=workers
    )
    distinct = distinct.with_columns(sim=pl.Series(values).cast(pl.Float64))
    return both.join(distinct, on=["l", "r"], how="left", maintain_order="left")["sim"]
