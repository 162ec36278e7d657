"""Header values of a compat32 `Message` turned into decoded text, addresses, times and ids.

We parse with `policy.compat32` (about 6x faster than `policy.default` on real mail, and it never
raises on malformed headers), so RFC 2047 decoding, unfolding and raw 8-bit bytes are handled
here, in one place, for both Takeout messages and Gmail API header lists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from functools import lru_cache

from rex_pipeline.sources.gmail.text import decode_bytes
from rex_pipeline.sources.times import EARLIEST, LATEST, plausible_datetime

_FOLD = re.compile(r"\s*\r?\n\s*")
_ANGLE_ID = re.compile(r"<([^<>\s]+)>")
_BARE_ID = re.compile(r"^\S+@\S+$|^\S+$")
_NEEDS_STDLIB = re.compile(r'["()\\:;\[\]]')  # quoting, comments, groups
_SPECIALS = re.compile(r'[()<>\[\]:;@\\,."]')
_YEAR = re.compile(r"\b[A-Za-z]{3}\s+(\d{4})\b")  # "1 Jan 0001": the year after the month
_SIMPLE_MAILBOX = re.compile(r"^\s*(?:([^<>]*?)\s*<([^<>\s]*)>|([^<>\s]+))\s*$")
# The email package's own line and header grammar (email.feedparser), for `header_items`.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_HEADER_LINE = re.compile(r"^(From |[\041-\071\073-\176]*:|[\t ])")


@dataclass(frozen=True, slots=True)
class Address:
    """One mailbox of an address header: display name (decoded, may be empty) and address."""

    name: str
    email: str

    @property
    def key(self) -> str:
        return self.email.lower()

    def formatted(self) -> str:
        """`Name <addr>`, the name quoted when it holds specials (`"Lovelace, Ada" <addr>`)."""
        if not self.name:
            return self.email
        if _SPECIALS.search(self.name):
            escaped = self.name.replace("\\", "\\\\").replace('"', '\\"')
            return f'"{escaped}" <{self.email}>'
        return f"{self.name} <{self.email}>"


def _undo_8bit(value: str) -> str:
    """compat32 keeps raw 8-bit header bytes as surrogate escapes; most are UTF-8, some cp1252."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return decode_bytes(value.encode("ascii", "surrogateescape"), None)
    return value


def _unfold(value: str) -> str:
    return _FOLD.sub(" ", value) if "\n" in value else value


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words (`=?ISO-8859-1?Q?Keld_J=F8rn?=`); bad ones stay as given."""
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except (HeaderParseError, LookupError, UnicodeError, ValueError):
        pass
    try:  # an unknown charset or bad bytes in one word: decode word by word, leniently
        return "".join(
            chunk if isinstance(chunk, str) else decode_bytes(chunk, charset)
            for chunk, charset in decode_header(value)
        )
    except (HeaderParseError, ValueError):
        return value


@dataclass(frozen=True, slots=True)
class HeaderBlock:
    """A message's header section as `BytesParser(policy=compat32)` reads it."""

    items: list[tuple[str, str]]  # what `Message.raw_items()` gives
    unixfrom: str | None  # a `From ` first line
    body_start: int | None  # where the body starts in the text; None: the parser reorders
    clean: bool  # no header defect (email.errors) noted on the way


def header_items(data: bytes) -> list[tuple[str, str]]:
    """The header fields of a raw message exactly as `BytesParser(policy=compat32)` stores them
    (`Message.raw_items()`), without building a Message: the owner pre-scan reads every
    message's headers, and the email package's feed parser costs most of a parse on them."""
    return read_header_block(data.decode("ascii", "surrogateescape")).items


