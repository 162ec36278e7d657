"""An update by the log of touched keys with trusted kept hashes: the published side of the
logged rows is read from the kept hashes, not hashed again (see publish/delta.py)."""

from __future__ import annotations

from rex_pipeline.publish.delta import apply_table_delta
from rex_pipeline.schema import CONTACT_EMAILS
from tests.publish.test_publish_delta_kept import (
    KEPT,
    _bogus_kept_hash,
    _kept_describe_the_file,
    _published_in_step,
    _rows,
    _set_work,
    _two_databases,
)

# contact_emails rows in its column order (contact_id first: the key it is logged by)
ADA = "('cont_a', 'acme', 'ada@acme.com', true)"
BOB = "('cont_b', 'acme', 'bob@acme.com', true)"
CY = "('cont_c', 'acme', 'cy@acme.com', false)"
DI = "('cont_d', 'acme', 'di@acme.com', false)"


def _logged(*contact_ids: str) -> str:
    """A query of logged keys (contact_emails is logged by contact_id)."""
    values = ", ".join(f"('{c}')" for c in contact_ids) or "(NULL)"
    return f"SELECT k FROM (VALUES {values}) AS t(k) WHERE k IS NOT NULL"


def test_trusted_kept_hashes_of_logged_rows_stand_for_the_published_rows() -> None:
    con = _published_in_step(ADA, BOB)
    _bogus_kept_hash(con)  # ada's (rowid 0): believed when trusted and ada is logged
    step = apply_table_delta(
        con, "pub", "memory", CONTACT_EMAILS, trust_kept=True, touched=_logged("cont_a")
    )
    assert (step.deleted, step.inserted) == (1, 1)
    assert _rows(con, "pub") == _rows(con, "memory")
    assert _kept_describe_the_file(con)


def test_kept_hashes_not_trusted_are_not_used_for_logged_rows() -> None:
    """A log alone does not vouch for the kept hashes (a publish that failed midway may have
    changed them for a file never swapped in): the published side is hashed."""
    con = _published_in_step(ADA, BOB)
    _bogus_kept_hash(con)
    step = apply_table_delta(con, "pub", "memory", CONTACT_EMAILS, touched=_logged("cont_a"))
    assert (step.deleted, step.inserted) == (0, 0)


def test_kept_hashes_at_other_rowids_are_not_used_for_logged_rows() -> None:
    con = _published_in_step(ADA, BOB, CY)
    con.execute(f"UPDATE memory.main.{KEPT} SET row_id = row_id + 1, h = 42")
    _set_work(con, ADA, BOB, DI)
    step = apply_table_delta(
        con, "pub", "memory", CONTACT_EMAILS, trust_kept=True, touched=_logged("cont_c", "cont_d")
    )
    assert (step.deleted, step.inserted) == (1, 1)
    assert _rows(con, "pub") == _rows(con, "memory")


def test_logged_updates_with_kept_hashes_follow_inserts_deletes_and_duplicates() -> None:
    con = _two_databases()
    con.execute(f"INSERT INTO pub.main.contact_emails VALUES {ADA}, {BOB}, {BOB}")
    _set_work(con, ADA, BOB, BOB)
    apply_table_delta(con, "pub", "memory", CONTACT_EMAILS, trust_kept=True)
    states = [
        ((ADA, BOB, BOB, CY), ("cont_c",), (0, 1)),
        ((ADA, BOB, CY, CY, DI), ("cont_b", "cont_c", "cont_d"), (1, 2)),
        ((BOB, CY), ("cont_a", "cont_c", "cont_d"), (3, 0)),
        ((BOB, BOB, BOB, CY, ADA), ("cont_a", "cont_b"), (0, 3)),
        ((BOB, BOB, BOB, CY, ADA), (), (0, 0)),
    ]
    for rows, logged, counts in states:
        _set_work(con, *rows)
        step = apply_table_delta(
            con, "pub", "memory", CONTACT_EMAILS, trust_kept=True, touched=_logged(*logged)
        )
        assert (step.deleted, step.inserted) == counts, rows
        assert _rows(con, "pub") == _rows(con, "memory")
        assert _kept_describe_the_file(con), rows
