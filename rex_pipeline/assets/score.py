"""ICP scoring assets: score every contact, and learn from the customers the team won.

The scoring package is imported inside the asset bodies: loading the definitions (every run,
sensor tick and `dagster` command) should not pay for what only a running step uses."""

import time
from typing import TYPE_CHECKING, Any

import dagster as dg
import duckdb
import polars as pl

from rex_pipeline import batch
from rex_pipeline.assets.config import SyncConfig, settings_for
from rex_pipeline.assets.stages import canonical_records, run_time
from rex_pipeline.config import Settings
from rex_pipeline.faults import crash_point
from rex_pipeline.resources import RexSettings, WorkDatabase

if TYPE_CHECKING:  # the scoring package is imported when an asset runs, not when Dagster loads
    from rex_pipeline.score import IcpModel, LearnReport
    from rex_pipeline.score.inputs import ScoringInputs


def _score(
    context: dg.AssetExecutionContext,
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    model: "IcpModel",
    everything: bool = True,
    keep_features: bool = False,
) -> tuple["ScoringInputs", pl.DataFrame]:
    """Score the contacts as they will be after this run, at the run's time: every contact,
    or only those this run can change the score of."""
    from rex_pipeline.score import score_contacts
    from rex_pipeline.score.inputs import read_scoring_inputs

    now = run_time(context)
    inputs = read_scoring_inputs(con, settings.org_id, everything=everything, now=now)
    scores = score_contacts(
        inputs.contacts,
        inputs.companies,
        inputs.activities,
        model,
        now=now,
        previous=inputs.previous,
        keep_features=keep_features,
        latest_activity=inputs.latest_activity,
    )
    return inputs, scores


@dg.asset(
    group_name="score",
    kinds={"polars", "duckdb"},
    deps=[canonical_records],
    pool="duckdb_write",
    description="Explainable ICP fit (0–100) for every contact from the model in rex.yaml "
    "(icp:): firmographic, persona and engagement criteria; the reason lists the strongest "
    "factors first; icp_scored_at moves only when the score does.",
)
def icp_scores(
    context: dg.AssetExecutionContext,
    config: SyncConfig,
    rex_settings: RexSettings,
    work_db: WorkDatabase,
) -> dg.MaterializeResult:
    from rex_pipeline.score import (
        histogram_markdown,
        learn_from_customers,
        load_icp_model,
        model_hash,
        top_contacts_markdown,
    )
    from rex_pipeline.score.scoring import SCORE_COLUMNS
    from rex_pipeline.score.state import stage_insights, stage_model_hash, stored_model_hash

    settings = settings_for(rex_settings, config)
    model = load_icp_model(settings.icp, settings.config_file)
    current = model_hash(model)
    with work_db.connect(settings) as con:
        everything = config.full_refresh or stored_model_hash(con, settings.org_id) != current
        # scoring every contact is the pass the insights asset would repeat after publishing
        learn = everything and _insights_in_run(context)
        inputs, scored = _score(
            context, settings, con, model, everything=everything, keep_features=learn
        )
        scores = scored.select(SCORE_COLUMNS)
        batch.replace(con, "batch_icp_scores", scores)
        stage_model_hash(con, settings.org_id, current)
        report = _insights(learn_from_customers(scored, model)) if learn else None
        stage_insights(con, settings.org_id, context.run.run_id, current, report)
        distribution = scores_after_run(con, settings.org_id)
    crash_point("icp_scores.done")
    changed = scores.join(inputs.previous, on=["id", "icp_score"], how="anti").height
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": distribution.height,
            "scored_this_run": scores.height,
            "scope": "every contact" if everything else "contacts this run changed",
            "scores_changed": changed,
            "icp/model_version": str(model.version),
            "icp/model_hash": current,
            "mean_score": round(float(distribution["icp_score"].mean() or 0), 1),
            "score_histogram": dg.MetadataValue.md(histogram_markdown(distribution["icp_score"])),
            "top_contacts_scored_this_run": dg.MetadataValue.md(
                top_contacts_markdown(scores, inputs.contacts)
            ),
        }
    )


def scores_after_run(con: duckdb.DuckDBPyConnection, org: str) -> pl.DataFrame:
    """Every contact's score once this run is applied: this run's scores over the stored
    ones, contacts merged away this run left out (for the histogram of the whole warehouse)."""
    from rex_pipeline.score.inputs import merged_away_sql

    return con.sql(
        f"""SELECT coalesce(s.icp_score, c.icp_score) AS icp_score
            FROM (SELECT id, icp_score FROM contacts WHERE org_id = $org) c
            FULL JOIN batch_icp_scores s ON c.id = s.id
            WHERE s.id IS NOT NULL OR c.id NOT IN ({merged_away_sql(con)})""",
        params={"org": org},
    ).pl()


