"""Metadata of merged records: keys unioned, the newest record wins a key, and the JSON text is
the same whatever order the records come in (or a re-run would see a change)."""

from __future__ import annotations

import json

import duckdb

from rex_pipeline.merge.survivorship import _metadata_sql


def _merged(rows: list[tuple[str, int, str]]) -> str:
    con = duckdb.connect()
    con.execute("CREATE TABLE recs (entity_id VARCHAR, new_rank INTEGER, metadata VARCHAR)")
    con.executemany("INSERT INTO recs VALUES (?, ?, ?)", rows)
    return str(con.execute(_metadata_sql("recs")).fetchall()[0][1])


def test_metadata_union_is_sorted_and_newest_wins() -> None:
    rows = [
        ("c1", 2, json.dumps({"Lead Status": "OPEN", "z": 1, "Owner": "maria"})),
        ("c1", 1, json.dumps({"Lead Status": "CONNECTED", "a": [1, 2]})),
    ]
    merged = _merged(rows)
    assert json.loads(merged) == {
        "Lead Status": "CONNECTED",  # rank 1 is the newest
        "Owner": "maria",
        "a": [1, 2],
        "z": 1,
    }
    assert list(json.loads(merged)) == sorted(json.loads(merged))
    for _ in range(5):  # same text for any order of the rows
        assert _merged(list(reversed(rows))) == merged
