"""The Dagster side: definitions wiring, what the schedule and the sensor request, and the checks
run as Dagster runs them (a checks-only job on a warehouse built without the parsers; these
execute real runs, a few seconds each, so they carry the `integration` marker)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from rex_pipeline.config import load_settings
from rex_pipeline.definitions import defs
from rex_pipeline.ids import new_ids
from rex_pipeline.ops.checks import previous_metrics
from rex_pipeline.ops.drift import RunMetrics
from rex_pipeline.ops.jobs import SYNC_JOB_NAME
from rex_pipeline.ops.rules import RULES
from rex_pipeline.resources import RexSettings
from tests.conftest import config_naming
from tests.ops.ops_warehouse import Warehouse

ASSET_OPS = {a.key.to_python_identifier() for a in defs.assets or []}  # type: ignore[union-attr]
CHECK_NAMES = {r.name for r in RULES} | {
    "records_accounted_for",
    "rejected_share_drift",
    "duplicate_rate_drift",
}


@pytest.fixture
def repo() -> dg.RepositoryDefinition:
    return defs.get_repository_def()


def test_definitions_load_with_the_sync_job_schedule_sensor_and_checks(
    repo: dg.RepositoryDefinition,
) -> None:
    dg.Definitions.validate_loadable(defs)
    job = repo.get_job(SYNC_JOB_NAME)
    assert set(job.graph.node_names()) >= ASSET_OPS
    assert {k.name for k in job.asset_layer.asset_graph.asset_check_keys} >= CHECK_NAMES
    sync = load_settings().sync
    schedule = repo.get_schedule_def("daily_full_sync")
    assert (schedule.cron_schedule, schedule.execution_timezone) == (sync.cron, sync.timezone)
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    for name in ("inbox_sensor", "overrides_sensor"):
        sensor = repo.get_sensor_def(name)
        assert sensor.minimum_interval_seconds == sync.sensor_interval_seconds
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_schedule_requests_a_full_refresh_of_every_asset(repo: dg.RepositoryDefinition) -> None:
    schedule = repo.get_schedule_def("daily_full_sync")
    with dg.build_schedule_context(repository_def=repo) as context:
        (request,) = schedule.evaluate_tick(context).run_requests or []
    ops = request.run_config["ops"]
    assert set(ops) >= ASSET_OPS  # and any check that takes a SyncConfig too
    assert all(op == {"config": {"full_refresh": True}} for op in ops.values())
    assert request.tags["rex/sync"] == "full"


@pytest.fixture
def inbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "inbox"
    (root / "csv").mkdir(parents=True)
    monkeypatch.setenv("REX_INBOX_DIR", str(root))
    return root


def tick(
    repo: dg.RepositoryDefinition, cursor: str | None, name: str = "inbox_sensor"
) -> dg.SensorExecutionData:
    sensor = repo.get_sensor_def(name)
    with dg.build_sensor_context(
        cursor=cursor, repository_def=repo, resources={"rex_settings": RexSettings()}
    ) as context:
        return sensor.evaluate_tick(context)


def test_sensor_starts_an_incremental_run_once_per_change(
    repo: dg.RepositoryDefinition, inbox: Path
) -> None:
    path = inbox / "csv" / "hubspot.csv"
    path.write_text('"Record ID","Email"\n"101","ada@acme-robotics.com"\n', encoding="utf-8")
    os.utime(path, (time.time() - 60, time.time() - 60))
    first = tick(repo, None)
    (request,) = first.run_requests or []
    assert request.run_key and request.run_key.startswith("inbox-")
    assert set(request.run_config["ops"]) >= ASSET_OPS
    incremental = {"config": {"full_refresh": False}}
    assert all(op == incremental for op in request.run_config["ops"].values())
    assert request.tags["rex/changed_files"] == "csv/hubspot.csv"
    second = tick(repo, first.cursor)
    assert not second.run_requests and second.skip_message == "No new or changed files in the inbox"


def test_sensor_waits_while_a_file_is_being_written(
    repo: dg.RepositoryDefinition, inbox: Path
) -> None:
    (inbox / "csv" / "apollo.csv").write_text("First Name,Email\nLinus,li", encoding="utf-8")
    result = tick(repo, None)
    assert not result.run_requests
    assert result.skip_message == "Waiting for files still being written: csv/apollo.csv"


@pytest.fixture
def decisions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An overrides file of its own, named by the rex.yaml in REX_CONFIG."""
    path = tmp_path / "overrides.yaml"
    monkeypatch.setenv("REX_CONFIG", str(config_naming(path)))
    return path


