"""The committed sample inbox (`data/inbox/csv/`) parses file by file and is what its seeded
generator writes."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import polars as pl
import pytest

from rex_pipeline.sources.csv import parse_csv_file

REPO = Path(__file__).resolve().parents[3]
INBOX = REPO / "data" / "inbox" / "csv"
GENERATOR = REPO / "scripts" / "make_sample_csv_inbox.py"


def test_generator_writes_exactly_the_committed_inbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = importlib.util.spec_from_file_location("make_sample_csv_inbox", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    module.main(tmp_path)
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(p.name for p in INBOX.glob("*.csv"))
    for name in written:
        assert (tmp_path / name).read_bytes() == (INBOX / name).read_bytes(), name


def test_every_sample_file_parses_into_its_dialect_and_kind() -> None:
    seen = {}
    for path in sorted(INBOX.glob("*.csv")):
        parsed = parse_csv_file(path, "default")
        seen[path.name] = (parsed.stats["dialect"], parsed.stats["entity"])
        assert parsed.records_read == parsed.stats["rows_read"] > 0
    assert seen == {
        "Connections.csv": ("linkedin connections (2024)", "contacts"),
        "activities.csv": ("generic csv", "activities"),
        "apollo_accounts.csv": ("apollo export", "companies"),
        "apollo_people.csv": ("apollo export", "contacts"),
        "google_contacts.csv": ("google contacts (2022+)", "contacts"),
        "hubspot_contacts_export.csv": ("hubspot export", "contacts"),
        "hubspot_deals.csv": ("hubspot export", "deals"),
        "outlook_kontakte.csv": ("outlook desktop export", "contacts"),
        "salesforce_report.csv": ("salesforce report", "contacts"),
        "tasks.csv": ("generic csv", "tasks"),
    }


def test_the_sample_people_overlap_like_real_exports() -> None:
    parsed = [parse_csv_file(p, "default") for p in sorted(INBOX.glob("*.csv"))]
    contacts = pl.concat([p.contacts for p in parsed if p.contacts.height])
    rejected = pl.concat([p.rejected for p in parsed])
    assert 250 <= contacts.height + rejected.height <= 350
    assert sorted(rejected.get_column("reason").str.slice(0, 17).to_list()) == [
        "blank row",
        "blank row: only C",  # LinkedIn's date-only row
        "wrong field count",
    ]
    emails = contacts.drop_nulls("email").with_columns(key=pl.col("email").str.to_lowercase())
    across_files = emails.group_by("key").agg(pl.col("source_file").n_unique().alias("files"))
    assert across_files.filter(pl.col("files") > 1).height >= 20
    case_variants = emails.group_by("key").agg(pl.col("email").n_unique().alias("spellings"))
    assert case_variants.filter(pl.col("spellings") > 1).height >= 5
    assert emails.filter(pl.col("email").str.contains(r"\+\w+@gmail\.com$")).height >= 1
    assert "jane.doe@@bluefin-analytics" in emails.get_column("email").to_list()  # for normalise
    owners = contacts.drop_nulls("owner").get_column("owner").unique().to_list()
    assert owners and all(o.endswith("@northwind-labs.io") for o in owners)
