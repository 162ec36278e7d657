"""The fuzzy step keeps the staged records of the nodes it profiles, and profiles the winners
it re-indexes from those: the same profiles as from every staged record, merges included."""

from __future__ import annotations

import duckdb
import polars as pl

from rex_pipeline.config import Settings
from rex_pipeline.resolve.fuzzy_stage import contact_profiles, fetch_profiles, fetched_records
from tests.resolve.test_fuzzy_profiles import NOW, _stage, con  # noqa: F401 (fixture)


def _stage_people(con: duckdb.DuckDBPyConnection) -> None:  # noqa: F811
    _stage(con, "cont_ada", [("2019-02-01 09:00", "Ada", "Lovelace")])
    _stage(con, "cont_ada2", [("2021-07-12 14:30", "A.", "Lovelace")])
    _stage(con, "cont_bob", [("2020-03-01 08:00", "Bob", "Baker")])
    _stage(con, "cont_eve", [("2022-01-01 08:00", "Eve", "Moneypenny")])


def test_profiles_from_fetched_records_match_the_staged_ones(
    con: duckdb.DuckDBPyConnection,  # noqa: F811
) -> None:
    _stage_people(con)
    settings = Settings()
    with fetched_records(con, settings):
        fetch_profiles(con, settings, NOW, pl.Series(["cont_ada"]))
        fetch_profiles(con, settings, NOW, pl.Series(["cont_ada2", "cont_bob"]))
        # the fuzzy step then merges cont_ada2 into cont_ada: the winner's profile folds both
        con.execute("INSERT INTO batch_merges_contact VALUES ('cont_ada', 'cont_ada2')")
        wanted = pl.Series(["cont_ada", "cont_bob"])
        kept = contact_profiles(con, settings, NOW, wanted, "fuzzy_fetched_records")
        fetched = con.sql("SELECT count(*) FROM fuzzy_fetched_records").fetchall()[0][0]
    staged = contact_profiles(con, settings, NOW, wanted)
    assert kept.sort("node_id").equals(staged.sort("node_id"))
    assert kept.height == 2 and fetched == 3  # cont_eve's record was never read
    ada = kept.filter(pl.col("node_id") == "cont_ada").row(0, named=True)
    assert ada["first_record"] is not None and ada["last_name"] == "Lovelace"


def test_the_fetched_records_leave_with_the_block(
    con: duckdb.DuckDBPyConnection,  # noqa: F811
) -> None:
    _stage_people(con)
    settings = Settings()
    with fetched_records(con, settings):
        fetch_profiles(con, settings, NOW, pl.Series(["cont_bob"]))
    tables = con.sql("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
    assert tables == []


def test_a_winner_is_fetched_with_the_records_of_the_entities_merged_into_it(
    con: duckdb.DuckDBPyConnection,  # noqa: F811
) -> None:
    _stage_people(con)
    con.execute("INSERT INTO batch_merges_contact VALUES ('cont_ada', 'cont_ada2')")
    settings = Settings()
    wanted = pl.Series(["cont_ada"])
    with fetched_records(con, settings):
        fetched = fetch_profiles(con, settings, NOW, wanted)
        rows = con.sql("SELECT entity_id FROM fuzzy_fetched_records ORDER BY 1").fetchall()
    assert rows == [("cont_ada",), ("cont_ada2",)]  # the loser's record, read by rowid too
    assert fetched.equals(contact_profiles(con, settings, NOW, wanted))
    assert fetched["first_name"].to_list() == ["Ada"]  # the full name wins over "A."
