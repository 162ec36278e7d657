"""Score contacts against the ICP model: points per factor, a 0–100 score and a reason that
lists the factors strongest first, all as polars expressions (no per-row Python).

Each factor has a points column and a text column ("VP title (+25)"). Per-row list sorting is
slow in polars, so the reason is assembled without it: the model tells which absolute point
values each factor can take, and the reason concatenates, from the largest value down, the
texts of the factors at that value, in the factors' fixed order. A stage cap, when it
applies, comes first: it is what decides the score.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from rex_pipeline.score.countries import country_codes
from rex_pipeline.score.features import build_features
from rex_pipeline.score.industries import INDUSTRIES
from rex_pipeline.score.model import Criterion, EngagementRule, IcpModel
from rex_pipeline.score.sizes import SIZE_BANDS
from rex_pipeline.score.times import UTC_TS, as_utc, utc_column
from rex_pipeline.score.titles import (
    DEPARTMENT_LABELS,
    DEPARTMENTS,
    SENIORITIES,
    SENIORITY_LABELS,
)

SCORE_COLUMNS: tuple[str, ...] = ("id", "icp_score", "icp_score_reason", "icp_scored_at")
NO_CRITERIA = "no ICP criteria configured (0)"
NO_SIGNALS = "no scoring signals (0)"


@dataclass(frozen=True)
class _Factor:
    """One line of the reason: its points, its text, and the |points| it can take."""

    points: pl.Expr
    text: pl.Expr
    levels: frozenset[int]


def _signed(points: int) -> str:
    return f"+{points}" if points > 0 else str(points)


def _signed_expr(points: pl.Expr) -> pl.Expr:
    text = points.cast(pl.String)
    return pl.when(points > 0).then("+" + text).otherwise(text)


def _known_label(feature: str, value: str, points: int) -> str:
    if feature == "seniority":
        return f"{SENIORITY_LABELS[value]} title"
    if feature == "department":
        return f"{DEPARTMENT_LABELS[value]} role"
    if feature == "industry":
        return f"target industry {value}" if points > 0 else f"industry {value}"
    return f"{feature.replace('_', ' ')} {value}"


def _vocabulary(feature: str) -> Iterable[str]:
    return {
        "seniority": SENIORITIES,
        "department": DEPARTMENTS,
        "industry": INDUSTRIES,
        "company_size": SIZE_BANDS,
        "country": country_codes(),
    }[feature]


def _unknown_text(feature: str, points: int, title_said: bool) -> pl.Expr:
    """What a missing value says. No title at all is said once, on the seniority line
    (`title_said`: the model scores seniority, so that line exists)."""
    tail = f" ({_signed(points)})"
    has_title = pl.col("has_title")
    if feature == "seniority":
        return (
            pl.when(has_title)
            .then(pl.lit("seniority unclear" + tail))
            .otherwise(pl.lit("no title" + tail))
        )
    if feature == "department":
        return (
            pl.when(pl.lit(title_said) & ~has_title & pl.col("seniority").is_null())
            .then(pl.lit(None, dtype=pl.String))
            .when(~has_title)
            .then(pl.lit("no department" + tail))
            .otherwise(pl.lit("department unclear" + tail))
        )
    return pl.lit(f"no {feature.replace('_', ' ')}{tail}")


def _criterion_factor(feature: str, criterion: Criterion, title_said: bool) -> _Factor:
    value = pl.col(feature)
    known_points = (
        value.replace_strict(criterion.points, default=criterion.other)
        if criterion.points
        else pl.lit(criterion.other)
    )
    points = (
        pl.when(value.is_null()).then(pl.lit(criterion.unknown)).otherwise(known_points)
    ).cast(pl.Int32)
    texts = {}
    for v in _vocabulary(feature):
        p = criterion.points.get(v, criterion.other)
        texts[v] = f"{_known_label(feature, v, p)} ({_signed(p)})"
    text = (
        pl.when(value.is_null())
        .then(_unknown_text(feature, criterion.unknown, title_said))
        .otherwise(value.replace_strict(texts, default=None, return_dtype=pl.String))
    )
    levels = {abs(p) for p in criterion.points.values()} | {
        abs(criterion.other),
        abs(criterion.unknown),
    }
    return _Factor(points, text, frozenset(levels))


def _engagement_text(signal: str, rule: EngagementRule, n: int) -> str:
    window = f" in {rule.within_days} days" if rule.within_days else ""
    points = _signed(min(n, rule.max_times) * rule.points)
    label = {
        "inbound_reply": f"replied {n}×{window}",
        "meeting": f"{n} meeting{'s' if n > 1 else ''}{window}",
        "recent_activity": f"active in last {rule.within_days} days",
        "bounce": f"email bounced{f' {n}×' if n > 1 else ''}{window}",
        "unsubscribe": "unsubscribed",
    }[signal]
    return f"{label} ({points})"


def _engagement_factor(signal: str, rule: EngagementRule, counts: pl.Series) -> _Factor:
    """Points for `rule.points` per activity up to `max_times`; the text is looked up from
    the few distinct counts in the data rather than built row by row."""
    points = pl.min_horizontal(pl.col(signal), rule.max_times).cast(pl.Int32) * rule.points
    texts = {int(n): _engagement_text(signal, rule, int(n)) for n in counts.unique() if n}
    text = pl.col(signal).replace_strict(texts, default=None, return_dtype=pl.String)
    levels = {abs(rule.points) * t for t in range(1, rule.max_times + 1)}
    return _Factor(points, text, frozenset(levels))


def _stage_factor(model: IcpModel) -> _Factor | None:
    points = {stage: rule.points for stage, rule in model.stage.items() if rule.points}
    if not points:
        return None
    texts = {stage: f"stage {stage} ({_signed(p)})" for stage, p in points.items()}
    return _Factor(
        pl.col("stage").replace_strict(points, default=0).fill_null(0).cast(pl.Int32),
        pl.col("stage").replace_strict(texts, default=None, return_dtype=pl.String),
        frozenset(abs(p) for p in points.values()),
    )


def _stage_cap(model: IcpModel) -> pl.Expr:
    caps = {stage: rule.cap for stage, rule in model.stage.items() if rule.cap is not None}
    if not caps:
        return pl.lit(None, dtype=pl.Int32)
    return pl.col("stage").replace_strict(caps, default=None, return_dtype=pl.Int32)


def _reason(first: pl.Expr, levels: dict[str, frozenset[int]], fallback: str) -> pl.Expr:
    """Factor texts strongest first (by |points|, ties in factor order), without sorting any
    row: for each possible |points| from the top, the texts of the factors at that value."""
    pieces = [first]
    for level in sorted(set().union(*levels.values()), reverse=True):
        pieces += [
            pl.when(pl.col(f"points_{name}").abs() == level).then(pl.col(f"_text_{name}"))
            for name, possible in levels.items()
            if level in possible
        ]
    joined = pl.concat_str(pieces, separator="; ", ignore_nulls=True)
    return pl.when(joined == "").then(pl.lit(fallback)).otherwise(joined)


def score_features(features: pl.DataFrame, model: IcpModel) -> pl.DataFrame:
    """Add to a `build_features` frame: `points_<factor>` per active criterion, engagement
    rule and stage, `fit_points` (firmographic + persona), `engagement_points`,
    `stage_points`, `raw_points`, `icp_score` (Int32, after any stage cap, clipped to 0–100)
    and `icp_score_reason`."""
    active = {n: c for n, c in model.criteria().items() if c.active}
    criteria = {n: _criterion_factor(n, c, "seniority" in active) for n, c in active.items()}
    rules = {
        s: _engagement_factor(s, r, features[s])
        for s, r in model.engagement.rules().items()
        if r.points
    }
    stage = _stage_factor(model)
    factors = {**criteria, **rules, **({"stage": stage} if stage else {})}

    def total(names: Iterable[str]) -> pl.Expr:
        columns = [f"points_{n}" for n in names]
        return pl.sum_horizontal(columns).cast(pl.Int32) if columns else pl.lit(0, pl.Int32)

    scored = (
        features.with_columns(
            **{f"points_{n}": f.points for n, f in factors.items()},
            **{f"_text_{n}": f.text for n, f in factors.items()},
            _cap=_stage_cap(model),
        )
        .with_columns(
            fit_points=total(criteria),
            engagement_points=total(rules),
            stage_points=total(["stage"] if stage else []),
        )
        .with_columns(
            raw_points=(
                pl.col("fit_points") + pl.col("engagement_points") + pl.col("stage_points")
            ).cast(pl.Int32)
        )
        .with_columns(
            _cap_points=pl.when(pl.col("raw_points") > pl.col("_cap")).then(
                pl.col("_cap") - pl.col("raw_points")
            )
        )
    )
    cap_text = pl.concat_str(
        [
            pl.lit("stage "),
            pl.col("stage"),
            pl.lit(" caps score at "),
            pl.col("_cap").cast(pl.String),
            pl.lit(" ("),
            pl.col("_cap_points").cast(pl.String),
            pl.lit(")"),
        ]
    )
    capped = pl.col("raw_points") + pl.col("_cap_points").fill_null(0)
    fallback = NO_SIGNALS if (criteria or rules or model.stage) else NO_CRITERIA
    levels = {name: f.levels for name, f in factors.items()}
    return scored.with_columns(
        icp_score=capped.clip(0, 100).cast(pl.Int32),
        icp_score_reason=_reason(cap_text, levels, fallback),
    ).drop("_cap", "_cap_points", *[f"_text_{n}" for n in factors])


def stamp_scored_at(
    scores: pl.DataFrame, previous: pl.DataFrame | None, now: datetime
) -> pl.DataFrame:
    """`icp_scored_at`: kept from `previous` (id, icp_score, icp_scored_at) when the score is
    unchanged, else `now`; so it says when the score last changed."""
    now_lit = pl.lit(as_utc(now), dtype=UTC_TS)
    if previous is None or previous.is_empty():
        return scores.with_columns(icp_scored_at=now_lit)
    before = previous.select(
        "id",
        pl.col("icp_score").cast(pl.Int32).alias("_prev_score"),
        utc_column("icp_scored_at", previous.schema["icp_scored_at"]).alias("_prev_at"),
    ).unique("id", keep="first")
    unchanged = (pl.col("_prev_score") == pl.col("icp_score")) & pl.col("_prev_at").is_not_null()
    return (
        scores.join(before, on="id", how="left", maintain_order="left")
        .with_columns(
            icp_scored_at=pl.when(unchanged.fill_null(False))
            .then(pl.col("_prev_at"))
            .otherwise(now_lit)
        )
        .drop("_prev_score", "_prev_at")
    )


def score_contacts(
    contacts: pl.DataFrame,
    companies: pl.DataFrame,
    activities: pl.DataFrame,
    model: IcpModel,
    now: datetime,
    previous: pl.DataFrame | None = None,
    *,
    keep_features: bool = False,
    latest_activity: datetime | None = None,
) -> pl.DataFrame:
    """Score every contact (input order kept): id, icp_score (Int32 0–100), icp_score_reason,
    icp_scored_at (UTC). `now` is the run time, passed in so results are reproducible;
    `previous` is the last published (id, icp_score, icp_scored_at). With `keep_features`
    the features and per-factor points stay in the frame (for `learn_from_customers`).
    `latest_activity`: the org's newest activity, when `activities` are only the scored
    contacts' (see `reference_time`)."""
    features = build_features(contacts, companies, activities, model, now, latest_activity)
    scored = stamp_scored_at(score_features(features, model), previous, now)
    return scored if keep_features else scored.select(SCORE_COLUMNS)
