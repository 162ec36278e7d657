"""Applying a batch writes what the batch changed and nothing else: the staged records and the
lineage rows of an entity the batch touched stay where they are unless they changed, and the
lineage tables stay the projection of the staged records through merges and re-reads."""

from __future__ import annotations

import duckdb
import pytest

from rex_pipeline import warehouse
from tests.conftest import Env

pytestmark = pytest.mark.integration

HUBSPOT = """\
"Record ID","First Name","Last Name","Email","Job Title","Associated Company"
"101","Ada","Lovelace","ada.lovelace@acme-robotics.com","VP Engineering","Acme Robotics"
"102","Grace","Hopper","grace.hopper@acme-robotics.com","CTO","Acme Robotics"
"103","Alan","Turing","alan.turing@acme-robotics.com","Researcher","Acme Robotics"
"""
LATER = """\
"Record ID","First Name","Last Name","Email","Job Title","Associated Company"
"104","Katherine","Johnson","katherine.johnson@acme-robotics.com","Analyst","Acme Robotics"
"""
TASKS = """\
Task Title,Due Date,Priority,Status,Contact email,Assigned To,Notes
Send pricing to Priya,2025-03-10,High,Not started,priya.raman@bluefin-analytics.com,maria@northwind-labs.io,
"""  # noqa: E501
PRIYA = "Email,First Name,Last Name\npriya.raman@bluefin-analytics.com,Priya,Raman\n"
APOLLO = """\
First Name,Last Name,Title,Company Name,Email,Email Status,Seniority,Person Linkedin Url,Country,Secondary Email
Ada,Lovelace,VP Engineering,Acme Robotics Inc.,ada.lovelace@acme-robotics.com,Verified,vp,http://www.linkedin.com/in/adalovelace,United States,ada@lovelace.dev
"""  # noqa: E501

_LINEAGE = {
    "contact": ("stg_contacts", "contact_sources", "contact_id", "email"),
    "company": ("stg_companies", "company_sources", "company_id", "domain"),
}


def work(env: Env, query: str) -> list[tuple[object, ...]]:
    """A query on the work database (where the staged records live)."""
    con = duckdb.connect(str(warehouse.work_db_path(env.db)), read_only=True)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def placed(env: Env, table: str) -> dict[tuple[object, ...], int]:
    """rowid of each row of `table` by its lineage: a row rewritten gets a new rowid."""
    return {
        tuple(r[1:]): int(r[0])  # type: ignore[call-overload]
        for r in work(
            env,
            f"SELECT rowid, source_system, source_file, source_row, source_key FROM {table}",
        )
    }


def assert_lineage_mirrors_staged(env: Env) -> None:
    for stg, lineage, id_col, email in _LINEAGE.values():
        columns = "source_system, source_file, source_row, source_key"
        staged = work(env, f"SELECT entity_id, {columns}, {email} FROM {stg} ORDER BY ALL")
        rows = work(env, f"SELECT {id_col}, {columns}, email FROM {lineage} ORDER BY ALL")
        assert rows == staged


def test_records_of_a_touched_company_that_did_not_change_are_not_rewritten(env: Env) -> None:
    env.write("csv/hubspot-contacts-2023.csv", HUBSPOT)
    assert env.run().success
    before = {t: placed(env, t) for t in ("stg_companies", "company_sources", "stg_contacts")}
    assert len(before["stg_companies"]) == 3  # one company record per contact record

    env.write("csv/hubspot-contacts-2024.csv", LATER)  # a fourth Acme contact: Acme is touched
    assert env.run().success

    for table, rows in before.items():
        after = placed(env, table)
        assert len(after) == 4, table
        assert {k: after[k] for k in rows} == rows, f"{table}: unchanged rows were rewritten"
    companies = work(env, "SELECT DISTINCT entity_id FROM stg_companies")
    assert len(companies) == 1
    assert work(env, "SELECT count(*) FROM company_sources") == [(4,)]
    assert_lineage_mirrors_staged(env)


def test_lineage_follows_a_merge_and_a_reread_file(env: Env) -> None:
    env.write("csv/a.csv", "Email,First Name,Last Name\nada@lovelace.dev,Ada,Lovelace\n")
    env.write("csv/b.csv", "Email,First Name,Last Name\nada.lovelace@acme-robotics.com,Ada,L\n")
    assert env.run().success
    assert len(env.sql("SELECT id FROM contacts")) == 2
    # one record names both addresses: the two contacts merge, the loser's records move
    env.write("csv/apollo.csv", APOLLO)
    assert env.run().success
    (winner,) = env.sql("SELECT id FROM contacts")
    assert work(env, "SELECT DISTINCT entity_id FROM stg_contacts") == [winner]
    assert_lineage_mirrors_staged(env)
    keys = work(env, "SELECT DISTINCT entity_id FROM identity_keys WHERE entity = 'contact'")
    assert keys == [winner]

    # b.csv read again with another row: its old records are replaced, not duplicated
    env.write(
        "csv/b.csv",
        "Email,First Name,Last Name\nada.lovelace@acme-robotics.com,Ada,L\n"
        "grace.hopper@globex.com,Grace,Hopper\n",
    )
    assert env.run().success
    assert work(env, "SELECT count(*) FROM stg_contacts WHERE source_file = 'b.csv'") == [(2,)]
    assert_lineage_mirrors_staged(env)


def test_a_task_links_to_its_contact_when_the_contact_arrives_later(env: Env) -> None:
    env.write("csv/tasks.csv", TASKS)
    assert env.run().success
    assert env.sql("SELECT contact_id FROM tasks") == [(None,)]

    env.write("csv/priya.csv", PRIYA)
    assert env.run().success
    (priya,) = env.sql("SELECT id FROM contacts WHERE email = 'priya.raman@bluefin-analytics.com'")
    assert env.sql("SELECT contact_id FROM tasks") == [priya]
