"""The shortcuts that keep the fuzzy step cheap at a million rows must decide exactly what the
long way decides:

* a node of one record is profiled from that record directly, not through the ordered
  aggregates: its profile must be what the aggregates give (checked against a node of two
  identical records, which does go through them);
* name levels are worked out once per distinct pair of spellings and joined back: scoring many
  pairs at once must give every pair the levels it gets when scored alone (missing names,
  repeated spelling pairs and nicknames included).
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import polars as pl
import pytest

from rex_pipeline.config import Settings
from rex_pipeline.resolve.fuzzy.compare import score_pairs
from rex_pipeline.resolve.fuzzy.features import contact_features
from rex_pipeline.resolve.fuzzy_stage import contact_profiles
from tests.resolve.profile_tables import profile_tables
from tests.resolve_fuzzy.fuzzy_factory import contacts, person

NOW = datetime(2024, 6, 1, tzinfo=UTC)
_FIELDS = (
    "first_name",
    "last_name",
    "email_key",
    "other_email_keys",
    "phone",
    "linkedin_url",
    "title",
    "company_key",
    "company_domain",
)


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    """The tables the profile query reads."""
    return profile_tables()


RECORDS: list[dict[str, object]] = [
    {"first_name": "Ada", "last_name": "Lovelace", "email_key": "ada@acme.com",
     "other_email_keys": ["ada.l@gmail.com", None, "ada@acme.com"], "phone": "+14155550100",
     "linkedin_url": "https://www.linkedin.com/in/ada", "title": "CTO",
     "company_key": "acme", "company_domain": "acme.com"},
    {"first_name": None, "last_name": None, "email_key": None, "other_email_keys": None,
     "phone": None, "linkedin_url": None, "title": None, "company_key": None,
     "company_domain": None},
    {"first_name": "Bob", "last_name": None, "email_key": "bob@gmail.com",
     "other_email_keys": [], "phone": None, "linkedin_url": None, "title": "Owner",
     "company_key": None, "company_domain": None},
]  # fmt: skip


def _insert_staged(
    con: duckdb.DuckDBPyConnection, entity: str, record_id: str, fields: dict[str, object]
) -> None:
    con.execute(
        f"""INSERT INTO stg_contacts (org_id, record_id, entity_id, source_system, source_file,
               created_at, loaded_at, {", ".join(_FIELDS)})
           VALUES ('default', ?, ?, 'hubspot', 'contacts.csv', '2023-01-01 00:00:00+00',
               '2024-05-01 00:00:00+00', {", ".join("?" for _ in _FIELDS)})""",
        [record_id, entity, *(fields[f] for f in _FIELDS)],
    )


def _insert_batch(
    con: duckdb.DuckDBPyConnection, entity: str, record_id: str, fields: dict[str, object]
) -> None:
    con.execute(
        f"""INSERT INTO batch_clean_contacts (record_id, created_at, {", ".join(_FIELDS)})
           VALUES (?, NULL, {", ".join("?" for _ in _FIELDS)})""",
        [record_id, *(fields[f] for f in _FIELDS)],
    )
    con.execute("INSERT INTO batch_assign_contact VALUES (?, ?)", [record_id, entity])


def _comparable(profiles: pl.DataFrame) -> pl.DataFrame:
    """Profiles without node_id, lists as sets (the list aggregate promises no order)."""
    lists = [c for c, t in profiles.schema.items() if isinstance(t, pl.List)]
    return profiles.drop("node_id").with_columns(pl.col(c).list.sort() for c in lists)


@pytest.mark.parametrize("fields", RECORDS, ids=["full", "empty", "partial"])
@pytest.mark.parametrize("insert", [_insert_staged, _insert_batch], ids=["staged", "batch"])
def test_a_single_record_node_has_the_profile_the_aggregates_give(
    con: duckdb.DuckDBPyConnection, fields: dict[str, object], insert: object
) -> None:
    assert callable(insert)
    insert(con, "cont_single", "r1", fields)
    # the same record twice: a node of two records, folded by the ordered aggregates
    insert(con, "cont_double", "r1", fields)
    insert(con, "cont_double", "r2", fields)
    profiles = contact_profiles(con, Settings(), NOW).sort("node_id")
    assert profiles["node_id"].to_list() == ["cont_double", "cont_single"]
    single, double = (
        _comparable(profiles.filter(pl.col("node_id") == n)) for n in ("cont_single", "cont_double")
    )
    assert single.equals(double)


def test_many_pairs_at_once_get_the_name_levels_each_gets_alone() -> None:
    nodes = contacts(
        person("n0", "Robert", "Smith", "rsmith@acme.com"),
        person("n1", "Bob", "Smith", "bob.smith@gmail.com"),
        person("n2", "Bob", "Smyth", "bobby@gmail.com"),
        person("n3", None, "Smith", "smith.r@acme.com"),
        person("n4", "Robert", None, "robert77@gmail.com"),
        person("n5", None, None, "robertsmith@gmail.com"),
        person("n6", "Roberta", "Smith", "roberta@acme.com"),
        person("n7", "Robert", "Smith", "r.smith@initech.com"),
    )
    feats = contact_features(nodes)
    every = [(a, b) for a in range(nodes.height) for b in range(a + 1, nodes.height)]
    pairs = pl.DataFrame(every, schema={"a": pl.UInt32, "b": pl.UInt32}, orient="row")
    columns = ["a", "b", "first_name_level", "first_name_weight", "first_name_sim"]
    columns += ["last_name_level", "last_name_weight", "last_name_sim", "score"]
    together = score_pairs(feats, pairs).select(columns).sort("a", "b")
    alone = pl.concat(
        score_pairs(feats, pairs.slice(i, 1)).select(columns) for i in range(len(every))
    )
    assert together.equals(alone.sort("a", "b"))
    # the pairs cover every kind of name level the shortcut must carry over
    assert {"exact", "nickname", "missing", "different"} <= set(together["first_name_level"])
    assert {"exact", "missing"} <= set(together["last_name_level"])
