"""Asset previews read the rows they show, not whole batch tables (a full run's clean
contacts are a million wide rows)."""

from __future__ import annotations

import duckdb
import polars as pl

from rex_pipeline.assets.metadata import PREVIEW_ROWS, markdown_table
from rex_pipeline.batch import table


def test_a_preview_reads_the_first_rows_of_the_named_columns() -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE batch_clean_contacts AS SELECT i AS n, 'p' || i || '@acme.io' AS email, "
        "repeat('x', 500) AS wide FROM range(50000) t(i)"
    )
    head = table(con, "batch_clean_contacts", ["email", "n"], limit=PREVIEW_ROWS)
    assert head.columns == ["email", "n"] and head.height == 10
    assert head["n"].to_list() == list(range(10))  # insertion order, as a whole read gave
    whole = con.sql("SELECT email, n FROM batch_clean_contacts").pl().head(10)
    assert str(markdown_table(head).value) == str(markdown_table(whole).value)
    assert table(con, "batch_clean_contacts", limit=3).columns == ["n", "email", "wide"]


def test_a_preview_of_an_empty_table_shows_no_rows() -> None:
    con = duckdb.connect()
    con.execute('CREATE TABLE "batch_merges_contact" (winner_id VARCHAR, loser_id VARCHAR)')
    head = table(con, "batch_merges_contact", limit=PREVIEW_ROWS)
    assert head.is_empty() and head.schema == pl.Schema(
        {"winner_id": pl.String, "loser_id": pl.String}
    )
    assert markdown_table(head).value == "_no rows_"
