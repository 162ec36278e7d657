"""Query-module benchmark on a synthetic warehouse (default: 1,000,000 contacts).

    .venv/bin/python benchmarks/query_bench.py                  # build once, then measure
    .venv/bin/python benchmarks/query_bench.py --contacts 100000 --repeat 5
    .venv/bin/python benchmarks/query_bench.py --shuffle        # rows in random order

The warehouse is built by tests/query/warehouse_builder.py (DuckDB SQL, ~1.5 min for 1M
contacts; kept in benchmarks/out/ and reused), then given the derived tables of a publish by
rex_pipeline.warehouse.build_derived_tables (the function publish() runs), so the benchmark
queries the published layout; a file built before those tables existed gets them added. Every
case runs through the public Python API on one read-only Warehouse; it prints the median and
worst wall time and the median CPU time (all threads) per call, against the issue's targets:
a filtered list page < 50 ms, a smart-list search < 200 ms, and the same cost for every page
while paging to the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rex_pipeline.publish.derived import build_derived_tables  # noqa: E402
from rex_pipeline.query import Warehouse  # noqa: E402
from rex_pipeline.query.cursor import encode_cursor  # noqa: E402
from rex_pipeline.query.textsearch import SCAN, text_search  # noqa: E402
from rex_pipeline.warehouse import scalar  # noqa: E402
from tests.query.warehouse_builder import build_synthetic_warehouse  # noqa: E402

ORG = "default"
LIST_TARGET_MS = 50
SEARCH_TARGET_MS = 200

HOT_OR_VIP_FINTECH = {
    "query": {
        "groups": [
            {"conditions": [{"field": "stage", "op": "eq", "value": "prospect"},
                            {"field": "icp_score", "op": "gte", "value": 80}]},
            {"conditions": [{"field": "tags", "op": "eq", "value": "vip"},
                            {"field": "custom.industry_vertical", "op": "eq",
                             "value": "fintech"}]},
        ]
    }
}  # fmt: skip
AT_ROBOTICS = {
    "query": {
        "groups": [
            {"conditions": [{"field": "company.name", "op": "contains", "value": "robotics"},
                            {"field": "stage", "op": "in", "value": ["prospect", "customer"]}]}
        ]
    }
}  # fmt: skip


def measure(call: Callable[[], Any], repeat: int) -> tuple[float, float, float]:
    """(median wall ms, worst wall ms, median CPU ms) after one warm-up call."""
    call()
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), max(walls), statistics.median(cpus)


DEPTHS = (0.0, 0.25, 0.5, 0.75, 0.999)
# (what is paged, SQL filter, sort column, sort as the API takes it, request)
PAGINGS = [
    ("prospects, newest first", "stage = 'prospect'", "created_at", "-created_at",
     {"stage": "prospect"}),
    ("all contacts by ICP score", "true", "icp_score", "-icp_score", {"sort": "-icp_score"}),
]  # fmt: skip


def cursors_at_depths(db: Path, where: str, column: str, sort: str) -> list[tuple[str | None, int]]:
    """The cursors a client would hold after paging 0–100% of the way through a list (the last
    row before each depth, found with OFFSET here only to get there fast)."""
    found: list[tuple[str | None, int]] = []
    with duckdb.connect(str(db), read_only=True) as conn:
        total = conn.execute(
            f"SELECT count(*) FROM contacts WHERE org_id = ? AND {where}", [ORG]
        ).fetchone()[0]  # type: ignore[index]
        for fraction in DEPTHS:
            depth = min(int(total * fraction), total - 1)
            if depth == 0:
                found.append((None, 0))
                continue
            value, row_id = conn.execute(
                f"SELECT {column}, id FROM contacts WHERE org_id = ? AND {where}"
                f" ORDER BY {column} DESC NULLS LAST, id DESC LIMIT 1 OFFSET ?",
                [ORG, depth - 1],
            ).fetchone()  # type: ignore[misc]
            found.append((encode_cursor(sort, [value, row_id]), depth))
    return found


def add_derived_tables(db: Path) -> None:
    """Give the benchmark warehouse the derived tables publish() adds, unless it has them."""
    with duckdb.connect(str(db), read_only=True) as conn:
        if text_search(conn, ORG) != SCAN:
            return
    started = time.perf_counter()
    with duckdb.connect(str(db)) as conn:
        build_derived_tables(conn, str(scalar(conn, "SELECT current_database()")))
    print(f"added the derived tables in {time.perf_counter() - started:.0f} s\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--shuffle", action="store_true", help="store rows in random order")
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()

    suffix = "_shuffled" if args.shuffle else ""
    db = REPO / "benchmarks" / "out" / f"query_{args.contacts}{suffix}.duckdb"
    if args.rebuild or not db.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        db.unlink(missing_ok=True)
        started = time.perf_counter()
        counts = build_synthetic_warehouse(
            db, args.contacts, ORG, other_org_contacts=args.contacts // 50, shuffle=args.shuffle
        )
        print(f"built {db.name} in {time.perf_counter() - started:.0f} s: {counts}\n")
    add_derived_tables(db)

    depths = [cursors_at_depths(db, where, col, sort) for _, where, col, sort, _ in PAGINGS]
    open_ms = measure(lambda: Warehouse(db, org_id=ORG).close(), args.repeat)
    with (
        Warehouse(db, org_id=ORG) as wh,
        Warehouse(db, org_id=ORG, owner_id="ana@northwind-labs.io") as member,
    ):
        contact = wh.list_contacts(stage="customer", limit=1)["data"][0]["id"]
        lists: list[tuple[str, Callable[[], Any]]] = [
            ("contacts ?stage=prospect (page 1)", lambda: wh.list_contacts(stage="prospect")),
            ("contacts ?icp_score_min=80&sort=-icp_score",
             lambda: wh.list_contacts(icp_score_min=80, sort="-icp_score")),
            ("contacts ?owner_id=…&sort=last_name",
             lambda: wh.list_contacts(owner_id="ana@northwind-labs.io", sort="last_name")),
            ("contacts ?tags=vip&source=referral",
             lambda: wh.list_contacts(tags="vip", source="referral")),
            ("contacts ?created_after=2023-06-01&stage=lead&limit=200",
             lambda: wh.list_contacts(created_after="2023-06-01", stage="lead", limit=200)),
            ("contacts ?search=lovelace (14k match)", lambda: wh.list_contacts(search="lovelace")),
            ("contacts ?search=zzqx (no match)", lambda: wh.list_contacts(search="zzqx")),
            ("activities ?type=email", lambda: wh.list_activities(type="email")),
            ("contact's activities", lambda: wh.contact_activities(contact)),
            ("companies ?name=robotics", lambda: wh.list_companies(name="robotics")),
            ("get contact (+company)", lambda: wh.get_contact(contact)),
            ("contact timeline", lambda: wh.contact_timeline(contact)),
            ("as an owner: contacts ?stage=prospect",
             lambda: member.list_contacts(stage="prospect")),
            ("as an owner: activities (through their contacts)",
             lambda: member.list_activities()),
        ]  # fmt: skip
        searches: list[tuple[str, Callable[[], Any]]] = [
            ("smart list: hot prospects OR vip fintech", lambda: wh.search(HOT_OR_VIP_FINTECH)),
            ("smart list: company.name contains + stage in", lambda: wh.search(AT_ROBOTICS)),
            ("smart list: groups + sort=-icp_score",
             lambda: wh.search({**HOT_OR_VIP_FINTECH, "sort": "-icp_score"})),
            ("smart list: q=lovelace (free text, full scan)", lambda: wh.search({"q": "lovelace"})),
            ("smart list: groups + q=globex",
             lambda: wh.search({**HOT_OR_VIP_FINTECH, "q": "globex"})),
            ("smart list as an owner: groups", lambda: member.search(HOT_OR_VIP_FINTECH)),
        ]  # fmt: skip

        print(f"warehouse: {db} ({args.contacts:,} contacts); {args.repeat} runs per case")
        print(f"open a read-only Warehouse: {open_ms[0]:.1f} ms median\n")
        print("| case | median ms | worst ms | CPU ms | target |\n|---|---:|---:|---:|---|")
        for cases, target in ((lists, LIST_TARGET_MS), (searches, SEARCH_TARGET_MS)):
            for name, call in cases:
                median, worst, cpu = measure(call, args.repeat)
                verdict = "ok" if median < target else "OVER"
                print(f"| {name} | {median:.1f} | {worst:.1f} | {cpu:.1f} | <{target} {verdict} |")

        print("\none `rex` command, start to finish (process start, imports, open, query):")
        env = {**os.environ, "REX_DUCKDB_PATH": str(db), "REX_ORG_ID": ORG}
        argv = [sys.executable, "-m", "rex_pipeline", "contacts", "list", "--stage", "prospect"]
        runs = []
        for _ in range(3):
            began = time.perf_counter()
            subprocess.run(argv, env=env, check=True, capture_output=True)
            runs.append((time.perf_counter() - began) * 1000)
        print(f"rex contacts list --stage prospect: {statistics.median(runs):.0f} ms median")

        for (name, *_, request), cursors in zip(PAGINGS, depths, strict=True):
            print(f"\npaging {name} (limit 50) from different depths, 10 pages each:")
            print("| start depth | rows before | ms per page (median) | worst |")
            print("|---|---:|---:|---:|")
            for fraction, (start, depth) in zip(DEPTHS, cursors, strict=True):
                timings = []
                for _ in range(2):
                    cursor = start
                    for _page in range(10):
                        began = time.perf_counter()
                        page = wh.list_contacts(**request, cursor=cursor)
                        timings.append((time.perf_counter() - began) * 1000)
                        cursor = page["next_cursor"]
                        if cursor is None:
                            break
                print(f"| {fraction:.0%} | {depth:,} | {statistics.median(timings):.1f} |"
                      f" {max(timings):.1f} |")  # fmt: skip


if __name__ == "__main__":
    main()
