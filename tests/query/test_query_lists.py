"""Lists: the Rex filters, sorting, keyset paging, field selection and scoping."""

from __future__ import annotations

from typing import Any

import pytest

from rex_pipeline.query import InvalidCursor, InvalidRequest, Warehouse

from .conftest import ANA, BEN, World, at


def ids_of(page: dict[str, Any]) -> list[str]:
    return [row["id"] for row in page["data"]]


def names(page: dict[str, Any]) -> list[str]:
    return [row["first_name"] for row in page["data"]]


def all_pages(fetch: Any, **params: Any) -> list[dict[str, Any]]:
    """Follow next_cursor to the end, as a client would."""
    rows, cursor = [], None
    for _ in range(100):
        page = fetch(**params, cursor=cursor)
        rows += page["data"]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            return rows
        cursor = page["next_cursor"]
    raise AssertionError("paging did not end")


def test_default_list_is_newest_first_and_stays_in_the_org(wh: Warehouse) -> None:
    page = wh.list_contacts()
    shown = names(page)
    assert shown[0] == "Jürgen"
    assert set(shown[1:3]) == {"Margaret", "Siobhán"}  # same created_at
    assert shown[3:] == ["Linus", "Katherine", "Alan", "Grace", "Ada"]  # not the other org's Ada
    assert page == {"data": page["data"], "has_more": False, "next_cursor": None}


def test_equal_sort_values_are_ordered_by_id(wh: Warehouse, world: World) -> None:
    # Margaret and Siobhán were created at the same instant: the id breaks the tie
    tied = sorted([world.ids["margaret"], world.ids["siobhan"]], reverse=True)
    assert ids_of(wh.list_contacts())[1:3] == tied
    assert ids_of(wh.list_contacts(sort="created_at"))[5:7] == sorted(tied)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"stage": "prospect"}, {"Ada", "Katherine"}),
        ({"source": "referral"}, {"Ada"}),
        ({"owner_id": BEN}, {"Grace", "Linus"}),
        ({"search": "hopper"}, {"Grace"}),
        ({"search": "ADA LOVE"}, {"Ada"}),  # every word, any case, first or last name
        ({"search": "globex.com"}, {"Ada", "Margaret"}),  # email
        ({"search": "o'brien"}, {"Siobhán"}),
        ({"search": "siobhán"}, {"Siobhán"}),
        ({"search": "a " * 9 + "lovelace"}, {"Ada"}),  # ten words: every one must match
        ({"search": "a " * 9 + "zzzzqqq"}, set()),
        ({"icp_score_min": 78}, {"Ada", "Grace", "Margaret"}),
        ({"icp_score_max": 30}, {"Linus", "Jürgen"}),
        ({"icp_score_min": 50, "icp_score_max": 70}, {"Katherine", "Siobhán"}),
        ({"icp_scored_after": "2024-04-01"}, {"Margaret", "Siobhán", "Jürgen"}),
        ({"icp_scored_before": "2024-02-02"}, {"Ada"}),
        ({"created_after": "2024-03-20T10:00:00Z"}, {"Linus", "Margaret", "Siobhán", "Jürgen"}),
        ({"created_before": "2024-02-01T12:00:00+00:00"}, {"Ada"}),
        ({"updated_after": "2024-03-05"}, {"Ada", "Linus", "Margaret", "Siobhán", "Jürgen"}),
        ({"tags": ["enterprise"]}, {"Ada", "Margaret"}),
        ({"tags": "enterprise,webinar-2024"}, {"Ada"}),
        ({"stage": "lead", "owner_id": ANA}, {"Alan", "Siobhán"}),
    ],
)
def test_contact_filters(wh: Warehouse, filters: dict[str, Any], expected: set[str]) -> None:
    assert set(names(wh.list_contacts(**filters))) == expected


