"""Smart-list search: OR-of-AND groups, every op, custom fields, free text, validation."""

from __future__ import annotations

from typing import Any

import pytest

from rex_pipeline.query import InvalidRequest, SmartListRequest, Warehouse
from rex_pipeline.query.smartlist import compile_search
from rex_pipeline.query.textsearch import scan_clauses

from .conftest import World


def found(wh: Warehouse, *groups: list[tuple[str, str, Any]], q: str | None = None) -> set[str]:
    request: dict[str, Any] = {
        "query": {
            "groups": [
                {"conditions": [{"field": f, "op": op, "value": v} for f, op, v in group]}
                for group in groups
            ]
        },
        "limit": 200,
    }
    if q is not None:
        request["q"] = q
    return {row["first_name"] for row in wh.search(request)["data"]}


EVERYONE = {"Ada", "Grace", "Alan", "Katherine", "Linus", "Margaret", "Siobhán", "Jürgen"}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (("stage", "eq", "prospect"), {"Ada", "Katherine"}),
        (("stage", "neq", "lead"), {"Ada", "Grace", "Katherine", "Linus", "Margaret"}),
        (("stage", "in", ["churned", "customer"]), {"Grace", "Linus", "Margaret"}),
        (("email", "eq", "ADA@globex.com"), {"Ada"}),
        (("email", "contains", "@globex."), {"Ada", "Margaret"}),
        (("email", "not_contains", "globex"), EVERYONE - {"Ada", "Margaret"}),  # Jürgen: no email
        (("email", "starts_with", "grace."), {"Grace"}),
        (("email", "is_empty", None), {"Jürgen"}),
        (("title", "is_not_empty", None), {"Ada", "Grace", "Katherine"}),
        (("name", "eq", "ada lovelace"), {"Ada"}),
        (("last_name", "in", ["hopper", "Turing"]), {"Grace", "Alan"}),
        (("first_name", "neq", "Ada"), EVERYONE - {"Ada"}),
        (("icp_score", "gt", 78), {"Ada", "Margaret"}),
        (("icp_score", "gte", 78), {"Ada", "Grace", "Margaret"}),
        (("icp_score", "lt", 30), {"Jürgen"}),
        (("icp_score", "lte", 30), {"Jürgen", "Linus"}),
        (("icp_score", "neq", 92), EVERYONE - {"Ada", "Margaret"}),  # unscored Alan included
        (("icp_score", "in", [10, 55]), {"Jürgen", "Siobhán"}),
        (("icp_score", "is_empty", None), {"Alan"}),
        (("created_at", "gte", "2024-04-02T09:15:00Z"), {"Margaret", "Siobhán", "Jürgen"}),
        (("created_at", "lt", "2024-02-01"), {"Ada"}),
        (("tags", "eq", "enterprise"), {"Ada", "Margaret"}),
        (("tags", "neq", "enterprise"), EVERYONE - {"Ada", "Margaret"}),
        (("tags", "contains", "WEBINAR"), {"Ada"}),
        (("tags", "not_contains", "en"), EVERYONE - {"Ada", "Katherine", "Margaret"}),
        (("tags", "starts_with", "churn"), {"Linus"}),
        (("tags", "in", ["vip", "conference"]), {"Grace", "Katherine"}),
        (("tags", "is_empty", None), {"Alan", "Siobhán", "Jürgen"}),
        (("tags", "is_not_empty", None), {"Ada", "Grace", "Katherine", "Linus", "Margaret"}),
        (("company.name", "contains", "globex"), {"Ada", "Margaret"}),
        (("company.domain", "eq", "initech.com"), {"Grace", "Siobhán"}),
        (("company.industry", "starts_with", "health"), {"Katherine"}),
        (("company.name", "is_empty", None), {"Alan", "Jürgen"}),
        (("custom.industry_vertical", "eq", "DevTools"), {"Linus", "Margaret"}),
        (("custom.industry_vertical", "in", ["fintech", "govtech"]), {"Ada", "Grace"}),
        (("custom.industry_vertical", "is_empty", None), {"Alan", "Katherine", "Siobhán",
                                                          "Jürgen"}),
        (("custom.lead_score", "gt", 50), {"Ada"}),
        (("custom.lead_score", "lte", 40), {"Katherine"}),
        (("custom.Lead Source Detail", "contains", "summit"), {"Katherine"}),
        (("custom.city", "neq", "Dublin"), EVERYONE - {"Siobhán"}),
    ],
)  # fmt: skip
def test_each_op(wh: Warehouse, condition: tuple[str, str, Any], expected: set[str]) -> None:
    assert found(wh, [condition]) == expected


def test_and_within_a_group_or_across_groups(wh: Warehouse) -> None:
    prospects_at_globex = [("stage", "eq", "prospect"), ("company.name", "contains", "globex")]
    assert found(wh, prospects_at_globex) == {"Ada"}
    assert found(wh, prospects_at_globex, [("tags", "eq", "vip")]) == {"Ada", "Grace"}
    assert found(wh) == EVERYONE  # no groups: everyone


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("lovelace", {"Ada"}),
        ("GRACE", {"Grace"}),
        ("navy.mil", {"Grace"}),  # a secondary email
        ("analytical", {"Ada"}),
        ("umbrella", {"Katherine"}),  # company name (and email domain)
        ("stark", {"Linus"}),
        ("globex", {"Ada", "Margaret"}),
        ("fintech", {"Ada"}),  # a custom-field value
        ("summit", {"Katherine"}),
        ("industry_vertical", set()),  # keys are not values
        ("ada globex", {"Ada"}),  # every word must match somewhere
        ("ada initech", set()),
        ("Schmidhuber", {"Jürgen"}),
        ("(", set()),  # regex metacharacters are plain text
        ("   ", EVERYONE),
    ],
)
def test_free_text(wh: Warehouse, q: str, expected: set[str]) -> None:
    assert found(wh, q=q) == expected


