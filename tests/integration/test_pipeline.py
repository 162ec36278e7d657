"""The whole graph, in-process, on a temporary inbox and warehouse (real parsers, real DuckDB)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import dagster as dg
import pytest

from tests.conftest import Env

pytestmark = pytest.mark.integration

HUBSPOT = """\
"Record ID","First Name","Last Name","Email","Phone Number","Contact owner","Primary Associated Company ID","Last Activity Date","Lead Status","Marketing contact status","Create Date","Associated Company"
"101","Ada","Lovelace","Ada.Lovelace@acme-robotics.com","+1 415 555 0101","maria@northwind-labs.io","9001","2024-03-01 10:00","OPEN","Marketing contact","2023-01-15 09:30","Acme Robotics"
"102","Grace","Hopper","grace.hopper@globex.com","(415) 555-0102","maria@northwind-labs.io","9002","","IN_PROGRESS","Marketing contact","2023-02-01 12:00","Globex"
"103","Alan","Turing","not-an-email","","","","","","","2023-02-02 12:00",""
"104","Katherine","Johnson","katherine.j+crm@gmail.com","","","","","","","2023-02-03 12:00",""
"""

APOLLO = """\
First Name,Last Name,Title,Company Name,Email,Email Status,Primary Email Source,Primary Email Verification Source,Email Confidence,Primary Email Catch-all Status,Primary Email Last Verified At,Seniority,Sub Departments,Work Direct Phone,Home Phone,Mobile Phone,Corporate Phone,Other Phone,Do Not Call,Lists,Person Linkedin Url,Country,Subsidiary of,Subsidiary of (Organization ID),Secondary Email,Secondary Email Source,Secondary Email Status,Secondary Email Verification Source,Tertiary Email,Tertiary Email Source,Tertiary Email Status,Tertiary Email Verification Source,Primary Intent Topic,Primary Intent Score,Secondary Intent Topic,Secondary Intent Score,Qualify Contact,Cleaned
Ada,Lovelace,VP Engineering,Acme Robotics Inc.,ada.lovelace@acme-robotics.com,Verified,,,,,,vp,,'+1 415-555-0199,,,,,,Q4 Targets,http://www.linkedin.com/in/adalovelace,United States,,,ada@lovelace.dev,,,,,,,,,,,,,
Linus,Torvalds,Fellow,Initech,linus@initech.com,Verified,,,,,,senior,,,,,,,,Q4 Targets,https://linkedin.com/in/linus-t/,Finland,,,,,,,,,,,,,,,,
"""


def ids(env: Env, table: str = "contacts") -> list[str]:
    return [r[0] for r in env.sql(f"SELECT id FROM {table} ORDER BY id")]


def assert_ok(result) -> None:  # type: ignore[no-untyped-def]
    assert result.success, [
        e.event_specific_data for e in result.all_events if e.event_type_value == "STEP_FAILURE"
    ]


def test_csv_inbox_to_canonical_contacts(env: Env) -> None:
    env.write("csv/hubspot-contacts-2024.csv", HUBSPOT)
    env.write("csv/apollo_people.csv", APOLLO)
    result = env.run()
    assert_ok(result)
    # the mail step first: its parser workers start beside a process without the CSV frames
    started = [e.step_key for e in result.all_events if e.event_type_value == "STEP_START"]
    assert started[:3] == ["gmail_messages", "csv_exports", "instantly_exports"]

    rows = env.sql(
        "SELECT id, email, first_name, last_name, phone, title, company_id, owner_id, org_id "
        "FROM contacts ORDER BY email"
    )
    emails = [r[1] for r in rows]
    # Ada appears in HubSpot and Apollo (case differs): one contact; Alan's invalid email rejected
    assert emails == [
        "ada.lovelace@acme-robotics.com",
        "grace.hopper@globex.com",
        "katherine.j+crm@gmail.com",
        "linus@initech.com",
    ]
    assert all(re.fullmatch(r"cont_[0-9a-hjkmnp-tv-z]{26}", r[0]) for r in rows)
    assert {r[8] for r in rows} == {"acme-org"}
    ada = rows[0]
    assert (ada[2], ada[3]) == ("Ada", "Lovelace")
    assert ada[5] == "VP Engineering"  # filled from Apollo
    assert ada[4] in {"+14155550101", "+14155550199"}
    assert ada[6] is not None and ada[6].startswith("comp_")
    # every address kept, the primary flagged
    ada_emails = env.sql(
        "SELECT email, is_primary FROM contact_emails WHERE contact_id = ? ORDER BY email",
        [ada[0]],
    )
    assert ("ada@lovelace.dev", False) in ada_emails
    assert sum(p for _, p in ada_emails) == 1
    # lower case as `contacts.email` (HubSpot gave "Ada.Lovelace@…"), so the two join
    assert ("ada.lovelace@acme-robotics.com", True) in ada_emails
    # company from the work-email domain, never from gmail
    domains = {r[0] for r in env.sql("SELECT domain FROM companies")}
    assert "acme-robotics.com" in domains and "gmail.com" not in domains
    # the exact merge is explained
    rules = dict(
        env.sql(
            "SELECT source_file, match_rule FROM contact_sources WHERE contact_id = ?", [ada[0]]
        )
    )
    assert set(rules.values()) == {"new", "email"}
    # every record read is accounted for
    sources = env.sql("SELECT count(*) FROM contact_sources")[0][0]
    rejected = env.sql("SELECT source_file, source_row, reason FROM rejected_records")
    assert sources + len(rejected) == 6
    assert rejected[0][:2] == ("hubspot-contacts-2024.csv", 3)
    assert "invalid email" in rejected[0][2]


def _snapshot(env: Env) -> dict[str, list[tuple]]:
    return {
        t: env.table(t)
        for t in (
            "contacts",
            "contact_emails",
            "companies",
            "contact_sources",
            "company_sources",
            "rejected_records",
            "contact_merges",
        )
    }


def test_rerun_is_idempotent_even_with_full_refresh(env: Env) -> None:
    env.write("csv/hubspot.csv", HUBSPOT)
    env.write("csv/apollo.csv", APOLLO)
    assert_ok(env.run())
    first = _snapshot(env)
    assert_ok(env.run())
    assert _snapshot(env) == first
    assert_ok(env.run({"full_refresh": True}))
    assert _snapshot(env) == first


def test_file_added_later_joins_existing_contacts(env: Env) -> None:
    env.write("csv/hubspot.csv", HUBSPOT)
    assert_ok(env.run())
    before = dict(env.sql("SELECT email, id FROM contacts"))
    env.write("csv/apollo.csv", APOLLO)
    assert_ok(env.run())
    after = dict(env.sql("SELECT email, id FROM contacts"))
    assert after["ada.lovelace@acme-robotics.com"] == before["ada.lovelace@acme-robotics.com"]
    assert {k: after[k] for k in before} == before
    assert "linus@initech.com" in after
    title = env.sql(
        "SELECT title FROM contacts WHERE id = ?", [before["ada.lovelace@acme-robotics.com"]]
    )
    assert title == [("VP Engineering",)]


def test_two_existing_contacts_merge_when_evidence_links_them(env: Env) -> None:
    env.write("csv/a.csv", "Email,First Name,Last Name\nada@lovelace.dev,Ada,Lovelace\n")
    assert_ok(env.run())
    env.write("csv/b.csv", "Email,First Name,Last Name\nada.lovelace@acme-robotics.com,Ada,L\n")
    assert_ok(env.run())
    first = dict(env.sql("SELECT email, id FROM contacts"))
    assert len(first) == 2
    env.write("csv/apollo.csv", APOLLO)  # lists both addresses for Ada
    assert_ok(env.run())
    merges = env.sql("SELECT winner_id, loser_id, rule FROM contact_merges")
    assert merges == [(first["ada@lovelace.dev"], first["ada.lovelace@acme-robotics.com"], "email")]
    rows = env.sql("SELECT id, email FROM contacts WHERE first_name = 'Ada'")
    assert rows == [(first["ada@lovelace.dev"], "ada@lovelace.dev")]
    # the loser's lineage follows the winner
    owners = {
        r[0] for r in env.sql("SELECT contact_id FROM contact_sources WHERE email ILIKE 'ada%'")
    }
    assert owners == {first["ada@lovelace.dev"]}


def test_corrupt_file_is_reported_and_others_load(env: Env) -> None:
    env.write("csv/good.csv", HUBSPOT)
    env.write("csv/broken.csv", b"\x00\x01\x02\xff\xfe garbage \x00" * 50)
    result = env.run()
    assert_ok(result)
    assert env.sql("SELECT count(*) FROM contacts")[0][0] == 3
    bad = env.sql(
        "SELECT source_row, reason FROM rejected_records WHERE source_file = 'broken.csv'"
    )
    assert len(bad) == 1 and bad[0][0] is None and bad[0][1].startswith("unreadable file")
    mats = result.asset_materializations_for_node("csv_exports")
    assert mats[0].metadata["files_unreadable"].value == 1


def test_a_second_file_of_the_same_name_is_reported_and_the_first_loads(env: Env) -> None:
    """Lineage names a file by its base name: of two `contacts.csv` in subfolders one loads,
    the other is one rejected row under its path, and a re-run keeps it so."""
    env.write("csv/salesforce/contacts.csv", APOLLO)
    env.write("csv/hubspot/contacts.csv", HUBSPOT)
    for _ in range(2):
        assert_ok(env.run())  # records_accounted_for included: every file adds up
        emails = sorted(r[0] for r in env.sql("SELECT email FROM contacts"))
        assert emails == [
            "ada.lovelace@acme-robotics.com",
            "grace.hopper@globex.com",
            "katherine.j+crm@gmail.com",
        ]
        assert env.sql("SELECT source_file, count(*) FROM contact_sources GROUP BY ALL") == [
            ("contacts.csv", 3)
        ]
        (clash,) = env.sql(
            "SELECT source_file, reason FROM rejected_records WHERE source_file LIKE '%/%'"
        )
        assert clash[0] == "salesforce/contacts.csv"
        assert "csv/hubspot/contacts.csv has the same file name" in clash[1]


def test_a_row_added_above_changes_nothing_of_the_rows_below(env: Env) -> None:
    """A re-export with a new first row gives every later row another row number (the record
    id hashed it); each is still the record read before (`reread`): it joins no other row's
    contact, and its age (which `oldest` survivorship reads) and its match explanation stay,
    so no contact changes but the new one. Before, the three rows chained into one contact."""
    header = "First Name,Last Name,Email,Secondary Email,Company\n"
    yara = "Yara,Costa,yara@corp-a.com,yara.costa@gmail.com,Corp A\n"
    env.write("csv/a_crm.csv", header + "Xavi,Lund,xavi@corp-b.com,,Corp B\n" + yara)
    env.write("csv/b_list.csv", header + "Yara,Costa,yara.costa@gmail.com,,\n")
    assert_ok(env.run())
    before = _snapshot(env)
    sources = env.sql("SELECT source_file, email, match_rule FROM contact_sources ORDER BY ALL")
    assert env.sql("SELECT email FROM contacts WHERE last_name = 'Costa'") == [("yara@corp-a.com",)]
    edited = yara.replace("Corp A", "Corp A Ltd")  # moved and edited: still her record
    rows = "Zed,Okafor,zed@corp-c.com,,Corp C\nXavi,Lund,xavi@corp-b.com,,Corp B\n" + edited
    env.write("csv/a_crm.csv", header + rows)
    assert_ok(env.run())
    after = [r for r in _snapshot(env)["contacts"] if "zed@corp-c.com" not in r]
    assert after == before["contacts"]  # Yara's primary address kept, Zed's contact added
    assert (
        env.sql(
            "SELECT source_file, email, match_rule FROM contact_sources "
            "WHERE email <> 'zed@corp-c.com' ORDER BY ALL"
        )
        == sources
    )


def test_ops_naming_different_orgs_fail_before_anything_is_written(env: Env) -> None:
    """The launchpad repeats SyncConfig per op: one op set to another org would stage the
    batch under two orgs (lineage rows doubled, the manifest emptied)."""
    env.write("csv/hubspot.csv", HUBSPOT)
    result = env.run(op_config={"csv_exports": {"org_id": "globex-org"}})
    assert not result.success
    failures = [
        e.event_specific_data.error.message  # type: ignore[union-attr]
        for e in result.all_events
        if e.event_type_value == "STEP_FAILURE"
    ]
    assert failures and all("name different orgs" in f for f in failures)
    assert "csv_exports: globex-org" in failures[0]
    assert not env.db.exists()
    assert_ok(env.run())  # the same run with one org loads normally
    assert env.sql("SELECT DISTINCT org_id FROM contact_sources") == [("acme-org",)]


def test_a_step_selected_without_its_batch_fails_saying_what_to_run(env: Env) -> None:
    from rex_pipeline.definitions import defs

    env.write("csv/hubspot.csv", HUBSPOT)
    assert_ok(env.run())  # publishing drops the batch
    warehouse = next(a for a in defs.assets or [] if a.key.to_user_string() == "warehouse")
    result = env.run(assets=[warehouse])
    assert not result.success
    (failure,) = [
        e.event_specific_data.error.cause.message  # type: ignore[union-attr]
        for e in result.all_events
        if e.event_type_value == "STEP_FAILURE"
    ]
    assert "warehouse works on this run's batch, which canonical_records makes" in failure


def test_company_facts_on_contact_rows_reach_the_company(env: Env) -> None:
    """Apollo puts the employer's industry and head count on each contact row; the company
    the contact names takes them, and a company export's own values outrank them."""
    env.write(
        "csv/apollo.csv",
        "First Name,Last Name,Title,Company Name,Email,# Employees,Industry\n"
        "Grace,Hopper,CTO,Navy Systems,grace@navysys.com,250,computer software\n"
        "Alan,Turing,Fellow,Bletchley Labs,alan@bletchley.io,45,research\n",
    )
    env.write(
        "csv/hubspot_companies.csv",
        '"Record ID","Company name","Industry","Company Domain Name","Number of Employees"\n'
        '"9001","Bletchley Labs","COMPUTER_SOFTWARE","bletchley.io","60"\n',
    )
    assert_ok(env.run())
    assert env.sql("SELECT name, industry, size FROM companies ORDER BY name") == [
        ("Bletchley Labs", "COMPUTER_SOFTWARE", "60"),
        ("Navy Systems", "computer software", "250"),
    ]


