"""Domains, LinkedIn URLs, vocabularies, money, text repair and metadata merging."""

from __future__ import annotations

import json
import random
import re

import polars as pl
import pytest
import tldextract

from rex_pipeline.normalise.domains import (
    email_domains,
    registrable_domain,
    registrable_domains,
    website_domains,
)
from rex_pipeline.normalise.linkedin import linkedin_urls
from rex_pipeline.normalise.metadata import add_to_metadata, with_additions
from rex_pipeline.normalise.money import parse_money
from rex_pipeline.normalise.text import blank_to_null, fold_key, repair_mojibake
from rex_pipeline.normalise.vocab import deal_status_from_stage, map_vocab


@pytest.mark.parametrize(
    ("website", "domain"),
    [
        ("https://www.acme.com/about", "acme.com"),
        ("acme.co.uk", "acme.co.uk"),
        ("www.Acme.com", "acme.com"),
        ("acme.com/", "acme.com"),
        ("http://acme.com?x", "acme.com"),
        ("HTTPS://SHOP.ACME.DE:443/#top", "acme.de"),
        ("xn--bcher-kva.ch", "bücher.ch"),  # written as email-validator writes domains
        ("acme.github.io", "acme.github.io"),  # a hosted site is its own domain
        ("gmail.com", None),  # free mail never names a company
        ("mailinator.com", None),
        ("https://www.linkedin.com/company/acme", None),  # a platform page, not the company's
        ("acme .com", None),
        ("n/a", None),
        ("localhost", None),
        (None, None),
    ],
)
def test_website_domains(website: str | None, domain: str | None) -> None:
    assert website_domains(pl.Series([website], dtype=pl.String())).item() == domain


_TLDEXTRACT = tldextract.TLDExtract(
    suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
)


def _tldextract_domain(value: str) -> str | None:
    """tldextract on the whole value, as `registrable_domain` did before it read hosts."""
    text = value.strip().lower()
    if not text or any(c.isspace() for c in text):
        return None
    domain = _TLDEXTRACT(text).top_domain_under_public_suffix
    if not domain or not re.match(r"^[\w-]+(\.[\w-]+)+$", domain) or "_" in domain:
        return None
    try:
        return domain.encode("ascii").decode("idna") if "xn--" in domain else domain
    except UnicodeError:
        return None


def test_registrable_domains_read_each_host_once_with_tldextracts_result() -> None:
    """Values are reduced to tldextract's own host before it runs once per host: the result
    must be what tldextract gives for the whole value."""
    pieces = ["http://", "https://", "//", "www.", "Acme", "xn--", "shop", ".", "\u3002", ".com"]
    pieces += [".co.uk", ".github.io", "/", "?", "#", "@", ":", "443", "[", "]", "_", "-", "ü"]
    rng = random.Random(7)
    values = ["".join(rng.choices(pieces, k=rng.randint(1, 8))) for _ in range(3000)]
    values += ["user:pw@Acme.co.uk:8080/x", "[2001:db8::1]", "192.168.0.1", "\x1facme.com"]
    values += ["acme.com\u00a0", "ACME.COM.", "acme.com.", "xn--bcher-kva.ch", "http:///acme.com"]
    values += ["mail.acme.co.uk", "-", ".", "a", "acme.com-", "123.45.67.89"]
    expected = [_tldextract_domain(v) for v in values]
    assert registrable_domains(pl.Series(values)).to_list() == expected
    assert [registrable_domain(v) for v in values] == expected


def test_email_domains_keep_free_mail_and_use_the_registrable_part() -> None:
    values = pl.Series(["ada@mail.acme.co.uk", "ada@gmail.com", None])
    assert email_domains(values).to_list() == ["acme.co.uk", "gmail.com", None]
    assert registrable_domain("  ") is None