# The common header section, in one match: fields (a name, a colon, the rest of the line) and
# their continuation lines, each line ending in LF or CRLF, then an empty line. Every line it
# takes is a field or a continuation by `_HEADER_LINE` and the colon rule of
# `_read_header_block`, so it reads them as that loop does; anything else (a bare CR, a `From `
# line, a nameless field, a leading continuation, no empty line) is left to the loop. The
# quantifiers are possessive: giving back part of a line can never help a match (a huge line
# with no newline must fail at once, not after trying every shorter length).
_CLEAN_SECTION = re.compile(
    r"(?:[\041-\071\073-\176]++:[^\r\n]*+\r?\n(?:[ \t][^\r\n]*+\r?\n)*+)*+\r?\n"
)
# One field of such a section: its value as `_source_parse` makes it, i.e. without the blanks
# after the colon and without the newline that ends the field (no other trailing CR or LF can
# be there: the field's last line is either its first one or a continuation, which starts
# with a blank).
_CLEAN_FIELD = re.compile(
    r"([\041-\071\073-\176]++):[ \t]*+([^\r\n]*+(?:\r?\n[ \t][^\r\n]*+)*+)\r?\n"
)


def read_header_block(text: str) -> HeaderBlock:
    """`_read_header_block`, with one regex match for the usual clean header section."""
    section = _CLEAN_SECTION.match(text)
    if section is None:
        return _read_header_block(text)
    return HeaderBlock(_CLEAN_FIELD.findall(text, 0, section.end()), None, section.end(), True)


def _read_header_block(text: str) -> HeaderBlock:
    """The header section of a message decoded as BytesParser does (ASCII, surrogate escapes).
    Mirrors `FeedParser._parsegen` and `_parse_headers` line for line: lines end at CR, LF or
    CRLF; headers stop at the first line that is neither a field nor a continuation (an empty
    line is dropped, another one starts the body); a leading continuation, a field without a
    name and a misplaced `From ` line are skipped; a `From ` line last in the block ends it
    and goes back to the body, ahead of the line that ended the block (no `body_start`)."""
    lines: list[str] = []
    body_start = len(text)
    clean = True
    for match in _LINE.finditer(text):
        line = match.group()
        if not _HEADER_LINE.match(line):
            clean = line[0] in "\r\n"  # else: MissingHeaderBodySeparatorDefect
            body_start = match.end() if clean else match.start()
            break
        lines.append(line)
    items: list[tuple[str, str]] = []
    unixfrom: str | None = None
    pending: list[str] = []
    for number, line in enumerate(lines):
        if line[0] in " \t":
            if pending:
                pending.append(line)
            else:
                clean = False  # FirstHeaderLineIsContinuationDefect
            continue
        if pending:
            items.append(_source_parse(pending))
            pending = []
        if line.startswith("From "):
            if number == 0:
                unixfrom = line.rstrip("\r\n")
            elif number == len(lines) - 1:
                return HeaderBlock(items, unixfrom, None, False)
            else:
                clean = False  # MisplacedEnvelopeHeaderDefect
            continue
        if line.find(":") > 0:
            pending = [line]
        else:
            clean = False  # InvalidHeaderDefect: no name
    if pending:
        items.append(_source_parse(pending))
    return HeaderBlock(items, unixfrom, body_start, clean)


def _source_parse(lines: list[str]) -> tuple[str, str]:
    """compat32's `header_source_parse`: name up to the colon, value unfolded as given."""
    name, value = lines[0].split(":", 1)
    return name, (value.lstrip(" \t") + "".join(lines[1:])).rstrip("\r\n")


class HeaderView:
    """A message's headers, indexed once by lower-cased name.

    compat32's `Message.get` scans (and lower-cases) every header on each call, and real mail
    carries dozens of `Received` lines; its `items()` also replaces raw 8-bit bytes with U+FFFD.
    `raw_items()` gives the values untouched (8-bit bytes as surrogate escapes), which
    `_undo_8bit` then decodes properly."""

    __slots__ = ("_values",)

    def __init__(self, items: Iterable[tuple[str, object]]) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in items:
            self._values.setdefault(str(name).strip().lower(), []).append(str(value))

    @classmethod
    def of(cls, msg: Message) -> HeaderView:
        return cls(msg.raw_items())

    @classmethod
    def of_fields(cls, items: list[tuple[str, str]]) -> HeaderView:
        """`HeaderView(items)` for `HeaderBlock.items`, whose names never hold blanks (a name
        is what precedes the colon of a line `_HEADER_LINE` takes as a field)."""
        view = cls.__new__(cls)
        values: dict[str, list[str]] = {}
        for name, value in items:
            key = name.lower()
            if key in values:
                values[key].append(value)
            else:
                values[key] = [value]
        view._values = values
        return view

    def __bool__(self) -> bool:
        return bool(self._values)

    def raw(self, name: str) -> list[str]:
        return self._values.get(name.lower(), [])

    def firsts(self, names: Iterable[str]) -> dict[str, str]:
        """The first value of each of these lower-cased names that is present."""
        values = self._values
        return {name: values[name][0] for name in names if name in values}


