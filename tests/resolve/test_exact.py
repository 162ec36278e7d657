"""Exact-key resolution: components, minting, joining and merging existing entities."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from rex_pipeline.resolve.exact import resolve_by_keys
from rex_pipeline.resolve.graph import connected_components
from rex_pipeline.resolve.keys import company_keys, contact_keys


def test_components_follow_long_chains() -> None:
    n = 2_000
    edges = pl.DataFrame(
        {"a": [f"n{i:05d}" for i in range(n)], "b": [f"n{i + 1:05d}" for i in range(n)]}
    )
    comp = connected_components(edges)
    assert comp["component"].n_unique() == 1
    assert comp.height == n + 1


def test_separate_components_stay_apart() -> None:
    edges = pl.DataFrame({"a": ["r1", "r2", "r3"], "b": ["k1", "k1", "k2"]})
    comp = dict(connected_components(edges).iter_rows())
    assert comp["r1"] == comp["r2"] != comp["r3"]


def _keys(rows: list[tuple[str, str, int]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["record_id", "key", "record_order"], orient="row")


EMPTY_KEYS = pl.DataFrame(schema={"key": pl.String, "entity_id": pl.String})
EMPTY_CREATED = pl.DataFrame(
    schema={"entity_id": pl.String, "created_at": pl.Datetime("us", "UTC")}
)


def test_new_records_sharing_a_key_get_one_new_id() -> None:
    res = resolve_by_keys(
        _keys([("r1", "email:a@x.com", 2), ("r2", "email:a@x.com", 1), ("r3", "email:b@x.com", 3)]),
        EMPTY_KEYS,
        EMPTY_CREATED,
        "contact",
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
    res = resolve_by_keys(
        _keys([("r1", "email:b@y.com", 1), ("r1", "linkedin:ada", 1)]), existing, created, "contact"
    )
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


def test_components_of_no_edges_is_empty() -> None:
    comp = connected_components(pl.DataFrame(schema={"a": pl.String, "b": pl.String}))
    assert comp.height == 0
    assert comp.schema["component"] == pl.UInt32


def test_components_agree_with_union_find_on_a_random_graph() -> None:
    import random

    rng = random.Random(7)
    pairs = [(f"r{rng.randrange(3000)}", f"k{rng.randrange(2500)}") for _ in range(2500)]
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for a, b in pairs:
        parent[find(a)] = find(b)
    comp = dict(
        connected_components(pl.DataFrame(pairs, schema=["a", "b"], orient="row")).iter_rows()
    )
    for a, b in rng.sample(pairs, 300):
        c = rng.choice(pairs)[0]
        assert (comp[a] == comp[c]) == (find(a) == find(c))
        assert comp[a] == comp[b]
    # numbered by the smallest member: deterministic across runs
    assert all(comp[node] <= sorted(comp).index(node) for node in comp)
