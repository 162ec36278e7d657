"""One record with relationships and included records; merged-away ids; a contact's related
lists and its timeline."""

from __future__ import annotations

import pytest

from rex_pipeline.query import InvalidRequest, NotFound, Warehouse

from .conftest import ANA, World, at


def test_contact_has_company_and_owner(wh: Warehouse, world: World) -> None:
    answer = wh.get_contact(world.ids["ada"])
    data = answer["data"]
    assert data["id"] == world.ids["ada"]
    assert data["email"] == "ada@globex.com"
    assert data["relationships"] == {
        "company": {"data": {"type": "company", "id": world.ids["globex"]}},
        "owner": {"data": {"type": "member", "id": ANA}},
    }
    [company] = answer["included"]
    assert company["type"] == "company"
    assert company["id"] == world.ids["globex"]
    assert company["domain"] == "globex.com"
    assert "meta" not in answer


def test_missing_relationships_are_null(wh: Warehouse, world: World) -> None:
    answer = wh.get_contact(world.ids["jurgen"])
    assert answer["data"]["relationships"] == {"company": {"data": None}, "owner": {"data": None}}
    assert answer["included"] == []


def test_activity_has_contact_deal_and_company(wh: Warehouse, world: World) -> None:
    answer = wh.get_activity(world.ids["ada_meeting"])
    relationships = answer["data"]["relationships"]
    assert relationships["contact"]["data"]["id"] == world.ids["ada"]
    assert relationships["deal"]["data"] == {"type": "deal", "id": world.ids["globex_deal"]}
    assert {(r["type"], r["id"]) for r in answer["included"]} == {
        ("contact", world.ids["ada"]),
        ("deal", world.ids["globex_deal"]),
        ("company", world.ids["globex"]),
    }
    email = wh.get_activity(world.ids["alan_email"])
    assert email["data"]["relationships"]["deal"] == {"data": None}


def test_deal_and_task(wh: Warehouse, world: World) -> None:
    deal = wh.get_deal(world.ids["globex_deal"])
    assert deal["data"]["value"] == 1200000
    assert {r["type"] for r in deal["included"]} == {"contact", "company"}
    task = wh.get_task(world.ids["proposal"])
    assert task["included"][0]["first_name"] == "Ada"


def test_merged_away_id_answers_with_the_winner(wh: Warehouse, world: World) -> None:
    answer = wh.get_contact(world.ids["ada_old"])
    assert answer["data"]["id"] == world.ids["ada"]
    assert answer["meta"] == {
        "requested_id": world.ids["ada_old"],
        "merged_into": world.ids["ada"],
        "merge_rule": "email",
        "merged_at": at("2024-01-13T00:00:00"),
    }


def test_merge_chains_are_followed_to_the_end(wh: Warehouse, world: World) -> None:
    answer = wh.get_contact(world.ids["grace_old_1"])  # old_1 -> old_2 -> grace
    assert answer["data"]["first_name"] == "Grace"
    assert answer["meta"]["merged_into"] == world.ids["grace"]
    assert answer["meta"]["merge_rule"] == "linkedin_url"  # how the asked-for id was merged


def test_merged_company(wh: Warehouse, world: World) -> None:
    answer = wh.get_company(world.ids["globex_old"])
    assert answer["data"]["name"] == "Globex Corporation"
    assert answer["meta"]["merged_into"] == world.ids["globex"]


def test_unknown_and_malformed_ids(wh: Warehouse, world: World) -> None:
    with pytest.raises(NotFound, match=r"no contact cont_.* in org acme-org"):
        wh.get_contact("cont_01h455vb4pex5vsknk084sn02q")
    with pytest.raises(InvalidRequest, match=r"'comp_.*' is not a contact id \(cont_…\)"):
        wh.get_contact(world.ids["globex"])
    with pytest.raises(InvalidRequest, match="is not a contact id"):
        wh.get_contact("cont_01h455vb4pex5vsknk084sn02q' OR '1'='1")
    with pytest.raises(InvalidRequest, match="unknown resource 'people'"):
        wh.get("people", world.ids["ada"])


def test_other_orgs_and_other_owners_records_are_not_found(world: World) -> None:
    with world.open() as acme, pytest.raises(NotFound):
        acme.get_contact(world.ids["other_ada"])
    with world.open(owner_id=ANA) as ana:
        with pytest.raises(NotFound, match=r"for owner ana@northwind-labs\.io"):
            ana.get_contact(world.ids["grace"])
        with pytest.raises(NotFound):
            ana.get_contact(world.ids["grace_old_1"])  # merged into someone she can't see
        with pytest.raises(NotFound):
            ana.get_activity(world.ids["grace_note"])
        with pytest.raises(NotFound):
            ana.get_activity(world.ids["globex_note"])  # no contact: not one of hers
        assert ana.get_company(world.ids["initech"])["data"]["name"] == "Initech"


