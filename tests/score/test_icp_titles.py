"""Seniority and department from messy real titles and from Apollo's own codes."""

from __future__ import annotations

import polars as pl
import pytest

from rex_pipeline.score.titles import (
    DEPARTMENTS,
    SENIORITIES,
    department_of,
    department_of_title,
    seniority_of,
    seniority_of_title,
)


@pytest.mark.parametrize(
    ("title", "seniority"),
    [
        ("VP Eng", "vp"),
        ("Vice-President, Sales", "vp"),
        ("SVP Global Sales & Partnerships", "vp"),
        ("Co-founder & CEO", "founder"),
        ("Founder / CTO", "founder"),
        ("Chief Executive Officer", "c_level"),
        ("CTO", "c_level"),
        ("President & COO", "c_level"),
        ("Managing Director EMEA", "c_level"),
        ("Geschäftsführer", "c_level"),
        ("Head of Growth", "head"),
        ("Director of Engineering", "director"),
        ("Sr. Director, Product Marketing", "director"),
        ("Engineering Manager", "manager"),
        ("Tech Lead", "manager"),
        ("Partner Marketing Manager", "manager"),
        ("Sr. Software Engineer", "individual_contributor"),
        ("Founding Engineer", "individual_contributor"),
        ("Account Executive", "individual_contributor"),
        ("Executive Assistant to the CEO", "individual_contributor"),
        ("Product Owner", "individual_contributor"),
        ("Marketing Intern", "individual_contributor"),
        ("Partner", "c_level"),
        ("Growth", None),
        ("", None),
    ],
)
def test_seniority_of_real_titles(title: str, seniority: str | None) -> None:
    assert seniority_of_title(title) == seniority


@pytest.mark.parametrize(
    ("apollo", "seniority"),
    [
        ("c_suite", "c_level"),
        ("vp", "vp"),
        ("head", "head"),
        ("director", "director"),
        ("manager", "manager"),
        ("senior", "individual_contributor"),
        ("entry", "individual_contributor"),
        ("intern", "individual_contributor"),
        ("founder", "founder"),
        ("owner", "founder"),
        ("partner", "c_level"),
    ],
)
def test_seniority_of_apollo_codes(apollo: str, seniority: str) -> None:
    assert seniority_of_title(apollo) == seniority


@pytest.mark.parametrize(
    ("title", "department"),
    [
        ("VP Eng", "engineering"),
        ("Sr. Software Engineer", "engineering"),
        ("Co-founder & CTO", "engineering"),
        ("Co-founder & CEO", "executive"),
        ("Head of Growth", "marketing"),
        ("Product Marketing Manager", "marketing"),
        ("Senior Product Manager", "product"),
        ("Sales Engineer", "sales"),
        ("Chief Revenue Officer", "sales"),
        ("RevOps Manager", "operations"),
        ("People Operations Partner", "hr"),
        ("Technical Recruiter", "hr"),
        ("Customer Success Manager", "customer_success"),
        ("Data Scientist", "data"),
        ("Head of IT", "it"),
        ("CFO", "finance"),
        ("General Counsel", "legal"),
        ("Senior Product Designer", "design"),
        # Apollo's department codes
        ("master_engineering_technical", "engineering"),
        ("master_information_technology", "it"),
        ("master_human_resources", "hr"),
        ("c_suite", "executive"),
        ("Wizard", None),
    ],
)
def test_department_of(title: str, department: str | None) -> None:
    assert department_of_title(title) == department


def test_series_parsers_keep_nulls_and_order_and_use_vocabulary() -> None:
    titles = pl.Series(["VP Eng", None, "Head of Growth", "VP Eng", "  ", "Sr. Software Engineer"])
    assert seniority_of(titles).to_list() == [
        "vp",
        None,
        "head",
        "vp",
        None,
        "individual_contributor",
    ]
    departments = department_of(titles).to_list()
    assert departments == ["engineering", None, "marketing", "engineering", None, "engineering"]
    assert set(seniority_of(titles).drop_nulls()) <= set(SENIORITIES)
    assert set(department_of(titles).drop_nulls()) <= set(DEPARTMENTS)