def text(view: HeaderView, name: str) -> str | None:
    """The first `name` header as decoded, unfolded text; None when absent or blank."""
    values = view._values.get(name.lower())  # view.raw, one call less (12 per message)
    if not values:
        return None
    value = values[0]
    if value.isascii() and "\n" not in value and "=?" not in value:
        return value.strip() or None  # nothing to decode or unfold (most values)
    return decode_words(_unfold(_undo_8bit(value))).strip() or None


def addresses(view: HeaderView, *names: str) -> list[Address]:
    """Mailboxes of address headers, in order. Names are decoded after splitting, so an encoded
    comma (`=?utf-8?Q?Lovelace=2C_Ada?=`) cannot split one mailbox into two."""
    found: list[Address] = []
    for name in names:
        for value in view.raw(name):
            found += _mailboxes(value)
    return found


@lru_cache(maxsize=8192)
def _mailboxes(value: str) -> tuple[Address, ...]:
    """The mailboxes of one raw header value: a pure function of it, computed once per value
    (the owner's `Delivered-To`, the people one writes to most recur in many messages)."""
    found = []
    for display, email in _split_addresses(_unfold(_undo_8bit(value))):
        email = email.strip().strip("<>'\"")
        if "@" in email and " " not in email:
            found.append(Address(_clean_name(decode_words(display), email), email))
    return tuple(found)


def _split_addresses(value: str) -> list[tuple[str, str]]:
    """(display name, address) pairs. Most headers are plain `Name <addr>, addr` lists, which a
    regex splits ~10x faster than `getaddresses`; quoting, comments and groups go to the stdlib."""
    if _NEEDS_STDLIB.search(value):
        return getaddresses([value])
    pairs = []
    for item in value.split(","):
        match = _SIMPLE_MAILBOX.match(item)
        if match is None:
            return getaddresses([value])
        pairs.append((match.group(1) or "", match.group(2) or match.group(3)))
    return pairs


def first_address(view: HeaderView, name: str) -> Address | None:
    found = addresses(view, name)
    return found[0] if found else None


def _clean_name(name: str, email: str) -> str:
    """Drop display names that are not names: empty, quoted, or just the address again."""
    name = " ".join(name.strip().strip("'\"").split())
    if not name or "@" in name or name.lower() == email.lower():
        return ""
    return name


def message_id(value: str | None) -> str | None:
    """`<abc@host>` -> `abc@host`; a bare id is accepted; junk gives None."""
    if not value:
        return None
    match = _ANGLE_ID.search(value)
    if match:
        return match.group(1)
    value = value.strip()
    return value if _BARE_ID.match(value) else None


def _in_utc(parsed: datetime) -> datetime | None:
    """A parsed time in UTC (no zone: UTC), None outside `times.plausible_datetime`'s window.
    Converting "31 Dec 9999 23:59 -0100" overflows: that is a bogus date, not a broken
    message."""
    try:
        utc = parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (OverflowError, ValueError):
        return None
    return plausible_datetime(utc)


