"""ICP scoring benchmark: score N generated contacts (default 1,000,000) with companies and
~3 activities per contact, using the model in rex.yaml, and print the time of each step.

    .venv/bin/python benchmarks/icp_bench.py [--contacts 1000000] [--activities-per-contact 3]

The data mimics real exports: titles from a few thousand spellings plus 2% one-off titles,
Apollo/LinkedIn industries and size strings, countries in JSON metadata, replies, bounces,
auto-replies and meetings spread over a year. Generation is deterministic (hash-based).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import polars as pl

from rex_pipeline.config import REPO_ROOT, load_settings
from rex_pipeline.score import (
    build_features,
    check_scores,
    histogram_markdown,
    learn_from_customers,
    load_icp_model,
    score_contacts,
    score_features,
    top_contacts_markdown,
)

NOW = datetime(2025, 6, 2, 6, 0, tzinfo=UTC)

SENIORITY_WORDS = ("", "Sr. ", "Senior ", "Lead ", "Head of ", "VP ", "VP of ", "Director of ")
SENIORITY_WORDS += ("Chief ", "Co-founder & ", "Junior ", "Principal ", "SVP ", "Manager, ")
FUNCTIONS = ("Software Engineer", "Engineering", "Eng", "Sales", "Marketing", "Growth")
FUNCTIONS += ("Product", "Product Manager", "Data Scientist", "Customer Success", "Finance")
FUNCTIONS += ("People", "Operations", "RevOps", "Design", "IT", "Legal", "Account Executive")
FUNCTIONS += ("CEO", "CTO", "Security", "Platform", "DevOps", "Partnerships")
REGIONS = ("", ", EMEA", " - North America", " (APAC)", ", DACH")
INDUSTRIES = ("Computer Software", "Software Development", "information technology & services")
INDUSTRIES += ("IT Services and IT Consulting", "Internet", "Financial Services", "retail")
INDUSTRIES += ("Hospital & Health Care", "marketing & advertising", "Computer & Network Security")
INDUSTRIES += ("Staffing and Recruiting", "Higher Education", "Real Estate", "B2B SaaS", "")
SIZES = ("1-10", "11-50", "51-200", "201-500", "501-1,000", "1,001-5,000 employees")
SIZES += ("5,001-10,000", "10,001+ employees", "120", "35", "2400", "")
COUNTRIES = ("United States", "USA", "United Kingdom", "Germany", "Deutschland", "France")
COUNTRIES += ("Canada", "India", "Netherlands", "Australia", "Brazil", "Sweden")
STAGES = ("lead",) * 12 + ("prospect",) * 5 + ("customer", "churned")
TYPES = ("email",) * 8 + ("meeting", "call", "note")
SUBTYPES = ("reply", "reply", None, None, None, "bounce", "auto_reply", "unsubscribed", "open")
DIRECTIONS = ("inbound", "outbound", "outbound")
ACT_STATUSES = ("completed",) * 6 + ("scheduled", "draft")


def _pick(pool: Sequence[object], n: int, seed: int) -> pl.Series:
    """Deterministic pseudo-random choice of n values from pool."""
    index = pl.select((pl.int_range(n, dtype=pl.UInt64).hash(seed) % len(pool)).alias("i"))
    return pl.Series(list(pool)).gather(index["i"])


def _numbered(template: str, numbers: pl.Series | int) -> pl.Series:
    """template with "{}" replaced by each number (or by 0..n-1 for an int)."""
    if isinstance(numbers, int):
        numbers = pl.int_range(numbers, eager=True)
    head, tail = template.split("{}")
    parts = [pl.lit(head), pl.lit(numbers).cast(pl.String), pl.lit(tail)]
    return pl.select(pl.concat_str(parts)).to_series()


def _json(key: str, values: pl.Series, ids: pl.Series | None = None) -> pl.Series:
    """{"key": "value"} per value, with a unique "Apollo Contact Id" when ids are given."""
    parts = [pl.lit(f'{{"{key}": "'), pl.lit(values), pl.lit('"')]
    if ids is not None:
        parts += [pl.lit(', "Apollo Contact Id": "'), pl.lit(ids), pl.lit('"')]
    return pl.select(pl.concat_str([*parts, pl.lit("}")])).to_series()


def _uniform(n: int, seed: int, high: int) -> pl.Series:
    return pl.select(pl.int_range(n, dtype=pl.UInt64).hash(seed) % high).to_series()


def generate(n_contacts: int, per_contact: int) -> tuple[pl.DataFrame, ...]:
    n_companies = max(n_contacts // 10, 1)
    companies = pl.DataFrame(
        {
            "id": _numbered("comp_{}", n_companies),
            "name": _numbered("Company {}", n_companies),
            "industry": _pick(INDUSTRIES, n_companies, 1),
            "size": _pick(SIZES, n_companies, 2),
            "metadata": _json("Company Country", _pick(COUNTRIES, n_companies, 3)),
        }
    )
    one_off = _uniform(n_contacts, 10, 100) < 2
    title = (
        _pick(SENIORITY_WORDS, n_contacts, 11)
        + _pick(FUNCTIONS, n_contacts, 12)
        + _pick(REGIONS, n_contacts, 13)
    )
    unique_suffix = _numbered(" - Team {}", n_contacts)
    contact_ids = _numbered("cont_{}", n_contacts)
    contacts = pl.DataFrame(
        {
            "id": contact_ids,
            "first_name": pl.repeat("Ada", n_contacts, eager=True),
            "last_name": _numbered("Person{}", n_contacts),
            "email": _numbered("p{}@example.com", n_contacts),
            "title": pl.select(
                pl.when(one_off).then(title + unique_suffix).otherwise(title)
            ).to_series(),
            "stage": _pick(STAGES, n_contacts, 14),
            "company_id": _numbered("comp_{}", _uniform(n_contacts, 15, n_companies)),
            "metadata": pl.select(
                pl.when(_uniform(n_contacts, 16, 2) == 0).then(
                    pl.lit(_json("Country", _pick(COUNTRIES, n_contacts, 17), contact_ids))
                )
            ).to_series(),
        }
    )
    n_acts = n_contacts * per_contact
    seconds = _uniform(n_acts, 24, 365 * 86_400).cast(pl.Int64)
    activities = pl.DataFrame(
        {
            "contact_id": _numbered("cont_{}", _uniform(n_acts, 20, n_contacts)),
            "type": _pick(TYPES, n_acts, 21),
            "subtype": _pick(SUBTYPES, n_acts, 22),
            "direction": _pick(DIRECTIONS, n_acts, 23),
            "status": _pick(ACT_STATUSES, n_acts, 25),
            "occurred_at": pl.select(
                pl.lit(NOW - timedelta(days=365)) + pl.duration(seconds=seconds)
            ).to_series(),
        }
    )
    return (
        contacts,
        companies,
        activities.with_columns(
            pl.col("occurred_at").dt.cast_time_unit("us").dt.convert_time_zone("UTC")
        ),
    )


class Timer:
    """Wall and CPU time of a block (CPU summed over polars' threads): on a busy machine the
    CPU time is the steadier number."""

    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu

    def __str__(self) -> str:
        return f"{self.wall:.2f}s wall, {self.cpu:.2f}s CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--activities-per-contact", type=int, default=3)
    args = parser.parse_args()

    model = load_icp_model(load_settings(REPO_ROOT / "rex.yaml").icp)
    with Timer() as took:
        contacts, companies, activities = generate(args.contacts, args.activities_per_contact)
    print(
        f"generated {contacts.height:,} contacts, {companies.height:,} companies, "
        f"{activities.height:,} activities ({took})"
    )

    with Timer() as took:
        features = build_features(contacts, companies, activities, model, NOW)
    print(f"  build_features: {took}")
    with Timer() as took:
        score_features(features, model)
    print(f"  score_features: {took}")

    with Timer() as took:
        scores = score_contacts(contacts, companies, activities, model, NOW)
    print(f"score_contacts: {took} ({contacts.height / took.wall:,.0f} contacts/s wall)")

    with Timer() as took:
        again = score_contacts(contacts, companies, activities, model, NOW, previous=scores)
    print(f"score_contacts with previous scores: {took}")
    assert again.equals(scores), "scoring is not deterministic"

    with Timer() as took:
        check = check_scores(scores)
        histogram_markdown(scores["icp_score"])
        top_contacts_markdown(scores, contacts)
    print(f"check + histogram + top 10: {took} ({check.description})")

    scored = score_contacts(contacts, companies, activities, model, NOW, keep_features=True)
    with Timer() as took:
        report = learn_from_customers(scored, model)
    print(f"learn_from_customers: {took} (AUC {report.auc_current:.3f} on random data)")
    print(histogram_markdown(scores["icp_score"]))


if __name__ == "__main__":
    main()
