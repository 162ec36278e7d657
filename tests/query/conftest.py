"""A small, realistic published warehouse for the query tests (built once per session).

Org `acme-org` holds eight contacts at four companies with activities, deals, tasks, stage
history, merges (one chain of two), secondary emails, rejected records and saved views; org
`other-org` holds a contact with the same email as Ada, to prove nothing crosses orgs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typeid import TypeID

from rex_pipeline.query import Warehouse

from .warehouse_builder import create_warehouse, insert_rows

ORG = "acme-org"
OTHER_ORG = "other-org"
ANA = "ana@northwind-labs.io"
BEN = "ben@northwind-labs.io"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def new_id(prefix: str) -> str:
    return str(TypeID(prefix=prefix))


@dataclass
class World:
    path: Path
    ids: dict[str, str]

    def open(self, **kwargs: Any) -> Warehouse:
        kwargs.setdefault("org_id", ORG)
        return Warehouse(self.path, **kwargs)


def build_world(path: Path) -> dict[str, str]:
    """Write the test warehouse at `path`; returns the ids of its records by name."""
    ids = {name: new_id("comp") for name in ("globex", "initech", "umbrella", "stark")}
    ids |= {
        name: new_id("cont")
        for name in (
            "ada", "grace", "alan", "katherine", "linus", "margaret", "siobhan", "jurgen",
            "other_ada", "ada_old", "grace_old_1", "grace_old_2",
        )
    }  # fmt: skip
    ids |= {name: new_id("deal") for name in ("globex_deal", "initech_renewal", "stark_pilot")}
    ids |= {name: new_id("task") for name in ("proposal", "follow_up", "trial")}
    ids |= {
        name: new_id("act")
        for name in (
            "ada_intro", "ada_reply", "ada_meeting", "ada_call", "grace_email", "grace_note",
            "alan_email", "linus_call", "globex_note",
        )
    }  # fmt: skip
    ids["globex_old"] = new_id("comp")
    create_warehouse(path)

    def company(key: str, name: str, domain: str, industry: str, created: str) -> dict[str, Any]:
        return {
            "id": ids[key], "org_id": ORG, "name": name, "domain": domain, "industry": industry,
            "size": "201-500", "description": f"{name} ({industry})",
            "metadata": json.dumps({"linkedin_company_id": len(name)}),
            "created_at": at(created), "updated_at": at(created),
        }  # fmt: skip

    insert_rows(
        path,
        "companies",
        [
            company("globex", "Globex Corporation", "globex.com", "Software", "2023-11-01"),
            company("initech", "Initech", "initech.com", "Financial Services", "2023-11-02"),
            company("umbrella", "Umbrella Health", "umbrellahealth.com", "Healthcare",
                    "2023-12-01"),
            company("stark", "Stark Industries", "starkindustries.com", "Manufacturing",
                    "2024-01-05"),
        ],
    )  # fmt: skip

    def contact(key: str, created: str, **fields: Any) -> dict[str, Any]:
        row = {"id": ids[key], "org_id": ORG, "created_at": at(created), "tags": []}
        row["updated_at"] = at(fields.pop("updated", created))
        if "metadata" in fields:
            fields["metadata"] = json.dumps(fields["metadata"])
        return row | fields

    insert_rows(
        path,
        "contacts",
        [
            contact("ada", "2024-01-10T09:00:00", email="ada@globex.com", first_name="Ada",
                    last_name="Lovelace", phone="+14155550101", title="VP Engineering",
                    stage="prospect", source="referral", company_id=ids["globex"], owner_id=ANA,
                    icp_score=92, icp_score_reason="title matches buyer persona",
                    icp_scored_at=at("2024-01-11T00:00:00"), tags=["enterprise", "webinar-2024"],
                    metadata={"industry_vertical": "fintech", "hs_lead_status": "OPEN",
                              "lead_score": 87}, updated="2024-03-05T10:00:00"),
            contact("grace", "2024-02-01T12:00:00", email="grace.hopper@initech.com",
                    first_name="Grace", last_name="Hopper", title="CTO", stage="customer",
                    source="organic", company_id=ids["initech"], owner_id=BEN, icp_score=78,
                    icp_scored_at=at("2024-02-02T00:00:00"), tags=["vip"],
                    metadata={"industry_vertical": "govtech", "city": "Arlington"}),
            contact("alan", "2024-02-15T08:30:00", email="alan.turing@gmail.com",
                    first_name="Alan", last_name="Turing", stage="lead", source="social",
                    owner_id=ANA, metadata={}),
            contact("katherine", "2024-03-01T16:00:00", email="kjohnson@umbrellahealth.com",
                    first_name="Katherine", last_name="Johnson", title="Head of Data",
                    stage="prospect", source="event", company_id=ids["umbrella"], icp_score=65,
                    icp_scored_at=at("2024-03-02T00:00:00"), tags=["conference"],
                    metadata={"Lead Source Detail": "AI Summit 2024", "lead_score": 40}),
            contact("linus", "2024-03-20T10:00:00", email="linus@starkindustries.com",
                    first_name="Linus", last_name="Torvalds", stage="churned", source="outbound",
                    company_id=ids["stark"], owner_id=BEN, icp_score=30,
                    icp_scored_at=at("2024-03-21T00:00:00"), tags=["churn-risk"],
                    metadata={"industry_vertical": "devtools"}),
            contact("margaret", "2024-04-02T09:15:00", email="margaret@globex.com",
                    first_name="Margaret", last_name="Hamilton", stage="customer", source="email",
                    company_id=ids["globex"], owner_id=ANA, icp_score=92,
                    icp_scored_at=at("2024-04-03T00:00:00"), tags=["enterprise"],
                    metadata={"industry_vertical": "devtools"}),
            contact("siobhan", "2024-04-02T09:15:00", email="siobhan.obrien@initech.com",
                    first_name="Siobhán", last_name="O'Brien", stage="lead", source="paid",
                    company_id=ids["initech"], owner_id=ANA, icp_score=55,
                    icp_scored_at=at("2024-04-03T00:00:00"), metadata={"city": "Dublin"}),
            contact("jurgen", "2024-05-01T07:00:00", first_name="Jürgen",
                    last_name="Schmidhuber", phone="+4915112345678", stage="lead",
                    source="other", icp_score=10, icp_scored_at=at("2024-05-02T00:00:00")),
            {"id": ids["other_ada"], "org_id": OTHER_ORG, "email": "ada@globex.com",
             "first_name": "Ada", "last_name": "Lovelace", "stage": "customer",
             "source": "organic", "icp_score": 99, "created_at": at("2024-06-01"),
             "updated_at": at("2024-06-01"), "tags": ["enterprise"]},
        ],
    )  # fmt: skip
    insert_rows(
        path,
        "contact_emails",
        [
            {"contact_id": ids[k], "org_id": ORG, "email": e, "is_primary": True}
            for k, e in [("ada", "ada@globex.com"), ("grace", "grace.hopper@initech.com"),
                         ("alan", "alan.turing@gmail.com"),
                         ("katherine", "kjohnson@umbrellahealth.com"),
                         ("linus", "linus@starkindustries.com"),
                         ("margaret", "margaret@globex.com"),
                         ("siobhan", "siobhan.obrien@initech.com")]
        ]
        + [
            {"contact_id": ids["ada"], "org_id": ORG, "email": "a.lovelace@analytical-engines.org",
             "is_primary": False},
            {"contact_id": ids["grace"], "org_id": ORG, "email": "grace@navy.mil",
             "is_primary": False},
            {"contact_id": ids["other_ada"], "org_id": OTHER_ORG, "email": "ada@globex.com",
             "is_primary": True},
        ],
    )  # fmt: skip

    def activity(key: str, contact: str | None, occurred: str, **fields: Any) -> dict[str, Any]:
        return {
            "id": ids[key], "org_id": ORG, "contact_id": ids[contact] if contact else None,
            "status": "completed", "occurred_at": at(occurred), "created_at": at(occurred),
            "updated_at": at(occurred), "direction": "na", "source": "csv", **fields,
        }  # fmt: skip

    insert_rows(
        path,
        "activities",
        [
            activity("ada_intro", "ada", "2024-01-11T10:00:00", type="email", direction="outbound",
                     subtype="sent", subject="Intro: Globex x Northwind", source="gmail",
                     external_id="CAF=intro-1@mail.gmail.com", company_id=ids["globex"],
                     owner_id=ANA, body="Hi Ada, great to meet you at the summit."),
            activity("ada_reply", "ada", "2024-01-12T08:00:00", type="email", direction="inbound",
                     subtype="reply", subject="Re: Intro: Globex x Northwind", source="gmail",
                     external_id="CAF=reply-1@mail.gmail.com", company_id=ids["globex"],
                     owner_id=ANA),
            activity("ada_meeting", "ada", "2024-02-01T15:00:00", type="meeting",
                     subject="Platform demo", company_id=ids["globex"],
                     deal_id=ids["globex_deal"], owner_id=ANA, duration=3600),
            activity("ada_call", "ada", "2024-03-05T10:00:00", type="call", subject="Pricing",
                     company_id=ids["globex"], owner_id=ANA, duration=900, status="scheduled"),
            activity("grace_email", "grace", "2024-02-02T09:00:00", type="email",
                     direction="outbound", subject="Renewal terms", source="instantly",
                     company_id=ids["initech"], owner_id=BEN, subtype="sent"),
            activity("grace_note", "grace", "2024-02-10T11:00:00", type="note",
                     subject="Asked for SOC 2 report", company_id=ids["initech"], owner_id=BEN),
            activity("alan_email", "alan", "2024-02-16T09:00:00", type="email",
                     direction="inbound", subject="Question about pricing", source="gmail",
                     subtype="reply", owner_id=ANA),
            activity("linus_call", "linus", "2024-03-21T14:00:00", type="call",
                     subject="Pilot kickoff", company_id=ids["stark"], owner_id=BEN),
            activity("globex_note", None, "2024-01-20T09:00:00", type="note",
                     subject="Globex budget cycle starts in April", company_id=ids["globex"]),
        ],
    )  # fmt: skip
    insert_rows(
        path,
        "deals",
        [
            {"id": ids["globex_deal"], "org_id": ORG, "name": "Globex platform",
             "contact_id": ids["ada"], "company_id": ids["globex"], "pipeline_id": "sales",
             "stage_id": "closed_won", "value": 1200000, "currency": "USD", "status": "won",
             "created_at": at("2024-01-20T12:00:00"), "updated_at": at("2024-03-01T12:00:00")},
            {"id": ids["initech_renewal"], "org_id": ORG, "name": "Initech renewal",
             "contact_id": ids["grace"], "company_id": ids["initech"], "pipeline_id": "renewals",
             "stage_id": "negotiation", "value": 450000, "currency": "EUR", "status": "open",
             "created_at": at("2024-02-05T12:00:00"), "updated_at": at("2024-02-05T12:00:00")},
            {"id": ids["stark_pilot"], "org_id": ORG, "name": "Stark pilot",
             "contact_id": ids["linus"], "company_id": ids["stark"], "pipeline_id": "sales",
             "stage_id": "closed_lost", "value": 90000, "currency": "USD", "status": "lost",
             "created_at": at("2024-03-22T12:00:00"), "updated_at": at("2024-04-15T12:00:00")},
        ],
    )  # fmt: skip
    insert_rows(
        path,
        "tasks",
        [
            {"id": ids["proposal"], "org_id": ORG, "title": "Send proposal",
             "contact_id": ids["ada"], "priority": "high", "status": "pending",
             "due_at": at("2024-02-01T17:00:00"), "created_at": at("2024-01-12T09:00:00"),
             "updated_at": at("2024-01-12T09:00:00")},
            {"id": ids["follow_up"], "org_id": ORG, "title": "Book follow-up call",
             "contact_id": ids["grace"], "priority": "medium", "status": "completed",
             "due_at": at("2024-02-20T17:00:00"), "created_at": at("2024-02-03T09:00:00"),
             "updated_at": at("2024-02-19T09:00:00")},
            {"id": ids["trial"], "org_id": ORG, "title": "Check in after trial",
             "contact_id": ids["alan"], "priority": "low", "status": "pending",
             "created_at": at("2024-02-16T10:00:00"), "updated_at": at("2024-02-16T10:00:00")},
        ],
    )  # fmt: skip
    insert_rows(
        path,
        "stage_changes",
        [
            {"org_id": ORG, "contact_id": ids["ada"], "from_stage": None, "to_stage": "lead",
             "changed_at": at("2024-01-10T09:00:00")},
            {"org_id": ORG, "contact_id": ids["ada"], "from_stage": "lead",
             "to_stage": "prospect", "changed_at": at("2024-01-15T09:00:00")},
            {"org_id": ORG, "contact_id": ids["grace"], "from_stage": "prospect",
             "to_stage": "customer", "changed_at": at("2024-03-01T09:00:00")},
            # recorded under ids later merged into Grace (a chain: old_1 -> old_2 -> grace)
            {"org_id": ORG, "contact_id": ids["grace_old_1"], "from_stage": None,
             "to_stage": "lead", "changed_at": at("2024-01-20T09:00:00")},
            {"org_id": ORG, "contact_id": ids["grace_old_2"], "from_stage": "lead",
             "to_stage": "prospect", "changed_at": at("2024-02-01T09:00:00")},
            {"org_id": ORG, "contact_id": ids["grace_old_2"], "from_stage": "prospect",
             "to_stage": "customer", "changed_at": at("2024-03-01T09:00:00")},
        ],
    )  # fmt: skip
    insert_rows(
        path,
        "contact_merges",
        [
            {"org_id": ORG, "winner_id": ids["ada"], "loser_id": ids["ada_old"], "rule": "email",
             "score": 1.0, "merged_at": at("2024-01-13T00:00:00")},
            {"org_id": ORG, "winner_id": ids["grace_old_2"], "loser_id": ids["grace_old_1"],
             "rule": "linkedin_url", "score": 1.0, "merged_at": at("2024-02-03T00:00:00")},
            {"org_id": ORG, "winner_id": ids["grace"], "loser_id": ids["grace_old_2"],
             "rule": "fuzzy_name_company", "score": 0.95, "merged_at": at("2024-02-04T00:00:00")},
        ],
    )  # fmt: skip
    insert_rows(
        path,
        "company_merges",
        [{"org_id": ORG, "winner_id": ids["globex"], "loser_id": ids["globex_old"],
          "rule": "domain", "score": 1.0, "merged_at": at("2023-11-02T00:00:00")}],
    )  # fmt: skip
    insert_rows(
        path,
        "rejected_records",
        [
            {"org_id": ORG, "source_system": "csv", "source_file": "apollo-contacts.csv",
             "source_row": row, "raw": json.dumps({"Email": raw}), "reason": reason}
            for row, raw, reason in [(3, "n/a", "no usable email, phone or LinkedIn URL"),
                                     (7, "bob@", "email is not valid"),
                                     (9, "x@y", "email is not valid")]
        ]
        + [{"org_id": OTHER_ORG, "source_system": "gmail", "source_file": "inbox.mbox",
            "raw": "{}", "reason": "message has no sender"}],
    )  # fmt: skip
    insert_rows(
        path,
        "saved_views",
        [
            {"org_id": ORG, "name": "hot-prospects", "description": "Prospects with ICP >= 80",
             "query": json.dumps({"query": {"groups": [{"conditions": [
                 {"field": "stage", "op": "eq", "value": "prospect"},
                 {"field": "icp_score", "op": "gte", "value": 80}]}]}})},
            {"org_id": ORG, "name": "globex-people", "description": "Anyone at Globex",
             "query": json.dumps({"q": "globex", "limit": 1, "fields": ["first_name", "email"]})},
            {"org_id": ORG, "name": "broken", "description": "References a removed field",
             "query": json.dumps({"query": {"groups": [{"conditions": [
                 {"field": "lifecycle", "op": "eq", "value": "lead"}]}]}})},
            {"org_id": OTHER_ORG, "name": "other-view", "description": None,
             "query": json.dumps({"q": "ada"})},
        ],
    )  # fmt: skip
    insert_rows(
        path,
        "contact_sources",
        [
            {"org_id": ORG, "contact_id": ids["ada"], "source_system": "csv",
             "source_file": "hubspot-contacts.csv", "source_row": 1, "source_key": "hubspot:501",
             "email": "Ada@Globex.com", "match_rule": "new", "match_score": 1.0},
        ],
    )  # fmt: skip
    insert_rows(
        path,
        "possible_duplicates",
        [
            {"org_id": ORG, "entity": "contact", "id_a": ids["margaret"], "id_b": ids["siobhan"],
             "score": 0.8, "reasons": "same company, same created_at",
             "detected_at": at("2024-04-03T00:00:00")},
        ],
    )  # fmt: skip
    return ids


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    path = tmp_path_factory.mktemp("query") / "rex.duckdb"
    return World(path, build_world(path))


@pytest.fixture
def wh(world: World) -> Any:
    with world.open() as warehouse:
        yield warehouse
