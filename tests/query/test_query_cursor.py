"""Opaque keyset cursors: round trip, stability, and loud failure when tampered with or used for
another query (the seal: an HMAC over the sort, the key and the query's shape)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from rex_pipeline.query.cursor import (
    Seal,
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
SEAL = Seal('{"org":"acme-org","what":"contacts"}')


def test_round_trip_keeps_types_to_the_microsecond() -> None:
    token = encode_cursor("-created_at", [WHEN, ID], SEAL)
    assert decode_cursor(token, "-created_at", KEY_DECODERS, SEAL) == [WHEN, ID]
    assert decode_cursor(
        encode_cursor("icp_score", [87, ID], SEAL), "icp_score", [as_int, as_text], SEAL
    ) == [87, ID]
    assert decode_cursor(encode_cursor("x", [None, ID], SEAL), "x", KEY_DECODERS, SEAL) == [
        None,
        ID,
    ]


def test_cursor_is_opaque_url_safe_and_stable() -> None:
    token = encode_cursor("-created_at", [WHEN, ID], SEAL)
    assert token == encode_cursor("-created_at", [WHEN, ID], SEAL)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _payload(token: str) -> list[object]:
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def _reencode(payload: list[object]) -> str:
    text = json.dumps(payload, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_an_edited_key_or_sort_is_refused_even_with_the_old_checksum() -> None:
    token = encode_cursor("-created_at", [WHEN, ID], SEAL)
    version, sort, _key, tag = _payload(token)
    moved = _reencode([version, sort, ["2020-01-01T00:00:00+00:00", ID], tag])
    with pytest.raises(InvalidCursor, match="modified or truncated"):
        decode_cursor(moved, "-created_at", KEY_DECODERS, SEAL)
    resorted = _reencode([version, "first_name", _key, tag])  # the tag covers the sort too
    with pytest.raises(InvalidCursor, match="modified or truncated"):
        decode_cursor(resorted, "first_name", KEY_DECODERS, SEAL)


def test_a_cursor_of_another_query_or_signed_with_another_secret_is_refused() -> None:
    token = encode_cursor("-created_at", [WHEN, ID], SEAL)
    other_org = Seal('{"org":"other-org","what":"contacts"}')
    with pytest.raises(InvalidCursor, match="another org, owner or filter"):
        decode_cursor(token, "-created_at", KEY_DECODERS, other_org)
    secret = Seal(SEAL.shape, b"server secret")
    with pytest.raises(InvalidCursor, match="modified or truncated"):
        decode_cursor(token, "-created_at", KEY_DECODERS, secret)
    signed = encode_cursor("-created_at", [WHEN, ID], secret)
    assert decode_cursor(signed, "-created_at", KEY_DECODERS, secret) == [WHEN, ID]


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not a cursor",
        "e30",
        base64.urlsafe_b64encode(b"[1,2]").decode(),
        "%%%",
        "W10",
        "\x00",
        "A" * 1999,
        "ключ",
    ],
)
def test_garbage_is_refused(token: str) -> None:
    with pytest.raises(InvalidCursor, match="cursor: "):
        decode_cursor(token, "-created_at", KEY_DECODERS, SEAL)


def test_truncated_padded_or_bit_flipped_is_refused() -> None:
    token = encode_cursor("-created_at", [WHEN, ID], SEAL)
    variants = [token[:-6], token[:-1], token + "=", token + "A", token + "!", " " + token]
    for position in range(len(token)):  # every single-character change
        flipped = chr(ord(token[position]) ^ 1)
        variants.append(token[:position] + flipped + token[position + 1 :])
    for variant in variants:
        with pytest.raises(InvalidCursor):
            decode_cursor(variant, "-created_at", KEY_DECODERS, SEAL)


def test_wrong_sort_or_wrong_value_type_is_refused() -> None:
    token = encode_cursor("-created_at", [WHEN, ID], SEAL)
    with pytest.raises(InvalidCursor, match="made for sort '-created_at', not 'created_at'"):
        decode_cursor(token, "created_at", KEY_DECODERS, SEAL)
    with pytest.raises(InvalidCursor, match="bad key value"):
        decode_cursor(encode_cursor("s", ["87", ID], SEAL), "s", [as_int, as_text], SEAL)
    with pytest.raises(InvalidCursor, match="bad key value"):
        naive = encode_cursor("s", ["2024-01-01T00:00:00", ID], SEAL)
        decode_cursor(naive, "s", KEY_DECODERS, SEAL)
