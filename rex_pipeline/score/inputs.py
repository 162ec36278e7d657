"""What the scorer reads from the work database: the contacts, companies and activities as
they will be after this run (persisted rows overlaid with the batch's recomputed rows), and the
previous scores, so that a score's `icp_scored_at` only moves when the score does."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from rex_pipeline import batch


@dataclass
class ScoringInputs:
    contacts: pl.DataFrame
    companies: pl.DataFrame
    activities: pl.DataFrame
    previous: pl.DataFrame


def _overlay(con: duckdb.DuckDBPyConnection, table: str, columns: str, org: str) -> pl.DataFrame:
    """Rows of `table` for the org with this run's `batch_canonical_<table>` rows on top."""
    staged = f"batch_canonical_{table}"
    if not batch.exists(con, staged):
        return con.sql(f"SELECT {columns} FROM {table} WHERE org_id = ?", params=[org]).pl()
    return con.sql(
        f"""SELECT {columns} FROM {staged}
            UNION ALL
            SELECT {columns} FROM {table}
            WHERE org_id = $org AND id NOT IN (SELECT id FROM {staged})""",
        params={"org": org},
    ).pl()


def read_scoring_inputs(con: duckdb.DuckDBPyConnection, org: str) -> ScoringInputs:
    contacts = _overlay(
        con, "contacts", "id, first_name, last_name, email, title, stage, company_id, metadata", org
    )
    # contacts merged away this run are not scored
    if batch.exists(con, "batch_merges_contact"):
        losers = con.sql("SELECT loser_id AS id FROM batch_merges_contact").pl()
        contacts = contacts.join(losers, on="id", how="anti")
    companies = _overlay(con, "companies", "id, name, domain, industry, size, metadata", org)
    activities = _overlay(
        con, "activities", "id, contact_id, type, subtype, direction, status, occurred_at", org
    )
    if batch.exists(con, "batch_merges_contact"):
        activities = (
            activities.join(
                con.sql("SELECT loser_id, winner_id FROM batch_merges_contact").pl(),
                left_on="contact_id",
                right_on="loser_id",
                how="left",
            )
            .with_columns(contact_id=pl.coalesce("winner_id", "contact_id"))
            .drop("winner_id")
        )
    previous = con.sql(
        "SELECT id, icp_score, icp_scored_at FROM contacts WHERE org_id = ?", params=[org]
    ).pl()
    return ScoringInputs(contacts, companies, activities, previous)
