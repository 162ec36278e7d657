"""Free-text matching of contacts: every word, in any case, must appear in what the search looks
at. A list's `search=` looks at the first name, last name and primary email; a smart list's `q`
also at the contact's other emails, its company's name and its custom-field values.

Files published with the derived `contact_search` table (publish/derived.py: that text,
lower-cased, one narrow row per contact, newest first) answer through it: it lists the matching
contacts in the page's order and the page reads only those (candidates.py). In the default order
it is read a range of positions at a time, so a common word stops after a page's worth; a rare
one costs one pass over two short uncompressed columns instead of case-folding three columns,
joining emails and companies and parsing every contact's JSON. Older files scan contacts with
the clauses below, with the same results.

Measured on 1M contacts (benchmarks/query_bench.py, one busy core): `search=lovelace` (14k
matches) 110-200 -> ~20 ms; a word matching nothing 55-70 -> ~40 ms; smart-list `q=lovelace`
120-145 -> ~20 ms.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rex_pipeline.publish.derived import STRIDE, metadata_values
from rex_pipeline.query.candidates import Candidates, Positions
from rex_pipeline.query.connection import Scope
from rex_pipeline.query.layout import Layout
from rex_pipeline.query.pages import Order
from rex_pipeline.schema import CONTACT_SEARCH, CONTACT_SEARCH_ORGS

MAX_WORDS = 10
SEARCH_SOURCE = f'"{CONTACT_SEARCH.name}" AS s'


def words_of(text: str | None) -> list[str]:
    """The words a search text asks for (whitespace separates them): all of them, as every
    word must match (a request with more than MAX_WORDS is refused by `check_words`)."""
    return (text or "").split()


def check_words(text: str | None) -> str | None:
    """Refuse a search text of more than MAX_WORDS words: each word is one more clause over
    every contact, and dropping the rest would widen the answer without saying so."""
    count = len(words_of(text))
    if count > MAX_WORDS:
        raise ValueError(f"at most {MAX_WORDS} words (got {count})")
    return text


def _found_in(column: str) -> str:
    """`?` (a word) in `column`, both lower-cased by DuckDB: the same test contact_search makes
    on its lower-cased text (Python's lower() and RE2's case folding differ on 'İ' or 'Σ')."""
    return f"contains(lower({column}), lower(?))"


def name_or_email(word: str) -> tuple[str, list[Any]]:
    """`word` (any case) in a first name, last name or primary email, by scanning contacts `t`."""
    columns = ("t.first_name", "t.last_name", "t.email")
    return "(" + " OR ".join(_found_in(c) for c in columns) + ")", [word] * len(columns)


def anywhere(word: str, org_id: str) -> tuple[str, list[Any]]:
    """`word` in the name or primary email, another email, the company's name or a custom-field
    value (at any depth; never a key), by scanning contacts `t` (companies and secondary emails
    are matched on their own small tables first)."""
    contact_sql, contact_params = name_or_email(word)
    values = metadata_values("t.metadata")  # the values only, as contact_search holds them
    return (
        f"({contact_sql}"
        f" OR t.company_id IN (SELECT id FROM companies WHERE org_id = ? AND {_found_in('name')})"
        " OR t.id IN (SELECT contact_id FROM contact_emails WHERE org_id = ?"
        f" AND NOT is_primary AND {_found_in('email')})"
        f" OR {_found_in(values)})",
        [*contact_params, org_id, word, org_id, word, word],
    )


def scan_clauses(words: list[str], org_id: str, wide: bool) -> tuple[list[str], list[Any]]:
    """One clause per word over contacts `t`: `wide` for a smart list's q, else a list's search."""
    clauses, params = [], []
    for word in words:
        sql, word_params = anywhere(word, org_id) if wide else name_or_email(word)
        clauses.append(sql)
        params += word_params
    return clauses, params


def candidates(
    layout: Layout,
    owners: list[str],
    scope: Scope,
    words: list[str],
    wide: bool,
    order: Order,
    sort_column: str,
) -> Candidates | None:
    """The contacts matching every word (and owned by `owners`, which the page requires anyway),
    listed from contact_search in the page's `order` (by `sort_column`); None for a file
    without the table. Past MAX_CANDIDATES (a common word and a rare other filter) the page
    joins the same matches instead."""
    if not layout.contact_search or not words:
        return None
    where, params = ["s.owner_id = ?"] * len(owners), list(owners)
    for word in words:  # lower-cased by DuckDB, like the text (Python's lower() differs)
        if wide:
            where.append("(contains(s.text, lower(?)) OR contains(s.more_values, lower(?)))")
            params += [word, word]
        else:
            where.append("contains(s.text, lower(?))")
            params.append(word)
    matches = (
        f"SELECT s.contact_id FROM {SEARCH_SOURCE} WHERE {' AND '.join(['s.org_id = ?', *where])}"
    )
    newest_first = sort_column == "created_at" and order.descending  # the table's own order
    return Candidates(
        source=SEARCH_SOURCE,
        group="s.org_id = ?",
        group_params=[scope.org_id],
        where=where,
        params=params,
        order=replace(order, key=f's."{sort_column}"', tiebreak="s.contact_id"),
        row="s.contact_row",
        fallback=[f"t.id IN ({matches})"],
        fallback_params=[scope.org_id, *params],
        positions=(
            org_positions(CONTACT_SEARCH.name, "position", scope.org_id) if newest_first else None
        ),
    )


def org_positions(table: str, column: str, org_id: str) -> Positions:
    """`column` of `table` (aliased `s`) read by position within the org, from its span in
    contact_search_orgs (positions have gaps: publish/derived.py)."""
    span = (
        f'SELECT first_position, last_position FROM "{CONTACT_SEARCH_ORGS.name}"'
        " WHERE org_id = ? AND position_column = ?"
    )
    return Positions(f"s.{column}", span, [org_id, f"{table}.{column}"], STRIDE)
