"""Bytes and HTML to readable text: the charset fallbacks real mail needs.

Mail declares charsets it does not use (8-bit bytes under `us-ascii`, GBK under `gb2312`,
cp1252 under `iso-8859-1` or `utf-8`) or names ones Python does not know (`unknown-8bit`).
Decoding never fails: the declared charset is tried, then UTF-8, then the declared one with
replacement characters (or cp1252 when nothing real was declared).
"""

from __future__ import annotations

import re

import html2text

# Charsets that mail mislabels with a narrower one; decoding with the superset is lossless.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "sjis": "cp932",
}
_MEANINGLESS = {"", "unknown-8bit", "x-unknown", "default", "8bit", "binary", "charset"}
_BLANK_LINES = re.compile(r"\n{3,}")


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode mail bytes to text; never raises."""
    declared = (charset or "").strip().strip('"').lower()
    declared = "" if declared in _MEANINGLESS else _SUPERSETS.get(declared, declared)
    for candidate in (declared, "utf-8"):
        if candidate:
            try:
                return data.decode(candidate)
            except (LookupError, UnicodeDecodeError):
                continue
    if declared not in ("", "utf-8", "utf8"):
        try:  # a real (e.g. multi-byte) charset with a few bad bytes: keep the rest readable
            return data.decode(declared, errors="replace")
        except LookupError:
            pass
    return data.decode("cp1252", errors="replace")  # undeclared or "UTF-8" that is not


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML body (links kept, images and emphasis dropped)."""
    converter = html2text.HTML2Text()
    converter.body_width = 0  # no hard wrapping: the text is stored, not displayed in 80 columns
    converter.ignore_images = True
    converter.ignore_emphasis = True
    converter.unicode_snob = True  # &Eacute; -> É, not E
    return tidy(converter.handle(html))


def tidy(text: str) -> str:
    """One newline convention, no trailing blanks, at most one empty line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()
