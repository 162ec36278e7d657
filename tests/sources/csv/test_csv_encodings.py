"""Encodings, delimiters, preambles and footers: the file's layout, whatever wrote it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rex_pipeline.sources.csv import parse_csv_file
from rex_pipeline.sources.csv.layout import sniff_delimiter

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "csv"
CONTACTS = "First Name,Last Name,Email,Company\r\n"


def _write(tmp_path: Path, data: bytes, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_cp1252_with_semicolons_and_german_outlook_headers() -> None:
    parsed = parse_csv_file(FIXTURES / "outlook_desktop_de_cp1252_semicolon.csv", "o")
    assert (parsed.stats["encoding"], parsed.stats["delimiter"]) == ("cp1252", "semicolon")
    assert parsed.stats["dialect"] == "outlook desktop export"
    jurgen = parsed.contacts.row(0, named=True)
    assert (jurgen["first_name"], jurgen["last_name"]) == ("Jürgen", "Müller")
    assert jurgen["company_name"] == "Café Rosé GmbH"
    assert jurgen["email"] == "juergen.mueller@cafe-rose.de"
    assert jurgen["tags"] == ["Kunden", "Messe 2024"]
    assert json.loads(jurgen["metadata"])["Straße geschäftlich"] == "Hauptstraße 5"


def test_minimal_localized_semicolon_file_is_a_generic_contact_list() -> None:
    parsed = parse_csv_file(FIXTURES / "outlook_de_minimal_semicolon.csv", "o")
    assert parsed.stats["dialect"] == "generic csv"
    assert parsed.contacts.get_column("last_name").to_list() == ["Müller", "Faßbender"]


def test_cp1252_with_commas() -> None:
    parsed = parse_csv_file(FIXTURES / "generic_contacts_cp1252.csv", "o")
    assert parsed.stats["encoding"] == "cp1252"
    assert parsed.contacts.get_column("full_name").to_list() == ["Jürgen Müller", "Anaïs Lefèvre"]
    assert parsed.contacts.get_column("company_name").to_list()[0] == "Café Rosé GmbH"


def test_utf8_bom_does_not_stick_to_the_first_header() -> None:
    parsed = parse_csv_file(FIXTURES / "generic_contacts_bom.csv", "o")
    assert parsed.stats["encoding"] == "utf-8-sig"
    assert parsed.contacts.get_column("email").to_list()[0] == "ines.duarte@atlantico-wines.pt"
    assert parsed.stats["unknown_columns"] == ["Favourite Colour"]


def test_utf16_tab_separated_excel_text(tmp_path: Path) -> None:
    text = "Email\tFirst Name\tCompany\r\nzoe@lumenfoods.de\tZoë\tLumen Foods\r\n"
    parsed = parse_csv_file(_write(tmp_path, text.encode("utf-16")), "o")
    assert (parsed.stats["encoding"], parsed.stats["delimiter"]) == ("utf-16", "tab")
    assert parsed.contacts.get_column("first_name").to_list() == ["Zoë"]


def test_bytes_undefined_in_cp1252_fall_back_to_latin1(tmp_path: Path) -> None:
    data = (CONTACTS + "Ana,Ruiz,ana@ruiz.es,Caf\xe9 \x81\r\n").encode("latin-1")
    parsed = parse_csv_file(_write(tmp_path, data), "o")
    assert parsed.stats["encoding"] == "latin-1"
    assert parsed.contacts.get_column("company_name").to_list() == ["Café \x81"]


@pytest.mark.parametrize(
    ("line", "delimiter"),
    [
        ("Vorname;Nachname;E-Mail-Adresse;Firma", ";"),
        ("Email\tName\tCompany", "\t"),
        ('"Name","Company; Inc",Email', ","),
        ("Email", ","),
    ],
)
def test_delimiter_is_sniffed_from_the_header_line(line: str, delimiter: str) -> None:
    assert sniff_delimiter(line) == delimiter


def test_quoted_fields_keep_delimiters_and_newlines(tmp_path: Path) -> None:
    data = (
        CONTACTS
        + 'Ken,Thompson,ken@bell-labs.com,"Bell Labs,\r\nMurray Hill"\r\n'
        + "Rob,Pike,rob@plan9.dev,Plan 9\r\n"
    )
    parsed = parse_csv_file(_write(tmp_path, data.encode()), "o")
    assert parsed.contacts.get_column("company_name").to_list() == [
        "Bell Labs,\nMurray Hill",
        "Plan 9",
    ]
    assert parsed.contacts.get_column("source_row").to_list() == [1, 2]


def test_salesforce_footer_is_skipped_not_read_as_data() -> None:
    parsed = parse_csv_file(FIXTURES / "salesforce_opportunities_report.csv", "o")
    assert parsed.stats["footer_lines_skipped"] == 5
    assert parsed.records_read == 2
    assert parsed.rejected.height == 0


def test_footer_makes_a_label_only_export_a_salesforce_report(tmp_path: Path) -> None:
    data = (
        '"First Name","Last Name","Email"\n"Ana","Ruiz","ana@ruiz.es"\n\n'
        '"Grand Totals (1 records)"\n\n"Confidential Information - Do Not Distribute"\n'
        '"Copyright (c) 2000-2025 salesforce.com, inc. All rights reserved."\n'
    )
    parsed = parse_csv_file(_write(tmp_path, data.encode()), "o")
    assert parsed.stats["dialect"] == "salesforce report"
    assert parsed.stats["footer_lines_skipped"] == 5
    assert parsed.records_read == 1


def test_trailing_blank_lines_are_not_records(tmp_path: Path) -> None:
    data = CONTACTS + "Ana,Ruiz,ana@ruiz.es,Ruiz SL\r\n\r\n\r\n"
    parsed = parse_csv_file(_write(tmp_path, data.encode()), "o")
    assert parsed.records_read == 1
    assert parsed.stats["footer_lines_skipped"] == 2
