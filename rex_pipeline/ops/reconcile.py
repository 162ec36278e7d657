"""Reconciliation: proof, per input file, that nothing read was lost on the way to the warehouse.

For every file in the manifest: records read = records present + records rejected, where a
record is *present* only if its lineage reaches a canonical row that exists:

* contacts: a `contact_sources` row whose contact is in `contacts`;
* companies: a `company_sources` row whose company is in `companies`, less the companies
  *named by* contact records (staged with a `:company` record id, they have a lineage row
  too but are no record read);
* activities, deals, tasks: a staged record (`stg_*`, the work database's lineage of the
  natural-key tables) whose id is in `activities` / `deals` / `tasks`;
* rejected: a `rejected_records` row (an unreadable file read no records and left one).

`staged` (records in the work database's staging tables) is shown beside it: read ≠ staged +
rejected means a parser or normaliser dropped records; staged ≠ present means the apply step
lost them. Everything is SQL group-bys over whole tables, fast at millions of rows.
No Dagster here; `ops/checks.py` reports it.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl


def _union_all(*parts: str) -> str:
    return "\nUNION ALL\n".join(parts)


ENTITIES = ("contacts", "companies", "activities", "deals", "tasks")
_KEY = "org_id, source_system, source_file"


def _count(entity: str, rows: str) -> str:
    """Per file, the number of `rows` (a FROM … clause): counted before they are stacked, so
    the union and the pivot see one row per file instead of one per record."""
    return f"SELECT {_KEY}, '{entity}' AS entity, count(*) AS n FROM {rows} GROUP BY ALL"


def _present(rows: str, link: str, target: str) -> str:
    """`rows` whose `link` names a row of `target` in the same org, looked up by the number
    `hash(org_id, id)` rather than the two strings (a third less work at a million rows). A
    lost record counts as present only if its hash equals an existing row's: about n / 2^64
    per lost record (n = rows of `target`)."""
    return (
        f"{rows} s SEMI JOIN (SELECT hash(org_id, id) AS h FROM {target}) t"
        f" ON t.h = hash(s.org_id, s.{link})"
    )


_DERIVED_COMPANY = "ends_with(record_id, ':company')"  # named by a contact record, not read

# Per file and entity, the records present (see the module docstring) and staged; the
# company rows named by contact records are counted once and taken off the companies.
_PER_FILE = _union_all(
    _count("contacts", _present("contact_sources", "contact_id", "contacts")),
    _count("companies", _present("company_sources", "company_id", "companies")),
    f"""SELECT {_KEY}, CASE WHEN {_DERIVED_COMPANY} THEN 'derived_companies'
                            ELSE 'staged' END AS entity, count(*) AS n
        FROM stg_companies GROUP BY ALL""",
    *(
        _count(table, _present(f"stg_{table}", "entity_id", table))
        for table in ("activities", "deals", "tasks")
    ),
    *(_count("staged", f"stg_{table}") for table in ("contacts", "activities", "deals", "tasks")),
)

_PIVOTED = ", ".join(f"'{e}'" for e in (*ENTITIES, "derived_companies", "staged"))
_COUNTS = ", ".join(f"coalesce({e}, 0) AS {e}" for e in ENTITIES)
_PRESENT_SUM = " + ".join(f"coalesce({e}, 0)" for e in ENTITIES)

FILE_RECONCILIATION = f"""
    WITH files AS (
        SELECT org_id, source_system, file_name AS source_file, status,
               CASE WHEN status = 'loaded' THEN records_read ELSE records_rejected END AS read
        FROM manifest),
    counted AS (
        PIVOT ({_PER_FILE}) ON entity IN ({_PIVOTED})
        USING sum(n) GROUP BY {_KEY}),
    present AS (
        SELECT {_KEY}, contacts, coalesce(companies, 0) - coalesce(derived_companies, 0)
               AS companies, activities, deals, tasks, staged FROM counted),
    rejected AS (SELECT {_KEY}, count(*) AS rejected FROM rejected_records GROUP BY ALL)
    SELECT {_KEY}, status, read, {_COUNTS}, coalesce(rejected, 0) AS rejected,
           coalesce(staged, 0) AS staged,
           coalesce(read, 0) - ({_PRESENT_SUM}) - coalesce(rejected, 0) AS missing
    FROM files
    FULL JOIN present USING ({_KEY})
    FULL JOIN rejected USING ({_KEY})
    ORDER BY {_KEY}"""


@dataclass(frozen=True)
class Reconciliation:
    """One row per file: org_id, source_system, source_file, status, read, the records present
    per entity, rejected, staged, and missing (read - present - rejected)."""

    files: pl.DataFrame

    @property
    def mismatches(self) -> pl.DataFrame:
        """Files that don't add up: records missing (or extra), or lineage without a manifest
        entry (read is NULL)."""
        return self.files.filter(pl.col("read").is_null() | (pl.col("missing") != 0))

    @property
    def passed(self) -> bool:
        return self.mismatches.is_empty()

    def totals(self) -> dict[str, int]:
        """read, each entity, rejected, staged and missing summed over every file (missing as
        absolute values: a file short of a record and one with an extra don't cancel out)."""
        columns = ["read", *ENTITIES, "rejected", "staged"]
        sums = [pl.col(c).sum() for c in columns] + [pl.col("missing").abs().sum()]
        row = self.files.select(sums).row(0)
        return {c: int(v or 0) for c, v in zip([*columns, "missing"], row, strict=True)}


def reconcile(con: duckdb.DuckDBPyConnection) -> Reconciliation:
    """Reconcile every file of every org on a work-database connection."""
    return Reconciliation(con.sql(FILE_RECONCILIATION).pl())


def published_differences(
    con: duckdb.DuckDBPyConnection, catalog: str, tables: tuple[str, ...]
) -> dict[str, tuple[int, int | None]]:
    """Tables whose row count in the attached published copy (`catalog`) differs from the work
    database's: {table: (work rows, published rows, None when the table is missing)}. The
    publish copies them verbatim."""
    present = {
        name
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [catalog]
        ).fetchall()
    }
    parts = [
        f"SELECT '{t}', (SELECT count(*) FROM main.\"{t}\"), "
        + (f'(SELECT count(*) FROM "{catalog}".main."{t}")' if t in present else "NULL")
        for t in tables
    ]
    rows = con.execute(" UNION ALL ".join(parts)).fetchall()
    return {
        name: (int(work), None if pub is None else int(pub))
        for name, work, pub in rows
        if work != pub
    }


# Every table the reconciliation reads, in the work database.
_INPUT_TABLES = (
    "manifest",
    "rejected_records",
    "contact_sources",
    "company_sources",
    *ENTITIES,
    *(f"stg_{e}" for e in ENTITIES),
)


def inputs_state(con: duckdb.DuckDBPyConnection) -> str:
    """A fingerprint of what `reconcile` reads, cheap at any size: the canonical tables'
    generation (bumped by every apply that changes them), a hash of the manifest (every load
    rewrites its files' rows, with a new `loaded_at`), and the row count of every input table.
    Equal fingerprints mean the same reconciliation, so a check may reuse an earlier pass."""
    counts = " UNION ALL ".join(
        f"SELECT '{t}', count(*)::VARCHAR FROM \"{t}\"" for t in _INPUT_TABLES
    )
    rows = con.execute(
        f"""SELECT 'generation', generation::VARCHAR FROM publish_state
            UNION ALL SELECT 'manifest_hash', coalesce(sum(hash(m)), 0)::VARCHAR FROM manifest m
            UNION ALL {counts}"""
    ).fetchall()
    return ";".join(f"{name}={value}" for name, value in sorted(rows))
