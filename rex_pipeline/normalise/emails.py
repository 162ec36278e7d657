"""Email addresses: validation, the stored form, and the matching key.

* Validity is email-validator's (syntax only, `check_deliverability=False`); an invalid value
  carries the validator's own message as its rejection reason.
* The stored form is email-validator's normalised address: as given, domain lower-cased.
  Surrounding blanks, a "mailto:" prefix and a display name ("Ada <ada@acme.com>") are
  dropped first.
* The matching key applies only rules the provider documents: Gmail ignores dots and +tags,
  Outlook/Hotmail/Live/MSN, Fastmail and iCloud drop +tags, Proton ignores `.`, `_`, `-` and
  +tags, Yahoo tags use `-`. Everywhere else dots and tags are significant and kept.

email-validator costs ~30 µs per address, too slow for a million distinct addresses, so a strict
vectorised fast path accepts the plain ASCII addresses it can vouch for (the same rules the
library applies to them, see `_fast_path`) and sends everything else to the library; a test
checks the two agree.
"""

from __future__ import annotations

import polars as pl
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES

from rex_pipeline.normalise.domains import (
    FREE_EMAIL_DOMAINS,
    is_disposable_domain,
    is_free_domain,
    registrable_domains,
)
from rex_pipeline.normalise.unique import by_distinct, join_unique

#: Columns returned by `validate_emails`, one row per input value.
EMAIL_RESULT: dict[str, pl.DataType] = {
    "email": pl.String(),  # email-validator's normalised address, NULL if blank or invalid
    "email_key": pl.String(),  # canonical matching key
    "email_error": pl.String(),  # the validator's message when the value is invalid
}

# --- provider rules for the matching key ----------------------------------------------------


def _family(first_labels: set[str]) -> frozenset[str]:
    """The free-mail domains of one provider across country TLDs (outlook.de, yahoo.co.uk ...)."""
    return frozenset(d for d in FREE_EMAIL_DOMAINS if d.split(".")[0] in first_labels)


GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
MICROSOFT_DOMAINS = _family({"outlook", "hotmail", "live"}) | {"msn.com", "windowslive.com"}
FASTMAIL_DOMAINS = _family({"fastmail"})
ICLOUD_DOMAINS = frozenset({"icloud.com", "me.com", "mac.com"})
PROTON_DOMAINS = frozenset({"proton.me", "protonmail.com", "protonmail.ch", "pm.me"})
YAHOO_DOMAINS = _family({"yahoo", "ymail", "rocketmail"})

#: domain -> rule name; a domain not listed keeps its local part exactly (lower-cased).
PROVIDER_RULES: dict[str, str] = {
    **{d: "gmail" for d in GMAIL_DOMAINS},
    **{d: "plus" for d in MICROSOFT_DOMAINS | FASTMAIL_DOMAINS | ICLOUD_DOMAINS},
    **{d: "proton" for d in PROTON_DOMAINS},
    **{d: "yahoo" for d in YAHOO_DOMAINS},
}


def email_keys(emails: pl.Series) -> pl.Series:
    """Canonical matching key of each *validated* address: lower case, provider rules applied.

    "Ada.Lovelace+news@GoogleMail.com" -> "adalovelace@gmail.com";
    "ada.lovelace+x@acme.com" -> "ada.lovelace+x@acme.com" (custom domains keep everything).
    """
    lowered = emails.cast(pl.String()).str.to_lowercase()
    domain = lowered.str.split_exact("@", 1).struct.field("field_1")  # validated: one "@"
    rule = domain.replace_strict(PROVIDER_RULES, default=None, return_dtype=pl.String())
    special = rule.is_not_null()
    if not special.any():
        return lowered.alias(emails.name)
    # provider rules only for the addresses at those providers
    frame = pl.DataFrame(
        {
            "local": lowered.filter(special).str.split_exact("@", 1).struct.field("field_0"),
            "domain": domain.filter(special),
            "rule": rule.filter(special),
        }
    )
    local, rule_, untagged = pl.col("local"), pl.col("rule"), pl.col("untagged")
    frame = frame.with_columns(untagged=local.str.replace(r"\+.*$", ""))
    canonical = (
        pl.when(rule_ == "gmail")
        .then(untagged.str.replace_all(".", "", literal=True))
        .when(rule_ == "plus")
        .then(untagged)
        .when(rule_ == "proton")
        .then(untagged.str.replace_all(r"[._-]", ""))
        .otherwise(local.str.replace(r"-.*$", ""))  # yahoo
    )
    # "+tag@gmail.com" would leave nothing: keep the local part as written then.
    key_local = canonical.replace("", None).fill_null(local)
    key_domain = pl.when(rule_ == "gmail").then(pl.lit("gmail.com")).otherwise("domain")
    keys = frame.select(pl.concat_str([key_local, pl.lit("@"), key_domain])).to_series()
    return lowered.scatter(special.arg_true(), keys).alias(emails.name)


# --- validation ------------------------------------------------------------------------------

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_FAST_SHAPE = rf"^{_ATEXT}+(?:\.{_ATEXT}+)*@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}$"


def _prepare(values: pl.Series) -> pl.Series:
    """Trim, drop a "mailto:" prefix, blank -> NULL."""
    trimmed = values.str.strip_chars().str.replace(r"^(?i:mailto:)\s*", "")
    return trimmed.replace("", None)