def test_company_filter_takes_a_company_id(wh: Warehouse, world: World) -> None:
    page = wh.list_contacts(company_id=world.ids["globex"])
    assert set(names(page)) == {"Ada", "Margaret"}
    with pytest.raises(InvalidRequest, match=r"company_id: 'globex' is not a comp_"):
        wh.list_contacts(company_id="globex")


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("first_name", ["Ada", "Alan", "Grace", "Jürgen", "Katherine", "Linus", "Margaret",
                        "Siobhán"]),
        ("-last_name", ["Alan", "Linus", "Jürgen", "Siobhán", "Ada", "Katherine", "Grace",
                        "Margaret"]),
    ],
)  # fmt: skip
def test_sort_by_names(wh: Warehouse, sort: str, expected: list[str]) -> None:
    assert names(wh.list_contacts(sort=sort)) == expected


def test_sort_by_icp_score_puts_unscored_last_both_ways(wh: Warehouse) -> None:
    descending = [r["icp_score"] for r in wh.list_contacts(sort="-icp_score")["data"]]
    ascending = [r["icp_score"] for r in wh.list_contacts(sort="icp_score")["data"]]
    assert descending == [92, 92, 78, 65, 55, 30, 10, None]
    assert ascending == [10, 30, 55, 65, 78, 92, 92, None]


@pytest.mark.parametrize(
    "sort",
    ["created_at", "-created_at", "updated_at", "first_name", "-last_name", "icp_score",
     "-icp_score"],
)  # fmt: skip
@pytest.mark.parametrize("limit", [1, 2, 3])
def test_paging_visits_every_row_once_in_order(wh: Warehouse, sort: str, limit: int) -> None:
    everything = ids_of(wh.list_contacts(sort=sort, limit=200))
    paged = [row["id"] for row in all_pages(wh.list_contacts, sort=sort, limit=limit)]
    assert paged == everything


def test_paging_with_filters_and_fields(wh: Warehouse) -> None:
    rows = all_pages(wh.list_contacts, stage="lead", sort="-icp_score", limit=1, fields="id,email")
    assert [set(r) for r in rows] == [{"id", "email"}] * 3
    assert [r["email"] for r in rows] == [
        "siobhan.obrien@initech.com",
        None,
        "alan.turing@gmail.com",
    ]


def test_fields_selects_a_subset_in_the_given_order(wh: Warehouse) -> None:
    row = wh.list_contacts(fields=["email", "icp_score"], sort="-icp_score", limit=1)["data"][0]
    assert list(row) == ["email", "icp_score"]
    assert row["email"] in {"ada@globex.com", "margaret@globex.com"}


def test_records_carry_typed_values(wh: Warehouse) -> None:
    ada = wh.list_contacts(search="lovelace")["data"][0]
    assert ada["metadata"] == {"industry_vertical": "fintech", "hs_lead_status": "OPEN",
                               "lead_score": 87}  # fmt: skip
    assert ada["tags"] == ["enterprise", "webinar-2024"]
    assert ada["created_at"] == at("2024-01-10T09:00:00")
    assert "org_id" not in ada


