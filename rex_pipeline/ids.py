"""TypeID generation: `prefix_` + 26 Crockford base32 characters of a UUIDv7.

Ids are minted once per new entity and then persisted in the identity map, so they never change
on a later run; the UUIDv7 time component makes them sort by creation time.
"""

from __future__ import annotations

import re

import uuid_utils
from typeid.codecs.base32 import encode

from rex_pipeline.schema import ID_PREFIXES


def new_ids(entity: str, count: int) -> list[str]:
    """`count` fresh TypeIDs for an entity kind ("contact", "company", ...).

    Same result as `str(TypeID(prefix=...))`, from typeid-python's own encoder and the
    uuid_utils UUIDv7 it uses, without building a TypeID object per id: a first sync mints a
    million ids, and this is about 4x faster (0.8 µs an id)."""
    prefix = f"{ID_PREFIXES[entity]}_"
    return [prefix + encode(uuid_utils.uuid7().bytes) for _ in range(count)]


def is_id_of(prefix: str, value: str) -> bool:
    """Whether `value` is a TypeID of this prefix ("cont", "comp" ...): the prefix, "_" and 26
    base32 characters whose first is at most 7 (a 128-bit UUID)."""
    return re.fullmatch(rf"{prefix}_[0-7][0-9a-hjkmnp-tv-z]{{25}}", value) is not None
