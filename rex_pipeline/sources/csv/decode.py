"""Bytes to text: find the file's encoding and refuse files that are not text at all.

Exports come as UTF-8 (with or without a BOM), UTF-16 (Excel's "Unicode Text") or the Windows
code page (Outlook desktop, older Excel). UTF-8 is tried first because a cp1252 decode never
fails and would silently garble UTF-8 text. For the same reason a UTF-8 file with a few corrupt
bytes stays UTF-8: the bad bytes become U+FFFD and `replaced` counts them, so the parser can
reject just the rows that hold them instead of garbling every accent in the file.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from rex_pipeline.records import UnreadableFileError

_SNIFF_BYTES = 8192
_MAGIC = {
    b"PK\x03\x04": "a ZIP archive (an .xlsx workbook?), not CSV",
    b"%PDF": "a PDF document, not CSV",
    b"\xd0\xcf\x11\xe0": "an OLE document (an .xls workbook?), not CSV",
    b"\x1f\x8b": "a gzip archive, not CSV",
    b"SQLite format 3": "an SQLite database, not CSV",
}


@dataclass(frozen=True)
class DecodedText:
    text: str  # newlines normalised to "\n"
    encoding: str  # utf-8 | utf-8-sig | utf-16 | cp1252 | latin-1
    replaced: int = 0  # invalid UTF-8 sequences replaced by U+FFFD (a UTF-8 file, corrupt)


def _refuse_binary(data: bytes) -> None:
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            raise UnreadableFileError(f"binary file: {what}")
    head = data[:_SNIFF_BYTES]
    if b"\x00" in head:
        raise UnreadableFileError("binary file: contains NUL bytes")
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13, 12))
    if controls > len(head) // 100 + 2:
        raise UnreadableFileError(f"binary file: {controls} control bytes in the first {len(head)}")


def decode_bytes(data: bytes) -> DecodedText:
    """The text of a CSV file, or UnreadableFileError when it is empty or binary."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text, encoding, replaced = data.decode("utf-16"), "utf-16", 0
        except UnicodeDecodeError as exc:
            raise UnreadableFileError(f"broken UTF-16 text: {exc.reason}") from exc
    else:
        _refuse_binary(data)
        if data.startswith(codecs.BOM_UTF8):
            data, bom = data[len(codecs.BOM_UTF8) :], True
        else:
            bom = False
        text, encoding, replaced = _decode_8bit(data, bom)
    if "\r" in text:  # each replace copies the whole text: the second only for old-Mac ends
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            text = text.replace("\r", "\n")
    if not text or text.isspace():  # `strip()` would copy the text to find out
        raise UnreadableFileError("empty file")
    return DecodedText(text, encoding, replaced)


def _decode_8bit(data: bytes, bom: bool) -> tuple[str, str, int]:
    utf8 = "utf-8-sig" if bom else "utf-8"
    try:
        return data.decode("utf-8"), utf8, 0
    except UnicodeDecodeError:
        pass
    # Windows-1252 text practically never forms a valid UTF-8 multi-byte sequence: a file with
    # more of those than invalid ones is UTF-8 with corrupt bytes.
    lenient = data.decode("utf-8", errors="replace")
    invalid = lenient.count("\ufffd")
    replaced = invalid - data.count("\ufffd".encode())
    valid = len(lenient) - len(lenient.encode("ascii", errors="ignore")) - invalid
    if bom or valid >= replaced:
        return lenient, utf8, replaced
    try:
        return data.decode("cp1252"), "cp1252", 0
    except UnicodeDecodeError:  # the five bytes cp1252 leaves undefined
        return data.decode("latin-1"), "latin-1", 0
