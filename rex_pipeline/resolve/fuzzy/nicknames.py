"""Nickname equivalence of first names (Bob ~ Robert, Liz ~ Elizabeth) from the `nicknames`
package, checked against real name counts (given_names.py).

The package's relation is loose and runs both ways ("bill" has nickname "robert" as well as
the reverse), so sharing *any* related name would make Robert ~ William through "bill". Each
name is given its *groups* instead: itself plus every related name longer than it (the longer
forms it may be short for). Two names are equivalent when one is in the other's groups
(bob/robert, bill/william, jimmy/james: equal-length forms count too) or when their groups
meet in a common given name (bob/rob through robert, liz/beth through elizabeth) — but not
robert/william, whose groups are just themselves, nor ana/anna, which meet only in the rare
"bryanna". Relations between a male-only and a female-only name are dropped (Aaron has
nickname Erin in the package), except clippings (Chris / Christine).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import polars as pl
from nicknames import NickNamer

from rex_pipeline.resolve.fuzzy.given_names import common_given_names, same_gender_pairs


@functools.cache
def _namer() -> NickNamer:
    return NickNamer()


def _groups_of(name: str) -> list[str]:
    namer = _namer()
    related = namer.nicknames_of(name) | namer.canonicals_of(name)
    return sorted({name} | {other for other in related if len(other) >= len(name)})


def _related_of(name: str) -> list[str]:
    namer = _namer()
    return sorted({name} | namer.nicknames_of(name) | namer.canonicals_of(name))


def _table(names: pl.Series, of: Callable[[str], list[str]]) -> pl.DataFrame:
    """name, out: `of` of every distinct name (one package call each), relations between
    names of two genders dropped (one join on the distinct names)."""
    distinct = names.drop_nulls().unique().to_list()
    rows = pl.DataFrame(
        {"name": distinct, "out": [of(n) for n in distinct]},
        schema={"name": pl.String, "out": pl.List(pl.String)},
    ).explode("out")
    kept = same_gender_pairs(rows, "name", "out")
    return kept.group_by("name").agg(pl.col("out").sort())


def _per_value(names: pl.Series, table: pl.DataFrame) -> pl.Series:
    joined = names.to_frame("name").join(table, on="name", how="left", maintain_order="left")
    return joined["out"]


def name_groups_column(names: pl.Series, related: bool = False) -> pl.Series:
    """The groups (or with `related`, every name the package relates either way, for telling
    whether a mailbox like "trish.simpson" was made from "Patricia Simpson") of every value,
    the value itself included; NULL stays NULL."""
    return _per_value(names, _table(names, _related_of if related else _groups_of))


def name_groups(name: str) -> list[str]:
    """The groups of one lower-case first name, sorted (the name itself included)."""
    return name_groups_column(pl.Series([name], dtype=pl.String)).item().to_list()


def nickname_match(fa: pl.Expr, fb: pl.Expr, groups_a: pl.Expr, groups_b: pl.Expr) -> pl.Expr:
    """Two first names (with their groups) are nicknames of one another: one is a form of the
    other, or both shorten one common given name."""
    shared = groups_a.list.set_intersection(groups_b)
    common = common_given_names().implode()
    return (
        groups_a.list.contains(fb)
        | groups_b.list.contains(fa)
        | shared.list.eval(pl.element().is_in(common)).list.any()
    ).fill_null(False)


@functools.cache
def known_first_names() -> pl.Series:
    """Every first name the package knows: a mailbox that is just one of them ("betty@")
    is made from a name, whoever's."""
    namer = _namer()
    return pl.Series(sorted(set(namer.nickname_lookup) | set(namer.canonical_lookup)))


def first_name_block_keys(names: pl.Series) -> pl.Series:
    """The name itself and its canonical form, one representative of its groups: the form
    with the most nicknames (bob, rob, robby -> robert), so nickname variants share a block
    key (one key when they are the same)."""
    groups = _table(names, _groups_of).explode("out")
    namer = _namer()
    forms = groups["out"].unique().to_list()
    counts = pl.DataFrame(
        {"out": forms, "n": [len(namer.nicknames_of(f)) for f in forms]},
        schema={"out": pl.String, "n": pl.Int64},
    )
    canonical = (
        groups.join(counts, on="out")
        .sort(["n", pl.col("out").str.len_chars(), "out"], descending=True)
        .group_by("name")
        .agg(pl.col("out").first().alias("canonical"))
    )
    keys = canonical.select(
        "name", out=pl.concat_list("name", "canonical").list.unique().list.sort()
    )
    return _per_value(names, keys)
