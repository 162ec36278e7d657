"""What the scorer reads from the work database: the contacts, companies and activities as
they will be after this run (persisted rows overlaid with the batch's recomputed rows), and the
previous scores, so that a score's `icp_scored_at` only moves when the score does.

An incremental run reads only the contacts this run can change the score of: contacts it
wrote, merge winners, contacts with new activities, contacts whose company it merged away or
wrote with other values in a column the scorer reads (a company is rewritten, mostly unchanged,
whenever a contact record names it: its contacts were 95% of what a 1% increment rescored). So
its cost follows the batch, and an unchanged inbox rescores nothing. The whole
warehouse is read when asked (`everything`: a full refresh, or a model other than the one the
stored scores came from), which is also when time-based criteria (days since the last reply)
catch up on contacts nothing happened to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import polars as pl

from rex_pipeline import batch
from rex_pipeline.handover import registered

_CONTACT_COLUMNS = "id, first_name, last_name, email, title, stage, company_id, metadata"
_COMPANY_COLUMNS = "id, name, domain, industry, size, metadata"
_ACTIVITY_COLUMNS = "id, contact_id, type, subtype, direction, status, occurred_at"


@dataclass
class ScoringInputs:
    contacts: pl.DataFrame
    companies: pl.DataFrame
    activities: pl.DataFrame
    previous: pl.DataFrame
    # the org's newest activity up to the run time, when `activities` are only some contacts'
    latest_activity: datetime | None = None


def _overlay_sql(con: duckdb.DuckDBPyConnection, table: str, columns: str) -> str:
    """SQL for the org's rows of `table` with this run's `batch_canonical_<table>` on top."""
    staged = f"batch_canonical_{table}"
    if not batch.exists(con, staged):
        return f"SELECT {columns} FROM {table} WHERE org_id = $org"
    return f"""SELECT {columns} FROM {staged}
               UNION ALL
               SELECT {columns} FROM {table}
               WHERE org_id = $org AND id NOT IN (SELECT id FROM {staged})"""


def _changed_companies_sql() -> str:
    """SQL for the ids of the companies this run wrote with other values than the stored ones
    in a column the scorer reads (or wrote for the first time). A company is rewritten
    whenever one of its records is seen again (every contact record naming it), mostly
    unchanged: its contacts' scores can only move when what the scorer reads of it does."""
    differs = " OR ".join(
        f"n.{c} IS DISTINCT FROM o.{c}"
        for c in _COMPANY_COLUMNS.split(", ")
        if c not in ("id", "metadata")
    )
    return f"""SELECT n.id FROM batch_canonical_companies n
               LEFT JOIN companies o ON o.id = n.id AND o.org_id = $org
               WHERE o.id IS NULL OR {differs}
                  OR n.metadata::VARCHAR IS DISTINCT FROM o.metadata::VARCHAR"""


def _affected_sql(con: duckdb.DuckDBPyConnection) -> str:
    """SQL for the ids of the contacts whose score this run may change."""
    parts = []
    if batch.exists(con, "batch_canonical_contacts"):
        parts.append("SELECT id FROM batch_canonical_contacts")
    if batch.exists(con, "batch_merges_contact"):
        parts.append("SELECT winner_id FROM batch_merges_contact")
    if batch.exists(con, "batch_canonical_activities"):
        parts.append(
            "SELECT contact_id FROM batch_canonical_activities WHERE contact_id IS NOT NULL"
        )
    companies = []
    if batch.exists(con, "batch_canonical_companies"):
        companies.append(_changed_companies_sql())
    if batch.exists(con, "batch_merges_company"):
        companies.append("SELECT loser_id FROM batch_merges_company")
    if companies:
        parts.append(
            "SELECT id FROM contacts WHERE org_id = $org AND company_id IN ("
            + " UNION ALL ".join(companies)
            + ")"
        )
    return " UNION ".join(parts) if parts else "SELECT NULL::VARCHAR AS id WHERE FALSE"


def merged_away_sql(con: duckdb.DuckDBPyConnection) -> str:
    """SQL for the ids of the contacts this run merges away (none once the batch is applied)."""
    if batch.exists(con, "batch_merges_contact"):
        return "SELECT loser_id FROM batch_merges_contact"
    return "SELECT NULL::VARCHAR WHERE FALSE"


def _winner_of(con: duckdb.DuckDBPyConnection, activities: pl.DataFrame) -> pl.DataFrame:
    """Activities of contacts merged away this run count for the winner."""
    if not batch.exists(con, "batch_merges_contact"):
        return activities
    merges = con.sql("SELECT loser_id, winner_id FROM batch_merges_contact").pl()
    return (
        activities.join(merges, left_on="contact_id", right_on="loser_id", how="left")
        .with_columns(contact_id=pl.coalesce("winner_id", "contact_id"))
        .drop("winner_id")
    )


def read_scoring_inputs(
    con: duckdb.DuckDBPyConnection,
    org: str,
    everything: bool = True,
    now: datetime | None = None,
) -> ScoringInputs:
    """Everything the scorer needs for the org's contacts as they will be after this run: all
    of them, or (`everything=False`) only those this run may change the score of, with the
    org's newest activity up to `now` (engagement windows end there, as in a full scoring)."""
    contacts_sql = _overlay_sql(con, "contacts", _CONTACT_COLUMNS)
    # contacts merged away this run are not scored
    wanted = f"id NOT IN ({merged_away_sql(con)})"
    if not everything:
        wanted += f" AND id IN ({_affected_sql(con)})"
    params = {"org": org}
    contacts = con.sql(f"SELECT * FROM ({contacts_sql}) WHERE {wanted}", params=params).pl()
    companies_sql = _overlay_sql(con, "companies", _COMPANY_COLUMNS)
    activities_sql = _overlay_sql(con, "activities", _ACTIVITY_COLUMNS)
    if everything:
        companies = con.sql(companies_sql, params=params).pl()
        activities = _winner_of(con, con.sql(activities_sql, params=params).pl())
        previous = con.sql(
            "SELECT id, icp_score, icp_scored_at FROM contacts WHERE org_id = $org", params=params
        ).pl()
        return ScoringInputs(contacts, companies, activities, previous)
    with registered(con, "__scored", contacts.select("id", "company_id")):
        companies = con.sql(
            f"SELECT * FROM ({companies_sql}) WHERE id IN (SELECT company_id FROM __scored)",
            params=params,
        ).pl()
        merged_into = (
            "SELECT loser_id AS id FROM batch_merges_contact "
            "WHERE winner_id IN (SELECT id FROM __scored)"
            if batch.exists(con, "batch_merges_contact")
            else "SELECT NULL::VARCHAR WHERE FALSE"
        )
        activities = con.sql(
            f"""SELECT * FROM ({activities_sql})
                WHERE contact_id IN (SELECT id FROM __scored UNION ALL {merged_into})""",
            params=params,
        ).pl()
        previous = con.sql(
            "SELECT c.id, c.icp_score, c.icp_scored_at FROM contacts c "
            "WHERE c.org_id = $org AND c.id IN (SELECT id FROM __scored)",
            params=params,
        ).pl()
    latest = None
    if now is not None:
        latest = con.execute(
            f"SELECT max(occurred_at) FROM ({activities_sql}) WHERE occurred_at <= $now",
            {"org": org, "now": now},
        ).fetchall()[0][0]
    return ScoringInputs(contacts, companies, _winner_of(con, activities), previous, latest)
