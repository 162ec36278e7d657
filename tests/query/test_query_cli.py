"""The `rex` command line: tables by default, the API's JSON, CSV for lists, and one-line
errors with a non-zero exit."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rex_pipeline.cli import main

from .conftest import World

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def rex(world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    monkeypatch.setenv("REX_DUCKDB_PATH", str(world.path))
    monkeypatch.setenv("REX_ORG_ID", "acme-org")
    monkeypatch.setenv("REX_CONFIG", str(REPO / "rex.yaml"))

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def one_line_error(code: int, err: str, expected_code: int = 1) -> str:
    assert code == expected_code
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def test_list_table_then_next_page(rex: Any) -> None:
    code, out, _ = rex("contacts", "list", "--stage", "prospect", "--limit", "1")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["id", "first_name", "last_name", "email", "stage", "icp_score",
                                "created_at"]  # fmt: skip
    assert "Katherine" in lines[2] and "2024-03-01 16:00" in lines[2]
    assert lines[-1].startswith("1 row; next page: --cursor ")
    cursor = lines[-1].rsplit(" ", 1)[1]
    code, out, _ = rex(
        "contacts", "list", "--stage", "prospect", "--limit", "1", "--cursor", cursor
    )
    assert "Ada" in out.splitlines()[2]
    assert out.splitlines()[-1] == "1 row; end of list"


def test_list_json_is_the_api_envelope(rex: Any) -> None:
    code, out, _ = rex("contacts", "list", "--tags", "enterprise", "--sort", "first_name",
                       "--format", "json")  # fmt: skip
    answer = json.loads(out)
    assert code == 0
    assert set(answer) == {"data", "has_more", "next_cursor"}
    assert [c["first_name"] for c in answer["data"]] == ["Ada", "Margaret"]
    assert answer["data"][0]["created_at"] == "2024-01-10T09:00:00Z"
    assert answer["data"][0]["metadata"]["industry_vertical"] == "fintech"


def test_list_csv_has_every_field_in_full(rex: Any) -> None:
    code, out, err = rex("contacts", "list", "--search", "lovelace", "--format", "csv")
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and err == ""
    assert row["tags"] == "enterprise;webinar-2024"
    assert json.loads(row["metadata"])["lead_score"] == 87
    assert row["icp_scored_at"] == "2024-01-11T00:00:00Z"
    code, out, _ = rex("contacts", "list", "--fields", "id,email", "--format", "csv", "--limit",
                       "2")  # fmt: skip
    assert out.splitlines()[0] == "id,email"


def test_repeated_and_comma_list_options(rex: Any) -> None:
    _, repeated, _ = rex("contacts", "list", "--tags", "enterprise", "--tags", "webinar-2024")
    _, commas, _ = rex("contacts", "list", "--tags", "enterprise,webinar-2024")
    assert repeated == commas and "Lovelace" in repeated and "Hamilton" not in repeated


def test_get_shows_relationships_and_merges(rex: Any, world: World) -> None:
    code, out, _ = rex("contacts", "get", world.ids["ada_old"])
    assert code == 0
    assert out.startswith(f"note: {world.ids['ada_old']} was merged into {world.ids['ada']}")
    assert f"company      company {world.ids['globex']}" in out
    assert "owner        member ana@northwind-labs.io" in out
    assert "included company:" in out and "globex.com" in out
    code, out, _ = rex("contacts", "get", world.ids["ada"], "--format", "json")
    assert json.loads(out)["data"]["relationships"]["company"]["data"]["id"] == world.ids["globex"]


def test_timeline_and_related(rex: Any, world: World) -> None:
    code, out, _ = rex("contacts", "timeline", world.ids["ada"], "--limit", "3")
    assert code == 0
    assert out.splitlines()[0].split() == ["at", "event", "summary", "record_id"]
    assert "(none) → lead" in out and "Intro: Globex x Northwind" in out
    code, out, _ = rex("contacts", "timeline", world.ids["ada"], "--newest-first", "--format",
                       "json")  # fmt: skip
    assert json.loads(out)["data"][0]["event"] == "activity"
    code, out, _ = rex("contacts", "deals", world.ids["ada"])
    assert "Globex platform" in out
    code, out, _ = rex("companies", "timeline", world.ids["stark"], "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["at", "event", "record_id", "summary", "detail"]
    assert json.loads(rows[-1]["detail"])["status"] == "lost"
    assert [row["event"] for row in rows] == [
        "activity", "deal_created", "deal_lost"
    ]  # fmt: skip


def test_companies_and_activities(rex: Any, world: World) -> None:
    _, out, _ = rex("companies", "list", "--name", "globex")
    assert "Globex Corporation" in out and "Initech" not in out
    _, out, _ = rex("activities", "list", "--type", "email", "--after", "2024-02-01",
                    "--format", "json")  # fmt: skip
    ids = [a["id"] for a in json.loads(out)["data"]]
    assert ids == [world.ids["alan_email"], world.ids["grace_email"]]
    _, out, _ = rex("activities", "get", world.ids["ada_meeting"])
    assert "included deal:" in out


def test_search_with_a_filter_file(rex: Any, tmp_path: Path) -> None:
    request = {
        "query": {"groups": [{"conditions": [{"field": "company.name", "op": "contains",
                                              "value": "globex"}]}]},
        "q": "hamilton",
        "limit": 50,
    }  # fmt: skip
    path = tmp_path / "filter.json"
    path.write_text(json.dumps(request))
    code, out, _ = rex("search", "--filter", str(path), "--format", "json")
    assert code == 0
    assert [c["first_name"] for c in json.loads(out)["data"]] == ["Margaret"]
    code, out, _ = rex("search", "--filter", str(path), "--q", "lovelace")  # option wins
    assert "Ada" in out and "Margaret" not in out
    code, out, _ = rex("search", "--q", "umbrella")
    assert "Katherine" in out


def test_search_and_views_show_the_fields_their_request_names(rex: Any, tmp_path: Path) -> None:
    """Fields named in a filter file or a saved view are the columns shown (they were the
    default columns, blank but for those fields)."""
    path = tmp_path / "filter.json"
    path.write_text(json.dumps({"q": "lovelace", "fields": ["id", "email"]}))
    code, out, _ = rex("search", "--filter", str(path), "--format", "csv")
    assert code == 0
    assert out.splitlines()[0] == "id,email" and out.splitlines()[1].endswith(",ada@globex.com")
    _, out, _ = rex("search", "--filter", str(path))
    assert out.splitlines()[0].split() == ["id", "email"]
    _, out, _ = rex("search", "--filter", str(path), "--fields", "first_name", "--format", "csv")
    assert out.splitlines() == ["first_name", "Ada"]  # the option wins
    _, out, _ = rex("views", "run", "globex-people", "--limit", "5", "--format", "csv")
    assert out.splitlines()[0] == "first_name,email" and len(out.splitlines()) == 3


def test_views_and_summary(rex: Any) -> None:
    code, out, _ = rex("views", "list")
    assert code == 0 and "hot-prospects" in out and "Prospects with ICP >= 80" in out
    code, out, _ = rex("views", "run", "hot-prospects", "--format", "csv")
    assert len(out.splitlines()) == 2 and "ada@globex.com" in out
    code, out, _ = rex("summary")
    assert code == 0
    assert "Warehouse summary for org acme-org" in out
    assert any(line.split() == ["contacts", "8"] for line in out.splitlines())
    assert any(line.split() == ["email", "is", "not", "valid", "2"] for line in out.splitlines())
    assert "Top 5 contacts by ICP score:" in out
    assert json.loads(rex("summary", "--format", "json")[1])["tables"]["contacts"] == 8


def test_org_and_owner_options(rex: Any) -> None:
    _, out, _ = rex("--org", "other-org", "contacts", "list", "--format", "json")
    assert [c["stage"] for c in json.loads(out)["data"]] == ["customer"]
    _, out, _ = rex("--owner", "ben@northwind-labs.io", "contacts", "list", "--format", "json")
    assert {c["first_name"] for c in json.loads(out)["data"]} == {"Grace", "Linus"}


@pytest.mark.parametrize(
    ("argv", "message", "exit_code"),
    [
        (["contacts", "list", "--limit", "500"], "limit: must be between 1 and 200", 1),
        (["contacts", "list", "--stage", "vip"], "stage: Input should be 'lead'", 1),
        (["contacts", "list", "--cursor", "bogus"], "cursor: not a valid cursor", 1),
        (
            ["contacts", "list", "--created-after", "9999-12-31T23:00:00-05:00"],
            "rex: created_after: 9999-12-31T23:00:00-05:00 is out of range",
            1,
        ),
        (["contacts", "list", "--stag", "lead"], "No such option", 2),
        (["contacts", "get", "cont_01h455vb4pex5vsknk084sn02q"], "no contact", 1),
        (["contacts", "get", "42"], "'42' is not a contact id", 1),
        (["contacts", "get", "x", "--format", "csv"], "'csv' is not one of", 2),
        (["views", "run", "nope"], "no saved view 'nope'", 1),
        (["--org", "", "summary"], "rex: org_id: must not be blank", 1),
        (["--owner", " ", "contacts", "list"], "rex: owner_id: must not be blank", 1),
        (["--owner", "", "search", "--q", "ada"], "rex: owner_id: must not be blank", 1),
        (["search", "--filter", "/nonexistent/filter.json"], "cannot read filter file", 1),
    ],
)
def test_errors_are_one_line(rex: Any, argv: list[str], message: str, exit_code: int) -> None:
    code, out, err = rex(*argv)
    assert message in one_line_error(code, err, exit_code)
    assert out == "" or exit_code == 2


def test_a_bare_group_shows_its_help(rex: Any) -> None:
    code, out, _ = rex("deals")
    assert code == 2
    assert "Usage: rex deals" in out and "list" in out and "get" in out


def test_bad_filter_files(rex: Any, tmp_path: Path) -> None:
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"query": {"groups": [')
    code, _, err = rex("search", "--filter", str(bad_json))
    assert "not valid JSON" in one_line_error(code, err)
    bad_field = tmp_path / "field.json"
    bad_field.write_text(json.dumps({"query": {"groups": [{"conditions": [
        {"field": "stage", "op": "eq", "value": "lead"}, {"field": "ssn", "op": "eq",
                                                          "value": "1"}]}]}}))  # fmt: skip
    code, _, err = rex("search", "--filter", str(bad_field))
    assert "query.groups[0].conditions[1].field: unknown field 'ssn'" in one_line_error(code, err)


def test_missing_warehouse(rex: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REX_DUCKDB_PATH", str(tmp_path / "missing.duckdb"))
    code, _, err = rex("summary")
    assert "no warehouse at" in one_line_error(code, err)


def test_python_dash_m(world: World, tmp_path: Path) -> None:
    env = {**os.environ, "REX_DUCKDB_PATH": str(world.path), "REX_ORG_ID": "acme-org",
           "REX_CONFIG": str(REPO / "rex.yaml")}  # fmt: skip
    ok = subprocess.run(
        [sys.executable, "-m", "rex_pipeline", "contacts", "list", "--limit", "2"],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert "2 rows; next page: --cursor" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "rex_pipeline", "contacts", "get", "nope"],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert bad.returncode == 1
    assert bad.stderr.startswith("rex: 'nope' is not a contact id")
    assert "Traceback" not in bad.stderr


def test_cli_explains_one_contact_and_reports_a_missing_index_in_one_line(
    rex: Any, world: World
) -> None:
    ids = world.ids
    code, out, _ = rex("contacts", "explain", ids["ada_old"], ids["ada"])
    assert code == 0
    assert "decision  one contact" in out
    assert f"{ids['ada_old']} merged into {ids['ada']} by rule email" in out
    code, out, err = rex("contacts", "explain", ids["ada"], ids["grace"], "--format", "json")
    assert "no contact index" in one_line_error(code, err)


def test_cli_lists_the_review_queue(rex: Any, world: World) -> None:
    code, out, _ = rex("duplicates")
    assert code == 0
    assert world.ids["margaret"] in out and "Margaret Hamilton" in out and "Siobhán O'Brien" in out
    code, out, _ = rex("duplicates", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["name_a"], r["email_b"], r["score"]) for r in rows] == [
        ("Margaret Hamilton", "siobhan.obrien@initech.com", "0.8")
    ]
    code, _, err = rex("duplicates", "--min-score", "2")
    assert "min_score" in one_line_error(code, err)
