"""Names in a population: typos, look-alike names of colleagues, rare full names, initials and
addresses that spell a name."""

from __future__ import annotations

import polars as pl

from rex_pipeline.resolve.fuzzy import explain_pair, find_candidate_pairs
from rex_pipeline.resolve.fuzzy.features import made_from_full_name
from tests.resolve_fuzzy.fuzzy_factory import SETTINGS, contacts, crowd, pair_of, person


def test_a_one_off_misspelling_counts_as_the_name_it_misspells() -> None:
    population = crowd(2000, {"Melissa Okafor": 40, "Ada Lovelace": 3})
    typo = explain_pair(
        person("n1", "Mlissa", "Lovelace", "mlissa.l@gmail.com"),
        person("n2", "Melissa", "Lovelace", "melissa@fjord-labs.no"),
        SETTINGS,
        population=population,
    )
    assert typo["evidence"]["first_name"]["level"] == "typo"
    alone = explain_pair(
        person("n1", "Mlissa", "Lovelace", "mlissa.l@gmail.com"),
        person("n2", "Melissa", "Lovelace", "melissa@fjord-labs.no"),
        SETTINGS,
    )
    # without a population nothing says which spelling is the name: a weaker "similar"
    assert alone["evidence"]["first_name"]["level"] == "similar"
    assert typo["match_weight"] > alone["match_weight"] + 2


def test_look_alike_names_that_are_both_common_are_two_people() -> None:
    # Mario is not in the nicknames package, but 30 nodes carry it: a name, not a typo of Maria
    population = crowd(2000, {"Maria Lopez": 300, "Mario Lopez": 30})
    explained = explain_pair(
        person("n1", "Maria", "Zelavicin", "maria.zelavicin@orangepeak.com",
               company_domain="orangepeak.com", phones=["+13772993486"]),
        person("n2", "Mario", "Zelavicin", "mario.zelavicin@gmail.com",
               company_domain="orangepeak.com", phones=["+13772993486"]),
        SETTINGS,
        population=population,
    )  # fmt: skip
    assert explained["evidence"]["first_name"]["level"] == "another known name"
    # their shared number is the office line, not evidence they are one person
    assert explained["evidence"]["phone"]["level"] == "same number, other names"
    assert explained["evidence"]["phone"]["weight"] == 0.0
    assert explained["conflict"] == "two given names at the same company"
    assert explained["decision"] != "merge"


def test_a_trailing_s_makes_another_family() -> None:
    explained = explain_pair(
        person("n1", "Pamela", "Dunufielda", "pamdunufielda@gmail.com", phones=["+14257625390"]),
        person("n2", "Pamela", "Dunufieldas", "pamela.d@outlook.com", phones=["+14257625390"]),
        SETTINGS,
    )
    assert explained["evidence"]["last_name"]["level"] == "another family name"
    assert explained["evidence"]["last_name"]["weight"] < 0
    assert explained["evidence"]["phone"]["level"] == "same number, other names"
    assert explained["decision"] == "no match"


def test_look_alike_names_with_look_alike_work_addresses_are_colleagues() -> None:
    # a typo in the name and another in the address of one person is far rarer than two
    # colleagues whose names (and so mailboxes) are a letter or two apart
    explained = explain_pair(
        person("n1", "Jerry", "Zellafields", "jerry.zelafields@windypine.com",
               company_domain="windypine.com"),
        person("n2", "Jerry", "Zelafield", "jerry.zelafield@windypine.com",
               company_domain="windypine.com"),
        SETTINGS,
    )  # fmt: skip
    assert explained["evidence"]["last_name"]["level"] == "similar"
    assert explained["evidence"]["email"]["level"] == "one typo apart, same domain"
    assert explained["conflict"] == (
        "different addresses at the same work domain and look-alike names"
    )


def test_a_numbered_copy_of_a_work_address_is_a_second_person_of_that_name() -> None:
    explained = explain_pair(
        person("n1", "Sofia", "Kesuwood", "sofia_kesuwood@truepulse.com",
               company_domain="truepulse.com", title="Operations Manager"),
        person("n2", "Sofia", "Kesuwood", "sofia_kesuwood1@truepulse.com",
               company_domain="truepulse.com", title="Operations Manager"),
        SETTINGS,
    )  # fmt: skip
    assert explained["conflict"] == (
        "a numbered copy of the other's address at the same work domain"
    )
    assert explained["decision"] != "merge"