def test_the_warehouse_step_alone_publishes_an_applied_state_it_finds_unpublished(
    env: Env,
) -> None:
    """As when a run applied its batch (and dropped it) and then failed to publish: its
    re-execution, the warehouse step alone, publishes what the work database holds."""
    import duckdb

    from rex_pipeline.definitions import defs
    from rex_pipeline.warehouse import work_db_path

    env.write("csv/hubspot.csv", HUBSPOT)
    assert_ok(env.run())
    with duckdb.connect(str(work_db_path(env.db))) as con:
        con.execute("UPDATE publish_state SET generation = generation + 1")
        con.execute("UPDATE contacts SET title = 'Rear Admiral' WHERE first_name = 'Grace'")
    warehouse = next(a for a in defs.assets or [] if a.key.to_user_string() == "warehouse")
    assert_ok(env.run(assets=[warehouse]))
    assert env.sql("SELECT title FROM contacts WHERE first_name = 'Grace'") == [("Rear Admiral",)]


def test_a_batch_held_by_a_run_in_progress_is_not_overwritten(env: Env) -> None:
    """Two runs outside the run queue would interleave their steps on one batch: a source step
    refuses a batch that another run still in progress holds, and takes over one whose run has
    ended (or that this Dagster instance does not know)."""
    import duckdb

    from rex_pipeline.warehouse import work_db_path

    env.write("csv/hubspot.csv", HUBSPOT)
    assert_ok(env.run())
    instance = dg.DagsterInstance.ephemeral()
    running = dg.DagsterRun(job_name="sync", run_id="other-run", status=dg.DagsterRunStatus.STARTED)
    instance.add_run(running)
    with duckdb.connect(str(work_db_path(env.db))) as con:
        con.execute("CREATE TABLE batch_owner AS SELECT 'other-run' AS run_id")
    env.write("csv/apollo.csv", APOLLO)
    result = env.run(instance=instance)
    assert not result.success
    failures = [
        e.event_specific_data.error.cause.message  # type: ignore[union-attr]
        for e in result.all_events
        if e.event_type_value == "STEP_FAILURE"
    ]
    assert failures and all("run other-run is syncing this warehouse" in f for f in failures)
    assert env.sql("SELECT count(*) FROM contacts") == [(3,)]  # nothing of apollo.csv
    assert_ok(env.run())  # another instance: the holder is no run in progress there
    assert env.sql("SELECT count(*) FROM contacts") == [(4,)]


