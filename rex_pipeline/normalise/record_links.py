"""The fields that link a record to contacts and companies, normalised the same way for
contacts, activities, deals and tasks: the contact's email and matching key, the company's
registrable domain and name key."""

from __future__ import annotations

import polars as pl
from rapidfuzz import fuzz
from rapidfuzz.process import cpdist

from rex_pipeline.normalise.company_names import company_keys
from rex_pipeline.normalise.domains import company_domain, email_domains, website_domains
from rex_pipeline.normalise.emails import validate_emails
from rex_pipeline.normalise.unique import by_distinct

NAME_FITS_DOMAIN = 80  # rapidfuzz ratio of a name to a domain's label that still fits (typos)
_NOT_INITIALS = ("and", "of", "the", "und", "et", "de")


def name_fits_domain(keys: pl.Series, domains: pl.Series) -> pl.Series:
    """Whether each company name key could be the company of each registrable domain: the
    domain's label (`acme-robotics` of `acme-robotics.co.uk`, hyphens dropped) is the name or
    its initials (`ibm`), holds it or is held by it (four letters or more), or is close to it
    (a typo). NULL where either is NULL. Decided once per distinct pair (`by_distinct`)."""
    pairs = pl.DataFrame(
        {"key": keys, "domain": domains}, schema={"key": pl.String, "domain": pl.String}
    ).to_struct("pair")
    fits = by_distinct(pairs, lambda distinct: _fits(*distinct.struct.unnest().get_columns()))
    assert isinstance(fits, pl.Series)
    return fits


def _fits(keys: pl.Series, domains: pl.Series) -> pl.Series:
    words = pl.col("key").str.split(" ").list.filter(~pl.element().is_in(_NOT_INITIALS))
    frame = pl.DataFrame({"key": keys, "domain": domains}).select(
        compact=pl.col("key").str.replace_all(" ", "", literal=True),
        initials=words.list.eval(pl.element().str.slice(0, 1)).list.join(""),
        label=pl.col("domain").str.extract(r"^([^.]+)").str.replace_all("-", "", literal=True),
    )
    compact, label = pl.col("compact"), pl.col("label")
    fits = frame.select(
        (label == compact)
        | (label == pl.col("initials"))
        | (label.str.len_chars() >= 4) & compact.str.contains(label, literal=True)
        | (compact.str.len_chars() >= 4) & label.str.contains(compact, literal=True)
    ).to_series()
    unsure = (~fits).arg_true()
    if not unsure.is_empty():
        scores = cpdist(
            frame["label"].gather(unsure).to_list(),
            frame["compact"].gather(unsure).to_list(),
            scorer=fuzz.ratio,
            workers=-1,
        )
        fits = fits.scatter(unsure, pl.Series(scores >= NAME_FITS_DOMAIN))
    return fits


def company_columns(
    websites: pl.Series, company_names: pl.Series, email_domains: pl.Series
) -> pl.DataFrame:
    """company_domain, company_key, and website_unused (a website was given but names no
    company domain). The domain comes from the website column, else from the registrable
    domain of a *work* email (never free or disposable mail) when the record names no company
    or a company that fits that domain (`name_fits_domain`): a LinkedIn connection at
    "Stripe" whose address is `@alumni.stanford.edu` works at Stripe, not at stanford.edu. A
    website on a platform such as linkedin.com gives none."""
    keys = company_keys(company_names)
    from_email = email_domains.to_frame("d").select(company_domain(pl.col("d"))).to_series()
    fits = name_fits_domain(keys, from_email)
    from_email = (
        from_email.to_frame("d")
        .select(pl.when(keys.is_null() | fits).then(pl.col("d")))
        .to_series()
    )
    from_website = website_domains(websites)
    return pl.DataFrame(
        {
            "company_domain": from_website.fill_null(from_email),
            "company_key": keys,
            "website_unused": websites.is_not_null() & from_website.is_null(),
        },
        schema={
            "company_domain": pl.String(),
            "company_key": pl.String(),
            "website_unused": pl.Boolean(),
        },
    )


def with_links(frame: pl.DataFrame, *, company: bool) -> pl.DataFrame:
    """`frame` (raw staged columns, blanks already NULL) with contact_email validated, and
    contact_email_key added; with `company`, company_domain normalised and company_key added.
    Helper columns for the caller: contact_email_given, contact_email_error and, with
    `company`, website_unused (the given company_domain named no usable domain; it is kept in
    company_domain_given)."""
    checked = validate_emails(frame["contact_email"])
    frame = frame.with_columns(
        contact_email_given=frame["contact_email"],
        contact_email=checked["email"],
        contact_email_key=checked["email_key"],
        contact_email_error=checked["email_error"],
    )
    if not company:
        return frame
    links = company_columns(
        frame["company_domain"], frame["company_name"], email_domains(frame["contact_email"])
    )
    return frame.with_columns(
        company_domain_given=frame["company_domain"],
        company_domain=links["company_domain"],
        company_key=links["company_key"],
        website_unused=links["website_unused"],
    )


def invalid_email_note() -> pl.Expr:
    """ "invalid email '<value>': <validator message>" for rows whose contact email was
    invalid, else NULL."""
    return pl.when(pl.col("contact_email_error").is_not_null()).then(
        pl.format(
            "invalid email '{}': {}", pl.col("contact_email_given"), pl.col("contact_email_error")
        )
    )