def test_contact_related_lists(wh: Warehouse, world: World) -> None:
    ids = world.ids
    assert [d["id"] for d in wh.contact_deals(ids["ada"])["data"]] == [ids["globex_deal"]]
    assert [t["title"] for t in wh.contact_tasks(ids["grace"])["data"]] == ["Book follow-up call"]
    activities = wh.contact_activities(ids["ada"], type="email", sort="occurred_at")
    assert [a["id"] for a in activities["data"]] == [ids["ada_intro"], ids["ada_reply"]]
    # a merged-away id lists the winner's records
    assert wh.contact_deals(ids["ada_old"])["data"][0]["id"] == ids["globex_deal"]
    with pytest.raises(InvalidRequest, match="a contact has no 'companies'"):
        wh.contact_related(ids["ada"], "companies")  # type: ignore[arg-type]


def test_contact_timeline_is_one_chronological_stream(wh: Warehouse, world: World) -> None:
    ids = world.ids
    events = wh.contact_timeline(ids["ada"])["data"]
    assert [(e["event"], e["record_id"]) for e in events] == [
        ("stage_change", None),
        ("activity", ids["ada_intro"]),
        ("activity", ids["ada_reply"]),
        ("merge", ids["ada_old"]),
        ("stage_change", None),
        ("deal_created", ids["globex_deal"]),
        ("activity", ids["ada_meeting"]),
        ("deal_won", ids["globex_deal"]),
        ("activity", ids["ada_call"]),
    ]
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    assert events[4]["summary"] == "lead → prospect"
    assert events[4]["detail"] == {
        "from_stage": "lead", "to_stage": "prospect", "contact_id": ids["ada"]
    }  # fmt: skip
    assert events[1]["summary"] == "email outbound · Intro: Globex x Northwind"
    assert events[7]["summary"] == "Globex platform (12000.00 USD)"


def test_a_winners_timeline_includes_what_was_recorded_under_the_ids_it_absorbed(
    wh: Warehouse, world: World
) -> None:
    """Stage changes keep the id they were seen with: Grace's history was her own only, though
    she absorbed grace_old_2, which had absorbed grace_old_1. Pages visit each event once, two
    of them alike but for the id (same instant, same change)."""
    ids = world.ids
    events = wh.contact_timeline(ids["grace"])["data"]
    stages = [
        (e["summary"], e["detail"]["contact_id"]) for e in events if e["event"] == "stage_change"
    ]
    assert stages == [
        ("(none) → lead", ids["grace_old_1"]),
        ("lead → prospect", ids["grace_old_2"]),
        *sorted([("prospect → customer", ids["grace"]),
                 ("prospect → customer", ids["grace_old_2"])]),
    ]  # fmt: skip
    merges = {e["record_id"] for e in events if e["event"] == "merge"}
    assert merges == {ids["grace_old_1"], ids["grace_old_2"]}  # the chain's earlier merge too
    assert wh.contact_timeline(ids["grace_old_1"])["data"] == events  # a loser's id: the same
    seen, cursor = [], None
    while True:
        page = wh.contact_timeline(ids["grace"], limit=1, cursor=cursor)
        seen += page["data"]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert seen == events


def test_timeline_pages_and_reverses(wh: Warehouse, world: World) -> None:
    everything = wh.contact_timeline(world.ids["ada"])["data"]
    seen, cursor = [], None
    while True:
        page = wh.contact_timeline(world.ids["ada"], limit=2, cursor=cursor)
        seen += page["data"]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert seen == everything
    newest = wh.contact_timeline(world.ids["ada"], newest_first=True, limit=3)["data"]
    assert newest == everything[::-1][:3]


def test_timeline_of_a_lost_deal_and_of_a_company(wh: Warehouse, world: World) -> None:
    ids = world.ids
    linus = [e["event"] for e in wh.contact_timeline(ids["linus"])["data"]]
    assert linus == ["activity", "deal_created", "deal_lost"]
    globex = wh.company_timeline(ids["globex_old"])["data"]  # merged id works here too
    assert [e["event"] for e in globex] == [
        "merge", "activity", "activity", "activity", "deal_created", "activity", "deal_won",
        "activity",
    ]  # fmt: skip
    assert globex[0]["record_id"] == ids["globex_old"]


def test_owner_scope_narrows_a_company_timeline(world: World) -> None:
    with world.open(owner_id="ben@northwind-labs.io") as ben:
        events = ben.company_timeline(world.ids["globex"])["data"]
    assert [e["event"] for e in events] == ["merge"]  # Globex people are Ana's