def test_reader_holding_the_warehouse_does_not_block_a_run(env: Env) -> None:
    env.write("csv/hubspot.csv", HUBSPOT)
    assert_ok(env.run())
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import duckdb, sys
                con = duckdb.connect({str(env.db)!r}, read_only=True)
                print(con.execute("SELECT count(*) FROM contacts").fetchone()[0], flush=True)
                sys.stdin.readline()
                print(con.execute("SELECT count(*) FROM contacts").fetchone()[0], flush=True)
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None and reader.stdin is not None
        assert reader.stdout.readline().strip() == "3"
        env.write("csv/apollo.csv", APOLLO)
        assert_ok(env.run())  # the reader still holds its read-only handle
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "3"  # a consistent snapshot, never half a run
    finally:
        reader.kill()
        reader.wait()
    assert env.sql("SELECT count(*) FROM contacts")[0][0] == 4  # new readers see the new run


def test_failed_run_leaves_previous_warehouse_intact(env: Env) -> None:
    from rex_pipeline.definitions import defs

    env.write("csv/hubspot.csv", HUBSPOT)
    assert_ok(env.run())
    published = _snapshot(env)
    env.write("csv/apollo.csv", APOLLO)
    by_name = {a.key.to_user_string(): a for a in defs.assets or []}
    upstream = [by_name[n] for n in by_name if n != "warehouse"]
    assert_ok(env.run(assets=upstream))
    # break the batch between steps, as a crash would: the publish step must roll back
    import duckdb

    from rex_pipeline.warehouse import work_db_path

    con = duckdb.connect(str(work_db_path(env.db)))
    con.execute("DROP TABLE batch_canonical_tasks")
    con.close()
    result = env.run(assets=[by_name["warehouse"]])
    assert not result.success
    assert _snapshot(env) == published
    # the next full run loads the new file normally
    assert_ok(env.run())
    assert env.sql("SELECT count(*) FROM contacts")[0][0] == 4


