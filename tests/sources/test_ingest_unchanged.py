"""An inbox with nothing new costs no parsing: no parser module is imported and no worker
pool is set up, while this run's batch rows of the system are still cleared."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from rex_pipeline import ingest
from rex_pipeline.config import load_settings
from rex_pipeline.warehouse import connect_work
from tests.conftest import Env

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gmail"
CSV = "First Name,Last Name,Email Address,Company\nAna,Silva,ana@acme.io,Acme\n"


def _record_loaded(con: duckdb.DuckDBPyConnection) -> None:
    """What publish does for the files of a run: their manifest entries."""
    con.execute(
        "INSERT INTO manifest SELECT org_id, source_system, file_name, path, size, sha256, "
        "records_read, records_rejected, status, error, now() FROM batch_files"
    )


def _rows(con: duckdb.DuckDBPyConnection, system: str) -> int:
    tables = [f"batch_raw_{e}" for e in ingest.ENTITIES] + ["batch_rejected_source"]
    return sum(
        con.execute(f"SELECT count(*) FROM {t} WHERE source_system = ?", [system]).fetchone()[0]
        for t in tables
    )


@pytest.mark.parametrize("system", ["csv", "gmail"])
def test_an_unchanged_folder_is_not_parsed(
    env: Env, system: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env.write("csv/Connections.csv", CSV)
    env.copy(FIXTURES / "dogsheep_small.gmail.mbox", "gmail/takeout.mbox")
    settings = load_settings()
    with connect_work(settings.duckdb_path) as con:
        first = ingest.stage_system(con, settings, system)
        assert sum(first.counts.values()) > 0 and _rows(con, system) > 0
        _record_loaded(con)

        def refuse(*args: object, **kwargs: object) -> None:
            raise AssertionError("no parser is needed for an unchanged inbox")

        monkeypatch.setattr(ingest, "_parser_for", refuse)
        monkeypatch.setattr(ingest, "stream_files", refuse)
        again = ingest.stage_system(con, settings, system)
        assert again.skipped_unchanged == 1 and again.reports == []
        assert sum(again.counts.values()) == 0
        assert _rows(con, system) == 0  # the first run's batch rows are gone
