"""Asset previews read the rows they show, not whole batch tables (a full run's clean
contacts are a million wide rows)."""

from __future__ import annotations

import duckdb
import polars as pl

from rex_pipeline.assets.metadata import markdown_table, table_head


def test_table_head_reads_the_first_rows_of_the_named_columns() -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE batch_clean_contacts AS SELECT i AS n, 'p' || i || '@acme.io' AS email, "
        "repeat('x', 500) AS wide FROM range(50000) t(i)"
    )
    head = table_head(con, "batch_clean_contacts", ["email", "n"])
    assert head.columns == ["email", "n"] and head.height == 10
    assert head["n"].to_list() == list(range(10))  # insertion order, as a whole read gave
    whole = con.sql("SELECT email, n FROM batch_clean_contacts").pl().head(10)
    assert str(markdown_table(head).value) == str(markdown_table(whole).value)
    assert table_head(con, "batch_clean_contacts", rows=3).columns == ["n", "email", "wide"]


def test_table_head_of_an_empty_table_previews_no_rows() -> None:
    con = duckdb.connect()
    con.execute('CREATE TABLE "batch_merges_contact" (winner_id VARCHAR, loser_id VARCHAR)')
    head = table_head(con, "batch_merges_contact")
    assert head.is_empty() and head.schema == pl.Schema(
        {"winner_id": pl.String, "loser_id": pl.String}
    )
    assert markdown_table(head).value == "_no rows_"
