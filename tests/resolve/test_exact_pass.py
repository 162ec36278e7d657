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


def test_company_records_are_a_view_of_the_clean_batch_that_the_batch_drops(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """A view, not a copy (writing 1.1M rows cost more than reading them where they are);
    a table of that name left by an older version is replaced, and the applied batch's
    cleanup drops the view with the tables it reads."""
    con.execute("CREATE TABLE batch_company_records AS SELECT 1 AS stale")
    run._exact_companies(con, Settings())
    kinds = con.execute(
        "SELECT 'view' FROM duckdb_views() WHERE view_name = 'batch_company_records' "
        "UNION ALL SELECT 'table' FROM duckdb_tables() WHERE table_name = 'batch_company_records'"
    ).fetchall()
    assert kinds == [("view",)]
    assert batch.table(con, "batch_company_records").height == 2
    run._exact_companies(con, Settings())  # a run after a failed one finds the view
    batch.drop_all(con)
    left = (
        con.execute(
            "SELECT count(*) FROM duckdb_views() WHERE view_name LIKE 'batch%' AND NOT internal"
        ).fetchall()[0][0]
        + con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'batch%'"
        ).fetchall()[0][0]
    )
    assert left == 0


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


def _shuffled(frame: pl.DataFrame, seed: int) -> pl.DataFrame:
    return frame.sample(fraction=1.0, shuffle=True, seed=seed)


def _contacts_batch() -> pl.DataFrame:
    """A HubSpot export and an Apollo list naming the same 20 people (by address), plus 10
    people only Apollo has; created dates repeat, so ties fall back to the row."""
    lineage = {"org_id": "default", "file_sha": "cd34"}
    rows: list[dict[str, object]] = []
    for i in range(20):
        rows.append(
            {
                **lineage,
                "record_id": f"hs{i:02d}",
                "source_system": "csv",
                "source_file": "hubspot-contacts.csv",
                "source_row": i + 1,
                "source_key": f"hubspot:{700 + i}",
                "email_key": f"person{i}@initech.com",
                "created_at": JAN if i % 3 else FEB,
            }
        )
    for i in range(30):
        rows.append(
            {
                **lineage,
                "record_id": f"ap{i:02d}",
                "source_system": "csv",
                "source_file": "apollo-people.csv",
                "source_row": i + 1,
                "source_key": f"apollo-people.csv:{i + 1}",
                "email_key": f"person{i}@initech.com",
                "created_at": FEB,
            }
        )
    return _frame(records.CLEAN_CONTACT, rows)


def test_contacts_resolve_the_same_whatever_order_the_batch_is_stored_in(
    con: duckdb.DuckDBPyConnection,
) -> None:
    results = []
    for seed in (1, 2):
        batch.replace(con, "batch_clean_contacts", _shuffled(_contacts_batch(), seed))
        assert run._exact_contacts(con, Settings()) == (50, 30)
        results.append(batch.table(con, "batch_assign_contact").sort("record_id"))
    first, second = results
    # the same decisions; only the fresh ids differ, one for one
    assert first.drop("entity_id").equals(second.drop("entity_id"))
    pairs = pl.DataFrame({"a": first["entity_id"], "b": second["entity_id"]}).unique()
    assert pairs.height == pairs["a"].n_unique() == pairs["b"].n_unique() == 30
    for assigned in results:
        minters = assigned.filter(pl.col("match_rule") == "new").sort("entity_id")
        # ids sort like their minting records' age: HubSpot's January records are oldest, then
        # the February ones by file and row (the Apollo file name sorts first)
        assert minters["record_id"].to_list()[:3] == ["hs01", "hs02", "hs04"]
        assert minters["record_id"].to_list()[13:16] == ["ap00", "ap03", "ap06"]
        by_age = minters.join(_contacts_batch(), on="record_id").sort(
            "created_at", "source_system", "source_file", "source_row"
        )
        assert by_age["entity_id"].to_list() == sorted(minters["entity_id"])


def _activities_batch() -> pl.DataFrame:
    """HubSpot calls; the same call id appears twice (an export and a later re-export)."""
    rows = [
        {
            "org_id": "default",
            "record_id": f"act{file}{i:02d}",
            "source_system": "csv",
            "source_file": f"hubspot-calls-{file}.csv",
            "source_row": i + 1,
            "source_key": f"hubspot:call-{900 + i}",
            "file_sha": "ef56",
            "type": "call",
            "subject": f"Discovery call {i}",
            "source": "hubspot",
            "external_id": f"call-{900 + i}",
            "occurred_at": JAN,
        }
        for file, count in (("a", 25), ("b", 10))
        for i in range(count)
    ]
    return _frame(records.CLEAN_ACTIVITY, rows)


def test_activity_ids_are_minted_in_row_order(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "INSERT INTO identity_keys VALUES ('default', 'activity', 'ext:hubspot:call-903', "
        "'act_known')"
    )
    minted = []
    for seed in (3, 4):
        batch.replace(con, "batch_clean_activities", _shuffled(_activities_batch(), seed))
        assert run.assign_natural_ids(con, Settings(), "activity", "activities") == 24
        assigned = batch.table(con, "batch_assign_activity")
        assert assigned.filter(pl.col("key") == "ext:hubspot:call-903")["entity_id"].to_list() == [
            "act_known",
            "act_known",
        ]
        # the re-exported calls join the ids the first file minted
        by_call = assigned.group_by("key").agg(pl.col("entity_id").n_unique())
        assert by_call["entity_id"].max() == 1
        new = assigned.filter(pl.col("match_rule") == "new").sort("record_id")
        assert new["record_id"].to_list() == [f"acta{i:02d}" for i in range(25) if i != 3] + [
            f"actb{i:02d}" for i in range(10) if i != 3
        ]
        first_file = new.filter(pl.col("record_id").str.starts_with("acta"))
        assert first_file["entity_id"].to_list() == sorted(first_file["entity_id"])
        minted.append(new["record_id"].to_list())
    assert minted[0] == minted[1]