def _fast_path(values: pl.Series) -> pl.DataFrame:
    """The distinct values email-validator certainly accepts, with its normalised form.

    For an ASCII dot-atom local part and an ASCII host name the library only lower-cases the
    domain (and the RFC 2142 role mailboxes such as "Info@"); it rejects a domain with "--"
    (Punycode/R-LDH rules), a special-use TLD (.test, .local ...) or an address over 254
    characters. Values meeting all of these are accepted here; the rest go to the library.
    """
    value = pl.col("value")
    shaped = values.to_frame("value").filter(
        value.str.contains(_FAST_SHAPE) & (value.str.len_bytes() <= 254)
    )
    # the shape allows exactly one "@"
    parts = value.str.split_exact("@", 1)
    frame = shaped.with_columns(
        local=parts.struct.field("field_0"),
        domain=parts.struct.field("field_1").str.to_lowercase(),
    )
    local, domain = pl.col("local"), pl.col("domain")
    special_tld = pl.any_horizontal(
        [domain.str.ends_with(f".{tld}") for tld in SPECIAL_USE_DOMAIN_NAMES]
    )
    ok = ~domain.str.contains("--", literal=True) & ~special_tld
    lowered = local.str.to_lowercase()
    role = lowered.is_in(list(CASE_INSENSITIVE_MAILBOX_NAMES))
    return frame.filter(ok).select(
        "value",
        pl.concat_str([pl.when(role).then(lowered).otherwise(local), pl.lit("@"), domain]).alias(
            "email"
        ),
        pl.lit(None, dtype=pl.String()).alias("email_error"),
    )


def validate_email_value(value: str) -> tuple[str | None, str | None]:
    """(normalised address, None) or (None, the validator's message) for one value."""
    try:
        result = validate_email(value, check_deliverability=False, allow_display_name=True)
    except EmailNotValidError as exc:
        return None, str(exc)
    return result.normalized, None


def _library_path(values: pl.Series) -> pl.DataFrame:
    results = [validate_email_value(v) for v in values.to_list()]
    return pl.DataFrame(
        {
            "value": values,
            "email": [r[0] for r in results],
            "email_error": [r[1] for r in results],
        },
        schema={"value": pl.String(), "email": pl.String(), "email_error": pl.String()},
    )


def validate_emails(values: pl.Series) -> pl.DataFrame:
    """Validate a column of addresses as given: one row per value with the columns of
    `EMAIL_RESULT` (all NULL for a blank value). Each distinct value is checked once."""
    prepared = _prepare(values.cast(pl.String()))
    distinct = prepared.drop_nulls().unique()
    fast = _fast_path(distinct)
    rest = distinct.to_frame("value").join(fast, on="value", how="anti")["value"]
    slow = _library_path(rest)
    table = pl.concat([fast, slow])
    table = table.with_columns(email_keys(table["email"]).alias("email_key"))
    return join_unique(prepared, table, "value").select(list(EMAIL_RESULT))


# --- flags -----------------------------------------------------------------------------------

#: Local parts that name a function or a mailbox robot, not a person.
ROLE_LOCAL_PARTS: frozenset[str] = frozenset(
    {
        *CASE_INSENSITIVE_MAILBOX_NAMES,
        "accounts",
        "admin",
        "administrator",
        "billing",
        "careers",
        "contact",
        "customerservice",
        "do-not-reply",
        "donotreply",
        "enquiries",
        "feedback",
        "hello",
        "help",
        "helpdesk",
        "hr",
        "inquiries",
        "jobs",
        "mail",
        "mailer-daemon",
        "newsletter",
        "no-reply",
        "noreply",
        "notifications",
        "office",
        "orders",
        "press",
        "privacy",
        "reception",
        "service",
        "team",
    }
)

#: Values people type when a form insists on an address they don't want to give.
PLACEHOLDER_LOCAL_PARTS: frozenset[str] = frozenset(
    {"test", "none", "na", "n/a", "null", "unknown", "noemail", "no-email", "asdf", "xxx"}
)
PLACEHOLDER_DOMAINS: frozenset[str] = frozenset(
    {"example.com", "example.org", "example.net", "test.com", "domain.com", "none.com"}
)


def is_role_address(email: pl.Expr) -> pl.Expr:
    """True for a shared or robot mailbox (info@, sales@, no-reply@ ...): such an address
    identifies a company, not a person, and must not merge two people."""
    local = email.str.to_lowercase().str.extract(r"^(.*)@")
    return local.is_in(list(ROLE_LOCAL_PARTS))


def is_placeholder_address(email: pl.Expr) -> pl.Expr:
    """True for a made-up address (test@example.com, none@none.com ...)."""
    lowered = email.str.to_lowercase()
    local = lowered.str.extract(r"^(.*)@")
    domain = lowered.str.extract(r"@([^@]*)$")
    return local.is_in(list(PLACEHOLDER_LOCAL_PARTS)) | domain.is_in(list(PLACEHOLDER_DOMAINS))


def email_flags(emails: pl.Series) -> pl.DataFrame:
    """Registrable domain and free/disposable flags of validated addresses (NULL in, NULL
    out), computed once per distinct mail host. The flags are independent: mailinator.com is
    both free and disposable."""
    hosts = emails.cast(pl.String()).str.split_exact("@", 1).struct.field("field_1")
    flags = by_distinct(hosts, _host_flags)
    assert isinstance(flags, pl.DataFrame)
    return flags


def _host_flags(hosts: pl.Series) -> pl.DataFrame:
    frame = pl.DataFrame({"host": hosts, "email_domain": registrable_domains(hosts)})
    host, domain = pl.col("host"), pl.col("email_domain")
    known = host.is_not_null()
    return frame.select(
        "email_domain",
        pl.when(known).then(is_free_domain(host) | is_free_domain(domain)).alias("is_free_email"),
        pl.when(known)
        .then(is_disposable_domain(host) | is_disposable_domain(domain))
        .alias("is_disposable_email"),
    )
