"""The published rows' hashes kept in the work database: an update hashes only the work side,
and must leave exactly the file hashing both sides would (see publish/delta.py)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from rex_pipeline import warehouse
from rex_pipeline.publish import delta
from rex_pipeline.publish.delta import _kept_fit, apply_table_delta, kept_hashes
from rex_pipeline.schema import CONTACT_EMAILS, CONTACTS
from tests.ops.ops_warehouse import Warehouse
from tests.publish.test_publish_delta import _assert_equal_to_a_fresh_write, _change, _publish

KEPT = kept_hashes("contact_emails")
ADA = "('acme', 'cont_a', 'ada@acme.com', true)"
BOB = "('acme', 'cont_b', 'bob@acme.com', true)"
CY = "('acme', 'cont_c', 'cy@acme.com', false)"
DI = "('acme', 'cont_d', 'di@acme.com', false)"


def _rows(con: duckdb.DuckDBPyConnection, catalog: str) -> list[tuple[object, ...]]:
    return sorted(con.execute(f"SELECT * FROM {catalog}.main.contact_emails").fetchall(), key=repr)


def _kept_describe_the_file(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the kept hashes are exactly (rowid, hash of the row) of the published table."""
    actual = "SELECT rowid, hash(contact_id, org_id, email, is_primary) FROM pub.contact_emails"
    return sorted(con.execute(actual).fetchall()) == sorted(
        con.execute(f"SELECT row_id, h FROM memory.main.{KEPT}").fetchall()
    )


def _two_databases() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("ATTACH ':memory:' AS pub")
    for catalog in ("memory", "pub"):
        con.execute(CONTACT_EMAILS.create_sql(catalog))
    return con


def _set_work(con: duckdb.DuckDBPyConnection, *rows: str) -> None:
    con.execute("DELETE FROM memory.main.contact_emails")
    con.execute(f"INSERT INTO memory.main.contact_emails VALUES {', '.join(rows)}")


def _published_in_step(*rows: str) -> duckdb.DuckDBPyConnection:
    """Both databases hold `rows`, and the published side's hashes are kept (one delta run)."""
    con = _two_databases()
    con.execute(f"INSERT INTO pub.main.contact_emails VALUES {', '.join(rows)}")
    _set_work(con, *rows)
    apply_table_delta(con, "pub", "memory", CONTACT_EMAILS)
    return con


def test_kept_hashes_follow_inserts_deletes_and_duplicates_over_several_updates() -> None:
    con = _two_databases()
    con.execute(f"INSERT INTO pub.main.contact_emails VALUES {ADA}, {BOB}, {BOB}")
    first = apply_table_delta(con, "pub", "memory", CONTACT_EMAILS, trust_kept=True)
    assert (first.deleted, first.inserted) == (3, 0)  # no kept hashes yet: both sides hashed
    assert _kept_describe_the_file(con)
    states = [
        ((ADA, BOB, BOB, CY), (0, 4)),
        ((ADA, BOB, CY, CY, DI), (1, 2)),  # one bob goes, a second cy and di come
        ((BOB, CY), (3, 0)),
        ((BOB, BOB, BOB, CY, ADA), (0, 3)),
        ((), (5, 0)),
        ((DI, DI), (0, 2)),
    ]
    for rows, counts in states:
        if rows:
            _set_work(con, *rows)
        else:
            con.execute("DELETE FROM memory.main.contact_emails")
        step = apply_table_delta(con, "pub", "memory", CONTACT_EMAILS, trust_kept=True)
        assert (step.deleted, step.inserted) == counts, rows
        assert _rows(con, "pub") == _rows(con, "memory")
        assert _kept_describe_the_file(con), rows


def _bogus_kept_hash(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"UPDATE memory.main.{KEPT} SET h = 42 WHERE row_id = 0")


