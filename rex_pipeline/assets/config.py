"""Run configuration an analyst can change from the Dagster launchpad (defaults: rex.yaml)."""

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
    org_id: str | None = Field(default=None, description="Organisation to sync (REX_ORG_ID).")
    merge_threshold: float | None = Field(
        default=None, description="Auto-merge score threshold (resolution.merge_threshold)."
    )
    review_threshold: float | None = Field(
        default=None, description="Review-queue threshold (resolution.review_threshold)."
    )


def settings_for(rex: RexSettings, config: SyncConfig) -> Settings:
    """The run's settings: rex.yaml + env, then the launchpad overrides."""
    # imported here: every `dagster` command loads the definitions, few run a step
    from rex_pipeline.query import SmartListRequest
    from rex_pipeline.score import load_icp_model

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
