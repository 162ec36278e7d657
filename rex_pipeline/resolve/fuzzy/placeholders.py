"""Values that look like identity evidence but are shared by many people: role mailboxes
(info@, sales@), made-up addresses (test@example.com), blank-ish names ("Unknown", "N/A").

They are kept out of blocking and out of positive evidence, so a shared inbox or a form's
filler value can never pull two people together. Shared phone lines (switchboards) are found
from the data instead (see `features.shared_phones`).
"""

from __future__ import annotations

import polars as pl

#: Mailboxes that belong to a team or a robot, compared after removing "." "_" "-".
ROLE_LOCAL_PARTS: frozenset[str] = frozenset(
    {
        "info", "information", "sales", "support", "help", "helpdesk", "contact", "contactus",
        "hello", "hi", "admin", "administrator", "office", "team", "marketing", "hr", "jobs",
        "careers", "recruiting", "billing", "accounts", "accounting", "finance", "invoices",
        "mail", "email", "enquiries", "enquiry", "inquiries", "inquiry", "webmaster",
        "postmaster", "hostmaster", "abuse", "privacy", "security", "legal", "press", "media",
        "pr", "service", "services", "customerservice", "customercare", "care", "feedback",
        "newsletter", "news", "notifications", "notification", "alerts", "reception",
        "general", "orders", "order", "bookings", "booking", "reservations", "partners",
        "partnerships", "all", "everyone", "staff", "ops", "operations", "it", "dev",
        "engineering", "founders", "investors", "ir", "events", "community", "social",
        "mailerdaemon", "bounce", "bounces", "root", "test", "tester", "testing", "demo",
        "none", "na", "null", "unknown", "noemail", "asdf", "xxx", "example", "user",
        "username", "email123", "me", "you", "name", "firstname", "firstnamelastname",
    }
)  # fmt: skip

#: Robot senders: noreply, no-reply, do_not_reply, donotreply-billing ...
ROBOT_LOCAL_PATTERN = r"^(no-?reply|do-?not-?reply|noreply|donotreply|mailer-?daemon|bounces?)"

#: Domains used as filler in forms and documentation.
PLACEHOLDER_DOMAINS: frozenset[str] = frozenset(
    {
        "example.com", "example.org", "example.net", "test.com", "domain.com", "none.com",
        "email.com", "mail.com.invalid", "noemail.com", "nomail.com", "invalid.com",
        "test.test", "localhost",
    }
)  # fmt: skip

#: Name values that say "no name".
PLACEHOLDER_NAMES: frozenset[str] = frozenset(
    {
        "unknown", "na", "n a", "none", "null", "nil", "test", "tester", "x", "xx", "xxx",
        "first", "last", "firstname", "lastname", "first name", "last name", "name", "noname",
        "customer", "user", "contact", "lead", "info", "sales", "support", "admin", "team",
        "office", "hello", "sir", "madam", "mr", "mrs", "ms", "dr", "anonymous", "friend",
        "there", "valued customer", "not provided", "not given", "tbd", "asdf",
    }
)  # fmt: skip


def is_placeholder_mailbox(local: pl.Expr, domain: pl.Expr) -> pl.Expr:
    """True when an address (split in lower-case local part and domain) is a role mailbox, a
    robot sender or a made-up address: it identifies a team or nobody, never one person."""
    squashed = local.str.replace(r"\+.*$", "").str.replace_all(r"[._-]", "")
    return (
        squashed.is_in(list(ROLE_LOCAL_PARTS))
        | local.str.contains(ROBOT_LOCAL_PATTERN)
        | domain.is_in(list(PLACEHOLDER_DOMAINS))
        | (squashed.str.len_chars() < 2)
    ).fill_null(True)


def is_placeholder_name(name: pl.Expr) -> pl.Expr:
    """True for a cleaned (lower-case, letters and spaces) name that means "no name"."""
    return name.is_in(list(PLACEHOLDER_NAMES)).fill_null(True)