def test_metadata_reports_resolution_counts(env: Env) -> None:
    env.write("csv/hubspot.csv", HUBSPOT)
    env.write("csv/apollo.csv", APOLLO)
    result = env.run()
    assert_ok(result)
    meta = result.asset_materializations_for_node("resolved_identities")[0].metadata
    assert meta["contact_records_in"].value == 5
    assert meta["contacts_matched"].value == 4
    wh = result.asset_materializations_for_node("warehouse")[0].metadata
    assert wh["dagster/row_count"].value == 4
    assert "contacts_preview" in wh
    json.dumps({k: str(v) for k, v in wh.items()})


def test_bad_icp_model_fails_the_run_at_once_naming_the_field(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import REPO

    config = env.root / "rex.yaml"
    text = (REPO / "rex.yaml").read_text(encoding="utf-8")
    config.write_text(
        text.split("\nicp:")[0]
        + "\nicp:\n  persona:\n    seniority:\n      points:\n        vice_president: 25\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("REX_CONFIG", str(config))
    env.write("csv/hubspot.csv", HUBSPOT)
    result = env.run()
    assert not result.success
    failures = [
        e.event_specific_data.error.cause.message  # type: ignore[union-attr]
        for e in result.all_events
        if e.event_type_value == "STEP_FAILURE"
    ]
    assert failures and "vice_president" in failures[0]
    assert f"invalid ICP model in {config}" in failures[0]  # the file it came from
    assert not env.db.exists()  # nothing was published
