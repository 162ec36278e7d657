"""`rex contacts explain` / `rex companies explain`: what the query side does without a sync's
contact index, and with company profiles as a sync saves them (the contact evidence itself is
tested on real syncs in tests/integration/test_fuzzy_resolution.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from rex_pipeline.cli import main
from rex_pipeline.normalise.company_names import company_keys
from rex_pipeline.query import NotFound, Warehouse, WarehouseUnavailable
from rex_pipeline.resolve.fuzzy.companies import AMBIGUOUS
from rex_pipeline.resolve.fuzzy.company_index import COMPANY_INDEX_FORMAT, save_company_index
from rex_pipeline.resolve.fuzzy.index import INDEX_FORMAT, index_folder
from tests.conftest import REPO

from .conftest import ORG, World, at, new_id
from .warehouse_builder import insert_rows


def test_a_merged_away_id_and_its_winner_are_one_contact(wh: Warehouse, world: World) -> None:
    ids = world.ids
    answer = wh.explain_contacts(ids["ada_old"], ids["ada"])
    assert answer["same"] is True and answer["entity"] == "contact"
    assert answer["decision"] == "one contact"
    assert answer["ids"] == [ids["ada"], ids["ada"]]
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


# --- companies -----------------------------------------------------------------------------

# the same analytics firm three times: once without a domain, under two domains (.com, .de)
ACME_ANALYTICS = (
    ("nodomain", "Acme Analytics Inc.", None, "2023-01-10"),
    ("dotcom", "Acme Analytics", "acme-analytics.com", "2023-02-01"),
    ("dotde", "ACME Analytics GmbH", "acme-analytics.de", "2023-03-01"),
)


def _companies_synced(
    world: World, tmp_path: Path, org: str = ORG, fmt: int = COMPANY_INDEX_FORMAT
) -> tuple[Path, dict[str, str]]:
    """A copy of the test warehouse with three Acme Analytics companies, and the company
    profiles a sync of `org` would save beside it (every company of the org)."""
    path = tmp_path / "rex.duckdb"
    shutil.copy(world.path, path)
    ids = {key: new_id("comp") for key, *_ in ACME_ANALYTICS}
    rows = [
        {"id": ids[key], "org_id": ORG, "name": name, "domain": domain, "created_at": at(day)}
        for key, name, domain, day in ACME_ANALYTICS
    ]
    insert_rows(path, "companies", rows)
    with duckdb.connect(str(path)) as conn:
        profiles = conn.sql(
            "SELECT id AS node_id, created_at, name, domain FROM companies WHERE org_id = ?",
            params=[ORG],
        ).pl()
    profiles = profiles.with_columns(name_key=company_keys(profiles["name"]))
    folder = index_folder(path)
    no_merges = pl.Series("node_id", [], pl.String)
    save_company_index(folder, profiles, no_merges, org, "2024-05-01 00:00:00+00")
    if fmt != COMPANY_INDEX_FORMAT:  # as an older version would have written it
        saved = pl.read_parquet(folder / "companies.parquet")
        stamp = {"org": org, "format": str(fmt), "synced_at": "2024-05-01 00:00:00+00"}
        saved.write_parquet(folder / "companies.parquet", metadata=stamp)
    return path, ids


def test_a_merged_away_company_and_its_winner_are_one_company(wh: Warehouse, world: World) -> None:
    answer = wh.explain_companies(world.ids["globex_old"], world.ids["globex"])
    assert (answer["entity"], answer["same"], answer["decision"]) == (
        "company",
        True,
        "one company",
    )
    assert answer["ids"] == [world.ids["globex"]] * 2
    assert [m["merged_into"] for m in answer["merges"]] == [world.ids["globex"]]


def test_two_companies_without_a_company_index_ask_for_a_sync(wh: Warehouse, world: World) -> None:
    with pytest.raises(WarehouseUnavailable, match="no company index beside"):
        wh.explain_companies(world.ids["globex"], world.ids["initech"])


def test_a_domainless_company_fitting_two_domains_is_explained_as_review(
    world: World, tmp_path: Path
) -> None:
    path, ids = _companies_synced(world, tmp_path)
    with Warehouse(path, org_id=ORG) as wh:
        ambiguous = wh.explain_companies(ids["nodomain"], ids["dotcom"])
        domains = wh.explain_companies(ids["dotcom"], ids["dotde"])
        strangers = wh.explain_companies(world.ids["globex"], world.ids["initech"])
    # the same name and no domain to disagree: merge-grade, but it fits two domains
    assert ambiguous["evidence"]["name"]["level"] == "exact"
    assert ambiguous["evidence"]["domain"]["level"] == "missing"
    assert ambiguous["score"] >= 0.8 and ambiguous["conflict"] is None
    assert (ambiguous["decision"], ambiguous["note"]) == ("review", AMBIGUOUS)
    assert "note" not in domains and "note" not in strangers
    assert ambiguous["blocking"]["compared"] is True
    assert {b["rule"] for b in ambiguous["blocking"]["shared_blocks"]} == {
        "first_word",
        "name",
        "squashed",
    }
    # two domains: never merged on the name
    assert domains["evidence"]["domain"]["level"] == "different"
    assert (domains["decision"], domains["conflict"]) == ("review", "different domains")
    assert strangers["decision"] == "no match"
    assert strangers["blocking"] == {"compared": False, "shared_blocks": []}
    assert strangers["index"] == {"nodes": 7, "synced_at": "2024-05-01 00:00:00+00"}


def test_a_company_the_last_sync_did_not_profile_is_not_found(world: World, tmp_path: Path) -> None:
    path, ids = _companies_synced(world, tmp_path)
    insert_rows(path, "companies", [{"id": (late := new_id("comp")), "org_id": ORG}])
    with (
        Warehouse(path, org_id=ORG) as wh,
        pytest.raises(NotFound, match=f"company {late} is not in the company index"),
    ):
        wh.explain_companies(ids["dotcom"], late)


@pytest.mark.parametrize(
    ("org", "fmt", "error"),
    [
        ("other-org", COMPANY_INDEX_FORMAT, r"org 'other-org'.*sync org 'acme-org'"),
        (ORG, COMPANY_INDEX_FORMAT + 1, "another version"),
    ],
)
def test_a_company_index_of_another_org_or_version_is_never_used(
    world: World, tmp_path: Path, org: str, fmt: int, error: str
) -> None:
    path, ids = _companies_synced(world, tmp_path, org=org, fmt=fmt)
    with Warehouse(path, org_id=ORG) as wh, pytest.raises(WarehouseUnavailable, match=error):
        wh.explain_companies(ids["dotcom"], ids["dotde"])


def test_cli_explains_two_companies_with_the_rule_that_holds_them_for_review(
    world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, ids = _companies_synced(world, tmp_path)
    monkeypatch.setenv("REX_DUCKDB_PATH", str(path))
    monkeypatch.setenv("REX_ORG_ID", ORG)
    monkeypatch.setenv("REX_CONFIG", str(REPO / "rex.yaml"))
    assert main(["companies", "explain", ids["dotcom"], ids["nodomain"]]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{ids['dotcom']}  vs  {ids['nodomain']}"
    assert out[1].startswith("decision  review  (score 0.98")
    assert out[3] == f"note      {AMBIGUOUS}"
    assert "(7 companies)" in out[4]
    assert out[5] == "prior     -8.0 bits before any field"
    assert out[-1].startswith("blocking  compared: first_word (3 companies, limit 200)")
    assert main(["companies", "explain", ids["dotcom"], "cont_01h455vb4pex5vsknk084sn02q"]) == 1
    assert "is not a company id" in capsys.readouterr().err


def test_the_prior_line_says_what_a_large_warehouse_takes_off() -> None:
    from rex_pipeline.query.formatting import render_explanation

    company = {"level": "same domain", "weight": 11.8, "similarity": 1.0, "meaning": "same domain"}
    answer = {
        "entity": "contact",
        "ids": ["cont_a", "cont_b"],
        "requested": ["cont_a", "cont_b"],
        "same": False,
        "decision": "merge",
        "score": 0.9,
        "conflict": None,
        "thresholds": {"merge": 0.8, "review": 0.5},
        "index": {"nodes": 551_900, "synced_at": "2026-11-24 05:00:00+00"},
        "prior": {"bits": -17.8, "population_bits": 5.8},
        "evidence": {"company": company},
        "blocking": {"compared": True, "shared_blocks": []},
    }
    lines = render_explanation(answer).splitlines()
    assert "(551,900 contacts)" in lines[3]
    assert lines[4].startswith("prior     -17.8 bits before any field (5.8 of them for the")
    assert "number of contacts" in lines[4]