def test_a_rare_full_name_needs_less_company_than_a_common_one() -> None:
    population = crowd(20_000, {"John Smith": 60})
    rare = explain_pair(
        person("n1", "Ruth", "Balarinisky", "ruth.balarinisky@northwind.com",
               company_key="northwind", company_domain="northwind.com"),
        person("n2", "Ruth", "Balarinisky", "ruthb79@gmail.com"),
        SETTINGS,
        population=population,
    )  # fmt: skip
    common = explain_pair(
        person("n1", "John", "Smith", "john.smith@northwind.com",
               company_key="northwind", company_domain="northwind.com"),
        person("n2", "John", "Smith", "jsmith79@gmail.com"),
        SETTINGS,
        population=population,
    )  # fmt: skip
    assert rare["evidence"]["last_name"]["weight"] > 3 + common["evidence"]["last_name"]["weight"]
    assert rare["decision"] == "merge"
    assert common["decision"] == "no match"


def test_an_initial_is_spelled_out_by_the_nodes_own_mailbox() -> None:
    carl = person("n1", "C.", "Falusteinsky", "carlfalusteinsky@redlake.io",
                  company_domain="redlake.io")  # fmt: skip
    carol = explain_pair(
        carl, person("n2", "Carol", "Falusteinsky", "carolfalusteinsky@gmail.com"), SETTINGS
    )
    assert carol["evidence"]["first_name"]["level"] == "another known name"
    same = explain_pair(carl, person("n2", "Carl", "Falusteinsky", "carl.f@gmail.com"), SETTINGS)
    assert same["evidence"]["first_name"]["level"] == "exact"


def test_an_address_without_a_name_is_matched_to_the_name_it_spells() -> None:
    profiles = contacts(
        person("n1", None, None, "ruthbalarinisky@gmail.com"),
        person("n2", "Ruth", "Balarinisky", "ruth@northwind.com", company_domain="northwind.com"),
        person("n3", "Ruth", "Smith", "ruth.smith@initech.com"),
    )
    pairs = find_candidate_pairs(
        profiles, SETTINGS.model_copy(update={"resolution": SETTINGS.resolution.model_copy(
            update={"review_threshold": 0.0})})
    )  # fmt: skip
    pair = pair_of(pairs, "n1", "n2")
    assert pair is not None and "name_in_address" in pair["blocking_rules"]
    assert pair["evidence"]["email"]["level"] == "made from the other's name"
    assert pair_of(pairs, "n1", "n3") is None


def test_a_one_off_misspelling_is_filed_under_the_name_for_blocking() -> None:
    profiles = contacts(
        person("n1", "Patricia", "Maribregi", "patricia.m@primequest.com"),
        person("n2", "Patricia", "Maribergi", "patriciamaribergi@yahoo.com"),
        person("n3", "Patricia", "Maribergi", "pmaribergi@outlook.com"),
    )
    pairs = find_candidate_pairs(
        profiles, SETTINGS.model_copy(update={"resolution": SETTINGS.resolution.model_copy(
            update={"review_threshold": 0.0})})
    )  # fmt: skip
    pair = pair_of(pairs, "n1", "n2")
    assert pair is not None and pair["blocking_rules"] == ["name"]
    assert pair["evidence"]["last_name"]["level"] == "typo"


def _spells(letters: str, last: str, firsts: list[str]) -> bool:
    return pl.select(made_from_full_name(pl.lit(letters), pl.lit(last), pl.lit(firsts))).item()


def test_an_initial_and_a_last_name_are_no_full_name_in_an_address() -> None:
    # emyers68@ is what every E. Myers (Eric, Emma ...) would have
    assert not _spells("emyers", "myers", ["e"])
    assert not _spells("myerse", "myers", ["e"])
    assert _spells("ericmyers", "myers", ["eric", "rick"])
    assert _spells("myersrick", "myers", ["eric", "rick"])