def _save(path: Path, text: str, age: float = 60) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, (time.time() - age, time.time() - age))


def test_overrides_sensor_starts_a_sync_when_the_decisions_change(
    repo: dg.RepositoryDefinition, decisions: Path
) -> None:
    _save(decisions, "must_merge: []\nnever_merge: []\n")
    first = tick(repo, None, "overrides_sensor")
    assert not first.run_requests and first.skip_message == "Watching the decisions from now on"
    _save(decisions, "# reviewed on Monday: nothing to decide\nmust_merge: []\n")
    same = tick(repo, first.cursor, "overrides_sensor")
    assert not same.run_requests and same.skip_message == "The decisions are unchanged"
    _save(decisions, "must_merge:\n  - [ada@acme-robotics.com, ada.lovelace@gmail.com]\n")
    changed = tick(repo, first.cursor, "overrides_sensor")
    (request,) = changed.run_requests or []
    assert (request.tags["rex/sync"], request.tags["rex/trigger"]) == ("incremental", "overrides")
    incremental = {"config": {"full_refresh": False}}
    assert set(request.run_config["ops"]) >= ASSET_OPS
    assert all(op == incremental for op in request.run_config["ops"].values())
    assert changed.cursor != first.cursor
    assert not tick(repo, changed.cursor, "overrides_sensor").run_requests


def test_overrides_sensor_waits_for_a_save_and_ignores_a_broken_file(
    repo: dg.RepositoryDefinition, decisions: Path
) -> None:
    _save(decisions, "must_merge: []\n")
    cursor = tick(repo, None, "overrides_sensor").cursor
    _save(decisions, "never_merge:\n  - [a@acme.com, b@acme.com]\n", age=0)
    saving = tick(repo, cursor, "overrides_sensor")
    assert not saving.run_requests and saving.skip_message.startswith("Waiting for ")
    _save(decisions, "never_merge:\n  - [a@acme.com\n")
    broken = tick(repo, cursor, "overrides_sensor")
    assert not broken.run_requests and broken.cursor == cursor  # as it was
    assert "not valid YAML" in (broken.skip_message or "")


# --- the checks, run by Dagster ------------------------------------------------------------------

CHECKS_JOB = dg.define_asset_job(
    "warehouse_checks", selection=dg.AssetSelection.checks_for_assets(dg.AssetKey("warehouse"))
)


@pytest.fixture
def checks_job(built: Warehouse, monkeypatch: pytest.MonkeyPatch) -> dg.JobDefinition:
    monkeypatch.setenv("REX_DUCKDB_PATH", str(built.published))
    return dg.Definitions(
        assets=defs.assets,
        asset_checks=defs.asset_checks,
        jobs=[CHECKS_JOB],
        resources=defs.resources,
        executor=dg.in_process_executor,
    ).resolve_job_def("warehouse_checks")


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


def evaluations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


@pytest.mark.integration
def test_checks_pass_on_a_sound_warehouse(
    checks_job: dg.JobDefinition, instance: dg.DagsterInstance
) -> None:
    result = checks_job.execute_in_process(instance=instance)
    found = evaluations(result)
    assert set(found) == CHECK_NAMES
    assert all(e.passed for e in found.values())
    accounted = found["records_accounted_for"].metadata
    assert (accounted["records_read"].value, accounted["records_rejected"].value) == (8, 1)
    assert found["unique_email_per_org"].metadata["violations"].value == 0
    assert all("check_seconds" in e.metadata for e in found.values())


@pytest.mark.integration
def test_bad_data_fails_its_blocking_check(
    built: Warehouse, checks_job: dg.JobDefinition, instance: dg.DagsterInstance
) -> None:
    built.change_published(
        "UPDATE contacts SET email = 'ada.lovelace@acme-robotics.com' "
        f"WHERE id = '{built.ids.grace}'",
        "UPDATE contact_emails SET email = 'ada.lovelace@acme-robotics.com' "
        f"WHERE contact_id = '{built.ids.grace}' AND is_primary",
    )
    result = checks_job.execute_in_process(instance=instance, raise_on_error=False)
    found = evaluations(result)
    failed = {name for name, e in found.items() if not e.passed}
    assert failed == {"unique_email_per_org"}
    evaluation = found["unique_email_per_org"]
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR and evaluation.blocking
    assert evaluation.metadata["violations"].value == 1
    assert "ada.lovelace@acme-robotics.com" in evaluation.metadata["examples"].value


