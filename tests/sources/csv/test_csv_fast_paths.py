"""The CSV reader's cheaper paths give what the general ones give: record shapes without the
grouping when no value spans lines, line ends normalised in one pass when there is no lone CR,
and a blank file found without copying it."""

from __future__ import annotations

import random

import polars as pl
import pytest

from rex_pipeline.records import UnreadableFileError
from rex_pipeline.sources.csv.decode import decode_bytes
from rex_pipeline.sources.csv.reader import _record_shapes


def _grouped_shapes(lines: list[str], delimiter: str) -> pl.DataFrame:
    """Record shapes by the general path: a line starts a record when the quotes before it
    are balanced, and a record's counts are its lines' sums."""
    line, quotes = pl.col("line"), pl.col("quotes")
    return (
        pl.DataFrame({"line": lines}, schema={"line": pl.String()})
        .with_columns(
            quotes=line.str.count_matches('"', literal=True),
            delimiters=line.str.count_matches(delimiter, literal=True),
            empty=line == "",
        )
        .with_columns(record=((quotes.cum_sum() - quotes) % 2 == 0).cum_sum())
        .group_by("record", maintain_order=True)
        .agg(pl.col("delimiters").sum(), pl.col("empty").all(), pl.col("quotes").sum())
    )


@pytest.mark.parametrize("multiline", [False, True])
def test_record_shapes_equal_the_grouped_path(multiline: bool) -> None:
    rng = random.Random(5)
    cells = ["a", "", '"x,y"', '"say ""hi"""', "1;2", "b c"]
    if multiline:
        cells.append('"two\nlines"')
    body = "\n".join(
        ",".join(rng.choices(cells, k=rng.randint(1, 5))) if rng.random() > 0.1 else ""
        for _ in range(500)
    )
    lines = body.split("\n")
    shapes = _record_shapes(pl.Series("line", lines), ",")
    assert shapes.equals(_grouped_shapes(lines, ","))
    assert (shapes.height < len(lines)) == multiline


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"a,b\r\n1,2\r\n", "a,b\n1,2\n"),
        (b"a,b\r1,2\r", "a,b\n1,2\n"),
        (b"a,b\r\n1,2\r3,4\n", "a,b\n1,2\n3,4\n"),
        (b"a,b\n1,2\n", "a,b\n1,2\n"),
    ],
)
def test_line_ends(data: bytes, text: str) -> None:
    assert decode_bytes(data).text == text


@pytest.mark.parametrize("data", [b" \r\n\t\n", "\u00a0\n".encode(), b""])
def test_blank_file_is_empty(data: bytes) -> None:
    with pytest.raises(UnreadableFileError, match="empty file"):
        decode_bytes(data)
