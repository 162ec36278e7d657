"""Every input record accounted for: read = staged + rejected, per file."""

from __future__ import annotations

from rex_pipeline.ops.lineage import Balance, balance
from tests.ops.ops_warehouse import Warehouse


def measure(built: Warehouse) -> Balance:
    with built.work_connection() as con:
        return balance(con)


def mismatches(built: Warehouse) -> list[tuple[object, ...]]:
    return measure(built).mismatches.select("source_file", "read", "staged", "rejected").rows()


def test_balanced_files_pass_and_derived_companies_do_not_count(built: Warehouse) -> None:
    result = measure(built)
    assert result.passed
    # 4 files; hubspot 3 contacts + 1 rejected, companies.csv 1, mbox 1, pipeline deal + task;
    # the company derived from Ada's record (record_id r1:company) is not an input record
    assert (result.files, result.read, result.staged, result.rejected) == (4, 8, 7, 1)


def test_a_record_that_vanished_is_reported_with_its_file(built: Warehouse) -> None:
    built.change_work("DELETE FROM stg_contacts WHERE source_row = 4")
    assert not measure(built).passed
    assert mismatches(built) == [("hubspot-contacts.csv", 4, 2, 1)]


def test_a_rejected_row_counted_twice_is_reported(built: Warehouse) -> None:
    built.change_work(
        "INSERT INTO rejected_records VALUES ('acme', 'csv', 'pipeline.csv', 2, '{}', 'dup')"
    )
    assert mismatches(built) == [("pipeline.csv", 2, 2, 1)]


def test_unreadable_file_is_one_rejected_row(built: Warehouse) -> None:
    built.change_work(
        "INSERT INTO manifest VALUES ('acme', 'csv', 'broken.csv', '/inbox/csv/broken.csv', 400, "
        "'ee', 0, 1, 'unreadable', 'not a CSV: binary content', now())",
    )
    assert mismatches(built) == [("broken.csv", 1, 0, 0)]  # the rejection is missing
    built.change_work(
        "INSERT INTO rejected_records VALUES ('acme', 'csv', 'broken.csv', NULL, "
        "'{\"file\": \"broken.csv\"}', 'unreadable file: not a CSV: binary content')"
    )
    assert measure(built).passed


def test_records_of_a_file_missing_from_the_manifest_are_reported(built: Warehouse) -> None:
    built.change_work(
        "INSERT INTO stg_tasks BY NAME SELECT 'acme' AS org_id, 'csv' AS source_system, "
        "'ghost.csv' AS source_file, 'g1' AS record_id"
    )
    assert mismatches(built) == [("ghost.csv", None, 1, 0)]


def test_orgs_are_balanced_separately(built: Warehouse) -> None:
    # same file name in another org, with its own single record: no cross-org mix-up
    built.change_work(
        "INSERT INTO manifest VALUES ('globex-org', 'csv', 'pipeline.csv', '/x', 1, 'ff', 1, 0, "
        "'loaded', NULL, now())",
        "INSERT INTO stg_deals BY NAME SELECT 'globex-org' AS org_id, 'csv' AS source_system, "
        "'pipeline.csv' AS source_file, 'x1' AS record_id",
    )
    result = measure(built)
    assert result.passed and result.files == 5
