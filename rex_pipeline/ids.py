"""TypeID generation: `prefix_` + 26 Crockford base32 characters of a UUIDv7.

Ids are minted once per new entity and then persisted in the identity map, so they never change
on a later run; the UUIDv7 time component makes them sort by creation time.
"""

from __future__ import annotations

from typeid import TypeID

from rex_pipeline.schema import ID_PREFIXES


def new_ids(entity: str, count: int) -> list[str]:
    """`count` fresh TypeIDs for an entity kind ("contact", "company", ...)."""
    prefix = ID_PREFIXES[entity]
    return [str(TypeID(prefix=prefix)) for _ in range(count)]
