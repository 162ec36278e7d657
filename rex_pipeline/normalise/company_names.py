"""Company name matching keys: "ACME Corp.", "Acme Corporation, Inc." and
"The Acme Company LLC" all give "acme".

cleanco's `basename` strips one round of legal suffixes ("Inc.", "GmbH & Co. KG", "Company")
and keeps case and a leading "The"; it is applied until the name stops changing, then the key is
case-folded, accent- and punctuation-free, without a leading "the", with "&" read as "and".
The display name is kept as given (trimmed) elsewhere.

cleanco's `basename` compares the name's tail with each of its ~700 terms in turn (~40 µs a
call). `basename` below gives the same result (a test checks it on thousands of names) from
cleanco's own term list and helpers, trying only terms that can match and memoising by the
name's tail; and a name whose last word ends no term (checked vectorised) skips even that.
Keys of ASCII names (nearly all) are folded by `fold_key_ascii`, a third of `fold_key`'s cost.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import cleanco
import polars as pl
from cleanco.clean import normalized, strip_punct, tail_removal_rexp

from rex_pipeline.normalise.text import fold_key, fold_key_ascii, is_ascii
from rex_pipeline.normalise.unique import by_distinct, map_unique


@functools.cache
def _term_endings() -> pl.Series:
    """The last word of every cleanco legal term, as cleanco normalises words."""
    endings = {parts[-1] for _, parts in cleanco.prepare_default_terms()}
    return pl.Series(sorted(endings), dtype=pl.String())


@functools.cache
def _terms_by_last_word() -> dict[str, list[tuple[int, list[str]]]]:
    """cleanco's terms in its own order, grouped by their last word: (order, words)."""
    index: dict[str, list[tuple[int, list[str]]]] = {}
    for order, (_, words) in enumerate(cleanco.prepare_default_terms()):
        index.setdefault(words[-1], []).append((order, words))
    return index


@functools.cache
def _term_words() -> frozenset[str]:
    return frozenset(w for _, words in cleanco.prepare_default_terms() for w in words)


@functools.lru_cache(maxsize=200_000)
def _normal_parts(word: str) -> tuple[str, ...]:
    """cleanco's comparison form of one word (case-folded, accent-free, without . , -).
    Normalisation is per character, so splitting the normalised name equals normalising word
    by word; words repeat across names, hence the cache."""
    return tuple(strip_punct(part) for part in normalized(word).split())


def _strip_tail(name: str) -> str:
    """cleanco's `strip_tail` (trailing symbols other than "." removed), precompiled."""
    match = tail_removal_rexp.search(name)
    return name[: match.start()] if match else name


def _words_removed(normal: list[str]) -> int:
    """How many trailing words cleanco's suffix loop removes from these normalised words:
    one pass over the terms in cleanco's order, each removed when the tail equals it. Only
    terms ending with the current last word can match, so only those are tried."""
    normal = list(normal)
    passed = -1  # cleanco's loop position: terms up to here were already tried
    removed = 0
    while normal:
        candidates = _terms_by_last_word().get(normal[-1], ())
        hit = next(
            (
                (order, len(parts))
                for order, parts in candidates
                if order > passed and normal[-len(parts) :] == parts
            ),
            None,
        )
        if hit is None:
            return removed
        passed, size = hit
        del normal[-size:]
        removed += size
    return removed


@functools.lru_cache(maxsize=10_000)
def _removed_from_run(run: tuple[str, ...]) -> int:
    return _words_removed(list(run))


def basename(name: str) -> str:
    """Exactly `cleanco.basename(name)`, faster. A term can only match words that belong to
    some term, so the outcome depends on the trailing run of such words alone ("corp inc" in
    "acme corp inc"), and runs repeat across names: they are memoised."""
    name = _strip_tail(name)
    words = name.split()
    normal = [part for word in words for part in _normal_parts(word)]
    if len(normal) != len(words):  # normalising split a word: take cleanco's path as is
        removed = _words_removed(normal)
    else:
        start = len(normal)
        while start > 0 and normal[start - 1] in _term_words():
            start -= 1
        removed = _removed_from_run(tuple(normal[start:]))
    return _strip_tail(" ".join(words[: len(words) - removed]))


@functools.lru_cache(maxsize=200_000)  # a batch is normalised in chunks: names recur in each
def strip_legal_suffixes(name: str) -> str:
    """cleanco `basename` applied until stable: "Acme Corporation, Inc." -> "Acme"."""
    current = name
    while True:
        stripped = basename(current)
        if stripped == current:
            return current
        current = stripped


def _may_have_suffix(name: pl.Expr) -> pl.Expr:
    """False only when cleanco certainly leaves the name alone: an ASCII name whose last word
    (lower case, without "." "," "-" and trailing symbols, as cleanco compares) is not the end
    of any legal term."""
    last = (
        name.str.replace(r"[^.\w]+$", "")
        .str.extract(r"(\S+)$")
        .str.to_lowercase()
        .str.replace_all(r"[.,-]", "")
    )
    ascii_only = name.str.contains(r"^[\x00-\x7f]*$")
    return ~ascii_only | last.is_in(_term_endings().implode()) | last.is_null()


def company_keys(names: pl.Series) -> pl.Series:
    """Matching key for each company name (NULL for blank). A name that is nothing but a
    legal form ("Inc.", "The Company") keys on its own words rather than on nothing."""
    keys = by_distinct(names.cast(pl.String()), _company_keys)
    assert isinstance(keys, pl.Series)
    return keys.alias(names.name)


def _company_keys(names: pl.Series) -> pl.Series:
    frame = names.cast(pl.String()).str.strip_chars().to_frame("name")
    needs = frame.select(pl.when(_may_have_suffix(pl.col("name"))).then(pl.col("name")))
    stripped = map_unique(needs.to_series(), strip_legal_suffixes, pl.String()).alias("stripped")
    frame = frame.with_columns(stripped).with_columns(base=pl.coalesce("stripped", "name"))
    keys = _keys(frame["base"])
    # a name that is nothing but legal forms keys on its own words
    fallback = (keys.is_null() & frame["stripped"].is_not_null()).arg_true()
    if not fallback.is_empty():
        keys = keys.scatter(fallback, _keys(frame["name"].gather(fallback)))
    return keys.alias(names.name)


def _keys(names: pl.Series) -> pl.Series:
    """`_key` of each name; ASCII names (nearly all) take `fold_key_ascii`, which gives the
    same keys at a fraction of the cost."""
    ascii_only = names.to_frame("v").select(is_ascii(pl.col("v")).fill_null(True)).to_series()
    if ascii_only.all():
        return names.to_frame("v").select(_key(pl.col("v"), fold_key_ascii)).to_series()
    keys = pl.Series(names.name, [None] * len(names), dtype=pl.String())
    for subset, fold in ((ascii_only, fold_key_ascii), (~ascii_only, fold_key)):
        rows = subset.arg_true()
        if not rows.is_empty():
            part = names.gather(rows).to_frame("v").select(_key(pl.col("v"), fold))
            keys = keys.scatter(rows, part.to_series())
    return keys


def _key(name: pl.Expr, fold: Callable[[pl.Expr], pl.Expr] = fold_key) -> pl.Expr:
    spaced = name.str.replace_all("&", " and ", literal=True)
    return fold(fold(spaced).str.replace(r"^the( |$)", ""))
