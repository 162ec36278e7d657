"""Scores, reasons and scored_at: ordering, unknowns, engagement windows, stage caps and
determinism across runs."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from rex_pipeline.score.features import build_features, reference_time
from rex_pipeline.score.model import load_icp_model
from rex_pipeline.score.scoring import NO_CRITERIA, score_contacts
from tests.score.icp_data import (
    COMPANIES,
    MODEL,
    NOW,
    UTC_TS,
    activities,
    companies,
    contacts,
    days_ago,
    meta,
    reply,
)

NO_ACTIVITY = activities([])


def _contact(id_: str, title: str | None, company: str | None, **extra: object) -> dict:
    return {
        "id": id_,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": f"{id_}@example.com",
        "title": title,
        "stage": extra.pop("stage", "lead"),
        "company_id": company,
        "metadata": extra.pop("metadata", None),
    }


def _score(people: list[dict], acts: pl.DataFrame = NO_ACTIVITY, **kwargs: object) -> dict:
    out = score_contacts(contacts(people), COMPANIES, acts, MODEL, NOW, **kwargs)
    return {row["id"]: row for row in out.iter_rows(named=True)}


def test_strong_contact_reason_lists_strongest_first() -> None:
    acts = activities([reply("c1", days_ago(3)), reply("c1", days_ago(20))])
    row = _score([_contact("c1", "VP Eng", "comp_acme")], acts)["c1"]
    assert row["icp_score_reason"] == (
        "VP title (+25); target industry Software (+20); replied 2× in 30 days (+20); "
        "Engineering role (+15); company size 51-200 (+15); country US (+5); "
        "active in last 14 days (+5)"
    )
    assert row["icp_score"] == 100  # 105 points, clipped


def test_ties_follow_fixed_order_and_negatives_rank_by_size() -> None:
    acts = activities(
        [
            {
                "contact_id": "c2",
                "type": "email",
                "subtype": "bounce",
                "direction": "inbound",
                "status": "completed",
                "occurred_at": days_ago(200),
            }
        ]
    )
    row = _score([_contact("c2", "Head of Product", "comp_shop")], acts)["c2"]
    # Head-of (+20) beats bounce (-15) beats Product (+10); -5 ties break by fixed order
    # (industry before company size); 0 comes last.
    assert row["icp_score_reason"] == (
        "Head-of title (+20); email bounced (-15); Product role (+10); "
        "industry Retail & E-commerce (-5); company size 1-10 (-5); country GB (+5)"
    )
    assert row["icp_score"] == 10


def test_missing_data_is_unknown_not_a_mismatch() -> None:
    scored = _score(
        [
            _contact("blank", None, "comp_blank"),
            _contact("nocompany", "Wizard of Light Bulb Moments", None),
            _contact("retail", None, "comp_shop"),
        ]
    )
    assert scored["blank"]["icp_score_reason"] == (
        "no title (0); no industry (0); no company size (0); no country (0)"
    )
    assert scored["nocompany"]["icp_score_reason"] == (
        "seniority unclear (0); no industry (0); department unclear (0); "
        "no company size (0); no country (0)"
    )
    # A known non-target industry costs points; an unknown one does not.
    assert "industry Retail & E-commerce (-5)" in scored["retail"]["icp_score_reason"]
    assert scored["blank"]["icp_score"] == 0


def test_attributes_missing_on_company_are_read_from_contact_metadata() -> None:
    apollo = meta(
        Seniority="c_suite",
        Departments="master_engineering_technical",
        Industry="information technology & services",
        **{"# Employees": 350, "Country": "Germany"},
    )
    broken = "{not json"
    scored = _score(
        [
            _contact("apollo", None, None, metadata=apollo),
            _contact("broken", "CTO", None, metadata=broken),
        ]
    )
    assert scored["apollo"]["icp_score_reason"] == (
        "C-level title (+25); Engineering role (+15); company size 201-500 (+15); "
        "target industry IT Services (+10); country DE (0)"
    )
    assert scored["broken"]["icp_score"] == 40  # CTO: C-level + Engineering; the rest unknown


def test_engagement_windows_and_what_counts() -> None:
    acts = activities(
        [
            reply("c1", days_ago(45)),  # outside the 30-day reply window
            reply("c1", days_ago(2), subtype="auto_reply"),  # out-of-office is no reply
            {
                "contact_id": "c1",
                "type": "email",
                "subtype": None,
                "direction": "outbound",  # our own email: not the contact being active
                "status": "completed",
                "occurred_at": days_ago(1),
            },
            {
                "contact_id": "c1",
                "type": "meeting",
                "subtype": None,
                "direction": "na",
                "status": "scheduled",
                "occurred_at": days_ago(60),
            },
            {
                "contact_id": "c1",
                "type": "email",
                "subtype": "unsubscribed",
                "direction": "inbound",
                "status": "completed",
                "occurred_at": days_ago(5),
            },
        ]
    )
    row = _score([_contact("c1", None, "comp_blank")], acts)["c1"]
    assert row["icp_score_reason"] == (
        "unsubscribed (-30); 1 meeting in 90 days (+15); no title (0); no industry (0); "
        "no company size (0); no country (0)"
    )


def test_windows_end_at_newest_activity_not_at_run_time() -> None:
    acts = activities([reply("c1", days_ago(100)), reply("c1", days_ago(110))])
    features = build_features(contacts([_contact("c1", None, None)]), COMPANIES, acts, MODEL, NOW)
    assert features["reference_at"][0] == days_ago(100)
    assert features["inbound_reply"][0] == 2  # both within 30 days of the newest activity

    # The same data scored a month later gives the same score.
    later = NOW + timedelta(days=30)
    first = score_contacts(contacts([_contact("c1", None, None)]), COMPANIES, acts, MODEL, NOW)
    again = score_contacts(contacts([_contact("c1", None, None)]), COMPANIES, acts, MODEL, later)
    assert first["icp_score"].to_list() == again["icp_score"].to_list()

    # relative_to: run measures from the run time instead.
    run_model = load_icp_model(
        {
            **MODEL.model_dump(mode="json"),
            "engagement": {
                **MODEL.engagement.model_dump(mode="json"),
                "relative_to": "run",
            },
        }
    )
    assert reference_time(acts, run_model.engagement, NOW) == NOW


def test_activities_after_the_run_do_not_move_the_reference() -> None:
    acts = activities([reply("c1", days_ago(3)), reply("c1", NOW + timedelta(days=7))])
    assert reference_time(acts, MODEL.engagement, NOW) == days_ago(3)


def test_stage_cap_and_points_show_in_reason() -> None:
    row = _score([_contact("c1", "Co-founder & CEO", "comp_acme", stage="churned")])["c1"]
    # 25 + 20 + 15 + 5 + 0 - 10 = 55 points, capped at 40 for a churned contact: the cap
    # decides the score, so it comes first.
    assert row["icp_score"] == 40
    assert row["icp_score_reason"] == (
        "stage churned caps score at 40 (-15); Founder title (+25); "
        "target industry Software (+20); company size 51-200 (+15); stage churned (-10); "
        "country US (+5); Executive role (0)"
    )


def test_output_shape_order_and_types() -> None:
    people = [_contact(f"c{i}", "VP Sales", "comp_acme") for i in (3, 1, 2)]
    out = score_contacts(contacts(people), COMPANIES, NO_ACTIVITY, MODEL, NOW)
    assert out.columns == ["id", "icp_score", "icp_score_reason", "icp_scored_at"]
    assert out["id"].to_list() == ["c3", "c1", "c2"]
    assert out.schema["icp_score"] == pl.Int32
    assert out.schema["icp_scored_at"] == UTC_TS


def test_same_inputs_give_same_output_and_scored_at_moves_only_with_score() -> None:
    people = [_contact("a", "VP Eng", "comp_acme"), _contact("b", "Sr. Software Engineer", None)]
    acts = activities([reply("a", days_ago(1))])
    first = score_contacts(contacts(people), COMPANIES, acts, MODEL, NOW)
    assert first.equals(score_contacts(contacts(people), COMPANIES, acts, MODEL, NOW))

    later = NOW + timedelta(days=1)
    same = score_contacts(contacts(people), COMPANIES, acts, MODEL, later, previous=first)
    assert same.equals(first)  # nothing changed: scored_at kept

    people[1]["title"] = "Engineering Manager"  # a promotion changes b's score only
    changed = score_contacts(contacts(people), COMPANIES, acts, MODEL, later, previous=first)
    by_id = {r["id"]: r for r in changed.iter_rows(named=True)}
    assert by_id["a"]["icp_scored_at"] == NOW
    assert by_id["b"]["icp_scored_at"] == later
    assert by_id["b"]["icp_score"] > first.filter(pl.col("id") == "b")["icp_score"][0]


def test_reason_change_without_score_change_keeps_scored_at() -> None:
    people = [_contact("a", "VP Eng", None)]
    first = score_contacts(contacts(people), COMPANIES, NO_ACTIVITY, MODEL, NOW)
    people[0]["title"] = "CTO"  # C-level (+25) + Engineering (+15): same 40 points as VP Eng
    later = NOW + timedelta(hours=5)
    second = score_contacts(contacts(people), COMPANIES, NO_ACTIVITY, MODEL, later, previous=first)
    assert second["icp_score_reason"][0] != first["icp_score_reason"][0]
    assert second["icp_scored_at"][0] == NOW


def test_empty_model_still_gives_every_contact_a_reason() -> None:
    out = score_contacts(
        contacts([_contact("a", "VP Eng", "comp_acme")]),
        COMPANIES,
        NO_ACTIVITY,
        load_icp_model({}),
        NOW,
    )
    assert out.row(0) == ("a", 0, NO_CRITERIA, NOW)


def test_team_industry_aliases_from_the_model_are_applied() -> None:
    agency = companies(
        [
            {
                "id": "comp_dev",
                "name": "Pixel & Byte",
                "domain": "pixelbyte.dev",
                "industry": "Dev Shop",
                "size": "11-50",
                "metadata": None,
            }
        ]
    )
    people = contacts([_contact("a", None, "comp_dev")])
    section = MODEL.model_dump(mode="json")
    plain = score_contacts(people, agency, NO_ACTIVITY, MODEL, NOW)
    section["firmographic"]["industry"]["aliases"] = {"Dev shop": "Software"}
    aliased = score_contacts(people, agency, NO_ACTIVITY, load_icp_model(section), NOW)
    assert "industry Other (-5)" in plain["icp_score_reason"][0]
    assert "target industry Software (+20)" in aliased["icp_score_reason"][0]


def test_previous_scored_at_in_another_zone_is_the_same_moment() -> None:
    people = contacts([_contact("a", "VP Eng", None)])
    first = score_contacts(people, COMPANIES, NO_ACTIVITY, MODEL, NOW)
    berlin = first.with_columns(pl.col("icp_scored_at").dt.convert_time_zone("Europe/Berlin"))
    later = NOW + timedelta(days=2)
    again = score_contacts(people, COMPANIES, NO_ACTIVITY, MODEL, later, previous=berlin)
    assert again["icp_scored_at"].to_list() == [NOW]
    assert again.schema["icp_scored_at"] == UTC_TS


def test_empty_frames_score_to_an_empty_result() -> None:
    out = score_contacts(contacts([]), companies([]), NO_ACTIVITY, MODEL, NOW)
    assert out.height == 0
    assert out.columns == ["id", "icp_score", "icp_score_reason", "icp_scored_at"]


def test_naive_activity_times_are_read_as_utc() -> None:
    acts = activities([reply("a", days_ago(3))]).with_columns(
        pl.col("occurred_at").dt.replace_time_zone(None)
    )
    row = _score([_contact("a", None, None)], acts)["a"]
    assert "replied 1× in 30 days (+10)" in row["icp_score_reason"]


def test_missing_title_is_said_even_when_only_department_is_scored() -> None:
    model = load_icp_model({"persona": {"department": {"points": {"engineering": 15}}}})
    out = score_contacts(contacts([_contact("a", None, None)]), COMPANIES, NO_ACTIVITY, model, NOW)
    assert out["icp_score_reason"][0] == "no department (0)"
