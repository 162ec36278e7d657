"""Pair scoring: the cases the issue names, decided by explainable comparison levels."""

from __future__ import annotations

import polars as pl
import pytest

from rex_pipeline.config import ResolutionSettings, Settings
from rex_pipeline.resolve.fuzzy import contacts as fuzzy_contacts
from rex_pipeline.resolve.fuzzy import explain_pair, find_candidate_pairs
from tests.resolve_fuzzy.fuzzy_factory import SETTINGS, contacts, crowd, pair_of, person


def test_work_and_personal_address_of_one_person_merge() -> None:
    pairs = find_candidate_pairs(
        contacts(
            person("n1", "Ada", "Lovelace", "ada.lovelace@analytical-engines.co.uk",
                   company_key="analytical engines", company_domain="analytical-engines.co.uk"),
            person("n2", "Ada", "Lovelace", "adalovelace@gmail.com",
                   company_key="analytical engines"),
        ),
        SETTINGS,
    )  # fmt: skip
    pair = pair_of(pairs, "n1", "n2")
    assert pair is not None and pair["decision"] == "merge"
    assert "name" in pair["blocking_rules"]
    assert pair["evidence"]["email"]["level"].startswith("same local part, made from the name")
    assert "first_name exact" in pair["reasons"]


def test_nickname_and_shared_mobile_merge() -> None:
    pairs = find_candidate_pairs(
        contacts(
            person("n1", "Bob", "Whitaker", "bob.whitaker@globex.com", phones=["+14155550123"],
                   company_key="globex", company_domain="globex.com"),
            person("n2", "Robert", "Whitaker", "rwhit77@yahoo.com", phones=["+14155550123"]),
        ),
        SETTINGS,
    )  # fmt: skip
    pair = pair_of(pairs, "n1", "n2")
    assert pair is not None and pair["decision"] == "merge"
    assert pair["evidence"]["first_name"]["level"] == "nickname"
    assert pair["evidence"]["phone"]["level"] == "same number"


def test_namesakes_at_different_companies_do_not_merge() -> None:
    pairs = find_candidate_pairs(
        contacts(
            person("n1", "John", "Smith", "john.smith@initech.com", company_key="initech",
                   company_domain="initech.com", phones=["+12125550101"]),
            person("n2", "John", "Smith", "john.smith@umbrella-corp.com", company_key="umbrella",
                   company_domain="umbrella-corp.com", phones=["+13105550199"]),
        ),
        SETTINGS,
    )  # fmt: skip
    pair = pair_of(pairs, "n1", "n2")
    assert pair is None or pair["decision"] == "review"


def test_look_alike_colleagues_conflict() -> None:
    explained = explain_pair(
        person("n1", "John", "Smith", "john.smith@initech.com", company_domain="initech.com"),
        person("n2", "Jane", "Smith", "jane.smith@initech.com", company_domain="initech.com"),
        SETTINGS,
    )
    assert explained["decision"] == "no match"
    assert explained["conflict"] == (
        "different addresses at the same work domain and dissimilar names"
    )
    assert explained["evidence"]["email"]["level"] == "another address at the same work domain"


def test_paul_and_paula_are_different_names() -> None:
    explained = explain_pair(
        person("n1", "Paul", "Okafor", "paul@okafor-design.com"),
        person("n2", "Paula", "Okafor", "paula.okafor@gmail.com"),
        SETTINGS,
    )
    assert explained["evidence"]["first_name"]["level"] == "different"


def test_look_alike_given_names_are_not_typos_of_each_other() -> None:
    # Carl / Carol at one company: both real names, so not "similar" (+1.5) but a penalty,
    # and with a second mailbox at the company domain the pair is a conflict
    explained = explain_pair(
        person("n1", "Carl", "Lomastein", "clomastein@rapidharbor.net",
               company_domain="rapidharbor.net"),
        person("n2", "Carol", "Lomastein", "carol.lomastein@rapidharbor.net",
               company_domain="rapidharbor.net"),
        SETTINGS,
    )  # fmt: skip
    assert explained["evidence"]["first_name"]["level"] == "another known name"
    assert explained["evidence"]["first_name"]["weight"] < 0
    assert explained["conflict"] is not None and explained["decision"] != "merge"
    typo = explain_pair(
        person("n1", "Jamees", "Toruwood", "jt@ironbridge.net"),
        person("n2", "James", "Toruwood", "james@ironbridge.net"),
        SETTINGS,
    )
    assert typo["evidence"]["first_name"]["level"] == "similar"


