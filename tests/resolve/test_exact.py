"""Exact-key resolution: components, minting, joining and merging existing entities."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import numpy as np
import polars as pl

from rex_pipeline.resolve.exact import Resolution, resolve_by_keys
from rex_pipeline.resolve.graph import component_roots
from rex_pipeline.resolve.keys import company_keys, contact_keys


def test_components_follow_long_chains() -> None:
    n = 2_000
    roots = component_roots(np.arange(n), np.arange(1, n + 1), n + 1)
    assert set(roots.tolist()) == {0}


def test_separate_components_stay_apart_and_take_their_smallest_node() -> None:
    # records 0, 1, 2; key 3 is shared by records 1 and 2; key 4 by record 0 only
    roots = component_roots(np.array([2, 1, 0]), np.array([3, 3, 4]), 5)
    assert roots.tolist() == [0, 1, 1, 1, 0]


EMPTY_KEYS = pl.DataFrame(schema={"key": pl.String, "entity_id": pl.String})
EMPTY_CREATED = pl.DataFrame(
    schema={"entity_id": pl.String, "created_at": pl.Datetime("us", "UTC")}
)


def _resolve(
    rows: list[tuple[str, str, int]],
    existing: pl.DataFrame | None = None,
    created: pl.DataFrame | None = None,
) -> Resolution:
    """Resolve (record_id, key, record_order) rows as contacts."""
    frame = pl.DataFrame(
        rows,
        schema={"record_id": pl.String, "key": pl.String, "record_order": pl.Int64},
        orient="row",
    )
    return resolve_by_keys(
        frame.select("record_id", "record_order").unique(),
        frame.select("record_id", "key"),
        EMPTY_KEYS if existing is None else existing,
        EMPTY_CREATED if created is None else created,
        "contact",
    )


def test_new_records_sharing_a_key_get_one_new_id() -> None:
    res = _resolve(
        [("r1", "email:a@x.com", 2), ("r2", "email:a@x.com", 1), ("r3", "email:b@x.com", 3)]
    )
    got = {r["record_id"]: r for r in res.assignments.iter_rows(named=True)}
    assert got["r1"]["entity_id"] == got["r2"]["entity_id"] != got["r3"]["entity_id"]
    assert got["r2"]["match_rule"] == "new"  # the older record minted the id
    assert got["r1"]["match_rule"] == "email"
    assert res.new_entities == 2
    assert res.merges.is_empty()
    assert all(i.startswith("cont_") for i in got["r1"]["entity_id"].split())


def test_existing_entities_linked_by_a_record_merge_into_the_oldest() -> None:
    existing = pl.DataFrame(
        {"key": ["email:b@y.com", "linkedin:ada"], "entity_id": ["cont_new", "cont_old"]}
    )
    created = pl.DataFrame(
        {
            "entity_id": ["cont_new", "cont_old"],
            "created_at": [datetime(2024, 1, 1, tzinfo=UTC), datetime(2020, 1, 1, tzinfo=UTC)],
        }
    )
    res = _resolve([("r1", "email:b@y.com", 1), ("r1", "linkedin:ada", 1)], existing, created)
    assert res.assignments["entity_id"].to_list() == ["cont_old"]
    assert res.merges.to_dicts() == [
        {"winner_id": "cont_old", "loser_id": "cont_new", "rule": "email", "score": 1.0}
    ]
    assert dict(res.keys.iter_rows()) == {"email:b@y.com": "cont_old", "linkedin:ada": "cont_old"}
    assert res.new_entities == 0


def test_contact_keys_skip_positional_source_keys() -> None:
    frame = pl.DataFrame(
        {
            "record_id": ["a", "b"],
            "email_key": ["ada@x.com", None],
            "other_email_keys": [["ada@y.dev"], []],
            "linkedin_url": [None, "https://www.linkedin.com/in/ada"],
            "source_key": ["hubspot:101", "people.csv:7"],
        }
    )
    keys = set(contact_keys(frame).iter_rows())
    assert ("a", "email:ada@x.com") in keys and ("a", "email:ada@y.dev") in keys
    assert ("a", "src:hubspot:101") in keys
    assert ("b", "linkedin:https://www.linkedin.com/in/ada") in keys
    assert not any(k.startswith("src:people.csv") for _, k in keys)
    assert ("b", "rec:b") in keys


def test_company_names_never_merge_two_domains() -> None:
    frame = pl.DataFrame(
        {
            "record_id": ["a", "b", "c", "d"],
            "domain": ["acme.com", "acme.de", None, "globex.com"],
            "name_key": ["acme", "acme", "acme", "globex"],
        }
    )
    keys = set(company_keys(frame, pl.DataFrame(schema={"key": pl.String})).iter_rows())
    # two domains share the name "acme": neither claims it, so the name-only record stays apart
    assert ("a", "name:acme") not in keys and ("b", "name:acme") not in keys
    assert ("c", "name:acme") in keys
    # globex is the only company of its name: a name-only "Globex" would join it
    assert ("d", "name:globex") in keys


def test_components_of_no_edges_are_single_nodes() -> None:
    empty = np.array([], dtype=np.int64)
    assert component_roots(empty, empty, 3).tolist() == [0, 1, 2]
    assert component_roots(empty, empty, 0).tolist() == []


def test_components_agree_with_union_find_on_a_random_graph() -> None:
    rng = random.Random(7)
    pairs = [(rng.randrange(3000), 3000 + rng.randrange(2500)) for _ in range(2500)]
    parent = list(range(5500))

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in pairs:
        parent[find(a)] = find(b)
    src, dst = (np.array(side) for side in zip(*pairs, strict=True))
    roots = component_roots(src, dst, 5500)
    smallest: dict[int, int] = {}
    for node in range(5500):
        smallest.setdefault(find(node), node)
    for node in rng.sample(range(5500), 500):
        other = rng.randrange(5500)
        assert (roots[node] == roots[other]) == (find(node) == find(other))
        assert roots[node] == smallest[find(node)]  # the root is the component's smallest node


def test_new_ids_are_minted_in_the_order_of_each_entitys_oldest_record() -> None:
    """Ids sort by creation (UUIDv7), so minting in record age makes every later tie-break on
    ids follow record age: the same on every run, whatever order the batch arrives in."""
    rng = random.Random(3)
    ages = rng.sample(range(1000), 80)
    # 40 people, each with two records sharing an address; ages shuffled
    rows = [(f"r{i:02d}", f"email:p{i // 2}@acme.com", ages[i]) for i in range(80)]
    rows += [(f"r{i:02d}", f"rec:r{i:02d}", ages[i]) for i in range(80)]
    first = _resolve(rows)
    rng.shuffle(rows)
    second = _resolve(rows)
    for res in (first, second):
        got = res.assignments.join(
            pl.DataFrame(rows, schema=["record_id", "key", "age"], orient="row").unique(
                "record_id"
            ),
            on="record_id",
        )
        minters = got.filter(pl.col("match_rule") == "new").sort("age")
        assert minters.height == res.new_entities == 40
        assert minters["entity_id"].to_list() == sorted(minters["entity_id"])
        # each person's older record minted the id
        oldest = got.group_by("entity_id").agg(pl.col("record_id").sort_by("age").first())
        assert set(oldest["record_id"]) == set(minters["record_id"])

    def partition(res: Resolution) -> set[frozenset[str]]:
        groups = res.assignments.group_by("entity_id").agg("record_id")["record_id"]
        return {frozenset(g) for g in groups.to_list()}

    assert partition(first) == partition(second)
    assert first.assignments.drop("entity_id").equals(second.assignments.drop("entity_id"))


def test_a_reread_record_returns_to_its_entity_by_its_record_key() -> None:
    existing = pl.DataFrame({"key": ["rec:r1"], "entity_id": ["cont_old"]})
    created = pl.DataFrame(
        {"entity_id": ["cont_old"], "created_at": [datetime(2023, 5, 1, tzinfo=UTC)]}
    )
    res = _resolve([("r1", "rec:r1", 1), ("r1", "email:new@x.com", 1)], existing, created)
    assert res.assignments.rows() == [("r1", "cont_old", "rec", 1.0)]
    assert dict(res.keys.iter_rows()) == {"rec:r1": "cont_old", "email:new@x.com": "cont_old"}


def test_a_key_the_identity_map_owns_names_the_rule_before_a_stronger_batch_key() -> None:
    existing = pl.DataFrame({"key": ["email:ada@x.com"], "entity_id": ["cont_ada"]})
    created = pl.DataFrame(
        {"entity_id": ["cont_ada"], "created_at": [datetime(2023, 5, 1, tzinfo=UTC)]}
    )
    rows = [("r1", "src:hubspot:7", 1), ("r2", "src:hubspot:7", 2), ("r2", "email:ada@x.com", 2)]
    res = _resolve(rows, existing, created)
    assert res.assignments.sort("record_id").rows() == [
        ("r1", "cont_ada", "src", 1.0),  # joined through r2: not a minter
        ("r2", "cont_ada", "email", 1.0),
    ]
    assert res.new_entities == 0


def test_three_existing_entities_merge_into_the_oldest_with_the_linking_key_type() -> None:
    existing = pl.DataFrame(
        {
            "key": ["email:a@x.com", "linkedin:ada", "src:sf:1", "email:b@x.com"],
            "entity_id": ["cont_b", "cont_a", "cont_c", "cont_c"],
        }
    )
    created = pl.DataFrame(
        {
            "entity_id": ["cont_a", "cont_b", "cont_c"],
            "created_at": [
                datetime(2021, 1, 1, tzinfo=UTC),
                datetime(2020, 1, 1, tzinfo=UTC),
                None,
            ],
        },
        schema={"entity_id": pl.String, "created_at": pl.Datetime("us", "UTC")},
    )
    rows = [("r1", "email:a@x.com", 1), ("r1", "linkedin:ada", 1), ("r2", "linkedin:ada", 2)]
    rows += [("r2", "src:sf:1", 2), ("r2", "email:b@x.com", 2)]
    res = _resolve(rows, existing, created)
    assert set(res.assignments["entity_id"]) == {"cont_b"}  # the oldest; unknown age last
    assert res.merges.rows() == [
        ("cont_b", "cont_a", "linkedin", 1.0),
        ("cont_b", "cont_c", "src", 1.0),
    ]
