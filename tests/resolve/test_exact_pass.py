"""The exact-key pass of the resolve stage reads only the columns it needs: the company each
contact names is derived in DuckDB, keeping every column of the company batch."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import polars as pl
import pytest

from rex_pipeline import batch, records
from rex_pipeline.config import Settings
from rex_pipeline.resolve import run

JAN = datetime(2024, 1, 5, 9, 30, tzinfo=UTC)
FEB = datetime(2024, 2, 1, 12, 0, tzinfo=UTC)


def _frame(schema: dict[str, pl.DataType], rows: list[dict[str, object]]) -> pl.DataFrame:
    """Clean batch rows as normalise stages them (record id and file hash in front)."""
    full = {"record_id": pl.String(), **schema, "file_sha": pl.String()}
    return pl.DataFrame(rows, schema=full, strict=False)


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE identity_keys (org_id VARCHAR, entity VARCHAR, key VARCHAR, "
        "entity_id VARCHAR)"
    )
    for table in ("companies", "contacts"):
        con.execute(f"CREATE TABLE {table} (id VARCHAR, org_id VARCHAR, created_at TIMESTAMPTZ)")
    lineage = {"org_id": "default", "source_system": "csv", "file_sha": "ab12"}
    companies = _frame(
        records.CLEAN_COMPANY,
        [
            {
                **lineage,
                "record_id": "rc1",
                "source_file": "hubspot-companies.csv",
                "source_row": 1,
                "source_key": "hubspot:9001",
                "name": "Acme Corp",
                "domain": "acme.com",
                "name_key": "acme",
                "industry": "Software",
                "created_at": JAN,
            }
        ],
    )
    contacts = _frame(
        records.CLEAN_CONTACT,
        [
            {
                **lineage,
                "record_id": "r1",
                "source_file": "hubspot-contacts.csv",
                "source_row": 1,
                "source_key": "hubspot:501",
                "email_key": "jane.doe@acme.com",
                "company_name": "ACME Corporation",
                "company_key": "acme",
                "company_domain": "acme.com",
                "created_at": FEB,
            },
            {  # gmail address, no company: derives no company record
                **lineage,
                "record_id": "r2",
                "source_file": "hubspot-contacts.csv",
                "source_row": 2,
                "source_key": "hubspot:502",
                "email_key": "bob@gmail.com",
                "other_email_keys": ["bob.smith@gmail.com"],
                "created_at": FEB,
            },
        ],
    )
    batch.replace(con, "batch_clean_companies", companies)
    batch.replace(con, "batch_clean_contacts", contacts)
    return con


def test_company_records_keep_company_columns_and_add_contact_companies(
    con: duckdb.DuckDBPyConnection,
) -> None:
    records_in, new = run._exact_companies(con, Settings())
    frame = batch.table(con, "batch_company_records").sort("record_id")
    clean_columns = batch.table(con, "batch_clean_companies").columns
    assert frame.columns == [*clean_columns, "from_contact"]
    assert (records_in, new) == (2, 1)
    assert frame.select("record_id", "name", "domain", "name_key", "industry", "from_contact").rows(
        named=True
    ) == [
        {
            "record_id": "r1:company",
            "name": "ACME Corporation",
            "domain": "acme.com",
            "name_key": "acme",
            "industry": None,
            "from_contact": True,
        },
        {
            "record_id": "rc1",
            "name": "Acme Corp",
            "domain": "acme.com",
            "name_key": "acme",
            "industry": "Software",
            "from_contact": False,
        },
    ]
    assigned = batch.table(con, "batch_assign_company").sort("record_id")
    assert assigned["entity_id"].n_unique() == 1  # one domain: one company
    # the older HubSpot company record mints the id; the contact's company joins by domain
    assert assigned["match_rule"].to_list() == ["domain", "new"]


def test_contacts_resolve_from_their_key_columns(con: duckdb.DuckDBPyConnection) -> None:
    assert run._exact_contacts(con, Settings()) == (2, 2)
    keys = batch.table(con, "batch_keys_contact", ["key"])["key"].sort().to_list()
    assert keys == [
        "email:bob.smith@gmail.com",
        "email:bob@gmail.com",
        "email:jane.doe@acme.com",
        "rec:r1",
        "rec:r2",
        "src:hubspot:501",
        "src:hubspot:502",
    ]
