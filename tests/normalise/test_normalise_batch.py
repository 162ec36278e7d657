"""The normalise stage over a staged batch (staging.normalise_batch): chunked, in order, and
the same result whatever the chunk size; and the work database connection it runs on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest

from rex_pipeline import batch, records, warehouse
from rex_pipeline.config import ConfigError, Settings
from rex_pipeline.resources import MEMORY_LIMIT_ENV, WorkDatabase
from rex_pipeline.staging import normalise_batch

ORG = "acme-org"
SETTINGS = Settings(org_id=ORG, own_domains=["acme.io"])

_CONTACTS = [
    {"email": "Ada.Lovelace@Initech.com", "first_name": "ada", "company_name": "Initech, Inc."},
    {"email": "grace@hopper.dev", "full_name": "Grace Hopper", "company_domain": "hopper.dev"},
    {"email": "not-an-address@", "first_name": "Bad"},
    {"email": "sales@acme.io", "first_name": "Our", "last_name": "Mailbox"},
    {"first_name": "Linus", "last_name": "Torvalds", "company_name": "Initech Inc"},
    {"email": "alan@turing.org", "other_emails": ["me@acme.io", "alan.t@gmail.com"]},
    {"first_name": "Nobody"},
    {"email": "ken@Initech.com", "company_name": "INITECH, INC.", "tags": ["VIP", "vip "]},
    {"email": "bob@initech.com", "phone": "+44 20 7946 0958", "stage": "Customer"},
]


def _raw(rows: list[dict], org: str = ORG, file: str = "hubspot.csv") -> pl.DataFrame:
    full = [
        {
            "org_id": org,
            "source_system": "csv",
            "source_file": file,
            "source_row": i,
            "source_key": f"hubspot:{i}",
            "raw": json.dumps(row),
            **row,
        }
        for i, row in enumerate(rows, start=1)
    ]
    frame = records.from_rows(full, records.RAW_CONTACT)
    return frame.with_columns(file_sha=pl.lit(f"sha-of-{file}"))


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with warehouse.connect_work(tmp_path / "rex.duckdb") as connection:
        batch.replace(
            connection,
            "batch_raw_contacts",
            pl.concat([_raw(_CONTACTS), _raw(_CONTACTS[:2], org="other-org", file="other.csv")]),
        )
        companies = records.from_rows(
            [
                {"org_id": ORG, "source_system": "csv", "source_file": "co.csv",
                 "source_row": i, "source_key": f"co:{i}", "name": name, "domain": domain}
                for i, (name, domain) in enumerate(
                    [("Initech, Inc.", "initech.com"), ("", "gmail.com"), ("Hooli", None)], 1
                )
            ],
            records.RAW_COMPANY,
        )  # fmt: skip
        batch.replace(
            connection, "batch_raw_companies", companies.with_columns(file_sha=pl.lit("sha"))
        )
        yield connection


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame]:
    names = ["batch_clean_contacts", "batch_clean_companies", "batch_rejected_normalise"]
    return {name: batch.table(con, name) for name in names}


def test_chunked_result_equals_the_whole_batch_at_once(con: duckdb.DuckDBPyConnection) -> None:
    whole_stats = normalise_batch(con, SETTINGS, chunk_rows=1_000)
    whole = _tables(con)
    chunked_stats = normalise_batch(con, SETTINGS, chunk_rows=2)
    chunked = _tables(con)
    assert chunked_stats == whole_stats
    for name, frame in whole.items():
        assert chunked[name].equals(frame), name
    assert whole_stats.read == {
        "contacts": 9, "companies": 3, "activities": 0, "deals": 0, "tasks": 0,
    }  # fmt: skip
    assert whole_stats.clean["contacts"] + whole_stats.rejected["contacts"] == 9


def test_records_keep_staging_order_ids_and_lineage(con: duckdb.DuckDBPyConnection) -> None:
    normalise_batch(con, SETTINGS, chunk_rows=2)
    clean = batch.table(con, "batch_clean_contacts")
    assert clean["source_row"].to_list() == [1, 2, 5, 6, 8, 9]  # 3, 4, 7 rejected
    assert clean["org_id"].unique().to_list() == [ORG]  # the other org's rows are not read
    assert clean["file_sha"].unique().to_list() == ["sha-of-hubspot.csv"]
    expected_id = con.execute(
        "SELECT md5(concat_ws('|', 'acme-org', 'csv', 'hubspot.csv', '1', 'hubspot:1'))"
    ).fetchall()[0][0]
    assert clean["record_id"][0] == expected_id
    assert clean["record_id"].n_unique() == clean.height
    # the same company name in every chunk gets the same key
    initech = clean.filter(pl.col("company_name").str.to_lowercase().str.contains("initech"))
    assert initech["company_key"].unique().to_list() == ["initech"]
    alan = clean.filter(pl.col("source_row") == 6)
    assert alan["other_emails"].to_list() == [["alan.t@gmail.com"]]  # own address dropped


def test_rejections_carry_reason_and_raw_record(con: duckdb.DuckDBPyConnection) -> None:
    normalise_batch(con, SETTINGS, chunk_rows=2)
    rejected = batch.table(con, "batch_rejected_normalise").sort("source_file", "source_row")
    rows = {(r["source_file"], r["source_row"]): r for r in rejected.iter_rows(named=True)}
    assert set(rows) == {("hubspot.csv", 3), ("hubspot.csv", 4), ("hubspot.csv", 7), ("co.csv", 2)}
    assert rows[("hubspot.csv", 3)]["reason"].startswith("invalid email 'not-an-address@'")
    assert rows[("hubspot.csv", 4)]["reason"] == "the org's own address: never a contact"
    assert json.loads(rows[("hubspot.csv", 4)]["raw"]) == _CONTACTS[3]
    assert rows[("hubspot.csv", 7)]["reason"].startswith("no usable identity")
    # the raw text as staged, though the chunks carried only a reference to it
    for row, original in ((3, _CONTACTS[2]), (4, _CONTACTS[3]), (7, _CONTACTS[6])):
        assert json.loads(rows[("hubspot.csv", row)]["raw"]) == original
    # a record staged without raw text is rejected with its fields as JSON
    assert json.loads(rows[("co.csv", 2)]["raw"])["domain"] == "gmail.com"


def test_raw_text_comes_back_whatever_the_chunk(con: duckdb.DuckDBPyConnection) -> None:
    normalise_batch(con, SETTINGS, chunk_rows=1_000)
    whole = batch.table(con, "batch_rejected_normalise")
    normalise_batch(con, SETTINGS, chunk_rows=1)  # every rejection from a chunk of its own
    assert batch.table(con, "batch_rejected_normalise").equals(whole)
    staged = batch.table(con, "batch_raw_contacts").filter(pl.col("org_id") == ORG)
    texts = set(staged["raw"].to_list())
    contacts = whole.filter(pl.col("source_file") == "hubspot.csv")
    assert contacts.height == 3 and set(contacts["raw"].to_list()) <= texts


def test_a_batch_without_raw_tables_gives_empty_clean_tables(tmp_path: Path) -> None:
    with warehouse.connect_work(tmp_path / "rex.duckdb") as con:
        stats = normalise_batch(con, SETTINGS)
        for entity in ("contacts", "companies", "activities", "deals", "tasks"):
            assert batch.table(con, f"batch_clean_{entity}").height == 0
        assert "record_id" in batch.table(con, "batch_clean_contacts").columns
    assert sum(stats.read.values()) == 0


def _limit(settings: Settings, *default: str) -> str:
    with WorkDatabase().connect(settings, *default) as con:
        return str(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])


def test_work_database_memory_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(duckdb_path=tmp_path / "rex.duckdb")
    monkeypatch.delenv(MEMORY_LIMIT_ENV, raising=False)
    assert _limit(settings) == "953.6 MiB"  # the default, 1GB
    assert _limit(settings, "512MB") == "488.2 MiB"  # a stage's own default
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "800MB")
    assert _limit(settings) == "762.9 MiB"
    assert _limit(settings, "512MB") == "762.9 MiB"  # the variable wins everywhere
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "lots")
    with pytest.raises(ConfigError, match="REX_DUCKDB_MEMORY_LIMIT='lots'"):
        _limit(settings)


def test_each_record_keeps_the_hash_of_its_own_file(tmp_path: Path) -> None:
    """Two files of one name in a batch (a re-export in another folder) keep their own hash:
    the per-file lookup must not mix them up or duplicate records."""
    first = _raw(_CONTACTS[:2])
    second = _raw(_CONTACTS[:2]).with_columns(
        source_row=pl.col("source_row") + 10,
        source_key=pl.format("hubspot:{}", pl.col("source_row") + 10),
        file_sha=pl.lit("sha-of-the-other-copy"),
    )
    third = _raw(_CONTACTS[:2], file="apollo.csv")
    with warehouse.connect_work(tmp_path / "rex.duckdb") as con:
        batch.replace(con, "batch_raw_contacts", pl.concat([first, second, third]))
        normalise_batch(con, SETTINGS)
        clean = batch.table(con, "batch_clean_contacts")
    assert clean.select("source_file", "source_row", "file_sha").rows() == [
        ("hubspot.csv", 1, "sha-of-hubspot.csv"),
        ("hubspot.csv", 2, "sha-of-hubspot.csv"),
        ("hubspot.csv", 11, "sha-of-the-other-copy"),
        ("hubspot.csv", 12, "sha-of-the-other-copy"),
        ("apollo.csv", 1, "sha-of-apollo.csv"),
        ("apollo.csv", 2, "sha-of-apollo.csv"),
    ]
