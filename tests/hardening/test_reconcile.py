"""Reconciliation: per file, records read = records present in the warehouse + rejected.

Unit tests on the small consistent warehouse of the ops tests (tests/ops/ops_warehouse: four
files, 8 records read, one rejected, a company derived from a contact record), each breaking it
the way a lost record would; then the real pipeline on the fixture exports, and the cost at a
million records.
"""

from __future__ import annotations

import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from rex_pipeline import warehouse
from rex_pipeline.ops.checks import records_accounted_for
from rex_pipeline.ops.reconcile import Reconciliation, reconcile
from rex_pipeline.resources import RexSettings
from tests.conftest import Env
from tests.hardening.procs import FIXTURES, copy_inbox
from tests.ops.ops_warehouse import Warehouse


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    return Warehouse.build(tmp_path_factory.mktemp("template"))


@pytest.fixture
def built(template: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    copy = template.copy_to(tmp_path)
    monkeypatch.setenv("REX_DUCKDB_PATH", str(copy.published))
    return copy


def measure(built: Warehouse) -> Reconciliation:
    with built.work_connection() as con:
        return reconcile(con)


def missing(built: Warehouse) -> list[tuple[object, ...]]:
    """(file, read, missing) of the files that don't add up."""
    return measure(built).mismatches.select("source_file", "read", "missing").rows()


def check(built: Warehouse) -> dg.AssetCheckResult:
    """The check called directly, outside any run: with no history, it always reconciles."""
    context = dg.build_asset_check_context(instance=dg.DagsterInstance.ephemeral())
    return records_accounted_for(context, rex_settings=RexSettings())


def checked_in_runs(instance: dg.DagsterInstance) -> dg.AssetCheckEvaluation:
    """The check in a run of its own on `instance`, which keeps the evaluations of earlier
    runs (the warehouse asset stands in as a spec: the check reads the files directly)."""
    result = dg.materialize(
        [dg.AssetSpec("warehouse"), records_accounted_for],
        instance=instance,
        resources={"rex_settings": RexSettings()},
        selection=dg.AssetSelection.checks(records_accounted_for),
        raise_on_error=False,
    )
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation


def reused(evaluation: dg.AssetCheckEvaluation) -> bool:
    return "unchanged since run" in (evaluation.description or "")


def test_an_earlier_pass_is_reused_while_nothing_it_reads_changes(built: Warehouse) -> None:
    instance = dg.DagsterInstance.ephemeral()
    first = checked_in_runs(instance)
    assert first.passed and not reused(first)
    second = checked_in_runs(instance)
    assert second.passed and reused(second)
    for name in ("records_read", "records_present", "reconciliation", "inputs_state"):
        assert second.metadata[name] == first.metadata[name]
    third = checked_in_runs(instance)  # names the run that really reconciled
    assert reused(third) and third.metadata["checked_in"] == second.metadata["checked_in"]
    assert third.description == second.description  # said once, however often reused


@pytest.mark.parametrize(
    "change",
    [
        "DELETE FROM contact_sources WHERE source_row = 4",  # a row count
        "DELETE FROM stg_tasks",
        "UPDATE manifest SET records_read = 5 WHERE file_name = 'hubspot-contacts.csv'",
        "UPDATE publish_state SET generation = generation + 1",  # an apply changed tables
    ],
)
def test_a_change_to_what_it_reads_reconciles_again(built: Warehouse, change: str) -> None:
    instance = dg.DagsterInstance.ephemeral()
    assert checked_in_runs(instance).passed
    built.change_work(change)
    again = checked_in_runs(instance)
    assert not reused(again)


def test_a_new_published_file_reconciles_again(built: Warehouse) -> None:
    instance = dg.DagsterInstance.ephemeral()
    assert checked_in_runs(instance).passed
    built.republish()
    assert not reused(checked_in_runs(instance))


def test_a_failed_check_is_never_reused(built: Warehouse) -> None:
    instance = dg.DagsterInstance.ephemeral()
    built.change_work("DELETE FROM contact_sources WHERE source_row = 4")
    assert not checked_in_runs(instance).passed
    again = checked_in_runs(instance)  # the same inputs: reconciled, and failing, again
    assert not again.passed and not reused(again)


def test_a_sound_warehouse_reconciles_file_by_file(built: Warehouse) -> None:
    result = measure(built)
    assert result.passed
    by_file = {r["source_file"]: r for r in result.files.iter_rows(named=True)}
    hubspot = by_file["hubspot-contacts.csv"]
    # 4 rows read: 3 contacts in contact_sources, 1 rejected; the company named by Ada's row
    # repeats her lineage and is not a record of its own
    assert (hubspot["read"], hubspot["contacts"], hubspot["companies"], hubspot["rejected"]) == (
        4,
        3,
        0,
        1,
    )
    assert by_file["companies.csv"]["companies"] == 1
    assert (by_file["pipeline.csv"]["deals"], by_file["pipeline.csv"]["tasks"]) == (1, 1)
    assert result.totals() == {
        "read": 8,
        "contacts": 3,
        "companies": 1,
        "activities": 1,
        "deals": 1,
        "tasks": 1,
        "rejected": 1,
        "staged": 7,
        "missing": 0,
    }


def test_a_lineage_row_gone_from_contact_sources_fails(built: Warehouse) -> None:
    built.change_work("DELETE FROM contact_sources WHERE source_row = 4")
    assert missing(built) == [("hubspot-contacts.csv", 4, 1)]
    result = check(built)
    assert not result.passed
    assert result.metadata["records_missing"].value == 1
    assert "hubspot-contacts.csv" in result.metadata["mismatched_files"].value


def test_a_lost_contact_record_is_not_made_up_for_by_the_company_it_names(
    built: Warehouse,
) -> None:
    built.change_work("DELETE FROM contact_sources WHERE source_row = 1")  # Ada, names Acme
    assert missing(built) == [("hubspot-contacts.csv", 4, 1)]


def test_lineage_of_a_contact_that_no_longer_exists_fails(built: Warehouse) -> None:
    built.change_work(f"DELETE FROM contacts WHERE id = '{built.ids.linus}'")
    assert missing(built) == [("hubspot-contacts.csv", 4, 1)]


def test_a_staged_activity_without_its_row_fails(built: Warehouse) -> None:
    built.change_work(f"DELETE FROM activities WHERE id = '{built.ids.email}'")
    assert missing(built) == [("inbox.mbox", 1, 1)]


def test_a_company_lineage_row_gone_fails(built: Warehouse) -> None:
    built.change_work("DELETE FROM company_sources WHERE source_file = 'companies.csv'")
    assert missing(built) == [("companies.csv", 1, 1)]


def test_the_lineage_of_a_company_a_contact_names_is_kept_too(built: Warehouse) -> None:
    built.change_work("DELETE FROM company_sources WHERE source_file = 'hubspot-contacts.csv'")
    assert missing(built) == [("hubspot-contacts.csv", 4, 1)]


def test_a_record_both_present_and_rejected_is_reported(built: Warehouse) -> None:
    built.change_work(
        "INSERT INTO rejected_records VALUES ('acme', 'csv', 'pipeline.csv', 2, '{}', 'dup')"
    )
    assert missing(built) == [("pipeline.csv", 2, -1)]


def test_an_unreadable_file_is_one_rejected_row(built: Warehouse) -> None:
    built.change_work(
        "INSERT INTO manifest VALUES ('acme', 'csv', 'broken.csv', '/inbox/csv/broken.csv', 400, "
        "'ee', 0, 1, 'unreadable', 'not a CSV: binary content', now())",
    )
    assert missing(built) == [("broken.csv", 1, 1)]
    built.change_work(
        "INSERT INTO rejected_records VALUES ('acme', 'csv', 'broken.csv', NULL, "
        "'{\"file\": \"broken.csv\"}', 'unreadable file: not a CSV: binary content')"
    )
    assert measure(built).passed


def test_lineage_of_a_file_missing_from_the_manifest_is_reported(built: Warehouse) -> None:
    built.change_work(
        f"INSERT INTO contact_sources VALUES ('acme', '{built.ids.ada}', 'csv', 'ghost.csv', 1, "
        "'g1', 'ada@lovelace.dev', 'email', 1.0)"
    )
    assert missing(built) == [("ghost.csv", None, -1)]


def test_orgs_reconcile_separately(built: Warehouse) -> None:
    built.change_work(
        "INSERT INTO manifest VALUES ('globex-org', 'csv', 'pipeline.csv', '/x', 1, 'ff', 1, 0, "
        "'loaded', NULL, now())"
    )
    assert measure(built).mismatches.select("org_id", "source_file", "missing").rows() == [
        ("globex-org", "pipeline.csv", 1)
    ]


def test_the_check_shows_every_file_and_passes_on_a_sound_warehouse(built: Warehouse) -> None:
    result = check(built)
    assert result.passed, result.description
    table = result.metadata["reconciliation"].value
    assert "| source_file" in table and "| missing" in table
    for name in ("hubspot-contacts.csv", "companies.csv", "inbox.mbox", "pipeline.csv"):
        assert name in table
    assert (result.metadata["records_read"].value, result.metadata["records_present"].value) == (
        8,
        7,
    )


def test_the_check_fails_when_the_published_copy_lost_rows(built: Warehouse) -> None:
    built.change_published("DELETE FROM contact_sources WHERE source_row = 4")
    result = check(built)
    assert not result.passed
    assert "contact_sources" in (result.description or "")
    assert "work 3, published 2" in result.metadata["published_vs_work"].value


@pytest.mark.integration
def test_the_real_pipeline_reconciles_and_a_vanished_record_is_caught(env: Env) -> None:
    copy_inbox(FIXTURES, env.inbox)
    result = env.run()
    assert result.success
    (evaluation,) = [
        e for e in result.get_asset_check_evaluations() if e.check_name == "records_accounted_for"
    ]
    assert evaluation.passed, evaluation.description
    assert evaluation.metadata["records_missing"].value == 0
    assert evaluation.metadata["records_rejected"].value > 0  # the broken fixtures

    work = warehouse.work_db_path(env.db)
    with duckdb.connect(str(work)) as con:
        con.execute(
            "DELETE FROM contact_sources WHERE rowid = (SELECT min(rowid) FROM contact_sources)"
        )
    context = dg.build_asset_check_context(instance=dg.DagsterInstance.ephemeral())
    result = records_accounted_for(context, rex_settings=RexSettings())
    assert not result.passed
    assert result.metadata["records_missing"].value == 1


MILLION = 1_000_000


@pytest.mark.integration
def test_a_million_records_reconcile_in_seconds(tmp_path: Path) -> None:
    """1M contact records (with their lineage and staged records) and 100k activities in 1,000
    files, 10k rejected rows."""
    files = "'f' || (i % 1000) || '.csv'"
    with warehouse.connect_work(tmp_path / "rex.duckdb") as con:
        con.execute(
            f"""
            INSERT INTO manifest SELECT 'acme', 'csv', 'f' || f || '.csv', '/x', 1, 'aa',
                   1000 + 100 + 10, 10, 'loaded', NULL, now() FROM range(1000) t(f);
            INSERT INTO contacts (id, org_id) SELECT 'c' || i, 'acme' FROM range({MILLION}) t(i);
            INSERT INTO contact_sources (org_id, contact_id, source_system, source_file,
                                         source_row, source_key)
            SELECT 'acme', 'c' || i, 'csv', {files}, i // 1000, 'k' || i
            FROM range({MILLION}) t(i);
            INSERT INTO stg_contacts BY NAME SELECT 'acme' AS org_id, 'csv' AS source_system,
                   {files} AS source_file, 'r' || i AS record_id, 'c' || i AS entity_id
            FROM range({MILLION}) t(i);
            INSERT INTO activities (id, org_id, type)
            SELECT 'a' || i, 'acme', 'email' FROM range({MILLION // 10}) t(i);
            INSERT INTO stg_activities BY NAME SELECT 'acme' AS org_id, 'csv' AS source_system,
                   {files} AS source_file, 'm' || i AS record_id, 'a' || i AS entity_id
            FROM range({MILLION // 10}) t(i);
            INSERT INTO rejected_records SELECT 'acme', 'csv', {files}, i, '{{}}', 'invalid email'
            FROM range(10000) t(i);
            """
        )
        started = time.perf_counter()
        result = reconcile(con)
        seconds = time.perf_counter() - started
    assert result.passed and result.files.height == 1000
    assert result.totals()["read"] == MILLION + MILLION // 10 + 10_000
    assert seconds < 20, f"{seconds:.1f}s"  # ~1-2 s on a quiet 2-core machine
