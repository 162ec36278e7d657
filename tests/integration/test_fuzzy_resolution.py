"""Fuzzy resolution inside the whole graph: a new record joins an existing contact by
evidence, overrides are honoured, and borderline pairs go to review."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO, Env
from tests.integration.test_pipeline import assert_ok

pytestmark = pytest.mark.integration

CRM = """\
"Record ID","First Name","Last Name","Email","Phone Number","Job Title","Company Name","Create Date"
"201","Katherine","O'Brien","katherine.obrien@acme-robotics.com","+1 415 555 0123","VP Engineering","Acme Robotics","2023-03-01 09:00"
"202","Jonathan","Reyes","jon.reyes@globex.com","+1 312 555 0190","Head of Sales","Globex","2023-03-02 09:00"
"""
# the same Katherine under a personal address and a nickname, same mobile, same employer
LINKEDIN_EXPORT = """\
First Name,Last Name,Email,Phone,Company,Title
Kate,O'Brien,kobrien83@gmail.com,(415) 555-0123,Acme Robotics Inc.,VP Eng
"""


def _config(env: Env, overrides: str) -> Path:
    (env.root / "overrides.yaml").write_text(overrides, encoding="utf-8")
    text = (REPO / "rex.yaml").read_text(encoding="utf-8")
    config = env.root / "rex.yaml"
    config.write_text(f"overrides_path: {env.root / 'overrides.yaml'}\n{text}", encoding="utf-8")
    return config


def test_nickname_and_personal_address_join_the_existing_contact(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REX_CONFIG", str(_config(env, "must_merge: []\nnever_merge: []\n")))
    env.write("csv/crm.csv", CRM)
    assert_ok(env.run())
    kate = env.sql("SELECT id FROM contacts WHERE email = 'katherine.obrien@acme-robotics.com'")[0][
        0
    ]
    env.write("csv/people.csv", LINKEDIN_EXPORT)
    result = env.run()
    assert_ok(result)
    assert env.sql("SELECT count(*) FROM contacts")[0][0] == 2
    rule, score = env.sql(
        "SELECT match_rule, match_score FROM contact_sources WHERE email = 'kobrien83@gmail.com'"
    )[0]
    assert rule == "fuzzy" and score >= 0.8
    emails = {
        r[0] for r in env.sql("SELECT email FROM contact_emails WHERE contact_id = ?", [kate])
    }
    assert emails == {"katherine.obrien@acme-robotics.com", "kobrien83@gmail.com"}
    meta = result.asset_materializations_for_node("resolved_identities")[0].metadata
    assert meta["fuzzy_merges"].value == 1


def test_never_merge_override_keeps_them_apart(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    overrides = "never_merge:\n  - [Katherine.OBrien@acme-robotics.com, kobrien83@gmail.com]\n"
    monkeypatch.setenv("REX_CONFIG", str(_config(env, overrides)))
    env.write("csv/crm.csv", CRM)
    env.write("csv/people.csv", LINKEDIN_EXPORT)
    assert_ok(env.run())
    assert env.sql("SELECT count(*) FROM contacts")[0][0] == 3
    assert env.sql("SELECT count(*) FROM possible_duplicates") == [(0,)]  # ruled apart


def test_borderline_pair_goes_to_review_not_merge(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REX_CONFIG", str(_config(env, "")))
    env.write("csv/crm.csv", CRM)
    # same name and company, but nothing else in common: a namesake or the same person?
    env.write(
        "csv/other.csv",
        "First Name,Last Name,Email,Company\nKatherine,O'Brien,kob@protonmail.com,Acme Robotics\n",
    )
    result = env.run({"merge_threshold": 0.999, "review_threshold": 0.3})
    assert_ok(result)
    assert env.sql("SELECT count(*) FROM contacts")[0][0] == 3
    rows = env.sql("SELECT entity, score, reasons FROM possible_duplicates")
    assert len(rows) == 1 and rows[0][0] == "contact" and 0.3 <= rows[0][1] < 0.999
    assert "first_name" in rows[0][2] or "name" in rows[0][2]
