"""What an incremental run rescores: a company rewritten with the same values does not rescore
its contacts, one whose industry changed does; and windows end at the org's newest activity
whatever contacts are scored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from rex_pipeline.score.features import build_features
from rex_pipeline.score.inputs import read_scoring_inputs
from tests.score.icp_data import MODEL

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)

_CONTACTS = """CREATE TABLE {name} (id VARCHAR, org_id VARCHAR, first_name VARCHAR,
    last_name VARCHAR, email VARCHAR, title VARCHAR, stage VARCHAR, company_id VARCHAR,
    metadata JSON, icp_score INTEGER, icp_scored_at TIMESTAMPTZ)"""
_COMPANIES = """CREATE TABLE {name} (id VARCHAR, org_id VARCHAR, name VARCHAR, domain VARCHAR,
    industry VARCHAR, size VARCHAR, metadata JSON)"""
_ACTIVITIES = """CREATE TABLE {name} (id VARCHAR, org_id VARCHAR, contact_id VARCHAR,
    type VARCHAR, subtype VARCHAR, direction VARCHAR, status VARCHAR, occurred_at TIMESTAMPTZ)"""


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    """A warehouse of two companies with two contacts each, and one old reply."""
    con = duckdb.connect()
    for ddl, names in (
        (_CONTACTS, ("contacts", "batch_canonical_contacts")),
        (_COMPANIES, ("companies", "batch_canonical_companies")),
        (_ACTIVITIES, ("activities", "batch_canonical_activities")),
    ):
        for name in names:
            con.execute(ddl.format(name=name))
    con.execute(
        """INSERT INTO companies VALUES
            ('comp_a', 'o', 'Acme', 'acme.com', 'Software', '51-200', '{"Country": "US"}'),
            ('comp_b', 'o', 'Beta', 'beta.io', 'Retail', '11-50', '{}')"""
    )
    con.execute(
        """INSERT INTO contacts VALUES
            ('cont_a1', 'o', 'Ada', 'L', 'ada@acme.com', 'CTO', 'lead', 'comp_a', '{}', 50, $t),
            ('cont_a2', 'o', 'Alan', 'T', 'alan@acme.com', 'CEO', 'lead', 'comp_a', '{}', 60, $t),
            ('cont_b1', 'o', 'Bea', 'B', 'bea@beta.io', 'CFO', 'lead', 'comp_b', '{}', 40, $t),
            ('cont_b2', 'o', 'Bob', 'B', 'bob@beta.io', 'VP Sales', 'lead', 'comp_b', '{}', 30, $t)
        """,
        {"t": NOW - timedelta(days=9)},
    )
    con.execute(
        "INSERT INTO activities VALUES "
        "('act_1', 'o', 'cont_b2', 'email', NULL, 'inbound', 'completed', $t)",
        {"t": NOW - timedelta(days=20)},
    )
    return con


def _scored(con: duckdb.DuckDBPyConnection) -> list[str]:
    inputs = read_scoring_inputs(con, "o", everything=False, now=NOW)
    return sorted(inputs.contacts["id"])


def test_a_company_rewritten_unchanged_rescores_none_of_its_contacts(
    con: duckdb.DuckDBPyConnection,
) -> None:
    con.execute("INSERT INTO batch_canonical_companies SELECT * FROM companies")
    # the key order of its metadata is no change either once folded the same way
    assert _scored(con) == []


def test_a_company_whose_industry_changed_rescores_its_contacts(
    con: duckdb.DuckDBPyConnection,
) -> None:
    con.execute(
        "INSERT INTO batch_canonical_companies SELECT * REPLACE ('Internet' AS industry) "
        "FROM companies WHERE id = 'comp_a'"
    )
    con.execute("INSERT INTO batch_canonical_companies SELECT * FROM companies WHERE id = 'comp_b'")
    assert _scored(con) == ["cont_a1", "cont_a2"]


def test_new_metadata_or_a_new_company_rescores_its_contacts(
    con: duckdb.DuckDBPyConnection,
) -> None:
    con.execute(
        """INSERT INTO batch_canonical_companies SELECT * REPLACE
           ('{"# Employees": "5000"}'::JSON AS metadata) FROM companies WHERE id = 'comp_b'"""
    )
    assert _scored(con) == ["cont_b1", "cont_b2"]


def test_windows_end_at_the_orgs_newest_activity_not_the_scored_contacts(
    con: duckdb.DuckDBPyConnection,
) -> None:
    con.execute(
        "INSERT INTO batch_canonical_activities VALUES "
        "('act_2', 'o', 'cont_a1', 'email', NULL, 'inbound', 'completed', $t), "
        "('act_3', 'o', 'cont_b1', 'meeting', NULL, 'na', 'scheduled', $later)",
        {"t": NOW - timedelta(days=2), "later": NOW + timedelta(days=5)},
    )
    con.execute("INSERT INTO batch_canonical_contacts SELECT * FROM contacts WHERE id = 'cont_b2'")
    inputs = read_scoring_inputs(con, "o", everything=False, now=NOW)
    # cont_b2 (its own reply 20 days ago) and the contacts with new activities are scored
    assert sorted(inputs.contacts["id"]) == ["cont_a1", "cont_b1", "cont_b2"]
    assert inputs.latest_activity == NOW - timedelta(days=2)  # the planned meeting is later
    b2 = inputs.contacts.filter(inputs.contacts["id"] == "cont_b2")
    own = inputs.activities.filter(inputs.activities["contact_id"] == "cont_b2")

    def reference(latest: datetime | None) -> datetime:
        features = build_features(b2, inputs.companies, own, MODEL, NOW, latest)
        return features["reference_at"].item()

    assert reference(None) == NOW - timedelta(days=20)  # its own reply alone
    assert reference(inputs.latest_activity) == NOW - timedelta(days=2)
