"""ICP scoring: every contact gets icp_score (0–100), icp_score_reason and icp_scored_at from
the model in the `icp:` section of rex.yaml, and the model is checked against the customers
the team actually won. Pure logic; the Dagster assets live elsewhere and call these."""

from rex_pipeline.score.countries import country_of
from rex_pipeline.score.features import build_features
from rex_pipeline.score.industries import INDUSTRIES, industry_of
from rex_pipeline.score.learn import LearnReport, learn_from_customers, roc_auc
from rex_pipeline.score.model import IcpModel, IcpModelError, load_icp_model, model_hash
from rex_pipeline.score.report import (
    ScoreCheck,
    check_scores,
    histogram_markdown,
    learn_markdown,
    score_histogram,
    top_contacts,
    top_contacts_markdown,
)
from rex_pipeline.score.scoring import score_contacts, score_features
from rex_pipeline.score.sizes import SIZE_BANDS, size_band_of
from rex_pipeline.score.titles import DEPARTMENTS, SENIORITIES, department_of, seniority_of

__all__ = [
    "DEPARTMENTS",
    "INDUSTRIES",
    "SENIORITIES",
    "SIZE_BANDS",
    "IcpModel",
    "IcpModelError",
    "LearnReport",
    "ScoreCheck",
    "build_features",
    "check_scores",
    "country_of",
    "department_of",
    "histogram_markdown",
    "industry_of",
    "learn_from_customers",
    "learn_markdown",
    "load_icp_model",
    "model_hash",
    "roc_auc",
    "score_contacts",
    "score_features",
    "score_histogram",
    "seniority_of",
    "size_band_of",
    "top_contacts",
    "top_contacts_markdown",
]
