"""CSV and Instantly files are staged one file at a time, each written by a second thread
while the next one parses (ingest.stage_system): the batch tables hold every file's rows in
file order, the Batch keeps only a preview, and a failed write stops the step with its error."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from rex_pipeline import batch, ingest
from rex_pipeline.config import load_settings
from rex_pipeline.warehouse import connect_work
from tests.conftest import Env

HEADER = "First Name,Last Name,Email Address,Company\n"


def _write_exports(env: Env, files: int, rows: int) -> None:
    for f in range(files):
        lines = [f"Ana{f}x{r},Silva,ana.{f}.{r}@acme{f}.io,Acme {f}\n" for r in range(rows)]
        env.write(f"csv/export_{f}.csv", HEADER + "".join(lines))


def test_every_file_is_staged_in_order_and_only_a_preview_is_held(env: Env) -> None:
    _write_exports(env, files=3, rows=30)
    settings = load_settings()
    with connect_work(settings.duckdb_path) as con:
        staged = ingest.stage_system(con, settings, "csv")
        rows = batch.table(con, "batch_raw_contacts", ["source_file", "source_row", "email"])
    assert staged.counts["contacts"] == rows.height == 90
    assert staged.frames["contacts"].height == ingest.PREVIEW_ROWS
    files = [r.file_name for r in staged.reports]
    assert files == sorted(files)  # the inbox order
    expected = pl.DataFrame(
        {"source_file": [f for f in files for _ in range(30)], "source_row": list(range(1, 31)) * 3}
    )
    assert rows.select("source_file", "source_row").equals(expected, null_equal=True)


def test_a_failed_write_stops_the_step_with_its_error(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_exports(env, files=3, rows=5)
    settings = load_settings()
    real_append = batch.append
    calls: list[str] = []

    def failing_append(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
        calls.append(name)
        if len(calls) == 2:
            raise duckdb.IOException("disk full")
        real_append(con, name, frame)

    monkeypatch.setattr(batch, "append", failing_append)
    with connect_work(settings.duckdb_path) as con:
        with pytest.raises(duckdb.IOException, match="disk full"):
            ingest.stage_system(con, settings, "csv")
        monkeypatch.setattr(batch, "append", real_append)
        again = ingest.stage_system(con, settings, "csv")  # the connection is still usable
        assert again.counts["contacts"] == 15
        assert batch.table(con, "batch_raw_contacts").height == 15
