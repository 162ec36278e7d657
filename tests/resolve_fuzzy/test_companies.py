"""Company pairs: names link domain-less records; different domains never merge on name."""

from __future__ import annotations

from rex_pipeline.resolve.fuzzy import cluster, find_company_pairs
from tests.resolve_fuzzy.fuzzy_factory import SETTINGS, companies, company, pair_of


def test_legal_form_variants_of_a_domain_less_company_merge() -> None:
    frame = companies(
        company("c1", "ACME Corp.", "acme", "acme.com"),
        company("c2", "Acme Corporation, Inc.", "acme corporation", None),
    )
    pair = pair_of(find_company_pairs(frame, SETTINGS), "c1", "c2")
    assert pair is not None and pair["decision"] == "merge"
    assert pair["evidence"]["name"]["level"] == "exact"


def test_different_domains_never_merge_on_name_alone() -> None:
    frame = companies(
        company("c1", "Summit Partners", "summit partners", "summitpartners.com"),
        company("c2", "Summit Partners LLC", "summit partners", "summit-partners.io"),
    )
    pairs = find_company_pairs(frame, SETTINGS)
    pair = pair_of(pairs, "c1", "c2")
    assert pair is None or (
        pair["decision"] == "review" and pair["conflict"] == "different domains"
    )
    winners = dict(
        cluster(frame, pairs, None, SETTINGS).select("node_id", "cluster_id").iter_rows()
    )
    assert winners["c2"] == "c2"


def test_a_name_that_fits_two_domains_goes_to_review() -> None:
    frame = companies(
        company("c1", "Summit Partners", "summit partners", "summitpartners.com"),
        company("c2", "Summit Partners", "summit partners", "summit-partners.io"),
        company("c3", "summit partners", "summit partners", None),
    )
    pairs = find_company_pairs(frame, SETTINGS)
    assert set(pairs["decision"]) == {"review"}
    assert "ambiguous" in pair_of(pairs, "c1", "c3")["reasons"]


def test_spacing_and_typo_variants() -> None:
    frame = companies(
        company("c1", "Datadog", "datadog", "datadoghq.com"),
        company("c2", "Data Dog", "data dog", None),
        company("c3", "Blue Harbor Analytics", "blue harbor analytics", None),
        company("c4", "Blue Harbor Analytcs", "blue harbor analytcs", None),
    )
    pairs = find_company_pairs(frame, SETTINGS)
    assert pair_of(pairs, "c1", "c2")["evidence"]["name"]["level"] == "same without spaces"
    typo = pair_of(pairs, "c3", "c4")
    assert typo["evidence"]["name"]["level"] == "similar"
    assert typo["decision"] == "review"


def test_companies_known_by_domain_only_give_no_pairs() -> None:
    nodes = companies(
        company("comp_1", None, None, "fjord.se", is_new=False),  # type: ignore[arg-type]
        company("tmp_1", None, None, "fjord.no"),  # type: ignore[arg-type]
    )
    assert find_company_pairs(nodes, SETTINGS).is_empty()
