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

    def run(full_refresh: bool, org: str | None = None) -> tuple[str, str]:
        result = env.run({"full_refresh": full_refresh, "org_id": org}, instance=instance)
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
    computed, other_org = run(False, org="globex-org")
    assert computed == other_org  # another org's report is never carried forward


def _won_and_open(n: int = 24) -> str:
    """A HubSpot export where a third of the contacts are customers: VPs at .io software
    companies won more often than the managers at the others."""
    rows = ['"Record ID","First Name","Last Name","Email","Job Title","Lifecycle Stage"']
    for i in range(n):
        vp = i % 2 == 0
        stage = "customer" if i % 3 == 0 else "lead"
        domain = f"soft{i}.io" if vp else f"shop{i}.com"
        title = "VP Engineering" if vp else "Office Manager"
        rows.append(f'"{500 + i}","Person{i}","Lastname{i}","p{i}@{domain}","{title}","{stage}"')
    return "\n".join(rows) + "\n"


def test_the_scoring_pass_over_every_contact_hands_its_report_to_the_insights(
    env: Env,
) -> None:
    from rex_pipeline.definitions import icp_customer_insights

    env.write("csv/hubspot.csv", _won_and_open())
    first = env.run()
    assert_ok(first)
    handed = first.asset_materializations_for_node("icp_customer_insights")[0].metadata
    assert handed["computed_by"].value == "icp_scores"
    assert handed["customers"].value == 8 and handed["other_contacts"].value == 16
    # the same report, computed by the insights asset itself from the published warehouse
    alone = env.run({"full_refresh": True}, assets=[icp_customer_insights])
    assert_ok(alone)
    again = alone.asset_materializations_for_node("icp_customer_insights")[0].metadata
    assert again["computed_by"].value == "icp_customer_insights"
    for key in ("customers", "other_contacts", "auc_current_model", "auc_suggested_model"):
        assert again[key] == handed[key], key
    assert again["report"] == handed["report"]
    assert again["suggested_model_yaml"] == handed["suggested_model_yaml"]
