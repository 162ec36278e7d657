"""Who the org is: its own mail addresses and domains, as polars expressions.

The set grows while a file is read (addresses the export shows as the owner's), so it is
applied as expressions over whole columns once reading is done.
"""

from __future__ import annotations

import re
from collections.abc import Collection

import polars as pl

from rex_pipeline.sources.gmail.classify import MACHINE_ADDRESS_PATTERN

_DOMAIN = re.compile(r"^[a-z0-9.-]+$")


class OwnIdentity:
    """The org's own addresses and domains; subdomains of an own domain are own too.
    Entries of `own_domains` that contain `@` are taken as addresses."""

    def __init__(self, addresses: Collection[str], domains: Collection[str]) -> None:
        self.addresses = {a.strip().lower() for a in addresses if a.strip()}
        self.addresses |= {d.strip().lower() for d in domains if "@" in d}
        self.domains = sorted(
            d.strip().lower().lstrip("@.") for d in domains if "@" not in d and d.strip()
        )
        self.discovered: set[str] = set()

    def discover(self, address: str | None) -> None:
        if address:
            self.discovered.add(address.lower())

    def covers(self, address: str) -> bool:
        """Whether `expr` already counts this address as own (so discovering it changes no
        decision)."""
        return bool(pl.select(self.expr(pl.lit(address, dtype=pl.String))).item())

    def expr(self, column: pl.Expr) -> pl.Expr:
        """True where the address is the org's own (never null)."""
        lower = column.str.to_lowercase()
        own = lower.is_in(sorted(self.addresses | self.discovered))
        domains = [re.escape(d) for d in self.domains if _DOMAIN.match(d)]
        if domains:
            own = own | lower.str.contains(rf"@(?:[a-z0-9-]+\.)*(?:{'|'.join(domains)})$")
        return own.fill_null(False)


def is_correspondent(identity: OwnIdentity, column: pl.Expr) -> pl.Expr:
    """An address that can be a contact: not the org's, not a mailer-daemon or no-reply."""
    machine = column.str.contains(MACHINE_ADDRESS_PATTERN)
    return (column.is_not_null() & ~identity.expr(column) & ~machine).fill_null(False)
