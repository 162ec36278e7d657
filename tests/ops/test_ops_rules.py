"""The integrity rules on a small published warehouse: a clean one passes every rule, and each
kind of bad data fails exactly the rules that should catch it."""

from __future__ import annotations

import duckdb
import pytest

from rex_pipeline.ids import new_ids
from rex_pipeline.ops.rules import FOREIGN_KEYS, RULES, RULES_BY_NAME, Outcome, run_rule
from tests.ops.ops_warehouse import Warehouse


def outcomes(built: Warehouse) -> dict[str, Outcome]:
    with duckdb.connect(str(built.published), read_only=True) as con:
        return {rule.name: run_rule(con, rule) for rule in RULES}


def failing(built: Warehouse) -> dict[str, dict[str, int]]:
    return {name: o.by_problem for name, o in outcomes(built).items() if not o.passed}


def test_clean_warehouse_passes_every_rule(built: Warehouse) -> None:
    results = outcomes(built)
    assert set(results) == set(RULES_BY_NAME)
    assert all(o.passed and o.sample.is_empty() for o in results.values())


def test_email_shared_by_two_contacts_in_any_case_fails(built: Warehouse) -> None:
    built.change_published(
        "UPDATE contacts SET email = 'ADA.LOVELACE@acme-robotics.com' "
        f"WHERE id = '{built.ids.grace}'",
        "UPDATE contact_emails SET email = 'ADA.LOVELACE@acme-robotics.com' "
        f"WHERE contact_id = '{built.ids.grace}' AND is_primary",
    )
    result = outcomes(built)["unique_email_per_org"]
    assert result.by_problem == {"contacts.email shared by several rows": 1}
    example = result.sample.row(0, named=True)
    assert example["id"] == ", ".join(sorted([built.ids.ada, built.ids.grace]))
    assert failing(built).keys() == {"unique_email_per_org"}


def test_same_email_in_another_org_is_fine(built: Warehouse) -> None:
    other = new_ids("contact", 1)[0]
    built.change_published(
        f"INSERT INTO contacts (id, org_id, email) "
        f"VALUES ('{other}', 'globex-org', 'ada.lovelace@acme-robotics.com')",
        "INSERT INTO contact_emails (contact_id, org_id, email, is_primary) "
        f"VALUES ('{other}', 'globex-org', 'ada.lovelace@acme-robotics.com', true)",
    )
    assert failing(built) == {}


def test_primary_email_in_the_case_given_is_fine(built: Warehouse) -> None:
    """Warehouses built before contact_emails was lower case hold addresses as given."""
    built.change_published(
        f"UPDATE contact_emails SET email = upper(email) WHERE contact_id = '{built.ids.ada}'"
    )
    assert failing(built) == {}


def test_primary_email_missing_or_other_than_contacts_email_fails(built: Warehouse) -> None:
    built.change_published(
        "UPDATE contact_emails SET email = 'ada@elsewhere.example' "
        f"WHERE contact_id = '{built.ids.ada}' AND is_primary",
        f"UPDATE contact_emails SET is_primary = false WHERE contact_id = '{built.ids.grace}'",
    )
    assert failing(built) == {
        "primary_email_listed": {
            "contacts.email without its is_primary contact_emails row": 2,
            "contact_emails is_primary row is not contacts.email": 1,
        }
    }


def test_domain_shared_by_two_companies_fails(built: Warehouse) -> None:
    built.change_published(
        f"UPDATE companies SET domain = 'Acme-Robotics.com' WHERE id = '{built.ids.globex}'"
    )
    assert failing(built) == {
        "unique_domain_per_org": {"companies.domain shared by several rows": 1}
    }


def test_malformed_and_reused_ids_fail(built: Warehouse) -> None:
    built.change_published(
        "UPDATE tasks SET id = 'cont_' || substr(id, 6)",
        f"INSERT INTO deals (id, org_id, name) VALUES ('{built.ids.deal}', 'acme', 'copy')",
    )
    assert failing(built) == {
        "ids_valid_and_unique": {
            "tasks.id is not a task_ TypeID": 1,
            "deals.id used by several rows": 1,
        }
    }


def test_duplicate_activity_external_id_fails(built: Warehouse) -> None:
    copy = new_ids("activity", 1)[0]
    built.change_published(
        f"INSERT INTO activities (id, org_id, type, source, external_id) "
        f"VALUES ('{copy}', 'acme', 'email', 'gmail', 'CAF=1@mail.gmail.com')"
    )
    assert failing(built).keys() == {"unique_activity_external_id"}