@dg.asset_check(
    asset=icp_scores,
    blocking=True,
    pool="duckdb_write",  # it opens the work database, which holds one writer at a time
    description="Every contact has a score within 0–100, a reason and a scored_at; a failure "
    "stops the run before anything is published.",
)
def icp_scores_valid(
    config: SyncConfig, rex_settings: RexSettings, work_db: WorkDatabase
) -> dg.AssetCheckResult:
    from rex_pipeline.score import check_scores

    settings = settings_for(rex_settings, config)
    with work_db.connect(settings) as con:
        scores = batch.table(con, "batch_icp_scores")
    result = check_scores(scores)
    return dg.AssetCheckResult(
        passed=result.passed,
        description=result.description,
        metadata={
            "out_of_range": result.out_of_range,
            "missing_reason": result.missing_reason,
            "missing_scored_at": result.missing_scored_at,
        },
    )


def build_insights_asset(upstream: dg.AssetsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name="icp_customer_insights",
        group_name="score",
        kinds={"polars"},
        deps=[upstream],
        description="Learn from the customers: per criterion value, how much more common it is "
        "among contacts at stage customer (lift, counts, small-sample warnings), how well the "
        "current model separates customers from the rest (ROC AUC), and a suggested model to "
        "paste into rex.yaml. Computed over the whole warehouse on a full refresh, a new model "
        "or once a day (by the scoring step's own pass when it scored every contact); "
        "incremental runs in between carry the last report forward.",
    )
    def icp_customer_insights(
        context: dg.AssetExecutionContext,
        config: SyncConfig,
        rex_settings: RexSettings,
        work_db: WorkDatabase,
    ) -> dg.MaterializeResult:
        from rex_pipeline.score import learn_from_customers, load_icp_model, model_hash
        from rex_pipeline.score.state import insights_of_run

        settings = settings_for(rex_settings, config)
        model = load_icp_model(settings.icp, settings.config_file)
        current = model_hash(model)
        run_id = context.run.run_id
        with work_db.connect(settings) as con:
            # this run's scoring pass over every contact has the freshest report
            report = insights_of_run(con, settings.org_id, run_id, current)
            computed_by = "icp_scores"
            if report is None:
                previous = _previous_report(context, settings.org_id, current, config.full_refresh)
                if previous is not None:
                    return dg.MaterializeResult(metadata=previous)
                _, scored = _score(context, settings, con, model, keep_features=True)
                report = _insights(learn_from_customers(scored, model))
                computed_by = "icp_customer_insights"
        return dg.MaterializeResult(
            metadata={
                "icp/model_hash": current,
                "icp/org_id": settings.org_id,
                "computed_in_run": run_id,
                "computed_by": computed_by,
                **report,
                "report": dg.MetadataValue.md(str(report["report"])),
                "suggested_model_yaml": dg.MetadataValue.md(str(report["suggested_model_yaml"])),
            }
        )

    return icp_customer_insights


def _insights(report: "LearnReport") -> dict[str, object]:
    """The insights asset's report as plain values (markdown as text): what a scoring pass
    over every contact hands to it (`score.state.stage_insights`)."""
    from rex_pipeline.score import learn_markdown

    return {
        "auc_current_model": report.auc_current,
        "auc_suggested_model": report.auc_suggested,
        "customers": report.customers,
        "other_contacts": report.others,
        "report": learn_markdown(report),
        "suggested_model_yaml": f"```yaml\n{report.suggested_model_yaml}```",
    }


def _insights_in_run(context: dg.AssetExecutionContext) -> bool:
    """Whether this run also materializes the insights asset (a run without a recorded
    selection, None or empty as `dg.materialize` leaves it, runs its whole job)."""
    selection = context.run.asset_selection
    return not selection or dg.AssetKey("icp_customer_insights") in selection


#: How long a customer-insights report stays current for incremental runs.
INSIGHTS_MAX_AGE_SECONDS = 24 * 3600


def _previous_report(
    context: dg.AssetExecutionContext, org_id: str, current_hash: str, full_refresh: bool
) -> dict[str, Any] | None:
    """The last report's metadata, when it is recent (under a day old), of the same org and
    from the same model: lifts move slowly and the report scores the whole warehouse, so
    incremental runs carry it forward and the daily full sync (or a model change) computes it
    again."""
    if full_refresh:
        return None
    event = context.instance.get_latest_materialization_event(context.asset_key)
    if event is None or event.asset_materialization is None:
        return None
    metadata = dict(event.asset_materialization.metadata)
    model, org = metadata.get("icp/model_hash"), metadata.get("icp/org_id")
    if model is None or model.value != current_hash or org is None or org.value != org_id:
        return None
    if time.time() - event.timestamp > INSIGHTS_MAX_AGE_SECONDS:
        return None
    return metadata