def test_free_text_combines_with_groups(wh: Warehouse) -> None:
    assert found(wh, [("stage", "eq", "customer")], q="globex") == {"Margaret"}


def test_search_pages_sorts_and_selects_fields(wh: Warehouse) -> None:
    request = {
        "query": {"groups": [{"conditions": [{"field": "icp_score", "op": "is_not_empty"}]}]},
        "sort": "-icp_score",
        "limit": 3,
        "fields": ["first_name", "icp_score"],
    }
    first = wh.search(request)
    assert [r["icp_score"] for r in first["data"]] == [92, 92, 78]
    assert list(first["data"][0]) == ["first_name", "icp_score"]
    second = wh.search({**request, "cursor": first["next_cursor"]})
    third = wh.search({**request, "cursor": second["next_cursor"]})
    assert [r["icp_score"] for r in second["data"] + third["data"]] == [65, 55, 30, 10]
    assert third["has_more"] is False


def test_scoped_to_org_and_owner(world: World) -> None:
    with world.open(org_id="other-org") as other:
        assert [r["id"] for r in other.search({"q": "ada"})["data"]] == [world.ids["other_ada"]]
    with world.open(owner_id="ben@northwind-labs.io") as ben:
        assert {r["first_name"] for r in ben.search({})["data"]} == {"Grace", "Linus"}
        assert ben.search({"q": "lovelace"})["data"] == []


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        ({"query": {"groups": [{"conditions": [{"field": "lifecycle", "op": "eq",
                                                "value": "lead"}]}]}},
         "query.groups[0].conditions[0].field: unknown field 'lifecycle'"),
        ({"query": {"groups": [{"conditions": [{"field": "stage", "op": "eq", "value": "lead"}]},
                               {"conditions": [{"field": "stage", "op": "like",
                                                "value": "lead"}]}]}},
         "query.groups[1].conditions[0].op: Input should be 'eq'"),
        ({"query": {"groups": [{"conditions": [{"field": "email", "op": "gt", "value": "a"}]}]}},
         "conditions[0].op: 'gt' does not apply to email (text); use one of eq, neq"),
        ({"query": {"groups": [{"conditions": [{"field": "stage", "op": "eq",
                                                "value": "qualified"}]}]}},
         "conditions[0].value: 'qualified' is not valid for stage; use one of lead"),
        ({"query": {"groups": [{"conditions": [{"field": "icp_score", "op": "gte",
                                                "value": "high"}]}]}},
         "conditions[0].value: icp_score needs a number, got 'high'"),
        ({"query": {"groups": [{"conditions": [{"field": "created_at", "op": "gt",
                                                "value": "yesterday"}]}]}},
         "created_at needs an ISO date or time"),
        ({"query": {"groups": [{"conditions": [{"field": "updated_at", "op": "lt",
                                                "value": "9999-12-31T23:00:00-05:00"}]}]}},
         "value: updated_at: 9999-12-31T23:00:00-05:00 is out of range"),
        ({"query": {"groups": [{"conditions": [{"field": "stage", "op": "in",
                                                "value": "lead"}]}]}},
         "value: in needs a list of 1 to 1000 values"),
        ({"query": {"groups": [{"conditions": [{"field": "email", "op": "is_empty",
                                                "value": "x"}]}]}},
         "value: is_empty takes no value"),
        ({"query": {"groups": [{"conditions": []}]}}, "query.groups[0].conditions: List should"),
        ({"query": {"groups": [{"conditions": [{"field": "custom.a\"b", "op": "eq",
                                                "value": "x"}]}]}},
         "unknown field 'custom.a\"b'"),
        ({"query": {"groups": [{"conditions": [{"field": "custom.score", "op": "contains",
                                                "value": 5}]}]}},
         "contains on custom.score needs a text"),
        ({"query": {"groups": []}, "q": "x" * 201}, "q: String should have at most 200"),
        ({"q": "ada " * 10 + "zzzzqqq"}, "q: at most 10 words (got 11)"),
        ({"query": {"groups": []}, "limit": 500}, "limit: must be between 1 and 200"),
        ({"query": {"groups": []}, "filters": []}, "filters: Extra inputs are not permitted"),
    ],
)  # fmt: skip
def test_invalid_requests_name_the_bad_part(
    wh: Warehouse, request_body: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidRequest) as err:
        wh.search(request_body)
    assert message in str(err.value)


def test_one_sql_query_with_values_only_as_parameters() -> None:
    hostile = "x'); DROP TABLE contacts; --"
    request = SmartListRequest.model_validate(
        {
            "query": {
                "groups": [
                    {"conditions": [{"field": "email", "op": "eq", "value": hostile}]},
                    {"conditions": [{"field": "custom.city", "op": "in", "value": [hostile]}]},
                ]
            },
            "q": hostile,
        }
    )
    clauses, params, needs_company = compile_search(request)
    text, text_params = scan_clauses(request.text_words(), "acme-org", wide=True)
    sql = " AND ".join([*clauses, *text])
    params += text_params
    assert "DROP" not in sql and "'x'" not in sql
    assert hostile in params
    assert '$."city"' in params  # the custom path is a parameter too
    assert sql.count("?") == len(params)
    assert needs_company is False  # free text matches companies through a subquery


def test_company_fields_join_companies() -> None:
    request = SmartListRequest.model_validate(
        {"query": {"groups": [{"conditions": [{"field": "company.name", "op": "eq",
                                               "value": "Initech"}]}]}}
    )  # fmt: skip
    assert compile_search(request)[2] is True