def test_trusted_kept_hashes_are_used_instead_of_hashing_the_published_rows() -> None:
    con = _published_in_step(ADA, BOB)
    _bogus_kept_hash(con)  # the published rows did not change: a trusted copy is believed
    trusted = apply_table_delta(con, "pub", "memory", CONTACT_EMAILS, trust_kept=True)
    assert (trusted.deleted, trusted.inserted) == (1, 1)
    _bogus_kept_hash(con)
    untrusted = apply_table_delta(con, "pub", "memory", CONTACT_EMAILS)
    assert (untrusted.deleted, untrusted.inserted) == (0, 0)
    assert _kept_describe_the_file(con)  # rewritten from the hashed published side


def test_kept_hashes_at_other_rowids_are_not_trusted() -> None:
    """What a checkpoint that renumbers rows leaves: the hashes no longer sit at the rows."""
    con = _published_in_step(ADA, BOB, CY)
    con.execute(f"UPDATE memory.main.{KEPT} SET row_id = row_id + 1")
    assert not _kept_fit(con, "pub", "memory", CONTACT_EMAILS)
    _set_work(con, ADA, BOB, DI)
    step = apply_table_delta(con, "pub", "memory", CONTACT_EMAILS, trust_kept=True)
    assert (step.deleted, step.inserted) == (1, 1)
    assert _rows(con, "pub") == _rows(con, "memory")
    assert _kept_describe_the_file(con)


def _hashes_file(built: Warehouse) -> object:
    with built.work_connection() as con:
        return con.execute("SELECT hashes_file = published_file FROM publish_state").fetchall()[0][
            0
        ]


def _trusted_tables(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """(table, trust_kept) of each delta the publishes apply."""
    seen: list[tuple[str, bool]] = []
    apply = delta.apply_table_delta

    def spy(con, published, work, table, keep=(), trust_kept=False, touched=None, **files):  # type: ignore[no-untyped-def]
        seen.append((table.name, trust_kept))
        return apply(con, published, work, table, keep, trust_kept, touched, **files)

    monkeypatch.setattr(warehouse, "apply_table_delta", spy)
    return seen


def test_updates_with_kept_hashes_hold_what_a_fresh_file_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over several publishes, the first of which renumbers contacts at its checkpoint."""
    built = Warehouse.build(tmp_path / "a")
    assert _hashes_file(built)  # a fresh write keeps its hashes
    trusted = _trusted_tables(monkeypatch)
    _change(built)
    assert _publish(built) == "updated"
    assert trusted and all(trust for _, trust in trusted)
    with warehouse.connect_work(built.published) as con:
        con.execute(f"ATTACH '{built.published}' AS pub (READ_ONLY)")
        assert not _kept_fit(
            con, "pub", con.execute("SELECT current_database()").fetchall()[0][0], CONTACTS
        )
    built.change_work(
        f"UPDATE contacts SET title = 'CEO' WHERE id = '{built.ids.ada}'",
        f"DELETE FROM contact_sources WHERE contact_id = '{built.ids.grace}'",
    )
    assert _publish(built) == "updated"
    _assert_equal_to_a_fresh_write(built, tmp_path)


def test_a_publish_that_failed_midway_leaves_no_trusted_hashes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = Warehouse.build(tmp_path / "a")
    _change(built)

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed")

    with monkeypatch.context() as patch:  # the deltas ran (and changed kept hashes), then died
        patch.setattr(warehouse, "build_derived_tables", fail)
        with pytest.raises(RuntimeError):
            _publish(built)
    assert not _hashes_file(built)
    trusted = _trusted_tables(monkeypatch)
    assert _publish(built) == "updated"
    assert trusted and not any(trust for _, trust in trusted)
    assert _hashes_file(built)
    _assert_equal_to_a_fresh_write(built, tmp_path)


def test_a_published_file_replaced_by_hand_is_written_afresh_with_new_hashes(
    tmp_path: Path,
) -> None:
    built = Warehouse.build(tmp_path / "a")
    other = Warehouse.build(tmp_path / "b")
    other.published.replace(built.published)  # rows at the same rowids, other ids
    _change(built)
    assert _publish(built) == "written"
    assert _hashes_file(built)
    built.change_work(f"UPDATE contacts SET title = 'CEO' WHERE id = '{built.ids.ada}'")
    assert _publish(built) == "updated"
    _assert_equal_to_a_fresh_write(built, tmp_path)
