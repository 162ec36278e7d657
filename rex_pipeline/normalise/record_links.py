"""The fields that link a record to contacts and companies, normalised the same way for
contacts, activities, deals and tasks: the contact's email and matching key, the company's
registrable domain and name key."""

from __future__ import annotations

import polars as pl

from rex_pipeline.normalise.company_names import company_keys
from rex_pipeline.normalise.domains import company_domain, email_domains, website_domains
from rex_pipeline.normalise.emails import validate_emails


def company_columns(
    websites: pl.Series, company_names: pl.Series, email_domains: pl.Series
) -> pl.DataFrame:
    """company_domain, company_key, and website_unused (a website was given but names no
    company domain). The domain comes from the website column, else from the registrable
    domain of a *work* email (never free or disposable mail); a website on a platform such as
    linkedin.com gives none."""
    from_email = email_domains.to_frame("d").select(company_domain(pl.col("d"))).to_series()
    from_website = website_domains(websites)
    return pl.DataFrame(
        {
            "company_domain": from_website.fill_null(from_email),
            "company_key": company_keys(company_names),
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
