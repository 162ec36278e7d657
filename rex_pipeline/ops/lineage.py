"""Every input record accounted for: per file, the records the manifest says were read equal
the staged records plus the rejected ones.

Reads the work database (manifest, stg_* and rejected_records). Company rows whose record_id
ends in `:company` are derived from contact records, not read from a file, so they don't count.
An unreadable file read no records and left one rejected row for the whole file.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

_STAGED = """
    SELECT org_id, source_system, source_file FROM stg_contacts
    UNION ALL SELECT org_id, source_system, source_file FROM stg_companies
              WHERE record_id NOT LIKE '%:company'
    UNION ALL SELECT org_id, source_system, source_file FROM stg_activities
    UNION ALL SELECT org_id, source_system, source_file FROM stg_deals
    UNION ALL SELECT org_id, source_system, source_file FROM stg_tasks"""

FILE_BALANCE = f"""
    WITH files AS (
        SELECT org_id, source_system, file_name AS source_file, status,
               CASE WHEN status = 'loaded' THEN records_read ELSE records_rejected END AS read
        FROM manifest),
    staged AS (SELECT org_id, source_system, source_file, count(*) AS staged
               FROM ({_STAGED}) GROUP BY ALL),
    rejected AS (SELECT org_id, source_system, source_file, count(*) AS rejected
                 FROM rejected_records GROUP BY ALL)
    SELECT org_id, source_system, source_file, status, read,
           coalesce(staged, 0) AS staged, coalesce(rejected, 0) AS rejected
    FROM files
    FULL JOIN staged USING (org_id, source_system, source_file)
    FULL JOIN rejected USING (org_id, source_system, source_file)"""


@dataclass(frozen=True)
class Balance:
    """Totals over every file, and the files whose records don't add up."""

    files: int
    read: int
    staged: int
    rejected: int
    mismatches: pl.DataFrame  # org_id, source_system, source_file, status, read, staged, rejected

    @property
    def passed(self) -> bool:
        return self.mismatches.is_empty()


def balance(con: duckdb.DuckDBPyConnection) -> Balance:
    """Compare read with staged + rejected for every file of every org. A file with staged or
    rejected rows but no manifest entry (read NULL) is a mismatch too."""
    files = con.sql(FILE_BALANCE).pl()
    totals = files.select(
        pl.col("read").is_not_null().sum().alias("files"),
        pl.col("read").sum().alias("read"),
        pl.col("staged").sum().alias("staged"),
        pl.col("rejected").sum().alias("rejected"),
    ).row(0)
    mismatches = files.filter(
        pl.col("read").is_null() | (pl.col("read") != pl.col("staged") + pl.col("rejected"))
    ).sort("org_id", "source_system", "source_file")
    return Balance(*(int(v or 0) for v in totals), mismatches=mismatches)
