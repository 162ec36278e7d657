"""The two orders survivorship folds records in: oldest first (who keeps empty fields filled)
and newest first (title, phone, metadata). The ranks are computed apart from the folded columns
and joined back by row id, so each rank must land on its own record."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import duckdb

from rex_pipeline.merge.survivorship import _ranked
from rex_pipeline.merge.survivorship import _ranks as rank_sql

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
LOADED = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)

# (record_id, created_at, updated_at, source_system, source_file, source_row)
RECORDS = [
    ("hs-1", T0, T0 + timedelta(days=30), "csv", "hubspot_contacts.csv", 2),
    ("ap-1", T0, None, "csv", "apollo_contacts.csv", 7),
    ("ap-2", T0, None, "csv", "apollo_contacts.csv", 3),
    ("li-1", None, None, "csv", "Connections.csv", 4),  # no dates: its load time counts
    ("gm-a", T0 + timedelta(days=2), None, "gmail", "maria.mbox", 11),
    ("gm-b", T0 + timedelta(days=2), None, "gmail", "maria.mbox", 11),  # same message row
    ("sf-1", T0 - timedelta(days=400), T0 + timedelta(days=1), "csv", "salesforce.csv", 9),
]


def _ranks(rows: list[tuple]) -> list[tuple[str, str, int, int]]:
    con = duckdb.connect()
    con.execute(
        """CREATE TABLE recs (entity_id VARCHAR, record_id VARCHAR, title VARCHAR,
            created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ, loaded_at TIMESTAMPTZ,
            source_system VARCHAR, source_file VARCHAR, source_row BIGINT)"""
    )
    con.executemany(
        "INSERT INTO recs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [("c1", rid, f"title of {rid}", c, u, LOADED, *src) for rid, c, u, *src in rows],
    )
    query = _ranked("recs", ["record_id", "title"], f"({rank_sql('recs')})")
    return con.execute(f"SELECT record_id, title, old_rank, new_rank FROM ({query})").fetchall()


def test_oldest_and_newest_orders() -> None:
    rows = _ranks(RECORDS)
    by_old = [r[0] for r in sorted(rows, key=lambda r: r[2])]
    by_new = [r[0] for r in sorted(rows, key=lambda r: r[3])]
    # created (else loaded) ascending; ties by system, file, row, then record id
    assert by_old == ["sf-1", "ap-2", "ap-1", "hs-1", "gm-a", "gm-b", "li-1"]
    # updated (else created, else loaded) descending; ties by created descending, then
    # system, file, row descending, record id
    assert by_new == ["li-1", "hs-1", "gm-a", "gm-b", "sf-1", "ap-1", "ap-2"]


def test_each_rank_stays_with_its_record_whatever_the_row_order() -> None:
    expected = {r[0]: (r[2], r[3]) for r in _ranks(RECORDS)}
    shuffled = list(RECORDS)
    for seed in range(5):
        random.Random(seed).shuffle(shuffled)
        rows = _ranks(shuffled)
        assert all(title == f"title of {rid}" for rid, title, _, _ in rows)
        assert {rid: (old, new) for rid, _, old, new in rows} == expected
