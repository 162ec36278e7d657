"""`rex contacts explain`: what the query side does without a sync's contact index (the
evidence itself is tested on real syncs in tests/integration/test_fuzzy_resolution.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from rex_pipeline.query import NotFound, Warehouse, WarehouseUnavailable
from rex_pipeline.resolve.fuzzy.index import INDEX_FORMAT, index_folder

from .conftest import ORG, World


def test_a_merged_away_id_and_its_winner_are_one_contact(wh: Warehouse, world: World) -> None:
    ids = world.ids
    answer = wh.explain_contacts(ids["ada_old"], ids["ada"])
    assert answer["same_contact"] is True
    assert answer["decision"] == "one contact"
    assert answer["contacts"] == [ids["ada"], ids["ada"]]
    assert [(m["requested_id"], m["merged_into"], m["merge_rule"]) for m in answer["merges"]] == [
        (ids["ada_old"], ids["ada"], "email")
    ]


def test_two_contacts_without_a_contact_index_ask_for_a_sync(wh: Warehouse, world: World) -> None:
    with pytest.raises(WarehouseUnavailable, match="no contact index beside"):
        wh.explain_contacts(world.ids["ada"], world.ids["grace"])


def test_an_unknown_contact_is_not_found(wh: Warehouse, world: World) -> None:
    with pytest.raises(NotFound, match="no contact cont_"):
        wh.explain_contacts(world.ids["ada"], "cont_01h455vb4pex5vsknk084sn02q")


def _with_stamp(world: World, tmp_path: Path, stamp: dict[str, Any]) -> Path:
    """A copy of the test warehouse with an index folder holding only `stamp`."""
    path = tmp_path / "rex.duckdb"
    shutil.copy(world.path, path)
    folder = index_folder(path)
    folder.mkdir()
    (folder / "stamp.json").write_text(json.dumps(stamp), encoding="utf-8")
    return path


def test_the_index_of_another_org_is_never_used(world: World, tmp_path: Path) -> None:
    stamp = {"org": "other-org", "loaded_at": "2024-05-01 00:00:00+00", "format": INDEX_FORMAT}
    with (
        Warehouse(_with_stamp(world, tmp_path, stamp), org_id=ORG) as wh,
        pytest.raises(WarehouseUnavailable, match=r"org 'other-org'.*sync org 'acme-org'"),
    ):
        wh.explain_contacts(world.ids["ada"], world.ids["grace"])


def test_an_index_of_another_version_is_never_used(world: World, tmp_path: Path) -> None:
    stamp = {"org": ORG, "loaded_at": "2024-05-01 00:00:00+00", "format": INDEX_FORMAT - 1}
    with (
        Warehouse(_with_stamp(world, tmp_path, stamp), org_id=ORG) as wh,
        pytest.raises(WarehouseUnavailable, match="another version"),
    ):
        wh.explain_contacts(world.ids["ada"], world.ids["grace"])
