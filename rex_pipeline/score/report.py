"""What the scoring assets show: the score histogram, the ten best contacts with their reasons,
the learn-from-customers report as markdown, and the check that every score is valid.

Plain strings and dataclasses only; the Dagster assets wrap them in MetadataValue.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from rex_pipeline.score.learn import LearnReport

BUCKET_WIDTH = 10
_BAR_WIDTH = 30
_LIFT_ROWS_PER_CRITERION = 10


def markdown_table(frame: pl.DataFrame) -> str:
    """A polars frame as a GitHub markdown table (polars has no to_markdown); a `|` inside a
    value (titles like "CEO | Founder") is escaped so it cannot split a cell."""
    frame = frame.with_columns(pl.col(pl.String).str.replace_all("|", r"\|", literal=True))
    with pl.Config(
        tbl_formatting="MARKDOWN",
        tbl_hide_column_data_types=True,
        tbl_hide_dataframe_shape=True,
        tbl_rows=-1,
        tbl_cols=-1,
        tbl_width_chars=10_000,
        fmt_str_lengths=10_000,
    ):
        return str(frame)


def score_histogram(scores: pl.Series) -> pl.DataFrame:
    """Contacts per 10-point bucket (0–9 … 90–100, 100 counted in the last), empty buckets
    included so that histograms of two runs line up."""
    buckets = pl.DataFrame({"low": list(range(0, 100, BUCKET_WIDTH))})
    counts = (
        scores.drop_nulls()
        .clip(0, 100)
        .to_frame("score")
        .group_by(low=(pl.col("score") // BUCKET_WIDTH * BUCKET_WIDTH).clip(0, 90).cast(pl.Int64))
        .agg(contacts=pl.len())
    )
    return (
        buckets.join(counts, on="low", how="left", maintain_order="left")
        .with_columns(pl.col("contacts").fill_null(0).cast(pl.Int64))
        .with_columns(
            score=pl.format(
                "{}–{}", "low", pl.col("low") + pl.when(pl.col("low") == 90).then(10).otherwise(9)
            )
        )
        .select("score", "contacts")
    )


def histogram_markdown(scores: pl.Series) -> str:
    """The score histogram as a markdown table with a bar per bucket."""
    histogram = score_histogram(scores)
    peak = max(int(histogram["contacts"].max() or 0), 1)
    bars = ["█" * round(n / peak * _BAR_WIDTH) for n in histogram["contacts"]]  # 10 buckets
    return markdown_table(histogram.with_columns(bar=pl.Series(bars, dtype=pl.String)))


def top_contacts(
    scores: pl.DataFrame, contacts: pl.DataFrame | None = None, n: int = 10
) -> pl.DataFrame:
    """The `n` best contacts (ties by id, so the list is stable) with name, email and title
    when `contacts` is given."""
    cutoff = scores["icp_score"].top_k(n).min()  # sort only the contenders, not every row
    contenders = scores.clear() if cutoff is None else scores.filter(pl.col("icp_score") >= cutoff)
    best = contenders.sort(["icp_score", "id"], descending=[True, False]).head(n)
    if contacts is None:
        return best.select("id", "icp_score", "icp_score_reason")
    people = contacts.select(
        "id",
        pl.concat_str(["first_name", "last_name"], separator=" ", ignore_nulls=True)
        .replace("", None)
        .alias("name"),
        "email",
        "title",
    )
    return best.join(people, on="id", how="left", maintain_order="left").select(
        "id", "name", "email", "title", "icp_score", "icp_score_reason"
    )


def top_contacts_markdown(
    scores: pl.DataFrame, contacts: pl.DataFrame | None = None, n: int = 10
) -> str:
    """The ten best contacts and why, as a markdown table."""
    return markdown_table(top_contacts(scores, contacts, n))


def _auc_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def learn_markdown(report: LearnReport) -> str:
    """The learn-from-customers report for asset metadata: AUCs, warnings, the lift table
    (per criterion, the values with most customers) and the suggested YAML."""
    aucs = pl.DataFrame(
        {
            "score": [
                "current model (all points except stage)",
                "current model, firmographic + persona only",
                "suggested model (same data, so optimistic)",
            ],
            "ROC AUC": [
                _auc_text(report.auc_current),
                _auc_text(report.auc_fit),
                _auc_text(report.auc_suggested),
            ],
        }
    )
    shown = (
        report.lift.sort(["customers", "value"], descending=[True, False])
        .group_by("criterion", maintain_order=True)
        .head(_LIFT_ROWS_PER_CRITERION)
    )
    shown = (
        report.lift.join(
            shown.select("criterion", "value"), on=["criterion", "value"], maintain_order="left"
        )
        .with_columns(
            pl.col("lift").round(2).cast(pl.String).fill_null("∞"),
            pl.when(pl.col("small_sample"))
            .then(pl.lit(f"⚠ < {report.min_count}"))
            .otherwise(pl.lit(""))
            .alias("sample"),
            pl.col("current_points").cast(pl.String).fill_null("–").alias("points now"),
            pl.col("suggested_points").cast(pl.String).fill_null("–").alias("suggested"),
        )
        .select(
            "criterion", "value", "customers", "others", "lift", "sample", "points now", "suggested"
        )
    )
    parts = [
        f"**{report.customers} customers vs {report.others} other contacts**",
        markdown_table(aucs),
        "\n".join(f"- ⚠ {w}" for w in report.warnings),
        "**Lift** (share among customers ÷ share among the rest):",
        markdown_table(shown),
        "**Suggested model** (paste into rex.yaml):",
        f"```yaml\n{report.suggested_model_yaml}```",
    ]
    return "\n\n".join(parts)


@dataclass(frozen=True)
class ScoreCheck:
    """Result of `check_scores`, for the scoring asset's check."""

    passed: bool
    out_of_range: int
    missing_reason: int
    missing_scored_at: int
    examples: tuple[str, ...]

    @property
    def description(self) -> str:
        if self.passed:
            return "every score is within 0–100 with a reason and a scored_at"
        return (
            f"{self.out_of_range} scores outside 0–100 or missing, {self.missing_reason} "
            f"reasons missing, {self.missing_scored_at} scored_at missing "
            f"(e.g. {', '.join(self.examples)})"
        )


def check_scores(scores: pl.DataFrame) -> ScoreCheck:
    """Every contact has an icp_score within 0–100, a non-blank reason and a scored_at."""
    bad_score = pl.col("icp_score").is_null() | ~pl.col("icp_score").is_between(0, 100)
    bad_reason = pl.col("icp_score_reason").str.strip_chars().replace("", None).is_null()
    bad_at = pl.col("icp_scored_at").is_null()
    counts = scores.select(
        out_of_range=bad_score.sum(),
        missing_reason=bad_reason.sum(),
        missing_scored_at=bad_at.sum(),
    ).row(0, named=True)
    examples = scores.filter(bad_score | bad_reason | bad_at).sort("id").head(5)["id"].to_list()
    return ScoreCheck(
        passed=not any(counts.values()),
        examples=tuple(str(e) for e in examples),
        **{k: int(v) for k, v in counts.items()},
    )
