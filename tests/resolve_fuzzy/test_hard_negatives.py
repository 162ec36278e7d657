"""Hard negatives: colleagues and namesakes whose records carry typos. A typo counts as the
name it misspells, so it must not count as a name it only happens to look like."""

from __future__ import annotations

from rex_pipeline.resolve.fuzzy import explain_pair
from tests.resolve_fuzzy.fuzzy_factory import SETTINGS, crowd, person


def test_a_typo_between_two_family_names_counts_as_neither() -> None:
    # Hamiltosn is one edit from Hamilton and from Hamiltons, another family (a colleague)
    population = crowd(2000, {"Larry Hamilton": 40})
    colleague = dict(company_key="sunny spark", company_domain="sunnyspark.com")
    explained = explain_pair(
        person("n1", "Larry", "Hamiltosn", "rocket76s@gmail.com", **colleague),
        person("n2", "Larry", "Hamilton", "larry@sunnyspark.com", **colleague),
        SETTINGS,
        population=population,
    )
    assert explained["evidence"]["last_name"]["level"] == "similar"
    assert explained["decision"] != "merge"
    plain = explain_pair(  # a typo with no s in it is Hamilton misspelt
        person("n1", "Larry", "Hamilotn", "rocket76s@gmail.com", **colleague),
        person("n2", "Larry", "Hamilton", "larry@sunnyspark.com", **colleague),
        SETTINGS,
        population=population,
    )
    assert plain["evidence"]["last_name"]["level"] == "typo"


def test_a_typo_of_one_name_is_not_a_look_alike_of_another() -> None:
    # Micchael is Michael misspelt; Michelle, his colleague, is another person
    # the typo recurs (on 3 nodes) but is far rarer than Michael
    population = crowd(2000, {"Michael Smith": 400, "Michelle Jones": 40, "Micchael Ito": 2})
    colleague = dict(company_key="vector hive", company_domain="vectorhive.io")
    explained = explain_pair(
        person("n1", "Micchael", "Yaroridge", "contact@vectorhive.io", **colleague),
        person("n2", "Michelle", "Yaroridge", "michelle1@vectorhive.io", **colleague),
        SETTINGS,
        population=population,
    )
    assert explained["evidence"]["first_name"]["level"] == "another known name"
    assert explained["decision"] != "merge"
    same = explain_pair(
        person("n1", "Micchael", "Yaroridge", "contact@vectorhive.io", **colleague),
        person("n2", "Michael", "Yaroridge", "michael@vectorhive.io", **colleague),
        SETTINGS,
        population=population,
    )
    assert same["evidence"]["first_name"]["level"] == "typo"


def test_mailboxes_of_two_given_names_are_no_typo_of_each_other() -> None:
    # Carol's record misspells her name as Carl, but her address still says carol
    colleague = dict(company_key="true dale", company_domain="truedale.net")
    explained = explain_pair(
        person("n1", "Carl", "Fernandez", "carl_fernandez@truedale.net", **colleague),
        person("n2", "Carl", "Fernandez", "carol_fernandez@truedale.net", **colleague),
        SETTINGS,
    )
    assert explained["evidence"]["email"]["level"] == "another address at the same work domain"
    typo = explain_pair(  # a typo in an address that is not two names still reads as one
        person("n1", "Carl", "Fernandez", "cfernandez@truedale.net", **colleague),
        person("n2", "Carl", "Fernandez", "cfernandezz@truedale.net", **colleague),
        SETTINGS,
    )
    assert typo["evidence"]["email"]["level"] == "one typo apart, same domain"
    dropped = explain_pair(  # lina_ for linda_ is a typo that makes a name, of the same gender
        person("n1", "Linda", "Mendoza", "lina_mendoza@truedale.net", **colleague),
        person("n2", "Linda", "Mendoza", "linda_mendoza@truedale.net", **colleague),
        SETTINGS,
    )
    assert dropped["evidence"]["email"]["level"] == "one typo apart, same domain"