@pytest.mark.parametrize(
    ("given", "profile"),
    [
        ("https://www.linkedin.com/in/ada-lovelace", "https://www.linkedin.com/in/ada-lovelace"),
        (
            "http://uk.linkedin.com/in/Ada-Lovelace/?trk=x",
            "https://www.linkedin.com/in/ada-lovelace",
        ),
        ("linkedin.com/in/ada-lovelace/", "https://www.linkedin.com/in/ada-lovelace"),
        ("www.linkedin.com/in/ada-lovelace", "https://www.linkedin.com/in/ada-lovelace"),
        ("https://linkedin.com/in/ada/details/experience/", "https://www.linkedin.com/in/ada"),
        (
            "https://www.linkedin.com/in/jos%C3%A9-garc%C3%ADa",
            "https://www.linkedin.com/in/josé-garcía",
        ),
        ("urn:li:member:12345", None),
        ("https://www.linkedin.com/sales/lead/ACwAAA,NAME", None),
        ("https://twitter.com/ada", None),
        ("https://notlinkedin.com/in/ada", None),
        (None, None),
    ],
)
def test_linkedin_profiles(given: str | None, profile: str | None) -> None:
    assert linkedin_urls(pl.Series([given], dtype=pl.String()), ("in",)).item() == profile


def test_linkedin_company_pages_only_where_asked() -> None:
    values = pl.Series(["https://www.linkedin.com/company/Acme-Corp/about/", "linkedin.com/in/ada"])
    assert linkedin_urls(values, ("company",)).to_list() == [
        "https://www.linkedin.com/company/acme-corp",
        None,
    ]


@pytest.mark.parametrize(
    ("raw", "stage"),
    [
        ("subscriber", "lead"),
        ("Marketing Qualified Lead", "lead"),
        ("marketingqualifiedlead", "lead"),
        ("salesqualifiedlead", "prospect"),
        ("opportunity", "prospect"),
        ("customer", "customer"),
        ("evangelist", "customer"),
        ("Open - Not Contacted", "lead"),
        ("Working - Contacted", "prospect"),
        ("Closed - Converted", "prospect"),
        ("Cold", "lead"),
        ("Approaching", "prospect"),
        ("Replied", "prospect"),
        ("Interested", "prospect"),
        ("Not Interested", "lead"),
        ("Unresponsive", "lead"),
        ("Former customer", "churned"),
        ("Churned", "churned"),
        ("Do Not Contact", None),
        ("Bad Data", None),
        ("Changed Job", None),
        ("other", None),
    ],
)
def test_stage_vocabulary(raw: str, stage: str | None) -> None:
    assert map_vocab(pl.Series([raw]), "stage").item() == stage


@pytest.mark.parametrize(
    ("raw", "source"),
    [
        ("ORGANIC_SEARCH", "organic"),
        ("Organic Search", "organic"),
        ("DIRECT_TRAFFIC", "organic"),
        ("Web", "organic"),
        ("Phone Inquiry", "organic"),
        ("PAID_SEARCH", "paid"),
        ("Paid Social", "paid"),
        ("SOCIAL_MEDIA", "social"),
        ("LinkedIn", "social"),
        ("EMAIL_MARKETING", "email"),
        ("REFERRALS", "referral"),
        ("Partner Referral", "referral"),
        ("Employee Referral", "referral"),
        ("Word of mouth", "referral"),
        ("Trade Show", "event"),
        ("Purchased List", "outbound"),
        ("Apollo", "outbound"),
        ("Cold outreach", "outbound"),
        ("OFFLINE", "other"),
        ("Carrier pigeon", None),  # the contact stage turns unknown sources into "other"
    ],
)
def test_source_vocabulary(raw: str, source: str | None) -> None:
    assert map_vocab(pl.Series([raw]), "source").item() == source


def test_activity_deal_and_task_vocabularies() -> None:
    assert map_vocab(
        pl.Series(["INCOMING_EMAIL", "Logged call", "Fax"]), "activity_type"
    ).to_list() == [
        "email",
        "call",
        None,
    ]
    assert map_vocab(pl.Series(["Sent", "bounced", "Scheduled"]), "activity_status").to_list() == [
        "completed",
        "rejected",
        "scheduled",
    ]
    assert map_vocab(pl.Series(["INCOMING", "Outgoing"]), "direction").to_list() == [
        "inbound",
        "outbound",
    ]
    assert map_vocab(
        pl.Series(["Closed Won", "closedlost", "In Progress"]), "deal_status"
    ).to_list() == [
        "won",
        "lost",
        "open",
    ]
    stages = pl.DataFrame({"s": ["closedwon", "Closed Lost", "appointmentscheduled", None]})
    assert stages.select(deal_status_from_stage(pl.col("s"))).to_series().to_list() == [
        "won",
        "lost",
        None,
        None,
    ]
    assert map_vocab(pl.Series(["HIGH", "Normal", "none"]), "task_priority").to_list() == [
        "high",
        "medium",
        None,
    ]
    assert map_vocab(
        pl.Series(["NOT_STARTED", "Completed", "WAITING"]), "task_status"
    ).to_list() == [
        "pending",
        "completed",
        "pending",
    ]


