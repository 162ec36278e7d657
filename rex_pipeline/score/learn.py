"""Learn from the customers: does the model fit the deals the team actually won?

Contacts at stage `customer` are compared with every other contact. For each criterion value
we report how much more common it is among customers (lift = share among customers ÷ share
among the rest), with the counts behind it and a warning when either side is small; the ROC
AUC of the current model tells how well its score separates customers from the rest; and a
suggested model (lift turned into points) is given as YAML to paste into rex.yaml.

Stage points are left out of every AUC (they would make customers win by definition), and
engagement is reported but never re-weighted: customers have meetings and replies *because*
they are customers, so that lift is partly an effect of the stage, not a cause.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl
import yaml

from rex_pipeline.score.features import FEATURE_COLUMNS
from rex_pipeline.score.model import ENGAGEMENT_SIGNALS, IcpModel, load_icp_model
from rex_pipeline.score.scoring import score_features

UNKNOWN = "unknown"
ENGAGEMENT = "engagement"
POINTS_PER_DOUBLING = 10  # lift 2 -> +10 points, lift 0.5 -> -10
MAX_SUGGESTED_POINTS = 30
_BASE_COLUMNS = ("id", "stage", "has_title", *FEATURE_COLUMNS, *ENGAGEMENT_SIGNALS)


@dataclass(frozen=True)
class LearnReport:
    """What `learn_from_customers` found. `lift` has one row per criterion value: criterion,
    value, customers, others, customer_share, other_share, lift (NULL when no other contact
    has the value), small_sample, current_points, suggested_points."""

    customers: int
    others: int
    min_count: int
    lift: pl.DataFrame
    auc_current: float | None
    auc_fit: float | None
    auc_suggested: float | None
    suggested_model: IcpModel
    suggested_model_yaml: str
    warnings: tuple[str, ...]


def roc_auc(scores: pl.Series, positive: pl.Series) -> float | None:
    """ROC AUC by the rank-sum (Mann–Whitney) formula, ties ranked by their average: the
    probability that a random positive outscores a random negative. None if a class is empty."""
    frame = pl.DataFrame({"score": scores, "positive": positive.cast(pl.Boolean)})
    n_pos = int(frame["positive"].sum())
    n_neg = frame.height - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    rank_sum = frame.select(pl.col("score").rank("average").filter(pl.col("positive")).sum()).item()
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def _value_counts(scored: pl.DataFrame, customer: pl.Expr) -> pl.DataFrame:
    attributes = scored.select(
        customer.alias("_customer"),
        *[pl.col(f).cast(pl.String).fill_null(UNKNOWN) for f in FEATURE_COLUMNS],
    ).unpivot(index="_customer", variable_name="criterion", value_name="value")
    signals = [
        scored.filter(pl.col(signal) > 0).select(
            customer.alias("_customer"),
            pl.lit(ENGAGEMENT).alias("criterion"),
            pl.lit(signal).alias("value"),
        )
        for signal in ENGAGEMENT_SIGNALS
    ]
    return (
        pl.concat([attributes, *signals])
        .group_by("criterion", "value")
        .agg(
            customers=pl.col("_customer").sum().cast(pl.Int64),
            others=(~pl.col("_customer")).sum().cast(pl.Int64),
        )
    )


def _current_points(model: IcpModel, criterion: str, value: str) -> int | None:
    if criterion == ENGAGEMENT:
        rule = model.engagement.rules().get(value)
        return rule.points if rule else None
    c = model.criteria()[criterion]
    if value == UNKNOWN:
        return c.unknown
    return c.points.get(value, c.other)


def _points_from_lift(customers: int, others: int, n_customers: int, n_others: int) -> int:
    """Points for a value from its lift, smoothed (+0.5) so that a value no other contact has
    does not become infinite, in steps of 5 and within ±MAX_SUGGESTED_POINTS."""
    smoothed = ((customers + 0.5) / (n_customers + 1)) / ((others + 0.5) / (n_others + 1))
    points = 5 * round(POINTS_PER_DOUBLING * math.log2(smoothed) / 5)
    return max(-MAX_SUGGESTED_POINTS, min(MAX_SUGGESTED_POINTS, points))


def _lift_table(scored: pl.DataFrame, model: IcpModel, min_count: int) -> pl.DataFrame:
    n_customers = int((scored["stage"] == "customer").sum())
    n_others = scored.height - n_customers
    counts = _value_counts(scored, (pl.col("stage") == "customer").fill_null(False))
    rows = []
    for row in counts.iter_rows(named=True):  # one row per criterion value, not per contact
        small = row["customers"] < min_count or row["others"] < min_count
        learnable = row["criterion"] != ENGAGEMENT and row["value"] != UNKNOWN and not small
        suggested = (
            _points_from_lift(row["customers"], row["others"], n_customers, n_others)
            if learnable
            else None
        )
        rows.append(
            {
                **row,
                "small_sample": small,
                "current_points": _current_points(model, row["criterion"], row["value"]),
                "suggested_points": suggested,
            }
        )
    order = {name: i for i, name in enumerate((*FEATURE_COLUMNS, ENGAGEMENT))}
    schema = {
        "criterion": pl.String,
        "value": pl.String,
        "customers": pl.Int64,
        "others": pl.Int64,
        "small_sample": pl.Boolean,
        "current_points": pl.Int64,
        "suggested_points": pl.Int64,
    }
    table = pl.DataFrame(rows, schema=schema)
    customer_share = pl.col("customers") / max(n_customers, 1)
    other_share = pl.col("others") / max(n_others, 1)
    return (
        table.with_columns(
            customer_share=customer_share,
            other_share=other_share,
            lift=pl.when(pl.col("others") > 0).then(customer_share / other_share),
            _order=pl.col("criterion").replace_strict(order, return_dtype=pl.Int32),
        )
        .sort(["_order", "lift", "value"], descending=[False, True, False], nulls_last=False)
        .select(
            "criterion",
            "value",
            "customers",
            "others",
            "customer_share",
            "other_share",
            "lift",
            "small_sample",
            "current_points",
            "suggested_points",
        )
    )


def _suggested_model(model: IcpModel, lift: pl.DataFrame) -> IcpModel:
    """The current model with the attribute points replaced by those learnt from lift where
    the sample is large enough; everything else (other, unknown, engagement, stage) kept."""
    section = model.model_dump(mode="json")
    paths = {
        "seniority": ("persona", "seniority"),
        "department": ("persona", "department"),
        "industry": ("firmographic", "industry"),
        "company_size": ("firmographic", "company_size"),
        "country": ("firmographic", "country"),
    }
    for criterion, (group, name) in paths.items():
        learnt = lift.filter(
            (pl.col("criterion") == criterion) & pl.col("suggested_points").is_not_null()
        )
        points = dict(section[group][name]["points"])
        for value, suggested in learnt.select("value", "suggested_points").iter_rows():
            if suggested != 0 or value in points:
                points[value] = suggested
        section[group][name]["points"] = points
    version = model.version
    section["version"] = version + 1 if isinstance(version, int) else f"{version}+learned"
    return load_icp_model(section)


def _model_yaml(model: IcpModel, customers: int, others: int) -> str:
    body = yaml.safe_dump(
        {"icp": model.model_dump(mode="json", exclude_defaults=True)},
        sort_keys=False,
        allow_unicode=True,
    )
    header = (
        f"# Suggested from {customers} customers vs {others} other contacts.\n"
        "# Review, then paste over the icp: section of rex.yaml.\n"
    )
    return header + body


def _warnings(customers: int, others: int, min_count: int) -> tuple[str, ...]:
    out = []
    if customers == 0:
        out.append("no contacts at stage customer: nothing to learn from")
    elif customers < 4 * min_count:
        out.append(f"only {customers} customers: lifts are noisy, treat suggestions as hints")
    if others == 0:
        out.append("every contact is a customer: nothing to compare with")
    out.append(
        "engagement lift is partly caused by being a customer (post-sale meetings and "
        "replies); the suggestion keeps the engagement points as they are"
    )
    return tuple(out)


def learn_from_customers(
    scored: pl.DataFrame, model: IcpModel, *, min_count: int = 5
) -> LearnReport:
    """Compare customers with the rest in a `score_contacts(..., keep_features=True)` (or
    `score_features`) frame scored with `model`. Values seen fewer than `min_count` times
    among customers or among the rest are flagged and not learnt from."""
    customer = (scored["stage"] == "customer").fill_null(False)
    n_customers = int(customer.sum())
    n_others = scored.height - n_customers
    lift = _lift_table(scored, model, min_count)
    suggested = _suggested_model(model, lift)
    rescored = score_features(scored.select(_BASE_COLUMNS), suggested)
    without_stage = pl.col("fit_points") + pl.col("engagement_points")
    return LearnReport(
        customers=n_customers,
        others=n_others,
        min_count=min_count,
        lift=lift,
        auc_current=roc_auc(scored.select(without_stage).to_series(), customer),
        auc_fit=roc_auc(scored["fit_points"], customer),
        auc_suggested=roc_auc(rescored.select(without_stage).to_series(), customer),
        suggested_model=suggested,
        suggested_model_yaml=_model_yaml(suggested, n_customers, n_others),
        warnings=_warnings(n_customers, n_others, min_count),
    )