def test_a_name_made_mailbox_at_home_and_at_work_alone_does_not_merge() -> None:
    # namesakes often have the same firstname.lastname mailbox: a personal and a work address
    # made from one name, with nothing else shared, goes to review
    pairs = find_candidate_pairs(
        contacts(
            person("n1", "Virginia", "Lawrence", "virginia.lawrence@smartvale.co",
                   company_key="smart vale", company_domain="smartvale.co"),
            person("n2", "Virginia", "Lawrence", "virginialawrence@outlook.com"),
        ),
        SETTINGS,
    )  # fmt: skip
    pair = pair_of(pairs, "n1", "n2")
    assert pair is not None and pair["decision"] == "review"


def test_shared_inbox_is_no_evidence() -> None:
    pairs = find_candidate_pairs(
        contacts(
            person("n1", "Maria", "Garcia", "info@northwind-traders.com"),
            person("n2", "Kenji", "Watanabe", "info@northwind-traders.com"),
        ),
        SETTINGS,
    )
    assert pairs.is_empty()
    explained = explain_pair(
        person("n1", "Maria", "Garcia", "info@northwind-traders.com"),
        person("n2", "Maria", "Garcia", "sales@northwind-traders.com"),
        SETTINGS,
    )
    assert explained["evidence"]["email"]["level"] == "missing"


def test_switchboard_number_is_no_evidence() -> None:
    board = "+442079460000"
    profiles = contacts(
        person("n1", "Alice", "Brown", "alice@contoso.co.uk", phones=[board]),
        person("n2", "Alice", "Browne", "abrowne@hotmail.com", phones=[board]),
        person("n3", "Tom", "Okoye", "tom@contoso.co.uk", phones=[board]),
        person("n4", "Priya", "Natarajan", "priya@contoso.co.uk", phones=[board]),
    )
    explained = explain_pair(
        profiles.row(0, named=True), profiles.row(1, named=True), SETTINGS, population=profiles
    )
    assert explained["evidence"]["phone"]["level"] == "missing"
    alone = explain_pair(profiles.row(0, named=True), profiles.row(1, named=True), SETTINGS)
    assert alone["evidence"]["phone"]["level"] == "same number"


def test_different_linkedin_profiles_conflict_even_with_same_name() -> None:
    explained = explain_pair(
        person("n1", "Wei", "Zhang", "wei.zhang@acme.io",
               linkedin_url="https://www.linkedin.com/in/wei-zhang-1a2b3c"),
        person("n2", "Wei", "Zhang", "wzhang@gmail.com",
               linkedin_url="https://www.linkedin.com/in/weizhang88"),
        SETTINGS,
    )  # fmt: skip
    assert explained["conflict"] == "different LinkedIn profiles"
    assert explained["decision"] != "merge"


def test_explain_pair_names_every_comparison_and_adds_up() -> None:
    explained = explain_pair(
        person("n1", "Zoë", "Ångström", "zoe.angstrom@fjord-labs.no", title="Head of Data"),
        person("n2", "Zoe", "Angstrom", "zoe.angstrom@gmail.com", title="head of data"),
        SETTINGS,
    )
    evidence = explained["evidence"]
    assert set(evidence) == {
        "first_name", "last_name", "email", "phone", "linkedin", "company", "title"
    }  # fmt: skip
    assert evidence["first_name"]["level"] == "exact"  # accents do not matter
    assert evidence["title"]["level"] == "similar"
    total = -12.0 + sum(field["weight"] for field in evidence.values())
    assert abs(total - explained["match_weight"]) < 1e-9


def test_typo_in_a_work_address_merges_with_the_same_name_and_company() -> None:
    pairs = find_candidate_pairs(
        contacts(
            person("n1", "Grace", "Hopper", "grace.hopper@navy-systems.com",
                   company_key="navy systems", company_domain="navy-systems.com"),
            person("n2", "Grace", "Hopper", "grace.hoper@navy-systems.com",
                   company_key="navy systems", company_domain="navy-systems.com"),
        ),
        SETTINGS,
    )  # fmt: skip
    pair = pair_of(pairs, "n1", "n2")
    assert pair is not None and pair["decision"] == "merge"
    assert pair["evidence"]["email"]["level"] == "one typo apart, same domain"


def test_a_bigger_population_needs_more_than_a_name_but_not_more_than_a_number() -> None:
    # 40,000 other people: namesakes become likelier, a shared mobile does not
    n = pl.int_range(40_000, eager=True).cast(pl.String)
    people = pl.DataFrame(
        {
            "node_id": "p" + n,
            "first_name": "First" + (n.cast(pl.Int64) % 700).cast(pl.String),
            "last_name": "Last" + n,
            "email_keys": ("user" + n + "@example.org")
            .to_frame("e")
            .select(pl.concat_list("e"))["e"],
        }
    )
    by_name = (
        person("n1", "Ada", "Lovelace", "ada.lovelace@engines.co.uk"),
        person("n2", "Ada", "Lovelace", "adalovelace@gmail.com"),
    )
    by_phone = (
        person("n3", "Ada", "Lovelace", "ada@engines.co.uk", phones=["+447700900123"]),
        person("n4", "A.", "Lovelace", "countess1815@gmail.com", phones=["+447700900123"]),
    )
    small = explain_pair(*by_name, SETTINGS)["match_weight"]
    large = explain_pair(*by_name, SETTINGS, population=people)["match_weight"]
    assert large < small - 1.5
    phone = explain_pair(*by_phone, SETTINGS, population=people)
    assert phone["decision"] == "merge"


