"""Opaque keyset cursors: round trip, stability, and loud failure when tampered with."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from rex_pipeline.query.cursor import (
    as_int,
    as_text,
    as_timestamp,
    decode_cursor,
    encode_cursor,
    nullable,
)
from rex_pipeline.query.errors import InvalidCursor

WHEN = datetime(2024, 3, 5, 10, 0, 0, 123456, tzinfo=UTC)
ID = "cont_01hrgx0mhzfv9b8a2zwp3jbq7e"
KEY_DECODERS = [nullable(as_timestamp), as_text]


def test_round_trip_keeps_types_to_the_microsecond() -> None:
    token = encode_cursor("-created_at", [WHEN, ID])
    assert decode_cursor(token, "-created_at", KEY_DECODERS) == [WHEN, ID]
    assert decode_cursor(encode_cursor("icp_score", [87, ID]), "icp_score", [as_int, as_text]) == [
        87,
        ID,
    ]
    assert decode_cursor(encode_cursor("x", [None, ID]), "x", KEY_DECODERS) == [None, ID]


def test_cursor_is_opaque_url_safe_and_stable() -> None:
    token = encode_cursor("-created_at", [WHEN, ID])
    assert token == encode_cursor("-created_at", [WHEN, ID])
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _reencode(token: str, edit: dict[int, object]) -> str:
    raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    for index, value in edit.items():
        raw[index] = value
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


def test_an_edited_key_is_refused() -> None:
    token = encode_cursor("-created_at", [WHEN, ID])
    moved = _reencode(token, {1: ["2020-01-01T00:00:00+00:00", ID]})
    with pytest.raises(InvalidCursor, match="modified or truncated"):
        decode_cursor(moved, "-created_at", KEY_DECODERS)


@pytest.mark.parametrize(
    "token",
    ["", "not a cursor", "e30", base64.urlsafe_b64encode(b"[1,2]").decode(), "%%%", "W10"],
)
def test_garbage_is_refused(token: str) -> None:
    with pytest.raises(InvalidCursor, match="cursor: "):
        decode_cursor(token, "-created_at", KEY_DECODERS)


def test_truncated_is_refused() -> None:
    token = encode_cursor("-created_at", [WHEN, ID])
    with pytest.raises(InvalidCursor):
        decode_cursor(token[:-6], "-created_at", KEY_DECODERS)


def test_wrong_sort_or_wrong_value_type_is_refused() -> None:
    token = encode_cursor("-created_at", [WHEN, ID])
    with pytest.raises(InvalidCursor, match="made for sort '-created_at', not 'created_at'"):
        decode_cursor(token, "created_at", KEY_DECODERS)
    with pytest.raises(InvalidCursor, match="bad key value"):
        decode_cursor(encode_cursor("s", ["87", ID]), "s", [as_int, as_text])
    with pytest.raises(InvalidCursor, match="bad key value"):
        decode_cursor(encode_cursor("s", ["2024-01-01T00:00:00", ID]), "s", KEY_DECODERS)
