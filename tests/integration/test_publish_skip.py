"""A run that changes nothing does not copy the warehouse again; any change, a missing file or
a crash between swap and bookkeeping makes the next run publish."""

from __future__ import annotations

import pytest

from tests.conftest import Env
from tests.integration.test_pipeline import APOLLO, HUBSPOT, assert_ok

pytestmark = pytest.mark.integration


def _published(result) -> str:  # type: ignore[no-untyped-def]
    meta = result.asset_materializations_for_node("warehouse")[0].metadata
    return str(meta["published"].value)


def test_unchanged_inbox_keeps_the_published_file(env: Env) -> None:
    env.write("csv/hubspot.csv", HUBSPOT)
    assert_ok(first := env.run())
    assert _published(first).startswith("new file")
    inode = env.db.stat().st_ino
    again = env.run()
    assert_ok(again)
    assert _published(again).startswith("unchanged")
    assert env.db.stat().st_ino == inode  # the same file: nothing was copied

    env.write("csv/apollo.csv", APOLLO)
    changed = env.run()
    assert_ok(changed)
    assert _published(changed).startswith("new file")
    assert "updated where it changed" in _published(changed)  # the last file, brought up to date
    assert env.sql("SELECT count(*) FROM contacts") == [(4,)]

    env.db.unlink()  # someone removed the analysts' file: the next run brings it back
    assert_ok(restored := env.run())
    assert _published(restored).startswith("new file")
    assert "written afresh" in _published(restored)
    assert env.sql("SELECT count(*) FROM contacts") == [(4,)]


def test_full_refresh_and_new_views_publish(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import REPO

    env.write("csv/hubspot.csv", HUBSPOT)
    assert_ok(env.run())
    assert _published(env.run({"full_refresh": True})).startswith("new file")
    config = env.root / "rex.yaml"
    text = (REPO / "rex.yaml").read_text(encoding="utf-8")
    assert "\nviews:" in text
    config.write_text(
        text.replace(
            "\nviews:",
            "\nviews:\n  - name: all-leads\n    description: every lead\n"
            "    query: {query: {groups: [{conditions: [{field: stage, op: eq, value: lead}]}]}}",
            1,
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("REX_CONFIG", str(config))
    assert _published(run := env.run()).startswith("new file"), run
    assert ("all-leads",) in env.sql("SELECT name FROM saved_views")


def test_integrity_checks_trust_an_earlier_pass_on_the_same_file(env: Env) -> None:
    import dagster as dg

    instance = dg.DagsterInstance.ephemeral()  # one instance: runs see each other's checks

    def run() -> dict[str, dg.AssetCheckEvaluation]:
        result = env.run(instance=instance)
        assert_ok(result)
        return {e.check_name: e for e in result.get_asset_check_evaluations()}

    env.write("csv/hubspot.csv", HUBSPOT)
    first = run()
    assert "unchanged file" not in (first["unique_email_per_org"].description or "")
    second = run()  # nothing changed: the same file, no queries
    assert second["unique_email_per_org"].passed
    assert "unchanged file" in (second["unique_email_per_org"].description or "")
    env.write("csv/apollo.csv", APOLLO)
    third = run()  # a new file is checked again
    assert "unchanged file" not in (third["unique_email_per_org"].description or "")
