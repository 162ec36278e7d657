"""Whole-pipeline benchmark: N contacts of CSV exports through every stage, then an incremental
file of 10,000 more rows into the same warehouse.

    .venv/bin/python benchmarks/pipeline_bench.py --rows 200000

Calls the same stage functions the Dagster assets call (no Dagster overhead), on a temporary
inbox and warehouse, and prints seconds per stage and the peak RSS. The data: HubSpot-style and
Apollo-style exports of the same people (about 30% of Apollo rows are people already in HubSpot,
with other letter case and a second address).
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from rex_pipeline.config import load_settings
from rex_pipeline.ingest import stage_system
from rex_pipeline.merge.links import build_canonical_links
from rex_pipeline.merge.survivorship import (
    build_canonical_companies,
    build_canonical_contacts,
    build_company_records,
    build_contact_records,
)
from rex_pipeline.publish.apply import apply_batch
from rex_pipeline.resolve.run import resolve_batch
from rex_pipeline.score import load_icp_model, score_contacts
from rex_pipeline.score.inputs import read_scoring_inputs
from rex_pipeline.staging import normalise_batch
from rex_pipeline.warehouse import connect_work, publish

FIRST = [
    "Ada",
    "Grace",
    "Alan",
    "Linus",
    "Margaret",
    "Katherine",
    "Barbara",
    "Dennis",
    "Ken",
    "Frances",
    "John",
    "Radia",
    "Edsger",
    "Donald",
    "Leslie",
    "Shafi",
    "Tim",
    "Vint",
]
LAST = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Torvalds",
    "Hamilton",
    "Johnson",
    "Liskov",
    "Ritchie",
    "Thompson",
    "Allen",
    "Backus",
    "Perlman",
    "Dijkstra",
    "Knuth",
    "Lamport",
    "Goldwasser",
]
TITLES = [
    "VP Engineering",
    "CEO",
    "Head of Growth",
    "Sr. Software Engineer",
    "CTO",
    "Director of Sales",
    "Marketing Manager",
    "Founder",
]


def people(start: int, count: int, seed: int) -> pl.DataFrame:
    rng = random.Random(seed)
    rows = []
    for i in range(start, start + count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company = f"company{i // 8}"
        rows.append(
            {
                "Record ID": str(i),
                "First Name": first,
                "Last Name": last,
                "Email": f"{first.lower()}.{last.lower()}{i}@{company}.com",
                "Phone Number": f"+1 415 555 {i % 10000:04d}",
                "Job Title": rng.choice(TITLES),
                "Company Name": f"{company.title()} Inc.",
                "Create Date": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d} 10:00",
            }
        )
    return pl.DataFrame(rows)


def write_inbox(inbox: Path, rows: int) -> None:
    hubspot = people(0, rows, seed=1)
    hubspot.write_csv(inbox / "csv" / "hubspot_contacts.csv")
    # Apollo: 30% are HubSpot people again (upper-case address + a personal address)
    again = hubspot.sample(fraction=0.3, seed=2)
    apollo = pl.concat(
        [
            again.select(
                pl.col("First Name"),
                pl.col("Last Name"),
                pl.col("Job Title").alias("Title"),
                pl.col("Company Name"),
                pl.col("Email").str.to_uppercase().alias("Email"),
                (
                    pl.col("First Name").str.to_lowercase()
                    + "."
                    + pl.col("Record ID")
                    + "@gmail.com"
                ).alias("Secondary Email"),
            ),
            people(rows, rows // 5, seed=3).select(
                "First Name",
                "Last Name",
                pl.col("Job Title").alias("Title"),
                "Company Name",
                "Email",
                pl.lit(None, pl.String).alias("Secondary Email"),
            ),
        ]
    ).with_columns(pl.lit("vp").alias("Seniority"), pl.lit("Verified").alias("Email Status"))
    apollo.write_csv(inbox / "csv" / "apollo_people.csv")


def timed(label: str, timings: dict[str, float], fn: Callable[[], object]) -> object:
    started = time.perf_counter()
    out = fn()
    timings[label] = time.perf_counter() - started
    return out


def run_once(settings, now: datetime) -> dict[str, float]:  # type: ignore[no-untyped-def]
    t: dict[str, float] = {}
    model = load_icp_model(settings.icp)
    with connect_work(settings.duckdb_path) as con:
        for system in ("csv", "gmail", "instantly"):
            timed(f"parse {system}", t, lambda s=system: stage_system(con, settings, s))
        timed("normalise", t, lambda: normalise_batch(con, settings))
        stats = timed("resolve", t, lambda: resolve_batch(con, settings, now))
        for part in ("company_fuzzy_seconds", "fuzzy_seconds"):  # shares of resolve
            t[f"  {part.removesuffix('_seconds').replace('_', ' ')}"] = stats.extra[part]  # type: ignore[attr-defined]

        def merge() -> None:
            build_company_records(con, settings, now)
            build_canonical_companies(con)
            build_contact_records(con, settings, now)
            build_canonical_contacts(con, settings)
            build_canonical_links(con, settings, now)

        timed("merge", t, merge)

        def score() -> None:
            from rex_pipeline import batch

            inputs = read_scoring_inputs(con, settings.org_id)
            scores = score_contacts(
                inputs.contacts, inputs.companies, inputs.activities, model, now, inputs.previous
            )
            batch.replace(con, "batch_icp_scores", scores)

        timed("score", t, score)
        timed("apply", t, lambda: apply_batch(con, settings, now))
        timed("publish", t, lambda: publish(con, settings.duckdb_path))
        t["contacts"] = con.execute("SELECT count(*) FROM contacts").fetchall()[0][0]
    return t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000, help="HubSpot rows")
    parser.add_argument("--increment", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        inbox = root / "inbox"
        for system in ("csv", "gmail", "instantly"):
            (inbox / system).mkdir(parents=True)
        write_inbox(inbox, args.rows)
        settings = load_settings(inbox_dir=str(inbox), duckdb_path=str(root / "rex.duckdb"))
        input_rows = args.rows + int(args.rows * 0.3) + args.rows // 5
        full = run_once(settings, datetime(2026, 11, 1, tzinfo=UTC))
        people(10_000_000, args.increment, seed=4).write_csv(inbox / "csv" / "new_leads.csv")
        incremental = run_once(settings, datetime(2026, 11, 2, tzinfo=UTC))
        # a second increment: the fuzzy index is warm (the first one builds it)
        people(20_000_000, args.increment, seed=5).write_csv(inbox / "csv" / "more_leads.csv")
        again = run_once(settings, datetime(2026, 11, 3, tzinfo=UTC))
    stages = [k for k in full if k != "contacts"]
    print(f"input rows: {input_rows:,} (+{args.increment:,} incremental, twice)")
    print(f"{'stage':<18}{'full (s)':>10}{'incremental (s)':>18}{'incremental 2 (s)':>20}")
    for stage in stages:
        print(f"{stage:<18}{full[stage]:>10.2f}{incremental[stage]:>18.2f}{again[stage]:>20.2f}")
    top = [s for s in stages if not s.startswith(" ")]
    total_full = sum(full[s] for s in top)
    total_inc = sum(incremental[s] for s in top)
    total_again = sum(again[s] for s in top)
    print(
        f"{'total':<18}{total_full:>10.2f}{total_inc:>18.2f}  ({total_inc / total_full:.0%})"
        f"{total_again:>12.2f}  ({total_again / total_full:.0%})"
    )
    print(f"contacts: {full['contacts']:,}, {incremental['contacts']:,}, {again['contacts']:,}")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
