"""Run configuration an analyst can change from the Dagster launchpad (defaults: rex.yaml)."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from pydantic import Field

from rex_pipeline.config import Settings
from rex_pipeline.resources import RexSettings


class SyncConfig(dg.Config):
    """Parameters of one sync run; empty values fall back to rex.yaml / REX_* variables."""

    full_refresh: bool = Field(
        default=False, description="Re-read every inbox file, even those already loaded."
    )
    org_id: str | None = Field(
        default=None,
        description="Organisation to sync (REX_ORG_ID); the same on every op of a run.",
    )
    merge_threshold: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Auto-merge score threshold (resolution.merge_threshold).",
    )
    review_threshold: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Review-queue threshold (resolution.review_threshold).",
    )


def settings_for(
    rex: RexSettings, config: SyncConfig, context: dg.AssetExecutionContext | None = None
) -> Settings:
    """The run's settings: rex.yaml + env, then the launchpad overrides. With the step's
    `context`, a run whose ops name different orgs fails here, before anything is written:
    its steps would share one batch under two orgs."""
    # imported here: every `dagster` command loads the definitions, few run a step
    from rex_pipeline.query import SmartListRequest
    from rex_pipeline.score import load_icp_model

    if context is not None:
        _one_org(context.run.run_config)
    settings = rex.load(org_id=config.org_id)
    # a bad model fails the run at its first step, naming the file and the field
    load_icp_model(settings.icp, settings.config_file)
    for view in settings.views:  # so does a saved view that would not run
        SmartListRequest.model_validate(view.query)
    updates: dict[str, Any] = {}
    if config.merge_threshold is not None:
        updates["merge_threshold"] = config.merge_threshold
    if config.review_threshold is not None:
        updates["review_threshold"] = config.review_threshold
    if updates:
        resolution = type(settings.resolution).model_validate(
            {**settings.resolution.model_dump(), **updates}
        )
        settings = settings.model_copy(update={"resolution": resolution})
    return settings


def _one_org(run_config: Mapping[str, Any]) -> None:
    ops = run_config.get("ops") or {}
    orgs = {name: ((op or {}).get("config") or {}).get("org_id") for name, op in ops.items()}
    if len(set(orgs.values())) > 1:
        named = ", ".join(f"{name}: {org or '(rex.yaml)'}" for name, org in sorted(orgs.items()))
        raise dg.Failure(
            description=f"The run's ops name different orgs ({named}): give every op the same "
            "org_id in the launchpad, or leave them all empty and set REX_ORG_ID."
        )
