"""Reconciliation looks lineage up by `hash(org_id, id)`: a record is present only if its
contact or activity exists in the same org, not merely under the same id elsewhere."""

from __future__ import annotations

from rex_pipeline.ops.reconcile import reconcile
from tests.ops.ops_warehouse import Warehouse


def missing(built: Warehouse) -> dict[str, int]:
    with built.work_connection() as con:
        files = reconcile(con).files
    return {row["source_file"]: row["missing"] for row in files.iter_rows(named=True)}


def test_the_fixture_reconciles(built: Warehouse) -> None:
    assert set(missing(built).values()) == {0}


def test_a_contact_moved_to_another_org_leaves_its_record_missing(built: Warehouse) -> None:
    built.change_work(f"UPDATE contacts SET org_id = 'globex-org' WHERE id = '{built.ids.linus}'")
    assert missing(built)["hubspot-contacts.csv"] == 1


def test_an_activity_moved_to_another_org_leaves_its_record_missing(built: Warehouse) -> None:
    built.change_work(f"UPDATE activities SET org_id = 'globex-org' WHERE id = '{built.ids.email}'")
    assert missing(built)["inbox.mbox"] == 1
