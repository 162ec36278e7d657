"""Query-module benchmark on a synthetic warehouse (default: 1,000,000 contacts).

    .venv/bin/python benchmarks/query_bench.py --repeat 7       # build once, then measure
    .venv/bin/python benchmarks/query_bench.py --contacts 100000 --repeat 5
    .venv/bin/python benchmarks/query_bench.py --shuffle        # rows in random order
    .venv/bin/python benchmarks/query_bench.py --rebuild-derived  # time the derived tables

The warehouse is built by tests/query/warehouse_builder.py (DuckDB SQL, ~1.5 min for 1M
contacts; kept in benchmarks/out/ and reused), then given the derived tables of a publish by
rex_pipeline.publish.derived.build_derived_tables (the function publish() runs), so the
benchmark queries the published layout; a file whose derived tables are missing or outdated
gets them (re)built, and the build time is printed. Every case runs through the public Python
API on one read-only Warehouse; it prints p50 and p95 wall time (nearest rank: with fewer than
20 runs p95 is the slowest run) and the median CPU time (all threads) per call, against the
issue's targets: a filtered list page < 50 ms, a smart-list search < 200 ms, and the same cost
for every page while paging to the end. Results also go to benchmarks/results/query_bench.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
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
from rex_pipeline.query import ContactListRequest, Scope, Warehouse  # noqa: E402
from rex_pipeline.query.cursor import encode_cursor  # noqa: E402
from rex_pipeline.query.layout import FULL, detect  # noqa: E402
from rex_pipeline.query.lists import cursor_seal  # noqa: E402
from rex_pipeline.warehouse import scalar  # noqa: E402
from tests.query.warehouse_builder import build_synthetic_warehouse  # noqa: E402

ORG = "default"
LIST_TARGET_MS = 50
SEARCH_TARGET_MS = 200
RESULTS = REPO / "benchmarks" / "results" / "query_bench.json"

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


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (no interpolation: always a time that was measured)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def measure(call: Callable[[], Any], repeat: int) -> tuple[float, float, float]:
    """(p50 wall ms, p95 wall ms, median CPU ms) after one warm-up call."""
    call()
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return percentile(walls, 0.5), percentile(walls, 0.95), statistics.median(cpus)


DEPTHS = (0.0, 0.25, 0.5, 0.75, 0.999)
# (what is paged, SQL filter, sort column, sort as the API takes it, request)
PAGINGS = [
    ("prospects, newest first", "stage = 'prospect'", "created_at", "-created_at",
     {"stage": "prospect"}),
    ("all contacts by ICP score", "true", "icp_score", "-icp_score", {"sort": "-icp_score"}),
]  # fmt: skip


def cursors_at_depths(
    db: Path, where: str, column: str, sort: str, request: dict[str, Any]
) -> list[tuple[str | None, int]]:
    """The cursors a client would hold after paging 0–100% of the way through a list (the last
    row before each depth, found with OFFSET here only to get there fast)."""
    found: list[tuple[str | None, int]] = []
    seal = cursor_seal(Scope(org_id=ORG), ContactListRequest.model_validate(request))
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
            found.append((encode_cursor(sort, [value, row_id], seal), depth))
    return found


def add_derived_tables(db: Path, force: bool) -> float | None:
    """Give the benchmark warehouse the derived tables publish() adds, unless it has them in
    their current shape; returns the build time in seconds when they were built."""
    with duckdb.connect(str(db), read_only=True) as conn:
        if detect(conn) == FULL and not force:
            return None
    started = time.perf_counter()
    with duckdb.connect(str(db)) as conn:
        build_derived_tables(conn, str(scalar(conn, "SELECT current_database()")))
    seconds = time.perf_counter() - started
    print(f"built the derived tables in {seconds:.1f} s\n")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--shuffle", action="store_true", help="store rows in random order")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--rebuild-derived", action="store_true", help="rebuild and time them")
    parser.add_argument("--db", type=Path, help="another warehouse file (e.g. a copy to change)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where results go")
    args = parser.parse_args()
    started_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    load_before = os.getloadavg()

    suffix = "_shuffled" if args.shuffle else ""
    db = args.db or REPO / "benchmarks" / "out" / f"query_{args.contacts}{suffix}.duckdb"
    if args.rebuild or not db.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        db.unlink(missing_ok=True)
        started = time.perf_counter()
        counts = build_synthetic_warehouse(
            db, args.contacts, ORG, other_org_contacts=args.contacts // 50, shuffle=args.shuffle
        )
        print(f"built {db.name} in {time.perf_counter() - started:.0f} s: {counts}\n")
    derived_seconds = add_derived_tables(db, args.rebuild_derived)

    depths = [cursors_at_depths(db, *paging[1:]) for paging in PAGINGS]
    open_ms = measure(lambda: Warehouse(db, org_id=ORG).close(), args.repeat)
    with (
        Warehouse(db, org_id=ORG) as wh,
        Warehouse(db, org_id=ORG, owner_id="ana@northwind-labs.io") as member,
    ):
        contact = wh.list_contacts(stage="customer", limit=1)["data"][0]["id"]
        own_contact = member.list_contacts(stage="customer", limit=1)["data"][0]["id"]
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
            ("contacts ?search=ada lovelace (~350 match)",
             lambda: wh.list_contacts(search="ada lovelace")),
            ("activities ?type=email", lambda: wh.list_activities(type="email")),
            ("contact's activities", lambda: wh.contact_activities(contact)),
            ("companies ?name=robotics", lambda: wh.list_companies(name="robotics")),
            ("get contact (+company)", lambda: wh.get_contact(contact)),
            ("contact timeline", lambda: wh.contact_timeline(contact)),
            ("as an owner: contacts ?stage=prospect",
             lambda: member.list_contacts(stage="prospect")),
            ("as an owner: activities (through their contacts)",
             lambda: member.list_activities()),
            ("as an owner: contacts ?search=lovelace",
             lambda: member.list_contacts(search="lovelace")),
            ("as an owner: deals (through their contacts)", lambda: member.list_deals()),
            ("as an owner: a contact's timeline", lambda: member.contact_timeline(own_contact)),
        ]  # fmt: skip
        searches: list[tuple[str, Callable[[], Any]]] = [
            ("smart list: hot prospects OR vip fintech", lambda: wh.search(HOT_OR_VIP_FINTECH)),
            ("smart list: company.name contains + stage in", lambda: wh.search(AT_ROBOTICS)),
            ("smart list: groups + sort=-icp_score",
             lambda: wh.search({**HOT_OR_VIP_FINTECH, "sort": "-icp_score"})),
            ("smart list: q=lovelace (free text)", lambda: wh.search({"q": "lovelace"})),
            ("smart list: groups + q=globex",
             lambda: wh.search({**HOT_OR_VIP_FINTECH, "q": "globex"})),
            ("smart list: q=zzqx (no match)", lambda: wh.search({"q": "zzqx"})),
            ("smart list as an owner: groups", lambda: member.search(HOT_OR_VIP_FINTECH)),
        ]  # fmt: skip

        print(f"warehouse: {db} ({args.contacts:,} contacts); {args.repeat} runs per case")
        print(f"open a read-only Warehouse: {open_ms[0]:.1f} ms median\n")
        print("| case | p50 ms | p95 ms | CPU ms | target |\n|---|---:|---:|---:|---|")
        cases_out = []
        for cases, target in ((lists, LIST_TARGET_MS), (searches, SEARCH_TARGET_MS)):
            for name, call in cases:
                p50, p95, cpu = measure(call, args.repeat)
                verdict = "ok" if p50 < target else "OVER"
                print(f"| {name} | {p50:.1f} | {p95:.1f} | {cpu:.1f} | <{target} {verdict} |")
                cases_out.append(
                    {"case": name, "p50_ms": round(p50, 1), "p95_ms": round(p95, 1),
                     "cpu_ms": round(cpu, 1), "target_ms": target, "ok": p50 < target}
                )  # fmt: skip

        print("\none `rex` command, start to finish (process start, imports, open, query):")
        env = {**os.environ, "REX_DUCKDB_PATH": str(db), "REX_ORG_ID": ORG}
        argv = [sys.executable, "-m", "rex_pipeline", "contacts", "list", "--stage", "prospect"]
        runs = []
        for _ in range(3):
            began = time.perf_counter()
            subprocess.run(argv, env=env, check=True, capture_output=True)
            runs.append((time.perf_counter() - began) * 1000)
        cli_ms = statistics.median(runs)
        print(f"rex contacts list --stage prospect: {cli_ms:.0f} ms median")

        paging_out = []
        for (name, *_, request), cursors in zip(PAGINGS, depths, strict=True):
            print(f"\npaging {name} (limit 50) from different depths, 10 pages each:")
            print("| start depth | rows before | ms per page (p50) | p95 |")
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
                p50, p95 = percentile(timings, 0.5), percentile(timings, 0.95)
                print(f"| {fraction:.0%} | {depth:,} | {p50:.1f} | {p95:.1f} |")
                paging_out.append(
                    {"paging": name, "depth": fraction, "rows_before": depth,
                     "p50_ms": round(p50, 1), "p95_ms": round(p95, 1)}
                )  # fmt: skip

    write_results(
        {
            "command": " ".join(["benchmarks/query_bench.py", *sys.argv[1:]]),
            "started_at": started_at,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "load_average_before": [round(x, 2) for x in load_before],
                        "load_average_after": [round(x, 2) for x in os.getloadavg()]},
            "contacts": args.contacts,
            "repeat": args.repeat,
            "derived_tables_build_s": None if derived_seconds is None else round(
                derived_seconds, 1),
            "open_warehouse_ms": round(open_ms[0], 1),
            "cli_contacts_list_ms": round(cli_ms),
            "cases": cases_out,
            "paging": paging_out,
        },
        args.results,
    )  # fmt: skip


def write_results(results: dict[str, Any], path: Path = RESULTS) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
