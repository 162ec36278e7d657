"""Spellings of names across the population: a one-off typo of a common name, or a name of its
own?

A particular misspelling is rare next to the name it misspells ("Jmaes" on 3 nodes, "James" on
2,000), while a look-alike name of its own is not ("Carl" next to "Carol"), and neither is a
name that only looks like a typo to a string metric. Counting how many nodes carry each
spelling tells the two apart without a list of names: the comparisons give a typo the weight of
the name it misspells, and blocking files it under that name.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from rapidfuzz.distance import OSA

from rex_pipeline.resolve.fuzzy.similarity import pairwise

#: A spelling carried by this many nodes can be a name of its own, not a one-off typo.
ESTABLISHED_NODES = 3
#: ... when it is also at least this share as common as the similar spelling.
ESTABLISHED_SHARE = 0.01
#: A rarer spelling one edit away from a spelling on this many nodes reads as its typo.
TYPO_SOURCE_NODES = 2


@dataclass(frozen=True)
class SpellingCounts:
    """value, n: how many nodes carry each spelling of a first (last) name."""

    first: pl.DataFrame
    last: pl.DataFrame


def spelling_counts(values: pl.Series) -> pl.DataFrame:
    """value, n (UInt32) for every non-null spelling."""
    counts = values.drop_nulls().rename("value").value_counts(name="n")
    return counts.with_columns(pl.col("n").cast(pl.UInt32))


def both_established(n_a: pl.Expr, n_b: pl.Expr) -> pl.Expr:
    """Two spellings carried by n_a and n_b nodes are both names of their own."""
    rarer, commoner = pl.min_horizontal(n_a, n_b), pl.max_horizontal(n_a, n_b)
    return (rarer >= ESTABLISHED_NODES) & (rarer >= ESTABLISHED_SHARE * commoner)


def typo_of(n_a: pl.Expr, n_b: pl.Expr, edits: pl.Expr) -> pl.Expr:
    """One spelling (on n_a or n_b nodes, `edits` apart) reads as a typo of the other: one edit
    apart (a letter dropped, doubled, swapped or replaced), the other on TYPO_SOURCE_NODES
    nodes at least, and the rarer a one-off or far rarer (below ESTABLISHED_SHARE of it). Two
    rare spellings on a few nodes each are two names (Halogard / Harogard)."""
    rarer, commoner = pl.min_horizontal(n_a, n_b), pl.max_horizontal(n_a, n_b)
    return (
        (edits <= 1)
        & (commoner >= TYPO_SOURCE_NODES)
        & (rarer < commoner)
        & ((rarer == 1) | (rarer < ESTABLISHED_SHARE * commoner))
    ).fill_null(False)


def _forms(values: pl.DataFrame, among: pl.Series | None = None) -> pl.DataFrame:
    """value, form: the value itself and every form of it with one letter left out. Any one
    typo leaves two spellings with a form in common (Smith / Smiht share "smit"). With
    `among`, only those forms: a batch's few spellings look up the forms of the whole
    population without making all of them distinct first."""
    value = pl.col("value")
    longest = int(values["value"].str.len_chars().max() or 0)
    dropped = [
        values.filter(value.str.len_chars() > i).select(
            "value", form=value.str.slice(0, i) + value.str.slice(i + 1)
        )
        for i in range(longest)
    ]
    forms = pl.concat([values.select("value", form=value), *dropped])
    if among is not None:
        forms = forms.filter(pl.col("form").is_in(among.implode()))
    return forms.unique()


def typo_sources(counts: pl.DataFrame, among: pl.Series | None = None) -> pl.DataFrame:
    """value, source: for each one-off spelling (on one node), the spellings it reads as a
    typo of (see `typo_of`). Computed on distinct spellings, not on nodes. (A misspelling
    that recurs is one of a common name, whose blocks are too large to keep anyway.) With
    `among`, only for those spellings: a batch's names, not the whole population's."""
    rare = counts.filter(pl.col("n") == 1).select("value", "n")
    if among is not None:
        rare = rare.join(among.drop_nulls().unique().to_frame("value"), on="value", how="semi")
    common = counts.filter(pl.col("n") >= TYPO_SOURCE_NODES).select("value", "n")
    if rare.is_empty() or common.is_empty():
        return pl.DataFrame(schema={"value": pl.String, "source": pl.String})
    near = one_edit_apart(rare["value"], common["value"])
    near = near.join(rare, on="value").join(
        common.rename({"value": "source", "n": "n_source"}), on="source"
    )
    return near.filter(typo_of(pl.col("n"), pl.col("n_source"), pl.lit(1))).select(
        "value", "source"
    )


def one_edit_apart(values: pl.Series, sources: pl.Series) -> pl.DataFrame:
    """value, source: the pairs of a value and a different source at most one edit apart (a
    letter dropped, added, replaced or two swapped). Found through the forms with one letter
    left out, so without comparing every value with every source."""
    values = values.drop_nulls().unique()
    forms = _forms(values.to_frame("value"))
    sources = _may_be_one_edit_from(values, sources.drop_nulls().unique())
    sources_forms = _forms(sources.to_frame("value"), among=forms["form"])
    near = (
        forms.join(sources_forms.rename({"value": "source"}), on="form")
        .filter(pl.col("value") != pl.col("source"))
        .select("value", "source")
        .unique()
    )
    return near.filter(pairwise(near, "value", "source", OSA.distance) <= 1)


def _kept_ends(length: pl.Expr) -> pl.Expr:
    """k for a spelling of `length` letters (see `_may_be_one_edit_from`)."""
    return ((length.cast(pl.Int64) - 1) // 2).clip(lower_bound=0)


def _may_be_one_edit_from(values: pl.Series, sources: pl.Series) -> pl.Series:
    """The sources that may be one edit from a value: a necessary condition, cheap on every
    source, so that only these get their forms made (a batch's few values against the whole
    population's spellings). One edit (a letter dropped, added or replaced, or two adjacent
    ones swapped) changes the length by one at most, and touches at most two adjacent
    letters of the longer spelling. So a source of n letters one edit from a value has the
    value's first k letters or its last k letters, k = (n - 1) // 2: the longer spelling has
    n letters at least, too many for one edit to reach both ends of k letters (Mira / Mria,
    k = 1: the same first letter)."""
    if values.is_empty() or sources.is_empty():
        return sources
    value = pl.col("value")
    length = value.str.len_chars().cast(pl.Int64)
    # for every length a source one edit from a value may have: the value's k-letter ends
    wanted = (
        values.to_frame("value")
        .select("value", n=pl.concat_list(length - 1, length, length + 1))
        .explode("n")
        .filter(pl.col("n") >= 0)
        .select(
            "n",
            head=value.str.head(_kept_ends(pl.col("n"))),
            tail=value.str.tail(_kept_ends(pl.col("n"))),
        )
    )
    near = sources.to_frame("value").with_columns(n=length)
    near = near.join(wanted.select("n").unique(), on="n", how="semi").with_columns(
        head=value.str.head(_kept_ends(pl.col("n"))),
        tail=value.str.tail(_kept_ends(pl.col("n"))),
    )
    by_head = near.join(wanted.select("n", "head").unique(), on=["n", "head"], how="semi")
    by_tail = near.join(wanted.select("n", "tail").unique(), on=["n", "tail"], how="semi")
    return pl.concat([by_head["value"], by_tail["value"]]).unique()
