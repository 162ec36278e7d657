"""Row numbering, junk rows and unreadable files: nothing read is dropped silently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rex_pipeline import records
from rex_pipeline.records import UnreadableFileError
from rex_pipeline.sources.csv import parse_csv_file
from rex_pipeline.sources.csv.reader import FIELDS, read_records, read_with_python_csv

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "csv"


def _reasons(parsed: records.ParsedFile) -> dict[int, str]:
    return dict(parsed.rejected.select("source_row", "reason").iter_rows())


def test_broken_rows_are_rejected_with_their_reason_and_row() -> None:
    parsed = parse_csv_file(FIXTURES / "broken_rows.csv", "acme")
    assert _reasons(parsed) == {
        2: "wrong field count: expected 4, got 3",
        3: "blank row",  # ",,,"
        4: "blank row",  # an empty line inside the data still counts as a row
        5: "wrong field count: expected 4, got 5",
        7: "repeated header row",
        9: "salesforce report footer line",
    }
    # a trailing empty field (",\n") loses nothing and is accepted
    assert parsed.contacts.get_column("source_row").to_list() == [1, 6, 8, 10]
    assert parsed.records_read == 10 == parsed.stats["rows_read"]
    assert parsed.stats["rows_rejected"] == 6
    assert parsed.stats["rows_with_wrong_field_count"] == 2
    rejected = parsed.rejected.to_dicts()
    assert {r["org_id"] for r in rejected} == {"acme"}
    assert {r["source_file"] for r in rejected} == {"broken_rows.csv"}
    too_long = next(r for r in rejected if r["source_row"] == 5)
    assert json.loads(too_long["raw"]) == {
        "First Name": "Alan",
        "Last Name": "Turing",
        "Email": "alan@bletchley.org",
        "Company": "Bletchley Park",
        "(extra field 1)": "extra value",
    }
    ken = parsed.contacts.filter(parsed.contacts["source_row"] == 10).row(0, named=True)
    assert ken["company_name"] == "Bell Labs\nMurray Hill"


def test_rows_may_leave_out_the_nameless_column_of_a_header_ending_in_a_delimiter(
    tmp_path: Path,
) -> None:
    path = tmp_path / "export.csv"
    path.write_text("Email,Name,\na@x.io,Ann\nb@x.io,Bo,\nc@x.io\n", encoding="utf-8")
    parsed = parse_csv_file(path, "o")
    assert parsed.contacts.get_column("email").to_list() == ["a@x.io", "b@x.io"]
    assert _reasons(parsed) == {3: "wrong field count: expected 3, got 1"}


def test_stray_quote_falls_back_to_the_lenient_reader_with_the_same_result() -> None:
    parsed = parse_csv_file(FIXTURES / "stray_quote.csv", "o")
    assert parsed.stats["reader"].startswith("python csv")
    assert parsed.contacts.get_column("company_name").to_list() == ['5" Media Ltd', "Moreno Studio"]
    assert parsed.contacts.get_column("source_row").to_list() == [1, 2]


@pytest.mark.parametrize(
    "body",
    [
        'a,b,c\n"x\ny",,\n\n1,2\n1,2,3,4\n"q ""z"", w",,\n,,\n',
        "1,2,3\n4,5,6",
        '"only one, quoted",,\n',
    ],
)
def test_fast_field_counts_agree_with_pythons_csv_module(body: str) -> None:
    fast = read_records(body, ",", 3)
    assert fast.reader == "polars"
    slow = read_with_python_csv(body.removesuffix("\n"), ",", 3, "test")
    assert fast.frame.get_column(FIELDS).to_list() == slow.frame.get_column(FIELDS).to_list()
    cells = [c for c in fast.frame.columns if c != FIELDS]
    as_text = [[v or "" for v in row] for row in fast.frame.select(cells).iter_rows()]
    slow_text = [[v or "" for v in row] for row in slow.frame.select(cells).iter_rows()]
    assert as_text == slow_text


def test_salesforce_footer_inside_the_data_is_junk(tmp_path: Path) -> None:
    two_reports = (
        '"First Name","Last Name","Email"\n"Ana","Ruiz","ana@ruiz.es"\n'
        '"Grand Totals (1 records)",,\n"Confidential Information - Do Not Distribute",,\n'
        '"Bo","Lind","bo@lind.se"\n'
    )
    path = tmp_path / "report.csv"
    path.write_text(two_reports, encoding="utf-8")
    parsed = parse_csv_file(path, "o")
    assert _reasons(parsed) == {
        2: "salesforce report footer line",
        3: "salesforce report footer line",
    }
    assert parsed.contacts.get_column("source_row").to_list() == [1, 4]


@pytest.mark.parametrize(
    "data",
    [
        b'Email,First Name,Last Name,Notes\r\nx1@firm-a.com,Xena,One,"hello\r\n"\r\n'
        b'x2@firm-a.com,Xavier,Two,"multi\r\nline\r\n"\r\n',
        # Outlook desktop: unquoted empty cells after a note that ends with a line break
        b"First Name,Last Name,E-mail Address,Notes,Categories\r\n"
        b"Xena,One,x1@firm-a.com,,\r\n"
        b'Xavier,Two,x2@firm-a.com,"Nurse.\r\nCall back in May\r\n",\r\n',
    ],
    ids=["quoted", "outlook-unquoted-empty-cells"],
)
def test_a_last_value_ending_in_a_line_break_keeps_its_record(tmp_path: Path, data: bytes) -> None:
    """The line closing such a value (`"` or `",`) is not a trailing blank line."""
    path = tmp_path / "contacts.csv"
    path.write_bytes(data)
    parsed = parse_csv_file(path, "o")
    assert parsed.rejected.height == 0
    assert parsed.records_read == 2
    assert parsed.contacts.get_column("email").to_list() == ["x1@firm-a.com", "x2@firm-a.com"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"  \r\n\r\n", "empty file"),
        (b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)), "ZIP archive"),
        (b"Email,Name\n" + b"\x00\x01\x02junk" * 50, "NUL bytes"),
        (bytes([7, 8, 11, 14, 15, 16]) * 100, "control bytes"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF"),
    ],
)
def test_unreadable_files_raise_with_a_reason(tmp_path: Path, data: bytes, reason: str) -> None:
    path = tmp_path / "contacts.csv"
    path.write_bytes(data)
    with pytest.raises(UnreadableFileError, match=reason):
        parse_csv_file(path, "o")


def test_file_without_a_recognisable_header_is_unreadable() -> None:
    with pytest.raises(UnreadableFileError, match="no recognisable header"):
        parse_csv_file(FIXTURES / "no_header.csv", "o")


def test_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match="cannot open"):
        parse_csv_file(tmp_path / "gone.csv", "o")


def test_columns_without_any_value_change_nothing(tmp_path: Path) -> None:
    """A wide export whose columns are mostly empty in every row (HubSpot all-properties):
    the empty columns skip the per-cell work, yet the rows, rejections and raw JSON are those
    of the same file without them."""
    header = (
        '"Record ID","First Name","Fax Number","Email","Lifecycle Stage","Contact owner","IP City"'
    )
    rows = [
        '"101","Ada","","ada@acme.com","lead","","  "',
        '"","","","","","",""',  # blank row
        header,  # a second export pasted below the first
        '"102","","","","","",""',  # only an id: nothing that identifies a person
        '"103","Alan","","alan@acme.com"',  # wrong field count
    ]
    wide = tmp_path / "wide.csv"
    wide.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    parsed = parse_csv_file(wide, "o")
    assert _reasons(parsed) == {
        2: "blank row",
        3: "repeated header row",
        4: "blank row: only Record ID (no name, email, phone or LinkedIn URL)",
        5: "wrong field count: expected 7, got 4",
    }
    ada = parsed.contacts.row(0, named=True)
    assert (ada["email"], ada["stage"], ada["source_key"]) == (
        "ada@acme.com",
        "lead",
        "hubspot:101",
    )
    # a cell of blanks is kept in raw as written; empty cells are not
    assert json.loads(ada["raw"]) == {
        "Record ID": "101",
        "First Name": "Ada",
        "Email": "ada@acme.com",
        "Lifecycle Stage": "lead",
        "IP City": "  ",
    }
    assert json.loads(ada["metadata"]) == {}


def test_a_header_naming_an_empty_column_is_still_recognised_when_repeated(
    tmp_path: Path,
) -> None:
    path = tmp_path / "export.csv"
    path.write_text("Email,Name,Notes\na@x.io,Ann,\nEmail,Name,Notes\nb@x.io,Bo,\n")
    parsed = parse_csv_file(path, "o")
    assert _reasons(parsed) == {2: "repeated header row"}
    empty = read_records("a@x.io,Ann,\nb@x.io,Bo,\n", ",", 3).empty
    assert empty == frozenset({"c2"})
