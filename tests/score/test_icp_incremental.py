"""Through the graph: a run scores only the contacts it can change, unless the model changed
(or a full refresh asks for everything); an unchanged inbox rescores nothing."""

from __future__ import annotations

import dagster as dg
import pytest

from tests.conftest import REPO, Env
from tests.integration.test_pipeline import APOLLO, HUBSPOT, assert_ok

pytestmark = pytest.mark.integration


def _scoring(result) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    meta = result.asset_materializations_for_node("icp_scores")[0].metadata
    return meta["scope"].value, meta["scored_this_run"].value


def _scored_at(env: Env) -> dict[str, object]:
    return dict(env.sql("SELECT email, icp_scored_at FROM contacts"))


def test_runs_score_what_they_change_and_a_new_model_rescores_all(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    env.write("csv/hubspot.csv", HUBSPOT)
    first = env.run()
    assert_ok(first)
    assert _scoring(first) == ("every contact", 3)  # no stored scores yet
    before = _scored_at(env)

    env.write("csv/apollo.csv", APOLLO)  # Ada again, and Linus
    second = env.run()
    assert_ok(second)
    assert _scoring(second) == ("contacts this run changed", 2)
    after = _scored_at(env)
    assert after["grace.hopper@globex.com"] == before["grace.hopper@globex.com"]
    assert env.sql("SELECT count(*) FROM contacts WHERE icp_score IS NULL") == [(0,)]

    assert _scoring(env.run()) == ("contacts this run changed", 0)  # nothing new

    config = env.root / "rex.yaml"
    text = (REPO / "rex.yaml").read_text(encoding="utf-8")
    config.write_text(text.replace("vp: 25, head: 20", "vp: 30, head: 20"), encoding="utf-8")
    monkeypatch.setenv("REX_CONFIG", str(config))
    changed_model = env.run()
    assert_ok(changed_model)
    assert _scoring(changed_model) == ("every contact", 4)
    assert _scoring(env.run({"full_refresh": True}))[0] == "every contact"


def test_the_histogram_covers_the_whole_warehouse(env: Env) -> None:
    env.write("csv/hubspot.csv", HUBSPOT)
    assert_ok(env.run())
    env.write("csv/apollo.csv", APOLLO)
    meta = env.run().asset_materializations_for_node("icp_scores")[0].metadata
    assert meta["dagster/row_count"].value == 4  # all contacts, not the two scored
    assert meta["score_histogram"].value.count("|") > 10


def test_insights_are_carried_forward_between_full_runs(env: Env) -> None:
    instance = dg.DagsterInstance.ephemeral()  # one instance: the runs see each other

    def run(full_refresh: bool) -> tuple[str, str]:
        result = env.run({"full_refresh": full_refresh}, instance=instance)
        assert_ok(result)
        meta = result.asset_materializations_for_node("icp_customer_insights")[0].metadata
        assert "report" in meta and "auc_current_model" in meta
        return str(meta["computed_in_run"].value), result.run_id

    env.write("csv/hubspot.csv", HUBSPOT)
    computed, first_run = run(False)
    assert computed == first_run
    env.write("csv/apollo.csv", APOLLO)
    assert run(False)[0] == first_run  # the incremental run carries the report forward
    computed, full_run = run(True)
    assert computed == full_run  # a full refresh computes it again
