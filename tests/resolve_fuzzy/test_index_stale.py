"""Replaced and forgotten nodes stay in the index's frames as stale rows (no copy of the
index per run): every reader must skip them."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from rex_pipeline.resolve.fuzzy import (
    build_contact_index,
    contact_candidates,
    forget_contacts,
    grow_contact_index,
    load_contact_index,
)
from rex_pipeline.resolve.fuzzy.contacts import score_candidates
from rex_pipeline.resolve.fuzzy.features import ContactFeatures, contact_features
from rex_pipeline.resolve.fuzzy.spelling import spelling_counts
from tests.resolve_fuzzy.fuzzy_factory import SETTINGS, contacts, person

OLD = {"is_new": False}
EXISTING = contacts(
    person("cont_1", "Ada", "Lovelace", "ada@engines.co.uk", phones=["+447700900123"], **OLD),
    person("cont_2", "Charles", "Babbage", "charles@engines.co.uk", **OLD),
    person("cont_3", "Alan", "Turing", "alan@bletchley.org.uk", **OLD),
)  # fmt: skip
# cont_1 moves away from everything that paired it with tmp_1
MOVED = contacts(person("cont_1", "Ada", "King", "ada.king@example.org", **OLD))
NEW = contacts(
    person("tmp_1", "Ada", "Lovelace", "ada@engines.co.uk", phones=["+447700900123"]),
)


def test_replacing_a_node_marks_its_rows_stale_without_copying_the_frames() -> None:
    index = build_contact_index(EXISTING)
    base = index.features.without(MOVED["node_id"])
    assert base.nodes is index.features.nodes and base.emails is index.features.emails
    old = index.features.idx_of(pl.Series(["cont_1"]))
    assert base.stale.to_list() == old.to_list()
    assert base.idx_of(pl.Series(["cont_1"])).is_empty()
    assert base.population == index.features.population - 1
    # a node already stale is not taken away twice
    assert base.without(MOVED["node_id"]) is base
    found = contact_candidates(MOVED, index)
    assert found.replaced.to_list() == old.to_list()
    assert found.keys.filter(pl.col("idx").is_in(old.implode())).height  # left in place
    forgotten = forget_contacts(index, pl.Series(["cont_2"]))
    assert forgotten.keys is index.keys
    assert forgotten.dropped.to_list() == forgotten.features.stale.to_list()


def test_stale_keys_give_no_pairs() -> None:
    """The old profile of cont_1 shares every key with tmp_1: only its stale rows could
    pair them."""
    index = build_contact_index(EXISTING)
    grown = grow_contact_index(index, contact_candidates(MOVED, index), MOVED.height)
    found = contact_candidates(NEW, grown)
    pairs = score_candidates(found.features, found.keys, SETTINGS)
    assert "cont_1" not in pairs["node_a"].to_list() + pairs["node_b"].to_list()
    before = contact_candidates(NEW, index)
    paired = score_candidates(before.features, before.keys, SETTINGS)
    assert ("cont_1", "tmp_1") in set(paired.select("node_a", "node_b").iter_rows())


def test_counting_names_and_shared_lines_skips_stale_rows() -> None:
    feats = contact_features(EXISTING)
    plain = ContactFeatures(feats.nodes, feats.emails, feats.phones, 3, feats.shared)
    base = plain.without(pl.Series(["cont_1"]))  # no counts known: counted from the rows
    assert sorted(base.spellings.last.rows()) == sorted(
        spelling_counts(pl.Series(["babbage", "turing"])).rows()
    )
    # the stale row's number is no one's any more: two namesakes of new nodes are not 3 people
    new = contacts(
        person("tmp_5", "Bo", "Xu", "bo@x.org", phones=["+447700900123"]),
        person("tmp_6", "Li", "Yu", "li@y.org", phones=["+447700900123"]),
    )
    fresh = contact_features(new, offset=3, population=base)
    assert fresh.shared.is_empty() and fresh.phones.height == 2


def test_saved_index_holds_no_stale_rows(tmp_path: Path) -> None:
    index = build_contact_index(EXISTING)
    grown = grow_contact_index(index, contact_candidates(MOVED, index), MOVED.height)
    grown = forget_contacts(grown, pl.Series(["cont_2"]))
    grown.save(tmp_path / "index")  # first save: a whole base part
    for name in ("nodes", "emails", "phones", "keys"):
        saved = pl.read_parquet(tmp_path / "index" / f"part-0-{name}.parquet")
        assert saved.filter(pl.col("idx").is_in(grown.features.stale.implode())).is_empty()
    loaded = load_contact_index(tmp_path / "index")
    assert sorted(loaded.features.nodes["node_id"].to_list()) == ["cont_1", "cont_3"]
    assert loaded.features.nodes.filter(pl.col("node_id") == "cont_1")["ln"].item() == "king"


def test_shared_lines_with_an_index_are_those_of_counting_every_number() -> None:
    """Only the batch's numbers are looked up among the indexed people; the others are
    shared as the index says."""
    desk, office = "+442079460000", "+442079460001"
    existing = contacts(
        person("cont_a", "Ann", "Abel", "ann@a.org", phones=[desk, office], **OLD),
        person("cont_b", "Bob", "Bond", "bob@b.org", phones=[desk, office], **OLD),
        person("cont_c", "Cy", "Cole", "cy@c.org", phones=[office], **OLD),
    )
    new = contacts(person("tmp_d", "Di", "Dunn", "di@d.org", phones=[desk]))
    index = build_contact_index(existing)
    assert index.features.shared.to_list() == [office]
    found = contact_candidates(new, index)
    everything = contact_features(pl.concat([existing, new]))
    assert sorted(found.features.shared.to_list()) == sorted(everything.shared.to_list())
    new_phones = found.features.phones.filter(pl.col("idx") >= index.size)
    assert new_phones.is_empty()  # the desk is shared now
