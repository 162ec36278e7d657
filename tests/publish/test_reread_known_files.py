"""Whether a run reads a file again, told from small tables (batch.rereads_known_file): the
manifest lists every file a run applied, `known_files` those whose records a warehouse holds
without one (a bootstrap from a published file, or a work database older than the table). When
no file is read again, the re-read predicate is the constant FALSE."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from rex_pipeline import batch, warehouse

ORG = "acme-org"


def _batch_files(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    batch.replace(
        con,
        "batch_files",
        pl.DataFrame(
            {"org_id": ORG, "source_system": "csv", "file_name": list(names)},
            schema={"org_id": pl.String, "source_system": pl.String, "file_name": pl.String},
        ),
    )


def _add_source_row(con: duckdb.DuckDBPyConnection, file_name: str) -> None:
    con.execute(
        "INSERT INTO contact_sources (org_id, contact_id, source_system, source_file, source_row,"
        " match_rule) VALUES (?, 'cont_x', 'csv', ?, 1, 'new')",
        [ORG, file_name],
    )


def test_new_files_are_not_reread_and_the_predicate_is_false(tmp_path: Path) -> None:
    with warehouse.connect_work(tmp_path / "rex.duckdb") as con:
        _batch_files(con, "new.csv")
        assert not batch.rereads_known_file(con)
        assert batch.reread_filter(con, "s") == "FALSE"
        con.execute(
            "INSERT INTO manifest VALUES (?, 'csv', 'new.csv', '/in/new.csv', 1, 'ab', 1, 0,"
            " 'loaded', NULL, now())",
            [ORG],
        )
        assert batch.rereads_known_file(con)
        assert batch.reread_filter(con, "s") == batch.from_reread_file("s")


def test_files_of_a_work_database_without_manifest_entries_count_as_known(
    tmp_path: Path,
) -> None:
    """A work database made before `known_files` existed (or bootstrapped): the first connect
    lists the files its lineage holds that the manifest does not."""
    with warehouse.connect_work(tmp_path / "rex.duckdb") as con:
        _add_source_row(con, "old.csv")
        con.execute("DROP TABLE known_files")  # as an older version left it
    with warehouse.connect_work(tmp_path / "rex.duckdb") as con:
        known = con.execute("SELECT org_id, source_system, file_name FROM known_files").fetchall()
        assert known == [(ORG, "csv", "old.csv")]
        _batch_files(con, "other.csv")
        assert not batch.rereads_known_file(con)
        _batch_files(con, "other.csv", "old.csv")
        assert batch.rereads_known_file(con)


def test_a_bootstrapped_work_database_knows_the_published_files(tmp_path: Path) -> None:
    published = tmp_path / "rex.duckdb"
    with warehouse.connect_work(published) as con:
        _add_source_row(con, "exported.csv")
        con.execute(f"ATTACH '{published}' AS pub")
        for table in warehouse.CANONICAL_TABLES:
            con.execute(table.create_sql("pub"))
        con.execute("INSERT INTO pub.main.contact_sources SELECT * FROM contact_sources")
        con.execute("DETACH pub")
    warehouse.work_db_path(published).unlink()  # a new machine: only the published file
    with warehouse.connect_work(published) as con:
        known = con.execute("SELECT file_name FROM known_files").fetchall()
        assert known == [("exported.csv",)]
        assert con.execute("SELECT count(*) FROM stg_contacts").fetchall() == [(0,)]
