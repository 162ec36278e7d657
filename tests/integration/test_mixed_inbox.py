"""CSV + Gmail + Instantly through the whole graph: one person, one contact, every activity."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, Env
from tests.integration.test_pipeline import assert_ok

pytestmark = pytest.mark.integration


def test_sample_inbox_person_in_all_three_sources_is_one_contact(env: Env) -> None:
    shutil.copytree(REPO / "data" / "inbox", env.inbox, dirs_exist_ok=True)
    result = env.run()
    assert_ok(result)
    rows = env.sql(
        "SELECT id, stage, first_name, last_name FROM contacts "
        "WHERE email = 'ada.lovelace@acme-robotics.com'"
    )
    assert len(rows) == 1
    ada, stage, first, last = rows[0]
    assert (first, last) == ("Ada", "Lovelace")
    assert stage == "prospect"  # Instantly "meeting booked" moved her forward, never back
    systems = {
        r[0]
        for r in env.sql(
            "SELECT DISTINCT source_system FROM contact_sources WHERE contact_id = ?", [ada]
        )
    }
    assert systems == {"csv", "gmail", "instantly"}
    by_source = dict(
        env.sql("SELECT source, count(*) FROM activities WHERE contact_id = ? GROUP BY 1", [ada])
    )
    assert by_source.get("gmail", 0) >= 1 and by_source.get("instantly", 0) >= 1
    # the activity's company is its contact's company
    assert env.sql(
        "SELECT count(*) FROM activities a JOIN contacts c ON c.id = a.contact_id "
        "WHERE a.company_id IS DISTINCT FROM c.company_id AND c.company_id IS NOT NULL "
        "AND a.contact_id = ?",
        [ada],
    ) == [(0,)]
    # the org's own mailboxes never become contacts
    own = env.sql(
        "SELECT count(*) FROM contact_emails WHERE email ILIKE '%@northwind-labs.io' "
        "OR email ILIKE 'alex@northwind-mail.io'"
    )
    assert own == [(0,)]
    # every asset check passed
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks), [c.check_name for c in checks if not c.passed]


def test_real_sample_exports_load_through_the_graph(env: Env, samples: Path) -> None:
    env.copy(samples / "gmail" / "dogsheep_small.gmail.mbox", "gmail/takeout.mbox")
    for f in (samples / "gmail_api_json").glob("*.json"):
        env.copy(f, f"gmail/{f.name}")
    for f in (samples / "instantly").glob("*.json"):
        env.copy(f, f"instantly/{f.name}")
    env.copy(samples / "linkedin" / "jasontoups_Connections_REDACTED.csv", "csv/Connections.csv")
    assert_ok(env.run())
    sources = dict(env.sql("SELECT source, count(*) FROM activities GROUP BY 1"))
    assert sources.get("gmail", 0) >= 5 and sources.get("instantly", 0) >= 1
    assert (
        env.sql("SELECT count(*) FROM contact_sources WHERE source_file = 'Connections.csv'")[0][0]
        > 0
    )
    # Message-IDs are stored without angle brackets
    assert env.sql("SELECT count(*) FROM activities WHERE external_id LIKE '<%'") == [(0,)]
