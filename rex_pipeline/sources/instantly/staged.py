"""What a mapper returns, and the lineage every staged or rejected Instantly row carries."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

SOURCE_SYSTEM = "instantly"


@dataclass(frozen=True)
class Origin:
    org_id: str
    source_file: str  # base name

    def columns(self) -> list[pl.Expr]:
        """Lineage of a flat frame's rows (`source_row` and `raw` are its own columns)."""
        return [
            pl.lit(self.org_id).alias("org_id"),
            pl.lit(SOURCE_SYSTEM).alias("source_system"),
            pl.lit(self.source_file).alias("source_file"),
            pl.col("source_row"),
            pl.col("raw"),
        ]

    def rejected(self, frame: pl.DataFrame, reason: pl.Expr) -> pl.DataFrame:
        """REJECTED rows for a flat frame's rows, with the reason for each."""
        return frame.select(*self.columns(), reason.alias("reason"))


@dataclass
class Staged:
    """The raw records one kind of Instantly record became."""

    contacts: pl.DataFrame | None = None
    activities: pl.DataFrame | None = None
    rejected: pl.DataFrame | None = None
    own_addresses: list[str] = field(default_factory=list)  # the org's mailboxes seen
