"""The review queue (`rex duplicates`, `Warehouse.review_queue`): highest score first with both
records' names, keyset pages sealed to the query, owner scope, another org's pairs unseen."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from rex_pipeline.query import InvalidCursor, InvalidRequest, Warehouse

from .conftest import ANA, ORG, OTHER_ORG, World, at
from .warehouse_builder import insert_rows


def _pair(org: str, entity: str, a: str, b: str, score: float) -> dict[str, Any]:
    return {
        "org_id": org,
        "entity": entity,
        "id_a": a,
        "id_b": b,
        "score": score,
        "reasons": f"{entity} pair {score}",
        "detected_at": at("2024-05-01T00:00:00"),
    }


@pytest.fixture(scope="module")
def queue(world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test warehouse with a longer queue: two pairs tied on score, a company pair and
    another org's pair (the world already holds margaret/siobhan, 0.8)."""
    path = tmp_path_factory.mktemp("review") / "rex.duckdb"
    shutil.copy(world.path, path)
    ids = world.ids
    insert_rows(
        path,
        "possible_duplicates",
        [
            _pair(ORG, "contact", ids["ada"], ids["grace"], 0.95),
            _pair(ORG, "contact", ids["alan"], ids["katherine"], 0.95),
            _pair(ORG, "contact", ids["linus"], ids["jurgen"], 0.6),
            _pair(ORG, "company", ids["globex"], ids["initech"], 0.7),
            _pair(OTHER_ORG, "contact", ids["other_ada"], ids["other_ada"], 0.99),
        ],
    )
    return path


def _pairs(page: dict[str, Any]) -> list[tuple[str, str]]:
    return [(row["id_a"], row["id_b"]) for row in page["data"]]


def test_highest_score_first_with_both_names(queue: Path, world: World) -> None:
    ids = world.ids
    with Warehouse(queue, org_id=ORG) as wh:
        page = wh.review_queue()
    tied = sorted([(ids["ada"], ids["grace"]), (ids["alan"], ids["katherine"])], reverse=True)
    assert _pairs(page) == [
        *tied,
        (ids["margaret"], ids["siobhan"]),
        (ids["linus"], ids["jurgen"]),
    ]
    first = next(row for row in page["data"] if row["id_a"] == ids["ada"])
    assert (first["name_a"], first["email_a"]) == ("Ada Lovelace", "ada@globex.com")
    assert (first["name_b"], first["email_b"]) == ("Grace Hopper", "grace.hopper@initech.com")
    assert first["score"] == 0.95 and first["reasons"] == "contact pair 0.95"
    assert page["has_more"] is False and page["next_cursor"] is None


def test_pages_follow_each_other_through_ties(queue: Path) -> None:
    with Warehouse(queue, org_id=ORG) as wh:
        whole = _pairs(wh.review_queue())
        seen: list[tuple[str, str]] = []
        cursor = None
        while True:
            page = wh.review_queue(limit=1, cursor=cursor)
            seen += _pairs(page)
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert seen == whole


def test_min_score_company_pairs_and_owner_scope(queue: Path, world: World) -> None:
    ids = world.ids
    with Warehouse(queue, org_id=ORG) as wh:
        assert [r["score"] for r in wh.review_queue(min_score=0.8)["data"]] == [0.95, 0.95, 0.8]
        [company] = wh.review_queue(entity="company")["data"]
        assert (company["name_a"], company["domain_b"]) == ("Globex Corporation", "initech.com")
    with Warehouse(queue, org_id=ORG, owner_id=ANA) as wh:  # both sides must be Ana's
        assert _pairs(wh.review_queue()) == [(ids["margaret"], ids["siobhan"])]
        with pytest.raises(InvalidRequest, match="companies have no owner"):
            wh.review_queue(entity="company")


def test_bad_requests_and_borrowed_cursors_are_refused(queue: Path) -> None:
    with Warehouse(queue, org_id=ORG) as wh:
        cursor = wh.review_queue(limit=1)["next_cursor"]
        with pytest.raises(InvalidCursor):
            wh.review_queue(limit=1, cursor=cursor, min_score=0.1)
        with pytest.raises(InvalidRequest, match="min_score"):
            wh.review_queue(min_score=1.5)
        with pytest.raises(InvalidRequest, match="entity"):
            wh.review_queue(entity="deal")