@pytest.mark.parametrize(
    ("value", "currency", "minor", "code"),
    [
        ("12,500.00", None, 1_250_000, "USD"),
        ("$1,200", None, 120_000, "USD"),
        ("$1,200", "cad", 120_000, "CAD"),  # the currency column beats an ambiguous "$"
        ("1.200,50 €", None, 120_050, "EUR"),
        ("12500", "EUR", 1_250_000, "EUR"),
        ("1.2k", None, 120_000, "USD"),
        ("USD 3M", None, 300_000_000, "USD"),
        ("£99.99", None, 9_999, "GBP"),
        ("¥5000", None, 5_000, "JPY"),  # no minor unit
        ("12,5", None, 1_250, "USD"),
        ("-250", None, -25_000, "USD"),
        ("call me", "EUR", None, "EUR"),
        (None, "gbp", None, "GBP"),
        (None, None, None, "USD"),
    ],
)
def test_parse_money(value: str | None, currency: str | None, minor: int | None, code: str) -> None:
    result = parse_money(
        pl.Series([value], dtype=pl.String()), pl.Series([currency], dtype=pl.String())
    )
    assert result.row(0) == (minor, code)


def test_repair_mojibake_only_touches_double_encoded_text() -> None:
    values = pl.Series(["JosÃ© MÃ¼ller", "Renée", "O’Brien", "SociÃ©tÃ© GÃ©nÃ©rale", "JOÃO", None])
    assert repair_mojibake(values).to_list() == [
        "José Müller",
        "Renée",
        "O’Brien",
        "Société Générale",
        "JOÃO",  # real Portuguese capitals, not mojibake
        None,
    ]


def test_cp1252_decoded_text_keys_like_utf8() -> None:
    # bytes of a cp1252 export (curly apostrophe, e acute, no-break space) decoded correctly
    text = b"Ren\xe9e O\x92Brien\xa0".decode("cp1252")
    frame = pl.DataFrame({"t": [text, "Renee O'Brien"]})
    assert frame.select(fold_key(pl.col("t"))).to_series().to_list() == [
        "renee obrien",
        "renee obrien",
    ]
    assert frame.select(blank_to_null(pl.col("t"))).to_series()[0] == "Renée O’Brien"


def test_add_to_metadata_merges_keys_into_json_objects() -> None:
    frame = pl.DataFrame(
        {
            "m": ['{"hs_id": 1}', None, "{}", '{"a":"x"}'],
            "s": ["Do Not Contact", None, 'say "hi"', None],
            "l": [["bad@"], None, None, None],
        },
        schema={"m": pl.String, "s": pl.String, "l": pl.List(pl.String)},
    )
    out = frame.select(
        add_to_metadata(pl.col("m"), {"raw_stage": pl.col("s"), "invalid_emails": pl.col("l")})
    ).to_series()
    assert [json.loads(v) if v else v for v in out] == [
        {"hs_id": 1, "raw_stage": "Do Not Contact", "invalid_emails": ["bad@"]},
        None,
        {"raw_stage": 'say "hi"'},
        {"a": "x"},
    ]


def test_with_additions_splices_only_the_rows_that_gain_a_key() -> None:
    frame = pl.DataFrame(
        {
            "metadata": ['{"hs_id": 1}', None, "{}", '{"a":"x"}', " ", '{"b": 2}'],
            "s": ["Do Not Contact", None, 'say "hi"', None, "Cold?", None],
            "l": [["bad@"], None, None, None, None, ["x@"]],
        },
        schema={"metadata": pl.String, "s": pl.String, "l": pl.List(pl.String)},
    )
    additions = {"raw_stage": pl.col("s"), "invalid_emails": pl.col("l")}
    expected = frame.select(add_to_metadata(pl.col("metadata"), additions)).to_series()
    assert with_additions(frame, additions).to_list() == expected.to_list()
    assert frame["metadata"][0] == '{"hs_id": 1}'  # the frame's own column is left alone
    nothing = {"raw_stage": pl.lit(None, pl.String)}
    assert with_additions(frame, nothing).to_list() == frame["metadata"].to_list()
