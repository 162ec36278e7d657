"""Saved views and the warehouse summary."""

from __future__ import annotations

import pytest

from rex_pipeline.query import InvalidRequest, NotFound, Warehouse

from .conftest import World


def test_views_are_listed_by_name_for_the_org(wh: Warehouse) -> None:
    views = wh.views()
    assert [v["name"] for v in views] == ["broken", "globex-people", "hot-prospects"]
    assert views[2]["description"] == "Prospects with ICP >= 80"
    assert views[2]["query"]["query"]["groups"][0]["conditions"][0]["field"] == "stage"


def test_run_a_view(wh: Warehouse, world: World) -> None:
    page = wh.run_view("hot-prospects")
    assert [r["id"] for r in page["data"]] == [world.ids["ada"]]


def test_a_view_pages_with_its_own_limit_or_an_override(wh: Warehouse) -> None:
    first = wh.run_view("globex-people")  # stored limit 1
    assert len(first["data"]) == 1 and first["has_more"]
    second = wh.run_view("globex-people", cursor=first["next_cursor"])
    assert {first["data"][0]["first_name"], second["data"][0]["first_name"]} == {
        "Ada",
        "Margaret",
    }
    assert len(wh.run_view("globex-people", limit=10)["data"]) == 2


def test_unknown_and_invalid_views(wh: Warehouse) -> None:
    with pytest.raises(NotFound, match=r"no saved view 'other-view' .* broken, globex-people"):
        wh.run_view("other-view")  # another org's view
    with pytest.raises(InvalidRequest, match=r"saved view 'broken': .*unknown field 'lifecycle'"):
        wh.run_view("broken")


def test_summary(wh: Warehouse, world: World) -> None:
    summary = wh.summary()
    assert summary["org_id"] == "acme-org"
    tables = summary["tables"]
    assert tables["contacts"] == 8  # not the other org's
    assert tables["companies"] == 4
    assert tables["activities"] == 9
    assert tables["contact_merges"] == 3
    assert tables["rejected_records"] == 3
    assert tables["company_sources"] == 0
    assert summary["rejected_by_reason"] == [
        {"reason": "email is not valid", "count": 2},
        {"reason": "no usable email, phone or LinkedIn URL", "count": 1},
    ]
    top = summary["top_contacts"]
    assert [c["icp_score"] for c in top] == [92, 92, 78, 65, 55]
    assert {top[0]["id"], top[1]["id"]} == {world.ids["ada"], world.ids["margaret"]}


def test_summary_for_an_owner_counts_what_they_see(world: World) -> None:
    with world.open(owner_id="ben@northwind-labs.io") as ben:
        summary = ben.summary()
    assert summary["tables"]["contacts"] == 2
    assert summary["tables"]["activities"] == 3
    assert summary["tables"]["deals"] == 2
    assert [c["first_name"] for c in summary["top_contacts"]] == ["Grace", "Linus"]
