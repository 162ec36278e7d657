"""An incremental run counts the warehouse's names once: the index's spelling counts are
carried through `without` and `plus`, and the features of new nodes are the same as if every
name had been counted again."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from rex_pipeline.resolve.fuzzy import (
    build_contact_index,
    contact_candidates,
    load_contact_index,
    refresh_contact_index,
    score_candidates,
)
from rex_pipeline.resolve.fuzzy.features import ContactFeatures, contact_features
from rex_pipeline.resolve.fuzzy.spelling import SpellingCounts, spelling_counts
from tests.resolve_fuzzy.fuzzy_factory import SETTINGS, contacts, crowd, person

EXISTING = pl.concat(
    [
        crowd(300, {"John Smith": 40, "Mary Jones": 25, "Ada Lovelace": 2}).with_columns(
            is_new=pl.lit(False)
        ),
        contacts(
            person("cont_ada", "Ada", "Lovelace", "ada@engines.co.uk", is_new=False),
            person("cont_jon", "Jon", "Smiht", "jon.smiht@acme-robotics.com", is_new=False),
        ),
    ],
    how="diagonal_relaxed",
)
NEW = contacts(
    person("tmp_1", "Ada", "Lovelcae", "countess1815@gmail.com"),
    person("tmp_2", "Jonathan", "Smith", "jsmith@acme-robotics.com"),
    # an existing contact again, with a new spelling: its old row's names leave the counts
    person("cont_jon", "Jon", "Smith", "jon.smiht@acme-robotics.com"),
)


def _sorted(counts: SpellingCounts) -> tuple[list[tuple], list[tuple]]:
    return (sorted(counts.first.rows()), sorted(counts.last.rows()))


def _recounted(feats: ContactFeatures) -> SpellingCounts:
    nodes = feats.live(feats.nodes)
    return SpellingCounts(first=spelling_counts(nodes["fn"]), last=spelling_counts(nodes["ln"]))


def test_counts_follow_nodes_through_without_and_plus() -> None:
    index = build_contact_index(EXISTING)
    assert index.features.spellings.first.height  # counted once, as a run does on load
    base = index.features.without(NEW["node_id"])
    assert base.counts is not None  # carried, not counted again
    assert _sorted(base.counts) == _sorted(_recounted(base))
    fresh = contact_features(NEW, offset=index.size, population=base)
    both = base.plus(fresh)
    assert both.counts is not None
    assert _sorted(both.counts) == _sorted(_recounted(both))
    assert ("smiht", 1) not in both.counts.last.rows()  # cont_jon's old spelling left


def test_features_with_an_index_match_counting_every_name_again() -> None:
    index = build_contact_index(EXISTING)
    found = contact_candidates(NEW, index)
    # the same population counted from scratch: the index's rows without cont_jon, then NEW
    base = index.features.without(pl.Series(["cont_jon"]))
    live = [base.live(frame) for frame in (base.nodes, base.emails, base.phones)]
    plain = ContactFeatures(*live, base.population, base.shared)
    fresh = contact_features(NEW, offset=index.size, population=plain)
    columns = ["node_id", "fn", "ln", "fn_tf", "ln_tf"]
    new_rows = found.features.nodes.filter(pl.col("idx") >= index.size)
    assert new_rows.select(columns).equals(fresh.nodes.select(columns))
    assert _sorted(found.features.spellings) == _sorted(_recounted(found.features))


def test_features_without_counts_count_their_own_nodes() -> None:
    feats = contact_features(NEW)
    narrowed = feats.only(pl.Series("idx", [0], dtype=pl.UInt32))
    assert narrowed.counts is None
    assert narrowed.spellings.last.rows() == [("lovelcae", 1)]


def test_saved_counts_load_back_and_match_the_nodes(tmp_path: Path) -> None:
    index = build_contact_index(EXISTING)
    index.save(tmp_path)
    loaded = load_contact_index(tmp_path)
    assert loaded.features.counts is not None  # read, not counted
    refreshed = refresh_contact_index(loaded, NEW.with_columns(is_new=pl.lit(False)))
    refreshed.save(tmp_path)  # a delta part
    again = load_contact_index(tmp_path)
    assert again.features.counts is not None
    assert _sorted(again.features.counts) == _sorted(_recounted(again.features))
    assert ("lovelcae", 1) in again.features.counts.last.rows()


def test_counts_of_another_save_are_not_trusted(tmp_path: Path) -> None:
    build_contact_index(EXISTING).save(tmp_path)
    meta = json.loads((tmp_path / "index.json").read_text(encoding="utf-8"))
    del meta["spellings_size"]  # as an index saved by a version that kept no counts
    (tmp_path / "index.json").write_text(json.dumps(meta), encoding="utf-8")
    loaded = load_contact_index(tmp_path)
    assert loaded.features.counts is None
    assert _sorted(loaded.features.spellings) == _sorted(_recounted(loaded.features))


def test_new_nodes_without_block_keys_against_an_index_give_no_pairs() -> None:
    index = build_contact_index(EXISTING)
    nameless = contacts(person("tmp_x", None, None))  # no name, address or number
    found = contact_candidates(nameless, index)
    assert score_candidates(found.features, found.keys, SETTINGS).is_empty()
