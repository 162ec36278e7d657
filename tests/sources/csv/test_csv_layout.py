"""Where the records are: the body after the header row, without preamble, footer or the
final newline, for every way a file can end."""

from __future__ import annotations

import pytest

from rex_pipeline.records import UnreadableFileError
from rex_pipeline.sources.csv.layout import MAX_PREAMBLE_LINES, find_layout

HEADER = "First Name,Last Name,Email"
SALESFORCE_FOOTER = (
    '"Grand Totals (2 records)"\n\n"Confidential Information - Do Not Distribute"\n'
    '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."\n'
)


@pytest.mark.parametrize(
    ("text", "body", "footer_lines"),
    [
        (f"{HEADER}\nAna,Diaz,a@x.io\nBo,Li,b@y.io\n", "Ana,Diaz,a@x.io\nBo,Li,b@y.io", 0),
        (f"{HEADER}\nAna,Diaz,a@x.io\nBo,Li,b@y.io", "Ana,Diaz,a@x.io\nBo,Li,b@y.io", 0),
        (f"{HEADER}\nAna,Diaz,a@x.io\n\n\n", "Ana,Diaz,a@x.io", 2),
        (f"{HEADER}\nAna,Diaz,a@x.io\n,,\n", "Ana,Diaz,a@x.io", 1),
        (f"{HEADER}\nAna,Diaz,a@x.io\n\nBo,Li,b@y.io\n", "Ana,Diaz,a@x.io\n\nBo,Li,b@y.io", 0),
        (f"{HEADER}\nAna,Diaz,a@x.io\n\n{SALESFORCE_FOOTER}", "Ana,Diaz,a@x.io", 5),
        (f"{HEADER}\nAna,Diaz,a@x.io\n\n{SALESFORCE_FOOTER.rstrip()}", "Ana,Diaz,a@x.io", 5),
        (f"{HEADER}\n", "", 0),
        (HEADER, "", 0),
        (f'{HEADER}\nAna,Diaz,"a@x.io\n"\n', 'Ana,Diaz,"a@x.io\n"', 0),
        (f'{HEADER}\nAna,Diaz,"a@x.io\r\n"\r\n', 'Ana,Diaz,"a@x.io\r\n"\r', 0),
        (f'{HEADER}\nAna,Diaz,"a@x.io\n",\n\n', 'Ana,Diaz,"a@x.io\n",', 1),
    ],
    ids=[
        "newline-at-end", "no-newline-at-end", "blank-lines-at-end", "empty-row-at-end",
        "blank-line-inside", "salesforce-footer", "salesforce-footer-no-newline",
        "header-only", "header-only-no-newline", "value-ending-in-a-line-break",
        "value-ending-in-crlf", "value-ending-in-a-line-break-then-a-blank-line",
    ],
)  # fmt: skip
def test_body_is_the_records_only(text: str, body: str, footer_lines: int) -> None:
    layout = find_layout(text)
    assert layout.header == ["First Name", "Last Name", "Email"]
    assert layout.body == body
    assert layout.footer_lines == footer_lines


def test_preamble_lines_before_the_header_are_skipped() -> None:
    text = f'Notes:\n"Exported from LinkedIn"\n\n{HEADER}\nAna,Diaz,a@x.io\n'
    layout = find_layout(text)
    assert layout.preamble_lines == 3
    assert layout.body == "Ana,Diaz,a@x.io"


def test_a_header_after_the_preamble_limit_is_not_looked_for() -> None:
    text = "note\n" * MAX_PREAMBLE_LINES + f"{HEADER}\nAna,Diaz,a@x.io\n"
    with pytest.raises(UnreadableFileError, match="first line: 'note'"):
        find_layout(text)
    assert find_layout("note\n" * (MAX_PREAMBLE_LINES - 1) + HEADER).body == ""


def test_a_long_file_ends_where_its_footer_starts() -> None:
    rows = "".join(f"P{i},Q{i},p{i}@x.io\n" for i in range(5_000))  # past the tail looked at
    layout = find_layout(f"{HEADER}\n{rows}\n{SALESFORCE_FOOTER}")
    assert layout.body == rows.removesuffix("\n")
    assert layout.footer_lines == 5