def parse_date(value: str | None) -> datetime | None:
    """RFC 5322 `Date` in UTC (a date without zone is taken as UTC); None when unparseable,
    when its zone is a name the email package does not know ("CEST", "MEZ": the caller falls
    back to the envelope or `internalDate`, which are exact, rather than read it as UTC), or
    when its four-digit year is outside the plausible window (the stdlib reads "0001" as 2001,
    as if it were a two-digit year). Offsets written `+02:00` or `GMT+2` are read too."""
    if not value:
        return None
    year = _YEAR.search(value)
    if year and not EARLIEST.year <= int(year.group(1)) < LATEST.year:
        return None
    try:
        parsed = _usual_date(value) or _other_date(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return None if parsed is None else _in_utc(parsed)


# After the time: an offset the email package misreads ("+02:00", "GMT+2", "UTC+05:30"), or a
# zone name; "(UTC)" and other comments in parentheses are not zones.
_LOOSE_OFFSET = re.compile(
    r"(\d:\d\d(?::\d\d)?)\s*(?:(?:GMT|UTC|UT)\s*)?([+-])(\d\d?)(?::?(\d\d))?\b"
)
_ZONE_NAME = re.compile(r"\d:\d\d(?::\d\d)?\s+([A-Za-z]+)")


def _other_date(value: str) -> datetime | None:
    """`parsedate_to_datetime` of a date of another form, its offset written the RFC's way
    first; None for a zone name it does not know (it would return the time as if in UTC)."""
    normal = _LOOSE_OFFSET.sub(
        lambda m: f"{m[1]} {m[2]}{int(m[3]):02d}{m[4] or '00'}", value, count=1
    )
    parsed = parsedate_to_datetime(normal)
    if parsed.tzinfo is None and _ZONE_NAME.search(normal):  # known names give an offset
        return None
    return parsed


# The usual RFC 5322 date ("Tue, 5 Aug 2008 08:00:23 +0000 (UTC)"): what
# `email.utils._parsedate_tz` makes of it, which reads the first five words after an optional
# day name (anything after the zone is ignored). Years from 1000 only: it reads a year below
# 100 ("0024") as two-digit.
_USUAL_DATE = re.compile(
    r"\s*(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),\s*)?([0-9]{1,2})\s+"
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+([1-9][0-9]{3})\s+"
    r"([0-9]{1,2}):([0-9]{2}):([0-9]{2})\s+([+-])([0-9]{2})([0-9]{2})(?:\s.*)?",
    re.DOTALL,
)
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}


@lru_cache(maxsize=64)
def _zone(sign: str, hours: int, minutes: int) -> timezone | None:
    """`parsedate_to_datetime`'s zone: "-0000" is none (a naive time), "+0000" UTC."""
    if hours == minutes == 0 and sign == "-":
        return None
    seconds = hours * 3600 + minutes * 60
    return timezone(timedelta(seconds=-seconds if sign == "-" else seconds))


def _usual_date(value: str) -> datetime | None:
    """`parsedate_to_datetime(value)` for a date of the usual form, else None (the email
    package reads it). Raises ValueError where it does (a day or hour out of range)."""
    match = _USUAL_DATE.fullmatch(value)
    if match is None:
        return None
    day, month, year, hour, minute, second, sign, zone_h, zone_m = match.groups()
    zone = _zone(sign, int(zone_h), int(zone_m))
    when = (int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second))
    return datetime(*when) if zone is None else datetime(*when, tzinfo=zone)


def parse_envelope_time(value: str) -> datetime | None:
    """Time of an mbox `From ` line: Takeout's `Tue Aug 05 08:00:23 +0000 2008` or the classic
    `Mon Jan  1 00:00:00 2024` (no zone: UTC)."""
    value = " ".join(value.split())
    for fmt in ("%a %b %d %H:%M:%S %z %Y", "%a %b %d %H:%M:%S %Y"):
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return _in_utc(parsed)
    return None


def epoch_millis(value: object) -> datetime | None:
    """Gmail API `internalDate` (epoch milliseconds, as a string) in UTC."""
    try:
        return plausible_datetime(datetime.fromtimestamp(int(str(value)) / 1000, tz=UTC))
    except (TypeError, ValueError, OverflowError, OSError):
        return None