def test_limit_defaults_to_50_and_refuses_beyond_200(wh: Warehouse) -> None:
    assert len(wh.list_contacts()["data"]) == 8
    with pytest.raises(InvalidRequest, match=r"limit: must be between 1 and 200 \(got 201\)"):
        wh.list_contacts(limit=201)
    with pytest.raises(InvalidRequest, match="limit"):
        wh.list_contacts(limit=0)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"stage": "qualified"}, "stage: Input should be 'lead', 'prospect'"),
        ({"sort": "email"}, "sort: 'email' is not sortable; use one of created_at"),
        ({"sort": "created_at; DROP TABLE contacts"}, "is not sortable"),
        ({"fields": "id,password"}, "fields: unknown field(s) password"),
        ({"colour": "red"}, "colour: Extra inputs are not permitted"),
        ({"icp_score_min": 101}, "icp_score_min"),
        ({"created_after": "last tuesday"}, "created_after"),
        # an 11th word used to be dropped, widening the answer without a word
        ({"search": "a a a a a a a a a a zzzzqqq"}, "search: at most 10 words (got 11)"),
        # a valid time whose UTC is past year 9999 (or before year 1) was a bare OverflowError
        ({"created_after": "9999-12-31T23:00:00-05:00"},
         "created_after: 9999-12-31T23:00:00-05:00 is out of range: in UTC it must fall within"),
        ({"icp_scored_before": "0001-01-01T00:30:00+01:00"}, "icp_scored_before: 0001-01-01"),
    ],
)  # fmt: skip
def test_bad_requests_name_the_bad_part(
    wh: Warehouse, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidRequest) as err:
        wh.list_contacts(**params)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("resource", "field"),
    [("activities", "after"), ("deals", "updated_after"), ("tasks", "due_before"),
     ("companies", "created_before")],
)  # fmt: skip
def test_every_time_filter_refuses_a_time_out_of_range(
    wh: Warehouse, resource: str, field: str
) -> None:
    with pytest.raises(InvalidRequest, match=f"^{field}: 9999-12-31T23:00:00-05:00 is out of"):
        wh.list_records(resource, {field: "9999-12-31T23:00:00-05:00"})


def test_cursor_from_another_sort_or_edited_is_refused(wh: Warehouse) -> None:
    cursor = wh.list_contacts(limit=2)["next_cursor"]
    with pytest.raises(InvalidCursor, match="made for sort '-created_at', not 'first_name'"):
        wh.list_contacts(limit=2, sort="first_name", cursor=cursor)
    tampered = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    with pytest.raises(InvalidCursor):
        wh.list_contacts(limit=2, cursor=tampered)


def test_values_are_data_never_sql(wh: Warehouse) -> None:
    assert wh.list_contacts(search="' OR 1=1 --")["data"] == []
    assert wh.list_contacts(owner_id="x' OR '1'='1")["data"] == []
    assert wh.list_companies(name="%")["data"] == []  # no LIKE wildcards either


def test_owner_scope_sees_only_their_contacts(world: World) -> None:
    with world.open(owner_id=ANA) as ana:
        assert set(names(ana.list_contacts())) == {"Ada", "Alan", "Margaret", "Siobhán"}
        assert ana.list_contacts(owner_id=BEN)["data"] == []
        activities = ana.list_activities(limit=200)["data"]
        assert {a["contact_id"] for a in activities} == {world.ids["ada"], world.ids["alan"]}
        assert [d["name"] for d in ana.list_deals()["data"]] == ["Globex platform"]
        assert {t["title"] for t in ana.list_tasks()["data"]} == {
            "Send proposal",
            "Check in after trial",
        }


def test_other_org_sees_only_its_own(world: World) -> None:
    with world.open(org_id="other-org") as other:
        page = other.list_contacts()
        assert [(r["id"], r["stage"]) for r in page["data"]] == [
            (world.ids["other_ada"], "customer")
        ]
        assert other.list_activities()["data"] == []


def test_list_records_by_resource_name(wh: Warehouse) -> None:
    assert wh.list_records("deals", {"status": "won"})["data"][0]["name"] == "Globex platform"
    with pytest.raises(InvalidRequest, match="unknown resource 'leads'; use one of contacts"):
        wh.list_records("leads")


def test_companies(wh: Warehouse) -> None:
    by_name = [c["name"] for c in wh.list_companies(sort="name")["data"]]
    assert by_name == ["Globex Corporation", "Initech", "Stark Industries", "Umbrella Health"]
    assert [c["name"] for c in wh.list_companies(name="GLOBEX")["data"]] == ["Globex Corporation"]
    assert [c["name"] for c in wh.list_companies(domain="Initech.com")["data"]] == ["Initech"]
    assert [c["name"] for c in wh.list_companies(industry="healthcare")["data"]] == [
        "Umbrella Health"
    ]
    assert len(wh.list_companies(created_after="2023-12-01")["data"]) == 2


