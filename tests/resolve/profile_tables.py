"""The work-database tables the fuzzy step's profile query reads, empty, in memory."""

from __future__ import annotations

import duckdb

PROFILE_COLUMNS = """first_name VARCHAR, last_name VARCHAR, email_key VARCHAR,
    other_email_keys VARCHAR[], phone VARCHAR, linkedin_url VARCHAR, title VARCHAR,
    company_key VARCHAR, company_domain VARCHAR"""


def profile_tables() -> duckdb.DuckDBPyConnection:
    """stg_contacts, the batch's clean records, assignments, merges and files: no rows."""
    con = duckdb.connect()
    con.execute(
        f"""CREATE TABLE stg_contacts (org_id VARCHAR, record_id VARCHAR, entity_id VARCHAR,
            source_system VARCHAR, source_file VARCHAR, created_at TIMESTAMPTZ,
            loaded_at TIMESTAMPTZ, {PROFILE_COLUMNS})"""
    )
    con.execute("CREATE TABLE batch_merges_contact (winner_id VARCHAR, loser_id VARCHAR)")
    con.execute(
        "CREATE TABLE batch_files (org_id VARCHAR, source_system VARCHAR, file_name VARCHAR)"
    )
    con.execute(
        "CREATE TABLE batch_clean_contacts (record_id VARCHAR, created_at TIMESTAMPTZ, "
        f"{PROFILE_COLUMNS})"
    )
    con.execute("CREATE TABLE batch_assign_contact (record_id VARCHAR, entity_id VARCHAR)")
    return con