# every link of FOREIGN_KEYS, broken in one row (the WHERE picks one row of the fixture)
DANGLING = [
    ("activities", "contact_id", "contacts", "contact", "true"),
    ("deals", "contact_id", "contacts", "contact", "true"),
    ("tasks", "contact_id", "contacts", "contact", "true"),
    ("contact_emails", "contact_id", "contacts", "contact", "email = 'ada@lovelace.dev'"),
    ("contacts", "company_id", "companies", "company", "first_name = 'Ada'"),
    ("activities", "company_id", "companies", "company", "true"),
    ("deals", "company_id", "companies", "company", "true"),
    ("activities", "deal_id", "deals", "deal", "true"),
]


def test_every_foreign_key_is_exercised() -> None:
    assert {(t, c, r) for t, c, r, _, _ in DANGLING} == set(FOREIGN_KEYS)


@pytest.mark.parametrize(("table", "column", "target", "entity", "where"), DANGLING)
def test_dangling_links_fail(
    built: Warehouse, table: str, column: str, target: str, entity: str, where: str
) -> None:
    unknown = new_ids(entity, 1)[0]  # a well-formed id that no row has
    built.change_published(f"UPDATE {table} SET {column} = '{unknown}' WHERE {where}")
    problem = f"{table}.{column} → {target} does not resolve"
    assert failing(built) == {"foreign_keys_resolve": {problem: 1}}
    example = outcomes(built)["foreign_keys_resolve"].sample.row(0, named=True)
    assert (example["problem"], example["value"]) == (problem, unknown)


def test_several_broken_links_to_one_table_are_counted_apart(built: Warehouse) -> None:
    unknown = new_ids("contact", 1)[0]
    built.change_published(
        f"UPDATE activities SET contact_id = '{unknown}'",
        f"UPDATE tasks SET contact_id = '{unknown}'",
    )
    assert failing(built) == {
        "foreign_keys_resolve": {
            "activities.contact_id → contacts does not resolve": 1,
            "tasks.contact_id → contacts does not resolve": 1,
        }
    }


def test_unknown_links_are_allowed(built: Warehouse) -> None:
    built.change_published(
        "UPDATE activities SET contact_id = NULL, company_id = NULL, deal_id = NULL",
        "UPDATE contacts SET company_id = NULL",
    )
    assert failing(built) == {}


def test_link_to_a_company_of_another_org_fails(built: Warehouse) -> None:
    built.change_published(
        f"UPDATE companies SET org_id = 'globex-org' WHERE id = '{built.ids.globex}'",
        f"DELETE FROM company_sources WHERE company_id = '{built.ids.globex}'",
    )
    assert failing(built) == {
        "foreign_keys_resolve": {"contacts.company_id → companies does not resolve": 1}
    }


def test_lineage_of_a_company_that_no_longer_exists_fails(built: Warehouse) -> None:
    built.change_published(
        f"UPDATE company_sources SET company_id = '{new_ids('company', 1)[0]}' "
        "WHERE source_file = 'companies.csv'"
    )
    assert failing(built) == {"no_orphan_sources": {"company_sources: no company": 1}}


def test_deleted_contact_leaves_orphan_lineage_and_links(built: Warehouse) -> None:
    built.change_published(f"DELETE FROM contacts WHERE id = '{built.ids.linus}'")
    assert failing(built) == {
        "foreign_keys_resolve": {"contact_emails.contact_id → contacts does not resolve": 1},
        "no_orphan_sources": {"contact_sources: no contact": 1},
    }


def test_values_outside_the_enumerations_fail(built: Warehouse) -> None:
    built.change_published(
        f"UPDATE contacts SET stage = 'Customer' WHERE id = '{built.ids.ada}'",
        "UPDATE activities SET direction = 'incoming'",
        "UPDATE tasks SET priority = NULL",  # unknown is allowed
    )
    assert failing(built) == {
        "enums_valid": {
            "activities.direction not one of inbound|outbound|na": 1,
            "contacts.stage not one of lead|prospect|customer|churned": 1,
        }
    }


def test_icp_score_out_of_range_or_unexplained_fails(built: Warehouse) -> None:
    built.change_published(
        f"UPDATE contacts SET icp_score = 101 WHERE id = '{built.ids.ada}'",
        f"UPDATE contacts SET icp_score_reason = '  ' WHERE id = '{built.ids.linus}'",
    )
    assert failing(built) == {
        "icp_scores_in_range": {
            "contacts.icp_score outside 0–100": 1,
            "contacts.icp_score without icp_score_reason": 1,
        }
    }
