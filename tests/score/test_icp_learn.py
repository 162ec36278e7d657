"""Learning from won customers: lift with counts and small-sample flags, ROC AUC by ranks,
and a suggested model that loads back."""

from __future__ import annotations

import math

import polars as pl
import pytest
import yaml

from rex_pipeline.score.learn import learn_from_customers, roc_auc
from rex_pipeline.score.model import load_icp_model
from rex_pipeline.score.report import learn_markdown
from rex_pipeline.score.scoring import score_contacts
from tests.score.icp_data import COMPANIES, MODEL, NOW, activities, contacts, days_ago, reply


@pytest.mark.parametrize(
    ("scores", "labels", "auc"),
    [
        ([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], 0.75),  # the classic example
        ([1, 2, 3, 4], [0, 0, 1, 1], 1.0),
        ([4, 3, 2, 1], [0, 0, 1, 1], 0.0),
        ([5, 5, 5, 5], [0, 1, 0, 1], 0.5),  # ties count half
        ([1, 2, 3], [0, 0, 0], None),
    ],
)
def test_roc_auc_rank_formula(scores: list[float], labels: list[int], auc: float | None) -> None:
    result = roc_auc(pl.Series(scores), pl.Series(labels))
    assert result == (None if auc is None else pytest.approx(auc))


def _population() -> tuple[pl.DataFrame, pl.DataFrame]:
    """10 customers (8 VPs of Engineering at a US software company, 2 account executives at a
    UK shop) and 30 others (6 and 24 of the same); 5 customer VPs and 3 other AEs replied."""
    people = []
    for i in range(40):
        customer = i < 10
        vp = i < 8 or 10 <= i < 16
        people.append(
            {
                "id": f"c{i:02d}",
                "title": "VP Engineering" if vp else "Account Executive",
                "stage": "customer" if customer else "prospect",
                "company_id": "comp_acme" if vp else "comp_shop",
            }
        )
    repliers = [f"c{i:02d}" for i in (0, 1, 2, 3, 4, 16, 17, 18)]
    return contacts(people), activities([reply(c, days_ago(20)) for c in repliers])


def test_lift_counts_and_auc_on_known_population() -> None:
    people, acts = _population()
    scored = score_contacts(people, COMPANIES, acts, MODEL, NOW, keep_features=True)
    report = learn_from_customers(scored, MODEL, min_count=5)
    assert (report.customers, report.others) == (10, 30)

    def row(criterion: str, value: str) -> dict:
        found = report.lift.filter((pl.col("criterion") == criterion) & (pl.col("value") == value))
        return found.row(0, named=True)

    software = row("industry", "Software")
    assert (software["customers"], software["others"]) == (8, 6)
    assert software["lift"] == pytest.approx((8 / 10) / (6 / 30))  # 4.0
    assert software["small_sample"] is False
    assert software["current_points"] == 20
    # smoothed lift (8.5/11)/(6.5/31) = 3.69 -> 10*log2 = 18.8 -> nearest step of 5
    assert software["suggested_points"] == 20

    retail = row("industry", "Retail & E-commerce")
    assert retail["lift"] == pytest.approx((2 / 10) / (24 / 30))
    assert retail["small_sample"] is True  # only 2 customers
    assert retail["suggested_points"] is None

    replied = row("engagement", "inbound_reply")
    assert (replied["customers"], replied["others"]) == (5, 3)
    assert replied["suggested_points"] is None  # engagement is never re-weighted

    # Fit only: 8 customers and 6 others at 80 points, 2 and 24 at -5 -> (192 + 24 + 24) / 300.
    assert report.auc_fit == pytest.approx(0.8)
    # With engagement (+10 reply, +5 recent): customers 5×95, 3×80, 2×-5; others 6×80,
    # 3×10, 21×-5 -> (150 + 72 + 9 + 21) / 300.
    assert report.auc_current == pytest.approx(0.84)


def test_stage_points_never_enter_the_auc() -> None:
    people, acts = _population()
    boosted = load_icp_model(
        {**MODEL.model_dump(mode="json"), "stage": {"customer": {"points": 50}}}
    )
    scored = score_contacts(people, COMPANIES, acts, boosted, NOW, keep_features=True)
    assert learn_from_customers(scored, boosted).auc_current == pytest.approx(0.84)


def test_suggested_model_is_valid_yaml_for_rex_yaml() -> None:
    people, acts = _population()
    scored = score_contacts(people, COMPANIES, acts, MODEL, NOW, keep_features=True)
    report = learn_from_customers(scored, MODEL, min_count=2)

    pasted = load_icp_model(yaml.safe_load(report.suggested_model_yaml)["icp"])
    assert pasted == report.suggested_model
    assert pasted.version == 4
    expected = 5 * round(10 * math.log2((2.5 / 11) / (24.5 / 31)) / 5)  # -20
    assert pasted.firmographic.industry.points["Retail & E-commerce"] == expected
    assert pasted.persona.department.points["sales"] == expected  # learnt, not in MODEL
    assert pasted.engagement == MODEL.engagement
    assert pasted.stage == MODEL.stage
    assert report.auc_suggested == pytest.approx(0.84)


def test_no_customers_is_reported_not_an_error() -> None:
    people, acts = _population()
    people = people.with_columns(stage=pl.lit("lead"))
    scored = score_contacts(people, COMPANIES, acts, MODEL, NOW, keep_features=True)
    report = learn_from_customers(scored, MODEL)
    assert report.auc_current is None
    assert report.warnings[0] == "no contacts at stage customer: nothing to learn from"
    assert report.suggested_model.firmographic == MODEL.firmographic


def test_markdown_shows_auc_warnings_lift_and_yaml() -> None:
    people, acts = _population()
    scored = score_contacts(people, COMPANIES, acts, MODEL, NOW, keep_features=True)
    text = learn_markdown(learn_from_customers(scored, MODEL))
    assert "**10 customers vs 30 other contacts**" in text
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines()]
    assert ["current model (all points except stage)", "0.840"] in cells
    assert ["industry", "Software", "8", "6", "4.0", "", "20", "20"] in cells
    assert ["industry", "Retail & E-commerce", "2", "24", "0.25", "⚠ < 5", "-5", "–"] in cells
    criteria = [
        row[0]
        for row in cells
        if len(row) == 8 and not row[0].startswith("-") and row[1] != "value"
    ]
    assert criteria[0] == "seniority" and criteria[-1] == "engagement"  # fixed order
    assert "```yaml\n# Suggested from 10 customers vs 30 other contacts." in text
