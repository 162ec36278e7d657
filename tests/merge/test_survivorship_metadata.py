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


def test_text_is_what_duckdb_writes_for_a_json_map() -> None:
    """The object is assembled as text; it must be the text `to_json` gives for the same
    MAP (escapes, unicode, numbers, nested values, JSON nulls), or a re-run after this change
    would see every contact's metadata as changed."""
    record = {
        "Lead Status": None,
        'quote"d': "tab\there, ctrl\u0001, line\u2028sep",
        "Città": "Zürich 😀",
        "n": -1e-7,
        "big": 2**70,
        "float": 1.0,
        "nested": {"b": [1, {"z": None}], "a": True},
        "empty": {},
    }
    text = json.dumps(record)
    merged = _merged([("c1", 1, text)])
    con = duckdb.connect()
    expected = con.execute(
        """SELECT to_json(map(list_sort(json_keys(j)),
                              list_transform(list_sort(json_keys(j)), lambda k: j -> k)))
           FROM (SELECT ?::JSON AS j)""",
        [text],
    ).fetchall()[0][0]
    assert merged == expected
    assert json.loads(merged) == record


def test_records_without_an_object_add_nothing() -> None:
    rows = [
        ("c1", 1, "[1, 2]"),
        ("c1", 2, "{}"),
        ("c1", 3, '"just text"'),
        ("c1", 4, json.dumps({"Seniority": "Vp"})),
    ]
    assert _merged(rows) == '{"Seniority":"Vp"}'


def test_keys_that_look_like_json_paths_keep_their_own_values() -> None:
    """Unmapped CSV columns become metadata keys, and a header can be blank or start with "$"
    or "/" (a trailing comma, "$ Revenue", "/notes"): each keeps its own value, not the value
    of the path it spells."""
    record = {"": "blank header", "$ Revenue": "1,200", "$": 1, "/notes": "n", "a": {"b": 2}}
    rows = [("c1", 1, json.dumps(record)), ("c1", 2, json.dumps({"/a": "older"}))]
    assert json.loads(_merged(rows)) == {**record, "/a": "older"}
