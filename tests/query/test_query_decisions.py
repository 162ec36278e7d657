"""`rex overrides list`: whether each analyst decision has taken effect in the warehouse, with
each side resolved as a sync resolves it (merged-away ids, any address by its matching key,
domains), inside the org."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from rex_pipeline.cli import main
from rex_pipeline.query import Warehouse
from tests.conftest import config_naming

from .conftest import World


def _decision(kind: str, a: str, b: str) -> dict[str, Any]:
    return {"kind": kind, "a": a, "b": b, "note": None}


def test_each_decision_says_whether_it_has_taken_effect(wh: Warehouse, world: World) -> None:
    ids = world.ids
    decisions = [
        # a merged-away id and Ada's second address: one contact already
        _decision("must_merge", ids["ada_old"], "a.lovelace@analytical-engines.org"),
        # stored as alan.turing@gmail.com: Gmail ignores dots and +tags, as the sync does
        _decision("must_merge", "alanturing+crm@googlemail.com", ids["grace"]),
        _decision("never_merge", ids["margaret"], "siobhan.obrien@initech.com"),  # queued
        _decision("never_merge", "globex.com", "initech.com"),
        _decision("never_merge", ids["ada_old"], "ada@globex.com"),
        _decision("must_merge", "nobody@nowhere.example", ids["ada"]),
        _decision("must_merge", ids["globex_old"], "globex.com"),
    ]
    answered = wh.decision_status(decisions)
    assert [row["status"] for row in answered] == [
        "applied: one entity",
        "pending: the next sync merges them",
        "pending: the next sync takes the pair off the review queue",
        "applied: kept apart",
        "impossible: already one entity (a shared key, or merged by an earlier sync); "
        "never_merge does not split an entity",
        "waiting: nobody@nowhere.example is not in the warehouse",
        "applied: one entity",
    ]
    assert (answered[0]["id_a"], answered[0]["id_b"]) == (ids["ada"], ids["ada"])
    assert (answered[1]["id_a"], answered[1]["id_b"]) == (ids["alan"], ids["grace"])
    assert answered[5]["id_a"] is None
    # ada@globex.com is also an address of the other org: never found from this one
    assert answered[4]["id_b"] == ids["ada"]


def test_another_org_sees_none_of_this_org_s_entities(world: World) -> None:
    with world.open(org_id="other-org") as wh:
        [row] = wh.decision_status([_decision("must_merge", world.ids["ada"], "ada@globex.com")])
    assert row["id_a"] is None and row["id_b"] == world.ids["other_ada"]
    assert row["status"] == f"waiting: {world.ids['ada']} is not in the warehouse"


def test_cli_says_at_once_when_a_decision_names_nobody_or_cannot_hold(
    world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("REX_CONFIG", str(config_naming(tmp_path / "overrides.yaml")))
    monkeypatch.setenv("REX_DUCKDB_PATH", str(world.path))
    monkeypatch.setenv("REX_ORG_ID", "acme-org")
    ids = world.ids
    assert main(["overrides", "merge", "nobdy@globex.com", ids["ada"]]) == 0  # a typo
    out, err = capsys.readouterr()
    assert out.startswith("must_merge: nobdy@globex.com + ")
    assert err == "note: waiting: nobdy@globex.com is not in the warehouse\n"
    assert main(["overrides", "keep-apart", ids["ada_old"], "ada@globex.com"]) == 0
    assert capsys.readouterr().err.startswith("note: impossible: already one entity")
    assert main(["overrides", "merge", ids["grace"], ids["alan"]]) == 0  # pending: nothing to add
    assert capsys.readouterr().err == ""
    assert main(["overrides", "list", "--format", "csv"]) == 0
    rows = csv.DictReader(io.StringIO(capsys.readouterr().out))
    # must_merge first, then never_merge, each in the order recorded
    assert [row["status"].split(":")[0] for row in rows] == ["waiting", "pending", "impossible"]
