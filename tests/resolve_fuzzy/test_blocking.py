"""Blocking: incremental (only pairs touching new nodes), capped, placeholder-free."""

from __future__ import annotations

import polars as pl

from rex_pipeline.resolve.fuzzy import find_candidate_pairs
from rex_pipeline.resolve.fuzzy.blocking import block_keys, candidate_pairs, rule_names, rules_of
from tests.resolve_fuzzy.fuzzy_factory import SETTINGS, contacts, pair_of, person


def _keys(members: dict[str, list[int]], new: set[int]) -> pl.DataFrame:
    rows = [(i, i in new, key) for key, idxs in members.items() for i in idxs]
    frame = pl.DataFrame(rows, schema=["idx", "is_new", "key"], orient="row")
    return block_keys(frame.with_columns(pl.col("idx").cast(pl.UInt32)), "test", pl.col("key"))


def test_a_null_part_gives_no_key_and_rules_do_not_share_keys() -> None:
    nodes = pl.DataFrame(
        {"idx": [0, 1, 2], "is_new": [True] * 3, "ln": ["smith", None, "smith"]},
        schema={"idx": pl.UInt32, "is_new": pl.Boolean, "ln": pl.String},
    )
    keys = pl.concat(
        [block_keys(nodes, "last", pl.col("ln")), block_keys(nodes, "other", pl.col("ln"))]
    )
    assert keys.filter(pl.col("rule") == "last")["idx"].to_list() == [0, 2]
    assert keys["key"].n_unique() == 2


def test_only_pairs_with_a_new_node_and_each_pair_once() -> None:
    keys = _keys({"k1": [0, 1, 2, 3], "k2": [0, 1]}, new={0, 3})
    pairs, stats = candidate_pairs(keys, max_block_size=10)
    found = set(pairs.select("a", "b").iter_rows())
    # 1-2 are both existing: never compared again
    assert found == {(0, 1), (0, 2), (0, 3), (1, 3), (2, 3)}
    rules = pairs.select("a", "b", rules=rules_of(pl.col("rule_mask"), rule_names(keys)))
    assert rules.filter((pl.col("a") == 0) & (pl.col("b") == 1))["rules"].to_list() == [["test"]]
    assert stats["pairs"] == 5


def test_blocks_over_the_cap_are_dropped_and_counted() -> None:
    keys = _keys({"crowd": list(range(12)), "small": [0, 11]}, new=set(range(12)))
    pairs, stats = candidate_pairs(keys, max_block_size=10)
    assert set(pairs.select("a", "b").iter_rows()) == {(0, 11)}
    assert stats["blocks_too_large"] == 1
    # a rule can have a tighter cap than the setting
    pairs, stats = candidate_pairs(keys, max_block_size=20, caps={"test": 10})
    assert stats["blocks_too_large"] == 1
    pairs, stats = candidate_pairs(keys, max_block_size=20)
    assert stats["blocks_too_large"] == 0 and pairs.height == 66


def test_existing_nodes_are_not_paired_with_each_other() -> None:
    # cont_a and cont_b would merge if compared, but neither has new records
    old = {"is_new": False, "phones": ["+447700900123"]}
    profiles = contacts(
        person("cont_a", "Ada", "Lovelace", "ada@engines.co.uk", **old),
        person("cont_b", "Ada", "Lovelace", "ada.lovelace@gmail.com", **old),
        person("tmp_1", "Ada", "Lovelace", "ada.l@outlook.com", phones=["+447700900123"]),
    )
    pairs = find_candidate_pairs(profiles, SETTINGS)
    assert pair_of(pairs, "cont_a", "cont_b") is None
    assert pair_of(pairs, "cont_a", "tmp_1")["decision"] == "merge"
    assert pair_of(pairs, "cont_b", "tmp_1")["decision"] == "merge"


def test_fuzzy_off_gives_no_pairs() -> None:
    off = SETTINGS.model_copy(
        update={"resolution": SETTINGS.resolution.model_copy(update={"fuzzy": False})}
    )
    profiles = contacts(
        person("n1", "Ada", "Lovelace", "ada@engines.co.uk"),
        person("n2", "Ada", "Lovelace", "ada.lovelace@gmail.com"),
    )
    pairs = find_candidate_pairs(profiles, off)
    assert pairs.is_empty() and "evidence" in pairs.columns


def test_role_mailboxes_and_filler_never_make_a_block() -> None:
    profiles = contacts(
        person("n1", "Maria", "Garcia", "sales@northwind.com"),
        person("n2", "Kenji", "Watanabe", "sales@contoso.com"),
        person("n3", None, None, "test@example.com"),
        person("n4", None, None, "test@example.com"),
        person("n5", "Unknown", "N/A", "noreply@contoso.com"),
        person("n6", "Unknown", "N/A", "no-reply@northwind.com"),
    )
    assert find_candidate_pairs(profiles, SETTINGS).is_empty()
