"""The synthetic warehouse (used by the benchmark) is valid, and on it paging and smart lists
agree with an independent computation in polars."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from typeid import TypeID

from rex_pipeline.query import Warehouse

from .warehouse_builder import build_synthetic_warehouse

N = 3000


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synthetic") / "rex.duckdb"
    counts = build_synthetic_warehouse(path, N, other_org_contacts=200)
    assert counts["contacts"] == N + 200
    assert counts["activities"] == 2 * (N + 200)
    return path


def frame(path: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(path), read_only=True) as conn:
        return conn.sql(sql).pl()


def test_ids_are_typeids_made_from_the_creation_time(synthetic: Path) -> None:
    rows = frame(synthetic, "SELECT id, created_at FROM contacts USING SAMPLE 200 ROWS")
    for row in rows.iter_rows(named=True):
        tid = TypeID.from_string(row["id"])
        assert tid.prefix == "cont"
        assert tid.uuid.version == 7
        millis = int.from_bytes(tid.uuid.bytes[:6], "big")
        assert millis == int(row["created_at"].timestamp() * 1000)
    unique = frame(synthetic, "SELECT count(DISTINCT id) = count(*) AS ok FROM activities")
    assert unique["ok"][0]


def test_rows_reference_each_other(synthetic: Path) -> None:
    orphans = frame(
        synthetic,
        """SELECT
             (SELECT count(*) FROM contacts c WHERE company_id IS NOT NULL AND NOT EXISTS
                (SELECT 1 FROM companies co WHERE co.id = c.company_id)) AS contacts,
             (SELECT count(*) FROM activities a WHERE NOT EXISTS
                (SELECT 1 FROM contacts c WHERE c.id = a.contact_id)) AS activities""",
    )
    assert orphans.row(0) == (0, 0)


def all_rows(wh: Warehouse, fetch: Any, request: dict[str, Any]) -> list[dict[str, Any]]:
    rows, cursor = [], None
    while True:
        page = fetch({**request, "cursor": cursor})
        rows += page["data"]
        if not page["has_more"]:
            return rows
        cursor = page["next_cursor"]


@pytest.mark.parametrize("sort", ["-icp_score", "last_name", "-created_at"])
def test_paging_to_the_end_visits_each_contact_once_in_order(synthetic: Path, sort: str) -> None:
    with Warehouse(synthetic, org_id="default") as wh:
        rows = all_rows(
            wh, wh.list_contacts, {"sort": sort, "limit": 200, "fields": "id," + sort.lstrip("-")}
        )
    column = sort.lstrip("-")
    expected = frame(synthetic, f"SELECT id, {column} FROM contacts WHERE org_id = 'default'").sort(
        [column, "id"], descending=sort.startswith("-"), nulls_last=True
    )
    assert [r["id"] for r in rows] == expected["id"].to_list()


def test_smart_list_agrees_with_polars(synthetic: Path) -> None:
    request = {
        "query": {
            "groups": [
                {"conditions": [{"field": "stage", "op": "eq", "value": "prospect"},
                                {"field": "icp_score", "op": "gte", "value": 80}]},
                {"conditions": [{"field": "tags", "op": "eq", "value": "vip"},
                                {"field": "custom.industry_vertical", "op": "eq",
                                 "value": "fintech"}]},
            ]
        },
        "limit": 200,
    }  # fmt: skip
    with Warehouse(synthetic, org_id="default") as wh:
        found = {r["id"] for r in all_rows(wh, wh.search, request)}
    contacts = frame(synthetic, "SELECT * FROM contacts WHERE org_id = 'default'")
    vertical = pl.col("metadata").str.json_path_match("$.industry_vertical")
    expected = contacts.filter(
        ((pl.col("stage") == "prospect") & (pl.col("icp_score") >= 80))
        | (pl.col("tags").list.contains("vip") & (vertical == "fintech"))
    )
    assert found == set(expected["id"])
    assert 20 < len(found) < N


def test_filtered_list_agrees_with_polars(synthetic: Path) -> None:
    after = datetime(2022, 1, 1, tzinfo=UTC)
    with Warehouse(synthetic, org_id="default") as wh:
        found = all_rows(
            wh, wh.list_contacts, {"stage": "customer", "created_after": after, "limit": 200}
        )
    contacts = frame(
        synthetic, "SELECT id, stage, created_at FROM contacts WHERE org_id = 'default'"
    )
    created = pl.col("created_at").dt.convert_time_zone("UTC")
    expected = contacts.filter((pl.col("stage") == "customer") & (created >= after))
    assert sorted(r["id"] for r in found) == sorted(expected["id"])