def test_activities(wh: Warehouse, world: World) -> None:
    ids = world.ids
    newest_first = ids_of(wh.list_activities(limit=3))
    assert newest_first == [ids["linus_call"], ids["ada_call"], ids["alan_email"]]
    replies = wh.list_activities(type="email", subtype="reply", direction="inbound")
    assert set(ids_of(replies)) == {ids["ada_reply"], ids["alan_email"]}
    assert ids_of(wh.list_activities(status="scheduled")) == [ids["ada_call"]]
    assert set(ids_of(wh.list_activities(source="GMAIL"))) == {
        ids["ada_intro"],
        ids["ada_reply"],
        ids["alan_email"],
    }
    assert ids_of(wh.list_activities(deal_id=ids["globex_deal"])) == [ids["ada_meeting"]]
    assert len(wh.list_activities(company_id=ids["globex"])["data"]) == 5
    assert len(wh.list_activities(contact_id=ids["ada"], owner_id=ANA)["data"]) == 4
    window = wh.list_activities(after="2024-02-01T15:00:00Z", before="2024-02-16T09:00:00Z")
    assert ids_of(window) == [ids["grace_note"], ids["grace_email"], ids["ada_meeting"]]


def test_deals_and_tasks(wh: Warehouse, world: World) -> None:
    assert [d["name"] for d in wh.list_deals(sort="-value")["data"]] == [
        "Globex platform", "Initech renewal", "Stark pilot"
    ]  # fmt: skip
    assert [d["name"] for d in wh.list_deals(status="lost")["data"]] == ["Stark pilot"]
    assert [d["name"] for d in wh.list_deals(value_min=100000, pipeline_id="sales")["data"]] == [
        "Globex platform"
    ]
    due = [t["title"] for t in wh.list_tasks()["data"]]
    assert due == ["Send proposal", "Book follow-up call", "Check in after trial"]  # NULL last
    assert [t["title"] for t in wh.list_tasks(status="pending", priority="high")["data"]] == [
        "Send proposal"
    ]
    assert [t["title"] for t in wh.list_tasks(due_before="2024-02-10")["data"]] == ["Send proposal"]


@pytest.mark.parametrize(
    ("resource", "field", "loser", "winner"),
    [
        ("activities", "contact_id", "ada_old", "ada"),
        ("deals", "contact_id", "ada_old", "ada"),
        ("tasks", "contact_id", "ada_old", "ada"),
        ("activities", "contact_id", "grace_old_1", "grace"),  # a chain of two merges
        ("contacts", "company_id", "globex_old", "globex"),
        ("activities", "company_id", "globex_old", "globex"),
        ("deals", "company_id", "globex_old", "globex"),
    ],
)
def test_id_filters_follow_merges_like_get(
    wh: Warehouse, world: World, resource: str, field: str, loser: str, winner: str
) -> None:
    """A merged-away id filters for the record that absorbed it (it listed nothing, while
    `get` and `rex contacts activities` followed the merge)."""
    expected = ids_of(wh.list_records(resource, {field: world.ids[winner]}))
    assert expected
    assert ids_of(wh.list_records(resource, {field: world.ids[loser]})) == expected
    first = wh.list_records(resource, {field: world.ids[loser], "limit": 1})
    if first["has_more"]:  # its cursor pages on, given either id
        second = wh.list_records(
            resource, {field: world.ids[winner], "limit": 1, "cursor": first["next_cursor"]}
        )
        assert ids_of(first) + ids_of(second) == expected[:2]


def test_an_id_that_was_never_a_record_still_lists_nothing(wh: Warehouse) -> None:
    assert wh.list_activities(contact_id="cont_01h455vb4pex5vsknk084sn02q")["data"] == []
