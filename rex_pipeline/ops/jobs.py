"""The sync job: every asset and its checks. The schedule and the inbox sensor both start it; they
differ only in the run config (`full_refresh`)."""

import dagster as dg

SYNC_JOB_NAME = "sync"

sync_job = dg.define_asset_job(
    SYNC_JOB_NAME,
    selection=dg.AssetSelection.all(),
    description="Sync the inbox into the warehouse: every asset, then the warehouse checks. "
    "Started by the daily full sync (full_refresh) and by the inbox sensor (incremental).",
)


def takes_sync_config(op: dg.OpDefinition) -> bool:
    """Ops whose config is a SyncConfig (every asset of the graph; checks take none)."""
    config_type = op.config_schema.config_type if op.config_schema else None
    return "full_refresh" in (getattr(config_type, "fields", None) or {})


def sync_run_config(job: dg.JobDefinition, full_refresh: bool) -> dict[str, object]:
    """Run config setting `full_refresh` on every op of `job` that takes a SyncConfig, so a
    new asset joins the schedule and the sensor without editing them."""
    ops = {
        node.name: {"config": {"full_refresh": full_refresh}}
        for node in job.graph.nodes
        if isinstance(node.definition, dg.OpDefinition) and takes_sync_config(node.definition)
    }
    return {"ops": dict(sorted(ops.items()))}
