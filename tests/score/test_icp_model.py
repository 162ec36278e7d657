"""The icp: section of rex.yaml: validation errors that name the field, key normalisation,
and a hash that changes with the meaning only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from rex_pipeline.score.model import IcpModelError, load_icp_model, model_hash

REX_YAML = Path(__file__).resolve().parents[2] / "rex.yaml"


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        (
            {"persona": {"seniority": {"points": {"vice_president": 20}}}},
            "icp.persona.seniority.points: unknown seniority 'vice_president' (did you mean 'vp'?)",
        ),
        (
            {"firmographic": {"industry": {"points": {"Sofware": 20}}}},
            "icp.firmographic.industry.points: unknown industry 'Sofware' "
            "(did you mean 'Software'?)",
        ),
        (
            {"firmographic": {"industri": {}}},
            "icp.firmographic.industri: unknown field (did you mean 'industry'?); "
            "allowed here: industry, company_size, country",
        ),
        (
            {"firmographic": {"company_size": {"points": {"10000+": 5}}}},
            "icp.firmographic.company_size.points: unknown company size band '10000+'",
        ),
        (
            {"firmographic": {"country": {"points": {"Narnia": 5}}}},
            "icp.firmographic.country.points: unknown country 'Narnia'",
        ),
        (
            {"firmographic": {"country": {"points": {"US": 5, "United States": 3}}}},
            "icp.firmographic.country.points: country 'US' is listed twice",
        ),
        (
            {"firmographic": {"industry": {"aliases": {"b2b saas": "Saas"}}}},
            "icp.firmographic.industry.aliases: alias 'b2b saas' points to unknown industry",
        ),
        (
            {"persona": {"department": {"points": {"engineering": 150}}}},
            "icp.persona.department.points.engineering: Input should be less than or equal to 100",
        ),
        (
            {"engagement": {"meeting": {"points": 12.5}}},
            "icp.engagement.meeting.points: Input should be a valid integer",
        ),
        (
            {"engagement": {"bounce": {"points": True}}},
            "icp.engagement.bounce.points: Input should be a valid integer",
        ),
        (
            {"engagement": {"recent_activity": {"points": 5}}},
            "icp.engagement.recent_activity.within_days: Field required",
        ),
        (
            {"engagement": {"inbound_reply": {"points": 5, "within_days": 0}}},
            "icp.engagement.inbound_reply.within_days: Input should be greater than or equal to 1",
        ),
        (
            {"stage": {"customers": {"points": 5}}},
            "icp.stage.customers: Input should be 'lead', 'prospect', 'customer' or 'churned'",
        ),
        (
            {"stage": {"churned": {"cap": 140}}},
            "icp.stage.churned.cap: Input should be less than or equal to 100",
        ),
        ({"version": [1]}, "icp.version: must be a number or a short text"),
    ],
)
def test_bad_model_names_field_and_problem(section: dict[str, Any], expected: str) -> None:
    with pytest.raises(IcpModelError) as caught:
        load_icp_model(section)
    assert expected in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_every_problem_is_reported_at_once() -> None:
    section = {"persona": {"seniority": {"points": {"boss": 5}}}, "stage": {"won": {}}}
    with pytest.raises(IcpModelError) as caught:
        load_icp_model(section)
    assert "icp.persona.seniority.points" in str(caught.value)
    assert "icp.stage.won" in str(caught.value)


def test_section_must_be_a_mapping() -> None:
    with pytest.raises(IcpModelError, match="icp: expected a mapping, got list"):
        load_icp_model(["vp"])  # type: ignore[arg-type]


def test_keys_are_normalised_to_one_spelling() -> None:
    model = load_icp_model(
        {
            "persona": {"seniority": {"points": {"VP": 25, "C-Level": 25}}},
            "firmographic": {
                "industry": {"points": {"software": 20}, "aliases": {"B2B SaaS": "software"}},
                "company_size": {"points": {"1,001-5,000": 5, "10,001+ employees": -5}},
                "country": {"points": {"United Kingdom": 5, "us": 5}},
            },
        }
    )
    assert model.persona.seniority.points == {"vp": 25, "c_level": 25}
    assert model.firmographic.industry.points == {"Software": 20}
    assert model.firmographic.industry.aliases == {"b2b saas": "Software"}
    assert model.firmographic.company_size.points == {"1001-5000": 5, "10001+": -5}
    assert model.firmographic.country.points == {"GB": 5, "US": 5}


def test_hash_is_stable_and_follows_meaning_not_spelling() -> None:
    a = load_icp_model({"persona": {"seniority": {"points": {"VP": 25, "founder": 20}}}})
    b = load_icp_model({"persona": {"seniority": {"points": {"founder": 20, "vp": 25}}}})
    c = load_icp_model({"persona": {"seniority": {"points": {"vp": 30, "founder": 20}}}})
    assert model_hash(a) == model_hash(b)
    assert model_hash(a) != model_hash(c)
    assert len(model_hash(a)) == 12
    assert model_hash(load_icp_model({})) == model_hash(load_icp_model(None))


def test_repository_default_model_is_valid_and_targets_software() -> None:
    section = yaml.safe_load(REX_YAML.read_text(encoding="utf-8"))["icp"]
    model = load_icp_model(section)
    assert model.firmographic.industry.points["Software"] > 0
    assert model.firmographic.industry.other < 0
    assert model.engagement.unsubscribe is not None and model.engagement.unsubscribe.points < 0
    assert all(c.unknown == 0 for c in model.criteria().values())


def test_documented_example_model_is_valid() -> None:
    readme = (Path(__file__).resolve().parents[2] / "rex_pipeline/score/README.md").read_text()
    example = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    model = load_icp_model(yaml.safe_load(example)["icp"])
    assert model.firmographic.industry.aliases == {"b2b saas": "Software"}
