"""The fold's SQL pieces against simple references: the metadata union merged inside one list
per entity gives the text the grouped (entity, key) formulation gave; the company names
contacts mention rank after company files; a first run folds the records it writes where they
are, an increment folds a copy of the old and new ones."""

from __future__ import annotations

import json
import random

import duckdb

from rex_pipeline.merge.survivorship import _fold_input, _metadata_sql, _ranked, _ranks

# The union as it was written before it was merged per entity: unnest every entry, keep the
# newest per (entity, key), aggregate again in key order.
_GROUPED_REFERENCE = """
    SELECT entity_id, '{' || string_agg(to_json(k) || ':' || v, ',' ORDER BY k) || '}'
        AS metadata
    FROM (
        SELECT entity_id, k, arg_min(v, (new_rank, v)) AS v FROM (
            SELECT entity_id, new_rank, unnest(json_keys(m)) AS k,
                   unnest(json_extract(m, '$.*')) AS v
            FROM (SELECT entity_id, new_rank, metadata::JSON AS m FROM recs
                  WHERE metadata IS NOT NULL AND json_type(metadata::JSON) = 'OBJECT')
        ) GROUP BY entity_id, k
    ) GROUP BY entity_id"""


def _random_metadata(rng: random.Random) -> str | None:
    roll = rng.random()
    if roll < 0.1:
        return None
    if roll < 0.15:
        return rng.choice(["[1, 2]", '"text"', "{}", "null"])
    keys = ["Lead Status", "a", "b", "$ Revenue", "", "/notes", "Città", "Z"]
    obj = {k: rng.choice([1, -2.5, None, "x", [1, {"y": None}], {"n": True}]) for k in keys}
    return json.dumps(dict(rng.sample(sorted(obj.items()), rng.randint(1, len(obj)))))


def test_metadata_union_matches_the_grouped_reference() -> None:
    rng = random.Random(7)
    rows = [
        (f"c{rng.randint(1, 60)}", rank, _random_metadata(rng))
        for rank in rng.sample(range(1, 10_000), 400)
    ]
    con = duckdb.connect()
    con.execute("CREATE TABLE recs (entity_id VARCHAR, new_rank BIGINT, metadata VARCHAR)")
    con.executemany("INSERT INTO recs VALUES (?, ?, ?)", rows)
    merged = dict(con.execute(_metadata_sql("recs")).fetchall())
    reference = dict(con.execute(_GROUPED_REFERENCE).fetchall())
    # entities whose objects are all empty get "{}" here and no row there: the same to the
    # fold, which writes "{}" for an entity without a row
    assert {e: m for e, m in merged.items() if m != "{}"} == reference


def test_company_names_contacts_mention_rank_after_company_files() -> None:
    con = duckdb.connect()
    con.execute(
        """CREATE TABLE recs AS SELECT * FROM (VALUES
            ('r1:company', TIMESTAMPTZ '2020-01-01', 'csv', 'contacts.csv', 1),
            ('f1', TIMESTAMPTZ '2024-01-01', 'csv', 'companies.csv', 1),
            ('r2:company', TIMESTAMPTZ '2019-01-01', 'csv', 'contacts.csv', 2),
            ('f2', TIMESTAMPTZ '2023-01-01', 'csv', 'companies.csv', 2))
        AS t(record_id, created_at, source_system, source_file, source_row)"""
    )
    con.execute(
        "ALTER TABLE recs ADD COLUMN loaded_at TIMESTAMPTZ; "
        "ALTER TABLE recs ADD COLUMN updated_at TIMESTAMPTZ"
    )
    ranks = _ranks("recs", ranked_last="record_id LIKE '%:company'")
    ranked = _ranked("recs", ["record_id"], f"({ranks})")
    oldest = con.execute(f"SELECT record_id FROM ({ranked}) ORDER BY old_rank").fetchall()
    assert [r[0] for r in oldest] == ["f2", "f1", "r2:company", "r1:company"]
    # in the newest-first order too: a contact row's industry never outranks a company file's
    newest = con.execute(f"SELECT record_id FROM ({ranked}) ORDER BY new_rank").fetchall()
    assert [r[0] for r in newest] == ["f1", "f2", "r1:company", "r2:company"]


def _staging(con: duckdb.DuckDBPyConnection) -> None:
    columns = """entity_id VARCHAR, org_id VARCHAR, record_id VARCHAR, name VARCHAR,
        domain VARCHAR, industry VARCHAR, size VARCHAR, description VARCHAR, metadata VARCHAR,
        created_at TIMESTAMPTZ, loaded_at TIMESTAMPTZ, source_system VARCHAR,
        source_file VARCHAR, source_row BIGINT, updated_at TIMESTAMPTZ"""
    con.execute(f"CREATE TABLE stg ({columns})")
    con.execute(f"CREATE TABLE written ({columns})")
    con.execute(
        "INSERT INTO stg (entity_id, record_id, name) VALUES ('e1', 'old', 'Old'), "
        "('e1', 'moved', 'Moved')"
    )
    con.execute("INSERT INTO written (entity_id, record_id, name) VALUES ('e1', 'new', 'New')")


def test_a_first_run_folds_the_written_records_where_they_are() -> None:
    con = duckdb.connect()
    _staging(con)
    con.execute("CREATE TEMP TABLE rows AS SELECT rowid AS row_id, true AS moved FROM stg")
    _fold_input(con, "stg", "rows", "written", "company_fold_records")
    assert con.execute("SELECT record_id FROM company_fold_records").fetchall() == [("new",)]
    copies = "SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'company_fold%'"
    assert con.execute(copies).fetchall() == [(0,)]


def test_an_increment_folds_the_old_records_that_stay_and_the_written_ones() -> None:
    con = duckdb.connect()
    _staging(con)
    con.execute(
        "CREATE TEMP TABLE rows AS SELECT rowid AS row_id, record_id = 'moved' AS moved FROM stg"
    )
    _fold_input(con, "stg", "rows", "written", "company_fold_records")
    folded = con.execute(
        "SELECT record_id, row_id FROM company_fold_records ORDER BY record_id"
    ).fetchall()
    assert [r[0] for r in folded] == ["new", "old"]
    assert len({r[1] for r in folded}) == 2  # each record has its own row id to rank by
