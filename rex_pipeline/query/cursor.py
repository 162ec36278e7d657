"""Opaque keyset cursors: base64 of JSON holding the sort and the last row's key.

A keyset cursor ("rows after this sort value and id") makes every page cost the same, and stays
correct while the warehouse is re-published, unlike OFFSET. The checksum is not a secret: it
only makes an edited or truncated cursor fail loudly instead of silently skipping rows.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from rex_pipeline.query.errors import InvalidCursor

Decoder = Callable[[Any], Any]

_RESTART = "use next_cursor exactly as given, or start again without a cursor"


def _checksum(sort: Any, key: Any) -> str:
    canonical = json.dumps([sort, key], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"rex-cursor:{canonical}".encode()).hexdigest()[:10]


def _to_json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def encode_cursor(sort: str, key: Sequence[Any]) -> str:
    """Cursor for "the rows after `key`" under `sort` (key = sort value, then the id)."""
    values = [_to_json(v) for v in key]
    token = json.dumps([sort, values, _checksum(sort, values)], separators=(",", ":"))
    return base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")


def decode_cursor(token: str, sort: str, decoders: Sequence[Decoder]) -> list[Any]:
    """The key inside `token`, each part checked and converted by its decoder; raises
    InvalidCursor when the token is not one of ours, was edited, or was made for another sort."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        made_for, key, check = json.loads(raw)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidCursor(f"cursor: not a valid cursor; {_RESTART}") from exc
    if check != _checksum(made_for, key) or not isinstance(key, list):
        raise InvalidCursor(f"cursor: it was modified or truncated; {_RESTART}")
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


def as_timestamp(value: Any) -> datetime:
    parsed = datetime.fromisoformat(as_text(value))
    if parsed.tzinfo is None:
        raise ValueError("timestamp without time zone")
    return parsed
