"""Field mapping: values as given, trimmed; every cell that is not a field kept in metadata."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from rex_pipeline import records
from rex_pipeline.sources.csv import parse_csv_file
from rex_pipeline.sources.csv.mapping import json_object
from rex_pipeline.sources.csv.values import parse_duration, parse_timestamp, timestamp_formats


def _parse(tmp_path: Path, text: str) -> records.ParsedFile:
    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8")
    return parse_csv_file(path, "acme")


def test_generic_contacts_through_the_alias_table(tmp_path: Path) -> None:
    parsed = _parse(
        tmp_path,
        "E-mail Address,FirstName,surname,Organization,Position,LinkedIn,Mobile,"
        "Lead Source,Owner,Tags,Created At,Shoe Size\n"
        " ana@ruiz.es ,Ana,Ruiz,Ruiz SL,CEO,https://www.linkedin.com/in/anaruiz,+34 600 000 000,"
        "Webinar,maria@northwind-labs.io,vip; spain,2024-03-05T10:00:00+01:00,38\n",
    )
    assert parsed.stats["dialect"] == "generic csv"
    ana = parsed.contacts.row(0, named=True)
    assert ana["email"] == "ana@ruiz.es"  # trimmed, otherwise as given
    assert (ana["first_name"], ana["last_name"]) == ("Ana", "Ruiz")
    assert ana["company_name"] == "Ruiz SL"
    assert ana["title"] == "CEO"
    assert ana["linkedin_url"] == "https://www.linkedin.com/in/anaruiz"
    assert ana["phone"] == "+34 600 000 000"
    assert ana["source"] == "Webinar"
    assert ana["source_detail"] == "csv import"
    assert ana["owner"] == "maria@northwind-labs.io"
    assert ana["tags"] == ["vip", "spain"]
    assert ana["created_at"] == datetime(2024, 3, 5, 9, 0, tzinfo=UTC)
    assert json.loads(ana["metadata"]) == {"Shoe Size": "38"}
    assert parsed.stats["unknown_columns"] == ["Shoe Size"]
    assert ana["source_key"] == "export.csv:1"


def test_invalid_values_pass_through_for_the_normaliser(tmp_path: Path) -> None:
    parsed = _parse(tmp_path, "Email,Phone,Name\nnot-an-email,12345,Bo\n")
    bo = parsed.contacts.row(0, named=True)
    assert (bo["email"], bo["phone"], bo["full_name"]) == ("not-an-email", "12345", "Bo")
    assert parsed.rejected.height == 0


def test_the_first_filled_alias_wins_and_the_others_stay_in_metadata(tmp_path: Path) -> None:
    parsed = _parse(
        tmp_path,
        "Email,Phone,Mobile Phone,Home Phone,Company,Account Name\n"
        "a@x.io,+1 202 555 0100,,+1 202 555 0199,X Inc,X Holdings\n"
        "b@x.io,+1 202 555 0111,+1 202 555 0122,,,Y Ltd\n",
    )
    first, second = parsed.contacts.iter_rows(named=True)
    assert first["phone"] == "+1 202 555 0100"
    assert json.loads(first["metadata"]) == {
        "Home Phone": "+1 202 555 0199",
        "Account Name": "X Holdings",
    }
    assert second["phone"] == "+1 202 555 0122"  # mobile beats phone
    assert second["company_name"] == "Y Ltd"
    assert json.loads(second["metadata"]) == {"Phone": "+1 202 555 0111"}


def test_every_address_of_a_row_is_kept(tmp_path: Path) -> None:
    parsed = _parse(
        tmp_path,
        "Email,Secondary Email,Tertiary Email,Personal Email\n"
        ",b@x.io,B@x.io,b@x.io\n"
        "a@x.io,,,a@x.io\n",
    )
    first, second = parsed.contacts.iter_rows(named=True)
    assert first["email"] == "b@x.io"  # the only address becomes the primary one
    assert first["other_emails"] == ["B@x.io"]  # exact duplicates dropped, case kept
    assert (second["email"], second["other_emails"]) == ("a@x.io", None)
    assert json.loads(first["metadata"]) == {}


def test_repeated_and_empty_headers_keep_distinct_keys(tmp_path: Path) -> None:
    parsed = _parse(tmp_path, "Email,Note,Note,\na@x.io,one,two,three\n")
    row = parsed.contacts.row(0, named=True)
    assert json.loads(row["metadata"]) == {"Note": "one", "Note (2)": "two", "(column 4)": "three"}
    assert json.loads(row["raw"]) == {
        "Email": "a@x.io",
        "Note": "one",
        "Note (2)": "two",
        "(column 4)": "three",
    }


def test_json_object_escapes_keys_and_values_and_drops_nulls() -> None:
    frame = pl.DataFrame({"a": ['x"k1":null', None], "b": [None, "é\n\\\x01\t"], "c": ["z", None]})
    encoded = frame.select(
        json_object([('A "q"', pl.col("a")), ("k1", pl.col("b")), ("Ç", pl.col("c"))])
    ).to_series()
    assert [json.loads(v) for v in encoded] == [
        {'A "q"': 'x"k1":null', "Ç": "z"},
        {"k1": "é\n\\\x01\t"},
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-05-04T12:34:56.000Z", datetime(2023, 5, 4, 12, 34, 56, tzinfo=UTC)),
        ("2023-05-04T12:34:56.000+0000", datetime(2023, 5, 4, 12, 34, 56, tzinfo=UTC)),
        ("2023-05-04T14:34:56+02:00", datetime(2023, 5, 4, 12, 34, 56, tzinfo=UTC)),
        ("2023-05-04 12:34", datetime(2023, 5, 4, 12, 34, tzinfo=UTC)),
        ("13 Nov 2024", datetime(2024, 11, 13, tzinfo=UTC)),
        ("1/8/18, 6:14 PM", datetime(2018, 1, 8, 18, 14, tzinfo=UTC)),
        ("5/4/2023", datetime(2023, 5, 4, tzinfo=UTC)),
        ("1700000000000", datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("2024-02-30", None),
        ("soon", None),
    ],
)
def test_timestamps_parse_to_utc(value: str, expected: datetime | None) -> None:
    frame = pl.DataFrame({"v": [value]})
    parsed = frame.select(parse_timestamp(pl.col("v"), timestamp_formats(frame["v"]))).item()
    assert parsed == expected


@pytest.mark.parametrize(
    ("value", "unit", "seconds"),
    [
        ("95", 1.0, 95),
        ("1.5", 60.0, 90),
        ("01:02:03", 1.0, 3723),
        ("02:03", 1.0, 123),
        ("x", 1.0, None),
    ],
)
def test_durations_parse_to_seconds(value: str, unit: float, seconds: int | None) -> None:
    assert pl.select(parse_duration(pl.lit(value), unit)).item() == seconds