@pytest.mark.integration
def test_drift_warns_when_the_rejected_share_jumps_against_the_last_run(
    built: Warehouse, checks_job: dg.JobDefinition, instance: dg.DagsterInstance
) -> None:
    # 40 clean records in a file every run counts as its own (loaded "after" the run started),
    # each one a contact with its lineage row, so that every record is accounted for
    future = datetime(2100, 1, 1, tzinfo=UTC).isoformat()
    leads = ", ".join(f"({i}, '{id_}')" for i, id_ in enumerate(new_ids("contact", 40)))
    built.change_work(
        f"CREATE TABLE leads AS FROM (VALUES {leads}) t(i, id)",
        "INSERT INTO contacts (id, org_id) SELECT id, 'acme' FROM leads",
        "INSERT INTO contact_sources (org_id, contact_id, source_system, source_file, "
        "source_row, match_rule) SELECT 'acme', id, 'csv', 'leads.csv', i, 'new' FROM leads",
        "INSERT INTO manifest VALUES ('acme', 'csv', 'leads.csv', '/inbox/csv/leads.csv', 9000, "
        f"'ff', 40, 0, 'loaded', NULL, TIMESTAMPTZ '{future}')",
        "INSERT INTO stg_contacts BY NAME SELECT 'acme' AS org_id, 'csv' AS source_system, "
        "'leads.csv' AS source_file, i AS source_row, 'l' || i AS record_id, id AS entity_id "
        "FROM leads",
    )
    built.republish()
    first = evaluations(checks_job.execute_in_process(instance=instance))
    assert first["rejected_share_drift"].passed
    assert "no earlier run" in (first["rejected_share_drift"].description or "")
    # the next export of the file has 15 of its 40 rows rejected
    built.change_work(
        "DELETE FROM stg_contacts WHERE source_file = 'leads.csv' "
        "AND CAST(substr(record_id, 2) AS INTEGER) < 15",
        "DELETE FROM contact_sources WHERE source_file = 'leads.csv' AND source_row < 15",
        "INSERT INTO rejected_records SELECT 'acme', 'csv', 'leads.csv', i, '{}', 'invalid email' "
        "FROM range(15) t(i)",
    )
    built.republish()
    second = checks_job.execute_in_process(instance=instance, raise_on_error=False)
    assert second.success  # a warning never fails the run
    drift = evaluations(second)["rejected_share_drift"]
    assert not drift.passed and drift.severity == dg.AssetCheckSeverity.WARN
    assert "37.5% this run vs 0.0% the run before" in (drift.description or "")
    assert evaluations(second)["duplicate_rate_drift"].passed


def test_drift_baseline_is_the_latest_earlier_run_big_enough_to_compare(
    instance: dg.DagsterInstance,
) -> None:
    key = dg.AssetCheckKey(dg.AssetKey("warehouse"), "rejected_share_drift")

    def evaluated(**run_metrics: RunMetrics) -> None:
        data = {org: m.as_dict() for org, m in run_metrics.items()}
        instance.report_runless_asset_event(
            dg.AssetCheckEvaluation(
                asset_key=key.asset_key,
                check_name=key.name,
                passed=True,
                metadata={"run_metrics": dg.MetadataValue.json(data)},
            )
        )

    evaluated(acme=RunMetrics(400, 8, 300, 290))  # older
    evaluated(acme=RunMetrics(120, 6, 100, 97), globex=RunMetrics(50, 1, 50, 50))
    evaluated(acme=RunMetrics(3, 1, 3, 3))  # too small to be a baseline
    evaluated()  # an unchanged inbox: nothing loaded
    assert previous_metrics(instance, key, run_id="this-run") == {
        "acme": RunMetrics(120, 6, 100, 97),
        "globex": RunMetrics(50, 1, 50, 50),
    }
