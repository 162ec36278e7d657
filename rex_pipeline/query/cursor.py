"""Opaque keyset cursors, sealed to the query that made them.

A keyset cursor ("rows after this sort value and id") makes every page cost the same, and stays
correct while the warehouse is re-published, unlike OFFSET. The token is base64url of
`[version, sort, key, tag]`, where `tag` is an HMAC-SHA256 over the sort, the key and the
query's shape (org, owner, record kind and every filter; not the page size or field list).

What the seal buys: a cursor that was edited, truncated, or made for another org, owner, filter
or sort is refused with a clear error instead of silently starting somewhere else. The HMAC key
is the Warehouse's `cursor_secret` (a service handing cursors to outside clients should set
one, so nobody can mint a cursor); without it a fixed key is used, which still binds every
cursor to its query. Either way a cursor only names a position: each page re-applies the
caller's scope and filters, so no cursor can reach rows the query itself would not return.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rex_pipeline.query.errors import InvalidCursor

Decoder = Callable[[Any], Any]

VERSION = 2
MAX_CURSOR_LENGTH = 2000  # a cursor holds a sort value and an id: far less than this
_DEFAULT_SECRET = b"rex-query-cursor"
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
_RESTART = "use next_cursor exactly as given, or start again without a cursor"


@dataclass(frozen=True)
class Seal:
    """What cursors are bound to: `shape`, a canonical description of the query, and the HMAC
    key (`secret`) that signs them."""

    shape: str = ""
    secret: bytes = b""

    def tag(self, sort: str, key: list[Any]) -> str:
        message = json.dumps(
            [VERSION, self.shape, sort, key], separators=(",", ":"), ensure_ascii=False
        )
        digest = hmac.new(self.secret or _DEFAULT_SECRET, message.encode(), hashlib.sha256)
        return digest.hexdigest()[:32]


def _to_json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _b64(payload: list[Any]) -> str:
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def encode_cursor(sort: str, key: Sequence[Any], seal: Seal = Seal()) -> str:
    """Cursor for "the rows after `key`" under `sort` (key = sort value, then the id)."""
    values = [_to_json(v) for v in key]
    return _b64([VERSION, sort, values, seal.tag(sort, values)])


def _payload(token: str) -> list[Any]:
    """The token's JSON payload, if the token is exactly our encoding of one (no padding,
    no stray characters: base64 decoders skip those, which would let an edit through)."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise InvalidCursor(f"cursor: not a valid cursor; {_RESTART}")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw.decode())
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor(f"cursor: not a valid cursor; {_RESTART}") from exc
    if not isinstance(payload, list) or len(payload) != 4 or _b64(payload) != token:
        raise InvalidCursor(f"cursor: not a valid cursor; {_RESTART}")
    return payload


def decode_cursor(
    token: str, sort: str, decoders: Sequence[Decoder], seal: Seal = Seal()
) -> list[Any]:
    """The key inside `token`, each part checked and converted by its decoder; raises
    InvalidCursor when the token is not one of ours, was edited, or was made for another query
    or sort."""
    version, made_for, key, tag = _payload(token)
    if version != VERSION:
        raise InvalidCursor(f"cursor: made by another version of rex; {_RESTART}")
    if not isinstance(made_for, str) or not isinstance(key, list) or not isinstance(tag, str):
        raise InvalidCursor(f"cursor: not a valid cursor; {_RESTART}")
    if not hmac.compare_digest(tag, seal.tag(made_for, key)):
        raise InvalidCursor(
            "cursor: it was modified or truncated, or made for another org, owner or filter;"
            f" {_RESTART}"
        )
    if made_for != sort:
        raise InvalidCursor(f"cursor: it was made for sort {made_for!r}, not {sort!r}; {_RESTART}")
    if len(key) != len(decoders):
        raise InvalidCursor(f"cursor: not a valid cursor; {_RESTART}")
    try:
        return [decode(value) for decode, value in zip(decoders, key, strict=True)]
    except (TypeError, ValueError) as exc:
        raise InvalidCursor(f"cursor: bad key value ({exc}); {_RESTART}") from exc


# --- decoders for the kinds of values a key can hold -------------------------------------------


def nullable(decode: Decoder) -> Decoder:
    return lambda value: None if value is None else decode(value)


def as_text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def as_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


def as_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return float(value)


def as_timestamp(value: Any) -> datetime:
    parsed = datetime.fromisoformat(as_text(value))
    if parsed.tzinfo is None:
        raise ValueError("timestamp without time zone")
    return parsed
