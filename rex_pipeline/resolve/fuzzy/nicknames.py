"""Nickname equivalence of first names (Bob ~ Robert, Liz ~ Elizabeth) from the `nicknames`
package.

The package's relation is loose and runs both ways ("bill" has nickname "robert" as well as
the reverse), so sharing *any* related name would make Robert ~ William through "bill". Each
name is given its *groups* instead: itself plus every related name longer than it (the longer
forms it may be short for). Two names are equivalent when their groups meet: bob/robert
(robert), bob/rob (robert), liz/beth (elizabeth), bill/william (william) — but not
robert/william, whose groups are just themselves. (Equal-length forms count too: jimmy/james.)
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import polars as pl
from nicknames import NickNamer


@functools.cache
def _namer() -> NickNamer:
    return NickNamer()


def name_groups(name: str) -> list[str]:
    """The groups of one lower-case first name, sorted (the name itself included)."""
    namer = _namer()
    related = namer.nicknames_of(name) | namer.canonicals_of(name)
    return sorted({name} | {other for other in related if len(other) >= len(name)})


def related_names(name: str) -> list[str]:
    """The name and every name the package relates to it, either way (for telling whether a
    mailbox like "trish.simpson" was made from the name "Patricia Simpson")."""
    namer = _namer()
    return sorted({name} | namer.nicknames_of(name) | namer.canonicals_of(name))


def name_groups_column(names: pl.Series, of: Callable[[str], list[str]] = name_groups) -> pl.Series:
    """`of` (name_groups or related_names) of every value, NULL stays NULL; computed once per
    distinct name."""
    distinct = names.drop_nulls().unique()
    table = pl.DataFrame(
        {"name": distinct, "out": [of(n) for n in distinct.to_list()]},
        schema={"name": pl.String, "out": pl.List(pl.String)},
    )
    return names.to_frame("name").join(table, on="name", how="left", maintain_order="left")["out"]


@functools.cache
def known_first_names() -> pl.Series:
    """Every first name the package knows: a mailbox that is just one of them ("betty@")
    is made from a name, whoever's."""
    namer = _namer()
    return pl.Series(sorted(set(namer.nickname_lookup) | set(namer.canonical_lookup)))


def canonical_first_name(name: str) -> str:
    """One representative of a name's groups for blocking: the form with the most nicknames
    (bob, rob, robby -> robert), so nickname variants share a block key."""
    namer = _namer()
    return max(name_groups(name), key=lambda g: (len(namer.nicknames_of(g)), len(g), g))


def first_name_block_keys(names: pl.Series) -> pl.Series:
    """The name itself and its canonical form (one key when they are the same)."""
    return name_groups_column(names, lambda n: sorted({n, canonical_first_name(n)}))
