"""Fuzzy linking of contact nodes: blocking rules, then scoring (the levels in compare.py,
their weights in contact_weights.py).

Blocking rules (a block larger than `resolution.max_block_size` nodes, or than the tighter
NAME_BLOCK_CAPS of the name rules, is dropped):
* email_local   — squashed local part ("bigdave77" at work and at gmail), unless the local
  part is just the node's own name (those pairs come from the name rules);
* email_letters — its letters only ("bigdave77" meets "big.dave");
* phone         — a personal number (shared lines removed);
* linkedin      — the profile URL;
* name          — nickname group of the first name + last name, and the same under the
  spelling a one-off misspelling of either stands for (spelling.typo_sources);
* name_company  — first name (and its canonical form: Bob -> robert) + last name within a
  company (its name without spaces, or the name of its domain);
* first_company / last_company — one name within a company (the other may carry a typo);
* name_in_address — the address of a node without a name, and the names it spells
  (adalovelace@gmail.com meets Ada Lovelace).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import polars as pl

from rex_pipeline.config import Settings
from rex_pipeline.resolve.fuzzy.blocking import block_keys, candidate_pairs, rule_names, rules_of
from rex_pipeline.resolve.fuzzy.compare import owned_mailboxes, score_pairs
from rex_pipeline.resolve.fuzzy.contact_weights import CONTACT_COMPARISONS
from rex_pipeline.resolve.fuzzy.features import (
    ContactFeatures,
    contact_features,
    own_name_mailbox,
)
from rex_pipeline.resolve.fuzzy.model import empty_pairs, explanation, pair_frame, reasons
from rex_pipeline.resolve.fuzzy.nicknames import first_name_block_keys, name_groups_column
from rex_pipeline.resolve.fuzzy.spelling import SpellingCounts, typo_sources

if TYPE_CHECKING:
    from rex_pipeline.resolve.fuzzy.index import ContactIndex
from rex_pipeline.resolve.fuzzy.profiles import CONTACT_PROFILE, conform, frame_of

log = logging.getLogger(__name__)

#: Tighter block limits for the name rules. A first+last name shared by more nodes than this
#: is a common name: its pairs need other evidence (an address, a number, a company), which
#: the other rules find, and comparing every James Smith with every other would grow with
#: the square of the warehouse. The letters of a mailbox (bigdave77 -> bigdave) shared by more
#: than 10 nodes are a common word or name, not a person: at 300k rows the cap of 50 let
#: through 44k pairs (12% of all) that merged nothing the other rules did not.
NAME_BLOCK_CAPS = {
    "name": 30,
    "first_company": 50,
    "last_company": 50,
    "name_company": 50,
    "email_letters": 10,
    "name_in_address": 30,
}

#: Pairs scored at a time: the comparison frames are wide, so memory stays bounded.
SCORE_CHUNK = 400_000


def contact_block_keys(
    feats: ContactFeatures, spellings: SpellingCounts | None = None
) -> pl.DataFrame:
    """Block keys of every node under every contact blocking rule. `spellings` are the name
    counts of the whole population (default: of `feats`), to file a one-off misspelling
    under the name it misspells."""
    nodes = feats.nodes
    is_new = nodes.select("idx", "is_new")
    # a mailbox made from the node's own name (john.smith@, jsmith@) is left to the name
    # rules: as a key of its own it would pair every namesake under the same address pattern
    emails = feats.emails.join(nodes.select("idx", "is_new", "fn", "ln"), on="idx").filter(
        ~own_name_mailbox(pl.col("letters"), pl.col("fn"), pl.col("ln"))
    )
    phones = feats.phones.join(is_new, on="idx")
    company = pl.coalesce(
        pl.col("company").str.replace_all(" ", ""),
        pl.col("company_domain").str.extract(r"^([^.]+)").str.replace_all("-", ""),
    )
    # every nickname group for the name rule; within a company the name and one canonical
    # form are enough, and keep the number of keys down
    grouped = _name_rows(nodes, spellings or feats.spellings)
    named = nodes.select(
        "idx", "is_new", "ln", company=company, group=first_name_block_keys(nodes["fn"])
    ).explode("group")
    group, ln, company = pl.col("group"), pl.col("ln"), pl.col("company")
    frames = [
        block_keys(
            emails.filter(pl.col("local").str.len_chars() >= 3).unique(["idx", "local"]),
            "email_local",
            pl.col("local"),
        ),
        block_keys(
            emails.filter(
                (pl.col("letters").str.len_chars() >= 5) & (pl.col("letters") != pl.col("local"))
            ).unique(["idx", "letters"]),
            "email_letters",
            pl.col("letters"),
        ),
        block_keys(phones, "phone", pl.col("phone")),
        block_keys(nodes, "linkedin", pl.col("linkedin")),
        block_keys(grouped, "name", group, ln),
        block_keys(named, "name_company", group, ln, company),
        block_keys(named, "first_company", group, company),
        block_keys(named.unique("idx"), "last_company", ln, company),
        block_keys(_name_in_address_rows(nodes, feats.emails), "name_in_address", pl.col("form")),
    ]
    return pl.concat(frames)


def _name_in_address_rows(nodes: pl.DataFrame, emails: pl.DataFrame) -> pl.DataFrame:
    """idx, is_new, form: the address letters of nodes without a name, and the full-name forms
    (adalovelace, lovelaceada) of named nodes that such an address spells."""
    nameless = nodes.filter(pl.col("fn").is_null() & pl.col("ln").is_null())
    spelt = (
        emails.join(nameless.select("idx", "is_new"), on="idx")
        .filter(pl.col("letters").str.len_chars() >= 6)
        .select("idx", "is_new", form="letters")
        .unique(["idx", "form"])
    )
    if spelt.is_empty():
        return spelt
    named = nodes.select("idx", "is_new", "ln", first=first_name_block_keys(nodes["fn"]))
    named = named.filter(pl.col("ln").is_not_null() & pl.col("first").is_not_null())
    named = named.explode("first")
    forms = pl.concat(
        [
            named.select("idx", "is_new", form=pl.col("first") + pl.col("ln")),
            named.select("idx", "is_new", form=pl.col("ln") + pl.col("first")),
        ]
    ).join(spelt.select("form").unique(), on="form", how="semi")
    return pl.concat([spelt, forms]).unique(["idx", "form"])


def _name_rows(nodes: pl.DataFrame, spellings: SpellingCounts) -> pl.DataFrame:
    """idx, is_new, ln, group for the name rule: every nickname group of the first name with
    the last name, and the same under the spelling a one-off misspelling of either stands for
    (Jmaes Smith is filed under James Smith too, Ada Lovelcae under Ada Lovelace)."""
    grouped = nodes.select("idx", "is_new", "ln", group=pl.col("fn_groups")).explode("group")
    last = typo_sources(spellings.last, nodes["ln"])
    misspelt_last = grouped.join(last, left_on="ln", right_on="value").select(
        "idx", "is_new", "group", ln="source"
    )
    first = nodes.select("idx", "is_new", "ln", "fn").join(
        typo_sources(spellings.first, nodes["fn"]), left_on="fn", right_on="value"
    )
    misspelt_first = first.select(
        "idx", "is_new", "ln", group=name_groups_column(first["source"])
    ).explode("group")
    rows = pl.concat([grouped, misspelt_last.select(grouped.columns), misspelt_first])
    return rows.unique(["idx", "ln", "group"])


def find_candidate_pairs(
    profiles: pl.DataFrame, settings: Settings, *, index: ContactIndex | None = None
) -> pl.DataFrame:
    """Scored pairs of contact nodes at or above `review_threshold`, at least one node new.

    Columns: profiles.PAIR_COLUMNS plus `evidence` (a struct with the level, weight and
    similarity of every comparison). `decision` is "merge" at or above `merge_threshold`
    without a conflict, else "review". Returns no pairs when `resolution.fuzzy` is off.

    Without `index`, `profiles` holds every node of the run (existing and new). With an
    index of the existing nodes (index.build_contact_index), `profiles` needs only the new
    or touched nodes: an indexed node with the same node_id is replaced by its new profile.
    """
    res = settings.resolution
    if not res.fuzzy or profiles.is_empty():
        return _empty_pairs()
    found = contact_candidates(profiles, index)
    return score_candidates(found.features, found.keys, settings)


@dataclass(frozen=True)
class Candidates:
    """Features and block keys of the nodes to link (the new ones and, with an index, the
    indexed ones), and the idx of index entries the new profiles replace. `keys` may hold
    rows of `features.stale` idx: they are no block members (see `score_candidates`)."""

    features: ContactFeatures
    keys: pl.DataFrame
    replaced: pl.Series


def contact_candidates(profiles: pl.DataFrame, index: ContactIndex | None = None) -> Candidates:
    """Features and block keys of `profiles` (with `index`: side by side with the indexed
    nodes, an indexed node replaced by its new profile; new idx from `index.size` on)."""
    if index is None:
        feats = contact_features(profiles)
        return Candidates(feats, contact_block_keys(feats), pl.Series("idx", [], pl.UInt32))
    # the replaced nodes are marked stale, not filtered out: copying the warehouse-sized
    # frames would cost every run O(warehouse); their keys are dropped in score_candidates
    base = index.features.without(profiles["node_id"])
    fresh = _one_chunk(contact_features(profiles, offset=index.size, population=base))
    feats = base.plus(fresh)
    replaced = base.stale.slice(index.features.stale.len())  # what `without` appended
    fresh_keys = contact_block_keys(fresh, feats.spellings).rechunk()
    keys = pl.concat([index.keys, fresh_keys], rechunk=False)
    return Candidates(feats, keys, replaced.cast(pl.UInt32))


def _one_chunk(feats: ContactFeatures) -> ContactFeatures:
    """The (batch-sized) frames in one chunk per column: chained to the index's frames with
    columns chunked alike, so that no later operation rechunks the whole index."""
    frames = {name: getattr(feats, name).rechunk() for name in ("nodes", "emails", "phones")}
    return replace(feats, **frames)


def score_candidates(
    feats: ContactFeatures,
    keys: pl.DataFrame,
    settings: Settings,
    *,
    touching: pl.Series | None = None,
) -> pl.DataFrame:
    """Scored pairs of the nodes sharing a block key, at least one of them new (see
    `find_candidate_pairs`); with `touching`, only pairs with one of these idx."""
    res = settings.resolution
    if not res.fuzzy or keys.is_empty():  # nothing to block on (no names, addresses, numbers)
        return _empty_pairs()
    # only blocks holding a new node give pairs: with an index that is a small share of the
    # keys, and every step below (rule names too) then costs what the batch touches
    if not keys["is_new"].all():
        touched = keys.filter(pl.col("is_new")).select("key").unique()
        keys = keys.join(touched, on="key", how="semi")
    # keys of stale idx (replaced nodes, left in the index's frames) are dropped only now,
    # from the few blocks touched, rather than from every key of the index
    if not feats.stale.is_empty():
        keys = keys.filter(~pl.col("idx").is_in(feats.stale.implode()))
    if keys.is_empty():  # the new nodes have no block keys: no pairs
        return _empty_pairs()
    pairs, stats = candidate_pairs(keys, res.max_block_size, NAME_BLOCK_CAPS)
    if touching is not None:
        wanted = touching.implode()
        pairs = pairs.filter(pl.col("a").is_in(wanted) | pl.col("b").is_in(wanted))
    names = rule_names(keys)
    parts = [_empty_pairs()]
    # what the nodes' addresses say of their names, worked out once rather than per chunk
    owned = (
        owned_mailboxes(feats, pl.concat([pairs["a"], pairs["b"]]).unique())
        if pairs.height > SCORE_CHUNK
        else None
    )
    for chunk in pairs.iter_slices(SCORE_CHUNK):  # bounded memory on big runs
        scored = score_pairs(feats, chunk, owned=owned)
        scored = scored.filter(pl.col("score") >= res.review_threshold).with_columns(
            blocking_rules=rules_of(pl.col("rule_mask"), names)
        )
        parts.append(
            pair_frame(
                scored,
                feats.nodes.select("idx", "node_id"),
                CONTACT_COMPARISONS,
                res.merge_threshold,
                res.review_threshold,
            )
        )
    result = pl.concat(parts).sort("node_a", "node_b")
    log.info(
        "contacts: %d nodes, %d blocks (%d too large), %d candidate pairs, %d merge, %d review",
        feats.live_nodes,
        stats["blocks"],
        stats["blocks_too_large"],
        stats["pairs"],
        (result["decision"] == "merge").sum(),
        (result["decision"] == "review").sum(),
    )
    return result


def explain_pair(
    profile_a: Mapping[str, object] | pl.DataFrame,
    profile_b: Mapping[str, object] | pl.DataFrame,
    settings: Settings,
    *,
    population: pl.DataFrame | None = None,
) -> dict[str, object]:
    """The full evidence for two contact profiles, whether or not blocking would pair them.

    `population` (the run's other profiles) makes name frequencies, shared phone lines and
    the population scale those of the run; without it every name counts as of average
    frequency in a small population."""
    rows = [_as_row(profile_a), _as_row(profile_b)]
    frame = frame_of(rows, CONTACT_PROFILE)
    if population is not None:
        frame = pl.concat([conform(population, CONTACT_PROFILE), frame])
    last = frame.height - 1
    feats = contact_features(frame)
    scored = score_pairs(
        feats, pl.DataFrame({"a": [last - 1], "b": [last]}, schema={"a": pl.UInt32, "b": pl.UInt32})
    )
    row = scored.with_columns(reasons(CONTACT_COMPARISONS)).row(0, named=True)
    res = settings.resolution
    return explanation(row, CONTACT_COMPARISONS, res.merge_threshold, res.review_threshold)


def _as_row(profile: Mapping[str, object] | pl.DataFrame) -> dict[str, object]:
    if isinstance(profile, pl.DataFrame):
        return profile.row(0, named=True)
    return dict(profile)


def _empty_pairs() -> pl.DataFrame:
    return empty_pairs(CONTACT_COMPARISONS)
