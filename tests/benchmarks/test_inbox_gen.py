"""The benchmark's inbox generator writes files the real parsers read completely: every
export dialect recognised, no record rejected except the blank row real LinkedIn exports
carry, counts as reported, the same bytes for the same seed, and increments that only add
files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from benchmarks.inbox_gen import InboxSummary, add_increment, generate_inbox
from rex_pipeline import ingest
from rex_pipeline.config import load_settings

LINKEDIN_BLANK_ROW = "blank row: only Connected On"


def _digests(inbox: Path) -> dict[str, str]:
    return {
        str(p.relative_to(inbox)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(inbox.rglob("*"))
        if p.is_file()
    }


def _parse(inbox: Path, names: set[str] | None = None) -> dict[str, ingest.Batch]:
    """Each system's files parsed as a run would (only `names` when given)."""
    settings = load_settings(inbox_dir=str(inbox), duckdb_path=str(inbox.parent / "x.duckdb"))
    batches = {}
    for system in ingest.SYSTEMS:
        files = [
            (f, "sha")
            for f in ingest.scan_inbox(inbox, system)
            if names is None or f"{system}/{f.name}" in names
        ]
        batches[system] = ingest.parse_files(system, files, settings, set())
    return batches


def _assert_read_completely(batches: dict[str, ingest.Batch], summary: InboxSummary) -> None:
    reports = {f"{r.system}/{r.file_name}": r for b in batches.values() for r in b.reports}
    assert set(reports) == set(summary.files)
    for name, report in reports.items():
        assert report.status == "loaded", (name, report.error)
        read = report.stats.get("messages_read", report.stats.get("rows_read"))
        assert read == summary.files[name], name
    rejected = [row for b in batches.values() for row in b.rejected.iter_rows(named=True)]
    assert len(rejected) == summary.deliberate_rejects
    assert all(
        r["reason"].startswith(LINKEDIN_BLANK_ROW) and r["source_file"].startswith("Connections")
        for r in rejected
    )


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> InboxSummary:
    return generate_inbox(tmp_path_factory.mktemp("bench_inbox"), contacts=300, messages=50, seed=3)


def test_every_file_is_read_completely(base: InboxSummary) -> None:
    summary = base
    assert summary.contact_rows == 300
    assert summary.messages == 50
    batches = _parse(summary.inbox)
    _assert_read_completely(batches, summary)
    dialects = {r.stats.get("dialect") for r in batches["csv"].reports}
    assert dialects >= {
        "hubspot export",
        "salesforce report",
        "apollo export",
        "linkedin connections (2024)",
        "google contacts (2022+)",
        "outlook desktop export",
    }
    assert {r.stats["kind"] for r in batches["instantly"].reports} == {"leads", "emails"}
    assert batches["gmail"].frames["activities"].height > 35  # spam/trash and copies aside
    assert {r.stats.get("entity") for r in batches["csv"].reports} >= {
        "contacts",
        "companies",
        "deals",
        "tasks",
    }


def test_same_seed_same_bytes(base: InboxSummary, tmp_path: Path) -> None:
    summary = base
    again = generate_inbox(tmp_path / "again", contacts=300, messages=50, seed=3)
    other = generate_inbox(tmp_path / "other", contacts=300, messages=50, seed=4)
    assert _digests(again.inbox) == _digests(summary.inbox)
    assert _digests(other.inbox) != _digests(summary.inbox)


def test_increment_adds_new_files_only(tmp_path: Path) -> None:
    base = generate_inbox(tmp_path, contacts=300, messages=50, seed=5)
    before = _digests(base.inbox)
    delta = add_increment(tmp_path, rows=60, messages=20, seed=1)
    after = _digests(base.inbox)
    assert {k: after[k] for k in before} == before
    assert set(after) - set(before) == set(delta.files)
    assert delta.contact_rows == 60
    assert delta.messages == 20
    batches = _parse(base.inbox, set(delta.files))
    _assert_read_completely(batches, delta)

    # a fifth of the rows update HubSpot records: same Record ID (source_key), new values
    def hubspot_keys(batch: ingest.Batch) -> set[str]:
        keys = batch.frames["contacts"].get_column("source_key").drop_nulls()
        return {k for k in keys if k.startswith("hubspot:")}

    base_hubspot = {name for name in base.files if name.startswith("csv/hubspot_contacts")}
    updated = hubspot_keys(batches["csv"]) & hubspot_keys(_parse(base.inbox, base_hubspot)["csv"])
    assert len(updated) == 60 // 5
