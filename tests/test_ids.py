"""Minted ids are valid TypeIDs of the right kind, unique, and sort by minting time."""

from __future__ import annotations

import time

from typeid import TypeID

from rex_pipeline.ids import new_ids


def test_new_ids_are_typeids_with_uuid7_of_the_entity_prefix() -> None:
    ids = new_ids("contact", 1000)
    assert len(set(ids)) == 1000
    for value in ids[:50]:
        parsed = TypeID.from_string(value)
        assert parsed.prefix == "cont"
        assert str(parsed) == value
        assert parsed.uuid.version == 7
    assert all(len(v) == len("cont_") + 26 for v in ids)
    assert new_ids("company", 1)[0].startswith("comp_")
    assert new_ids("activity", 0) == []


def test_later_ids_sort_after_earlier_ones() -> None:
    first = new_ids("deal", 3)
    time.sleep(0.002)
    later = new_ids("deal", 3)
    assert max(first) < min(later)
