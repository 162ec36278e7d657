"""One run's batch at a time in the work database.

The `duckdb_write` pool lets one step write at a time, not one run: two runs started outside
the run queue (two `make run`, or one beside `make dev`) would interleave their steps on the
same `batch_*` tables, each reading the other's half. So every writing step claims the batch for
its run before it writes. A claim by a run that is no longer in progress (finished, failed,
unknown to this Dagster instance) is taken over: a later run may go on with an ended run's
batch, as when the warehouse step is materialised on its own. One by another run in progress
is refused, with a message saying which run. A re-execution of a run continues its parent's.
"""

from __future__ import annotations

import dagster as dg
import duckdb

from rex_pipeline import batch

_IN_PROGRESS = {
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
}


class BatchInUseError(RuntimeError):
    """Another run's batch is in the work database."""


def _ours(context: dg.AssetExecutionContext) -> set[str]:
    run = context.run
    return {run_id for run_id in (run.run_id, run.parent_run_id, run.root_run_id) if run_id}


def _in_progress(context: dg.AssetExecutionContext, run_id: str) -> bool:
    other = context.instance.get_run_by_id(run_id)
    return other is not None and other.status in _IN_PROGRESS


def claim(context: dg.AssetExecutionContext, con: duckdb.DuckDBPyConnection) -> None:
    """Make the batch this run's, before the step writes: every writing step calls it (a run
    may continue the batch of an ended run: the warehouse step materialised on its own after
    the steps before it). Refused while another run in progress holds it."""
    owner = batch.owner(con)
    if owner is not None and owner not in _ours(context) and _in_progress(context, owner):
        raise BatchInUseError(
            f"run {owner} is syncing this warehouse: wait for it to finish (or, if its "
            "process is gone, terminate it in the Dagster UI), then start this sync again"
        )
    if owner != context.run.run_id:
        batch.set_owner(con, context.run.run_id)
