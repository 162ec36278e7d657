"""Drift between runs: per-run metrics from the work database, and when a change is a jump."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rex_pipeline.ops.drift import RunMetrics, compare, run_metrics
from tests.ops.ops_warehouse import LOADED_AT, Warehouse


def test_metrics_cover_only_the_files_the_run_loaded(built: Warehouse) -> None:
    with built.work_connection() as con:
        this_run = run_metrics(con, since=LOADED_AT)
        later_run = run_metrics(con, since=LOADED_AT + timedelta(seconds=1))
    assert this_run == {"acme": RunMetrics(records=8, rejected=1, contact_records=3, contacts=3)}
    assert this_run["acme"].rejected_share == pytest.approx(1 / 8)
    assert this_run["acme"].duplicate_rate == 0
    assert later_run == {}  # an unchanged inbox loads nothing and measures nothing


def test_duplicate_rate_counts_records_that_collapsed_into_one_contact(built: Warehouse) -> None:
    built.change_work(f"UPDATE stg_contacts SET entity_id = '{built.ids.ada}' WHERE source_row = 2")
    with built.work_connection() as con:
        metrics = run_metrics(con, since=LOADED_AT)["acme"]
    assert (metrics.contact_records, metrics.contacts) == (3, 2)
    assert metrics.duplicate_rate == pytest.approx(1 / 3)


def runs(rejected_before: int, rejected_now: int, records: int = 100) -> tuple[RunMetrics, ...]:
    """(previous run, this run) with `records` records each and no duplicates."""
    return tuple(
        RunMetrics(records=records, rejected=n, contact_records=records, contacts=records)
        for n in (rejected_before, rejected_now)
    )


def test_rejected_share_jump_is_flagged() -> None:
    before, now = runs(rejected_before=2, rejected_now=30)
    drift = compare("rejected_share", now, before)
    assert drift.jumped
    assert (drift.previous, drift.current) == (0.02, 0.30)
    assert "30.0% this run vs 2.0% the run before" in drift.explanation


def test_small_rise_and_falls_are_not_flagged() -> None:
    assert not compare("rejected_share", *reversed(runs(2, 11))).jumped  # +9 points
    assert not compare("rejected_share", *reversed(runs(40, 5))).jumped  # better


def test_tiny_runs_and_first_runs_are_not_compared() -> None:
    before, now = runs(rejected_before=0, rejected_now=5, records=10)  # 50 %, but 10 records
    assert not compare("rejected_share", now, before).jumped
    first = compare("duplicate_rate", runs(0, 0)[1], None)
    assert not first.jumped and "no earlier run" in first.explanation
    nothing = compare("rejected_share", None, before)
    assert not nothing.jumped and nothing.current is None


def test_duplicate_rate_jump_is_flagged() -> None:
    before = RunMetrics(records=200, rejected=0, contact_records=200, contacts=190)
    now = RunMetrics(records=200, rejected=0, contact_records=200, contacts=60)
    drift = compare("duplicate_rate", now, before)
    assert drift.jumped and drift.current == pytest.approx(0.7)


def test_metrics_survive_the_round_trip_through_check_metadata() -> None:
    metrics = RunMetrics(records=40, rejected=4, contact_records=30, contacts=27)
    data = metrics.as_dict()
    assert data["rejected_share"] == 0.1 and data["duplicate_rate"] == pytest.approx(0.1)
    assert RunMetrics.from_dict(data) == metrics


def test_files_an_earlier_run_loaded_are_left_out(built: Warehouse) -> None:
    """hubspot-contacts.csv (3 contact records, 1 rejected) came in an earlier run: this run's
    metrics hold only the company, email, deal and task of its other files."""
    earlier = LOADED_AT - timedelta(days=1)
    built.change_work(
        f"UPDATE manifest SET loaded_at = '{earlier.isoformat()}' "
        "WHERE file_name = 'hubspot-contacts.csv'"
    )
    with built.work_connection() as con:
        metrics = run_metrics(con, since=LOADED_AT)
    assert metrics == {"acme": RunMetrics(records=4, rejected=0, contact_records=0, contacts=0)}
