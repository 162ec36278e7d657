"""Contact profiles of the fuzzy step: the name a node is compared by is the spelling most of
its records use (ties: the spelling the org's records carry more, then the oldest), so one
record's initial or typo does not speak for it."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest

from rex_pipeline.config import Settings
from rex_pipeline.resolve.fuzzy_stage import contact_profiles
from tests.resolve.profile_tables import profile_tables

NOW = datetime(2024, 6, 1, tzinfo=UTC)


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    """The tables the profile query reads, with no batch of its own."""
    return profile_tables()


def _stage(
    con: duckdb.DuckDBPyConnection,
    entity: str,
    rows: list[tuple[str, str, str]],
    record_ids: list[str] | None = None,
) -> None:
    """(created_at, first_name, last_name) records of one contact from a HubSpot export
    (record ids: md5 of the lineage, as staging makes them, unless given)."""
    for row, (created, first, last) in enumerate(rows):
        record = record_ids[row] if record_ids else None
        con.execute(
            """INSERT INTO stg_contacts (org_id, record_id, entity_id, source_system,
                   source_file, created_at, loaded_at, first_name, last_name, email_key)
               VALUES ('default', coalesce(?, md5(? || '|' || ?)), ?, 'hubspot', 'contacts.csv',
                   ?::TIMESTAMPTZ, '2024-05-01 00:00:00+00'::TIMESTAMPTZ, ?, ?, ?)""",
            [record, entity, str(row), entity, created, first or None, last or None,
             f"{entity}@acme-robotics.com"],
        )  # fmt: skip


def _names(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str]]:
    profiles = contact_profiles(con, Settings(), NOW)
    names = profiles.select("node_id", "first_name", "last_name").rows()
    return {node: (first, last) for node, first, last in names}


def test_the_most_frequent_spelling_beats_an_older_initial_or_typo(
    con: duckdb.DuckDBPyConnection,
) -> None:
    _stage(
        con,
        "cont_dana",
        [
            ("2019-02-01 09:00", "D.", "Hamiltosn"),
            ("2021-07-12 14:30", "Dana", "Hamilton"),
            ("2023-01-05 08:15", "Dana", "Hamilton"),
        ],
    )
    _stage(
        con,
        "cont_carol",
        [
            ("2020-03-03 10:00", "Carl", "Nguyen"),
            ("2022-09-09 11:00", "Carol", "Nguyen"),
            ("2023-04-04 12:00", "Carol", ""),  # a missing name is no spelling
            ("2024-02-02 13:00", "Carol", ""),
        ],
    )
    assert _names(con) == {"cont_dana": ("Dana", "Hamilton"), "cont_carol": ("Carol", "Nguyen")}


def test_a_tie_keeps_the_oldest_spelling(con: duckdb.DuckDBPyConnection) -> None:
    _stage(
        con,
        "cont_kate",
        [
            ("2023-06-01 09:00", "Kate", "O'Brien"),
            ("2020-01-15 09:00", "Katherine", "OBrien"),
        ],
    )
    assert _names(con) == {"cont_kate": ("Katherine", "OBrien")}


def test_a_tie_goes_to_the_spelling_more_records_carry(con: duckdb.DuckDBPyConnection) -> None:
    """One older record with a typo and one with the right spelling: the typo is rare among the
    org's records (and this batch's), the real name is not."""
    _stage(
        con,
        "cont_ewa",
        [("2019-05-01 09:00", "Ewa", "Kalasenars"), ("2022-05-01 09:00", "Ewa", "Kalasenards")],
    )
    _stage(con, "cont_jan", [("2021-01-01 09:00", "Jan", "Kalasenards")])
    con.execute(
        "INSERT INTO batch_clean_contacts (record_id, first_name, last_name)"
        " VALUES ('r-new', 'Piotr', 'Kalasenards')"
    )  # not yet assigned: counted among the org's names, not profiled
    assert _names(con)["cont_ewa"] == ("Ewa", "Kalasenards")


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_records_of_one_moment_are_folded_in_record_id_order(
    con: duckdb.DuckDBPyConnection, order: tuple[int, int]
) -> None:
    """Two records of one import share created_at: the name and the node's first record come
    from the smaller record id, whatever order the rows are stored in."""
    rows = [("2024-03-01 10:00", "Jon", "Baker"), ("2024-03-01 10:00", "John", "Baker")]
    ids = ["4f1c0a", "9b2e77"]
    _stage(con, "cont_baker", [rows[i] for i in order], [ids[i] for i in order])
    profile = contact_profiles(con, Settings(), NOW).row(0, named=True)
    assert (profile["first_name"], profile["first_record"]) == ("Jon", "4f1c0a")


def test_an_initial_never_names_a_node_whose_records_spell_the_name_out(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """An initial ("M.") that more of the org's records carry, and even more of Marko's own
    records: as "M." he would fit his colleague Mark, so the spelt-out name is kept."""
    _stage(con, "cont_marko", [("2020-08-27 15:46", "Marko", "Marenersky"),
                               ("2023-07-21 15:46", "M.", "Marenersky"),
                               ("2024-01-02 10:00", "M.", "Marenersky")])  # fmt: skip
    for number in range(4):
        _stage(con, f"cont_m{number}", [("2021-01-01 09:00", "M.", f"Other{number}")])
    # a node known by initials only is named by the most frequent of them
    _stage(con, "cont_jo", [("2021-01-01 09:00", "J", "Ito"), ("2022-01-01 09:00", "J.", "Ito"),
                            ("2023-01-01 09:00", "J.", "Ito")])  # fmt: skip
    names = _names(con)
    assert names["cont_marko"] == ("Marko", "Marenersky")
    assert names["cont_jo"] == ("J.", "Ito")
