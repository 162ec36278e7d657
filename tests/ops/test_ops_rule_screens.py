"""The rules' cheap screens: on a clean warehouse they prove every screened rule clean without
its exact query, and a screen that flags something the rule allows (a hash collision, a reason
written only in non-ASCII letters) never turns into a violation: the exact query decides."""

from __future__ import annotations

from dataclasses import replace

import duckdb

from rex_pipeline.ids import new_ids
from rex_pipeline.ops.rules import RULES, RULES_BY_NAME, Outcome, run_rule
from tests.ops.ops_warehouse import Warehouse

SCREENED = {r.name for r in RULES if r.screen is not None}


def screens(built: Warehouse) -> dict[str, int]:
    with duckdb.connect(str(built.published), read_only=True) as con:
        return {
            r.name: int(con.execute(r.screen).fetchall()[0][0] or 0)
            for r in RULES
            if r.screen is not None
        }


def outcome(built: Warehouse, name: str) -> Outcome:
    with duckdb.connect(str(built.published), read_only=True) as con:
        return run_rule(con, RULES_BY_NAME[name])


def test_the_uniqueness_and_score_rules_are_screened() -> None:
    assert {
        "unique_email_per_org",
        "unique_domain_per_org",
        "ids_valid_and_unique",
        "unique_activity_external_id",
        "icp_scores_in_range",
        "primary_email_listed",
    } == SCREENED


def test_every_screen_is_zero_on_a_clean_warehouse(built: Warehouse) -> None:
    assert screens(built) == dict.fromkeys(SCREENED, 0)


def test_a_screen_that_flags_a_clean_warehouse_defers_to_the_exact_query(
    built: Warehouse,
) -> None:
    """As after a hash collision: the screen says 'maybe', the rule still passes."""
    with duckdb.connect(str(built.published), read_only=True) as con:
        for name in SCREENED:
            rule = replace(RULES_BY_NAME[name], screen="SELECT 1")
            assert run_rule(con, rule).passed, name


def test_each_screen_sees_its_violation(built: Warehouse) -> None:
    built.change_published(
        f"UPDATE contacts SET email = (SELECT email FROM contacts WHERE id = '{built.ids.ada}') "
        f"WHERE id = '{built.ids.grace}'",
        f"UPDATE companies SET domain = 'ACME-ROBOTICS.COM' WHERE id = '{built.ids.globex}'",
        "UPDATE tasks SET id = 'cont_' || substr(id, 6)",
        f"UPDATE contacts SET icp_score = -1 WHERE id = '{built.ids.linus}'",
    )
    flagged = {name for name, n in screens(built).items() if n > 0}
    assert flagged == SCREENED - {"unique_activity_external_id"}


def test_unicode_only_reason_passes_and_unicode_blank_reason_fails(built: Warehouse) -> None:
    """'適合' is a reason (the screen flags it, the exact query keeps it); a no-break space
    alone is blank to `trim`, so still no reason."""
    built.change_published(
        f"UPDATE contacts SET icp_score = 80, icp_score_reason = '適合' "
        f"WHERE id = '{built.ids.ada}'"
    )
    assert screens(built)["icp_scores_in_range"] == 1
    assert outcome(built, "icp_scores_in_range").passed
    built.change_published(
        f"UPDATE contacts SET icp_score_reason = chr(160) WHERE id = '{built.ids.ada}'"
    )
    assert outcome(built, "icp_scores_in_range").by_problem == {
        "contacts.icp_score without icp_score_reason": 1
    }


def test_external_id_shared_by_activities_without_a_source_fails(built: Warehouse) -> None:
    first, second = new_ids("activity", 2)
    built.change_published(
        "INSERT INTO activities (id, org_id, type, source, external_id) VALUES "
        f"('{first}', 'acme', 'email', NULL, 'X-1'), ('{second}', 'acme', 'note', NULL, 'X-1')"
    )
    assert screens(built)["unique_activity_external_id"] == 1
    assert outcome(built, "unique_activity_external_id").violations == 1