def test_one_name_at_one_company_weighs_the_same_in_a_bigger_population() -> None:
    # the company's people, not the warehouse's, are who else could carry the name: 40,000
    # others change nothing for Ada Lovelace twice at engines.co.uk; but a look-alike
    # colleague's name (Lovelace / Lovelock), or two mailboxes there (how two namesakes at one
    # company look), still count for less among more people
    others = crowd(40_000)
    at_engines = {"company_key": "engines", "company_domain": "engines.co.uk"}
    work = person("n1", "Ada", "Lovelace", "ada.lovelace@engines.co.uk", **at_engines)
    same = (work, person("n2", "Ada", "Lovelace", "ada.l1815@gmail.com", **at_engines))
    alike = (work, person("n3", "Ada", "Lovelock", "ada.l1815@gmail.com", **at_engines))
    two_mailboxes = (work, person("n4", "Ada", "Lovelace", "alovelace@engines.co.uk", **at_engines))
    small, large = (explain_pair(*same, SETTINGS, population=p) for p in (None, others))
    assert large["evidence"]["company"]["level"] == "same domain"
    assert large["match_weight"] == pytest.approx(small["match_weight"])
    small, large = (explain_pair(*alike, SETTINGS, population=p) for p in (None, others))
    assert large["evidence"]["last_name"]["level"] not in ("exact", "typo")
    assert large["match_weight"] < small["match_weight"] - 1.5
    small, large = (explain_pair(*two_mailboxes, SETTINGS, population=p) for p in (None, others))
    assert large["evidence"]["last_name"]["level"] == "exact"
    assert large["match_weight"] < small["match_weight"] - 1.5


def test_a_number_two_mailboxes_of_one_company_share_is_the_office_line() -> None:
    explained = explain_pair(
        person("n1", "Sarah", "Wallace", "sarah.wallace@greenbridge.com",
               phones=["+19368072485"], company_domain="greenbridge.com"),
        person("n2", "Sarah", "Wallaces", "sarah.wallaces@greenbridge.com",
               phones=["+19368072485"], company_domain="greenbridge.com"),
        SETTINGS,
    )  # fmt: skip
    assert explained["evidence"]["phone"]["level"] == "same office number"
    assert explained["decision"] == "no match"


def test_alike_company_names_at_two_domains_are_two_companies() -> None:
    explained = explain_pair(
        person("n1", "Jörg", "Müller", "jörg@müller.de", company_key="muller",
               company_domain="müller.de"),
        person("n2", "Jörg", "Muller", "jorg.muller@muller-bau.de", company_key="muller bau",
               company_domain="muller-bau.de"),
        SETTINGS,
    )  # fmt: skip
    assert explained["evidence"]["company"]["level"] == "different"
    assert explained["decision"] != "merge"


def test_scoring_in_chunks_gives_the_pairs_of_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run with more candidate pairs than one chunk scores them chunk by chunk, with the
    addresses' name evidence worked out once for all of them: the same pairs as one pass."""
    profiles = contacts(
        person("a1", "Ada", "Lovelace", "ada.lovelace@analytical-engines.co.uk",
               company_domain="analytical-engines.co.uk"),
        person("a2", "Ada", "Lovelace", "adalovelace@gmail.com"),
        person("a3", "Ada", "Lovelace", "alovelace@analytical-engines.co.uk",
               company_domain="analytical-engines.co.uk"),
        person("k1", "Katherine", "O'Brien", "kobrien83@gmail.com", phones=["+14155550123"]),
        person("k2", "Kate", "O'Brien", "katherine.obrien@acme-robotics.com",
               phones=["+14155550123"], company_domain="acme-robotics.com"),
        person("c1", "Carl", "Fernandez", "carl_fernandez@globex.com",
               company_domain="globex.com"),
        person("c2", "Carol", "Fernandez", "carol_fernandez@globex.com",
               company_domain="globex.com"),
        person("n1", None, None, "adalovelace@gmail.com"),
    )  # fmt: skip
    every_pair = Settings(resolution=ResolutionSettings(merge_threshold=0.92, review_threshold=0))
    whole = find_candidate_pairs(profiles, every_pair)
    assert whole.height >= 6  # Ada's three nodes, the O'Briens, the Fernandezes, the nameless
    monkeypatch.setattr(fuzzy_contacts, "SCORE_CHUNK", 2)
    chunked = find_candidate_pairs(profiles, every_pair)
    assert chunked.equals(whole)
