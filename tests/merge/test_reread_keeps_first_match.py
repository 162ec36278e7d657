"""A record read again (its file re-exported under the same name) is the record seen before:
it keeps when it was first loaded and the explanation of its first match, while the file's new
rows are new. A sync of other files never looks for earlier copies of its records."""

from __future__ import annotations

import pytest

from tests.conftest import Env
from tests.publish.test_apply_proportional import work

pytestmark = pytest.mark.integration

HEADER = '"Record ID","First Name","Last Name","Email","Associated Company"\n'
ADA = '"101","Ada","Lovelace","ada.lovelace@acme-robotics.com","Acme Robotics"\n'
GRACE = '"102","Grace","Hopper","grace.hopper@acme-robotics.com","Acme Robotics"\n'


def _staged(env: Env, table: str) -> dict[object, tuple[object, ...]]:
    """source_row -> (loaded_at, match_rule, match_score) of the records of b.csv."""
    rows = work(
        env,
        f"SELECT source_row, loaded_at, match_rule, match_score FROM {table} "
        "WHERE source_file = 'b.csv'",
    )
    return {r[0]: r[1:] for r in rows}


def test_a_reread_record_keeps_its_first_load_and_match(env: Env) -> None:
    env.write("csv/a.csv", "Email,First Name,Last Name\nada.lovelace@acme-robotics.com,Ada,L\n")
    assert env.run().success
    env.write("csv/b.csv", HEADER + ADA)  # Ada again: matched to the contact of a.csv
    assert env.run().success
    first = {t: _staged(env, t) for t in ("stg_contacts", "stg_companies")}
    assert len(first["stg_contacts"]) == 1 and len(first["stg_companies"]) == 1

    env.write("csv/b.csv", HEADER + ADA + GRACE)  # re-exported with one more row
    assert env.run().success
    for table, before in first.items():
        after = _staged(env, table)
        assert len(after) == 2, table
        (row,) = before
        assert after[row] == before[row], f"{table}: the record read again lost its history"
        (other,) = set(after) - {row}
        assert after[other][0] > before[row][0], f"{table}: the new row is not newer"
