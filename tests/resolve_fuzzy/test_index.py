"""Incremental runs with an index of the existing nodes find the same pairs as a full look."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from rex_pipeline.resolve.fuzzy import (
    ContactIndex,
    build_contact_index,
    contact_candidates,
    find_candidate_pairs,
    forget_contacts,
    grow_contact_index,
    load_contact_index,
    refresh_contact_index,
)
from rex_pipeline.resolve.fuzzy import index as index_module
from tests.resolve_fuzzy.fuzzy_factory import SETTINGS, contacts, person

OLD = {"is_new": False}
EXISTING = contacts(
    person("cont_1", "Ada", "Lovelace", "ada@engines.co.uk", phones=["+447700900123"], **OLD),
    person("cont_2", "Charles", "Babbage", "charles@engines.co.uk", **OLD),
    person("cont_3", "Grace", "Hopper", "grace.hopper@navy-systems.com",
           company_key="navy systems", company_domain="navy-systems.com", **OLD),
    person("cont_4", "Alan", "Turing", "alan@bletchley.org.uk", **OLD),
)  # fmt: skip
NEW = contacts(
    person("tmp_1", "Ada", "Lovelace", "countess1815@gmail.com", phones=["+447700900123"]),
    person("tmp_2", "Grace", "Hopper", "grace.hoper@navy-systems.com",
           company_key="navy systems", company_domain="navy-systems.com"),
    # an existing contact with a new number: its fresh profile replaces the indexed one
    person("cont_4", "Alan", "Turing", "alan@bletchley.org.uk", phones=["+441632960001"]),
    person("tmp_3", "Alan", "Turing", "alan.turing@gmail.com", phones=["+441632960001"]),
)  # fmt: skip


def _found(pairs: pl.DataFrame) -> set[tuple[str, str, str]]:
    return set(pairs.select("node_a", "node_b", "decision").iter_rows())


def test_index_gives_the_same_pairs_as_all_profiles(tmp_path: Path) -> None:
    everything = pl.concat([EXISTING.filter(pl.col("node_id") != "cont_4"), NEW])
    full = find_candidate_pairs(everything, SETTINGS)
    index = build_contact_index(EXISTING)
    incremental = find_candidate_pairs(NEW, SETTINGS, index=index)
    assert _found(incremental) == _found(full)
    assert ("cont_1", "tmp_1", "merge") in _found(incremental)
    assert ("cont_3", "tmp_2", "merge") in _found(incremental)
    assert ("cont_4", "tmp_3", "merge") in _found(incremental)  # via the fresh profile
    assert incremental.filter(pl.col("node_a") == pl.col("node_b")).is_empty()
    index.save(tmp_path / "index")
    reloaded = find_candidate_pairs(NEW, SETTINGS, index=load_contact_index(tmp_path / "index"))
    assert reloaded.drop("evidence").equals(incremental.drop("evidence"))


def test_refreshed_index_finds_the_nodes_added_since_it_was_built() -> None:
    first, later = EXISTING.head(2), EXISTING.tail(2)
    stale = build_contact_index(first)
    assert ("cont_3", "tmp_2", "merge") not in _found(
        find_candidate_pairs(NEW, SETTINGS, index=stale)
    )
    refreshed = refresh_contact_index(stale, later)
    assert refreshed.size == 4
    full = find_candidate_pairs(NEW, SETTINGS, index=build_contact_index(EXISTING))
    assert _found(find_candidate_pairs(NEW, SETTINGS, index=refreshed)) == _found(full)


def test_refresh_replaces_a_node_profile_instead_of_keeping_both() -> None:
    index = build_contact_index(EXISTING)
    moved = contacts(person("cont_1", "Ada", "King", "ada.king@example.org", **OLD))
    refreshed = refresh_contact_index(index, moved)
    live = refreshed.features.live(refreshed.features.nodes)
    assert live.filter(pl.col("node_id") == "cont_1").height == 1
    pairs = find_candidate_pairs(NEW, SETTINGS, index=refreshed)
    assert ("cont_1", "tmp_1", "merge") not in _found(pairs)  # the old address is gone


def _frames(index: ContactIndex) -> dict[str, list[tuple]]:
    """The index's content: its live rows (those of stale idx are no part of it)."""
    parts = {"nodes": index.features.nodes, "emails": index.features.emails, "keys": index.keys}
    return {
        name: sorted(index.features.live(frame).rows(), key=repr) for name, frame in parts.items()
    }


def test_saving_a_refreshed_index_writes_a_delta_that_loads_back_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_module, "COMPACT_SHARE", 1.0)  # a tiny base takes a delta too
    folder = tmp_path / "index"
    build_contact_index(EXISTING.head(3)).save(folder)
    loaded = load_contact_index(folder)
    moved = contacts(person("cont_1", "Ada", "King", "ada.king@example.org", **OLD))
    refreshed = refresh_contact_index(loaded, pl.concat([EXISTING.tail(1), moved]))
    refreshed.save(folder)
    assert sorted(p.name for p in folder.glob("part-*-nodes.parquet")) == [
        "part-0-nodes.parquet",
        "part-1-nodes.parquet",
    ]
    assert pl.read_parquet(folder / "part-1-nodes.parquet").height == 2  # only what changed
    reloaded = load_contact_index(folder)
    assert _frames(reloaded) == _frames(refreshed)
    assert reloaded.features.nodes.filter(pl.col("node_id") == "cont_1")["ln"].to_list() == ["king"]
    # once the deltas outgrow their share of the base, the next save compacts to one part
    monkeypatch.setattr(index_module, "COMPACT_SHARE", 0.25)
    again = refresh_contact_index(reloaded, EXISTING.head(2))
    again.save(folder)
    assert [p.name for p in folder.glob("part-*-nodes.parquet")] == ["part-0-nodes.parquet"]
    assert _frames(load_contact_index(folder)) == _frames(again)


def test_a_run_saves_the_features_it_linked_with_minus_the_nodes_merged_away(
    tmp_path: Path,
) -> None:
    """grow_contact_index keeps what contact_candidates computed for the batch (as a refresh
    would give it); forget_contacts drops a node merged away, and the saved delta says so."""
    index = build_contact_index(EXISTING)
    index.save(tmp_path / "index")
    index = load_contact_index(tmp_path / "index")
    found = contact_candidates(NEW, index)
    grown = grow_contact_index(index, found, NEW.height)
    refreshed = refresh_contact_index(index, NEW)
    assert grown.size == refreshed.size == index.size + NEW.height
    assert not grown.features.nodes["is_new"].any() and not grown.keys["is_new"].any()
    assert grown.keys.sort("idx", "key").equals(refreshed.keys.sort("idx", "key"))
    assert grown.features.nodes.drop("is_new").equals(refreshed.features.nodes.drop("is_new"))

    later = contacts(person("tmp_9", "Ada", "Lovelace", "ada.lovelace@gmail.com",
                            phones=["+447700900123"]))  # fmt: skip
    assert ("cont_1", "tmp_9", "merge") in _found(
        find_candidate_pairs(later, SETTINGS, index=grown)
    )
    merged_away = forget_contacts(grown, pl.Series(["cont_1"]))
    merged_away.save(tmp_path / "index")
    reloaded = load_contact_index(tmp_path / "index")
    partners = _found(find_candidate_pairs(later, SETTINGS, index=reloaded))
    assert not any("cont_1" in pair for pair in partners)
    assert ("tmp_1", "tmp_9", "merge") in partners  # the node it merged into is still there
