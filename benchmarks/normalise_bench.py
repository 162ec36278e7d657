"""Time `normalise_contacts` on synthetic raw contacts shaped like real CRM exports.

    .venv/bin/python benchmarks/normalise_bench.py            # 1,000,000 rows
    .venv/bin/python benchmarks/normalise_bench.py --rows 100000 --profile

The data: ~80% distinct people (the rest re-appear as if from a second export), work and
free-mail addresses with +tags, odd casing and ~0.5% typos, a quarter with only a full name
("Lovelace, Ada", "DR. ADA LOVELACE"), phones in half the rows in Apollo/Excel/E.164 styles,
websites, company names with legal suffixes, LinkedIn URLs, HubSpot/Salesforce/Apollo stages
and sources, tags and metadata. Generation is not timed.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import time
import unicodedata

import polars as pl

from rex_pipeline import records
from rex_pipeline.config import Settings
from rex_pipeline.normalise import normalise_contacts

FIRST = [
    "Ada",
    "Grace",
    "Alan",
    "Linus",
    "Margaret",
    "Barbara",
    "Donald",
    "Edsger",
    "Frances",
    "John",
    "Katherine",
    "Dorothy",
    "Radia",
    "José",
    "Zoë",
    "Søren",
    "François",
    "Åsa",
    "Björn",
    "Chloé",
    "Renée",
    "Mateo",
    "Sofia",
    "Liam",
    "Olivia",
    "Noah",
    "Emma",
    "Lucas",
    "Mia",
    "Ethan",
    "Ava",
    "Mason",
    "Isabella",
    "Logan",
    "Amelia",
    "Elijah",
    "Harper",
    "Aiden",
    "Evelyn",
    "Jackson",
    "Abigail",
    "Wei",
    "Yuki",
    "Priya",
    "Arjun",
    "Fatima",
    "Omar",
    "Ngozi",
    "Chidi",
    "Hiroshi",
    "Mei",
    "Dmitri",
    "Olga",
    "Lars",
    "Ingrid",
    "Pierre",
    "Camille",
]
SYLLABLES = [
    "an",
    "ber",
    "cor",
    "dal",
    "en",
    "fin",
    "gar",
    "hol",
    "ing",
    "jor",
    "kel",
    "lov",
    "mar",
    "nor",
    "ost",
    "per",
    "quin",
    "ros",
    "sel",
    "tor",
]
FREE = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.co.uk", "icloud.com", "proton.me")
SUFFIXES = ("Inc.", "LLC", "Ltd", "GmbH", "Corp.", "", "", "", "Group", "Technologies", "S.A.")
STAGES = ("lead", "Marketing Qualified Lead", "customer", "Open - Not Contacted", "Cold", "", "")
SOURCES = ("ORGANIC_SEARCH", "Paid Social", "Partner Referral", "Trade Show", "LinkedIn", "", "")
AREAS = (212, 213, 303, 312, 404, 415, 503, 512, 602, 617, 646, 702, 713, 718, 206, 305)


def _last_names(rng: random.Random, n: int) -> list[str]:
    names = set()
    while len(names) < n:
        parts = rng.choices(SYLLABLES, k=rng.choice((2, 3, 4)))
        names.add("".join(parts).capitalize())
    return sorted(names)


def _ascii(text: str) -> str:
    """How people write their name in an address: "Zoë" -> "Zoe"."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _phone(rng: random.Random, person: int) -> str:
    # distinct per person: (area, exchange, line) is a mixed-radix spelling of the person id
    area = AREAS[person % len(AREAS)]
    exchange = 200 + (person // len(AREAS)) % 800
    line = (person // (len(AREAS) * 800)) % 10_000
    style = person % 5
    if style == 0:
        return f"'+1 {area}-{exchange}-{line:04d}"
    if style == 1:
        return f"({area}) {exchange}-{line:04d}"
    if style == 2:
        return f"+1{area}{exchange}{line:04d}"
    if style == 3:
        return f"+44 20 7{person % 1000:03d} {line:04d}"
    return f"{area}.{exchange}.{line:04d} x{person % 90 + 10}"


def make_contacts(rows: int, seed: int = 7) -> pl.DataFrame:
    """`rows` raw contacts (RAW_CONTACT schema)."""
    rng = random.Random(seed)
    people = int(rows * 0.8)
    lasts = _last_names(rng, 20_000)
    companies = [f"{rng.choice(lasts)} {rng.choice(lasts)}" for _ in range(max(people // 8, 1))]
    data: dict[str, list] = {k: [] for k in records.RAW_CONTACT}
    for row in range(rows):
        person = row if row < people else rng.randrange(people)
        p = random.Random(person)
        first, last = p.choice(FIRST), p.choice(lasts)
        company_i = p.randrange(len(companies))
        company = companies[company_i]
        slug = company.lower().replace(" ", "")
        domain = p.choice(FREE) if p.random() < 0.4 else f"{slug}{company_i}.com"
        local = f"{_ascii(first).lower()}.{last.lower()}{person}"
        if p.random() < 0.05:
            local += "+crm"
        email = f"{local}@{domain.upper() if p.random() < 0.05 else domain}"
        roll = rng.random()
        if roll < 0.005:
            email = email.replace("@", "@@")
        elif roll < 0.03:
            email = ""
        full_only = p.random() < 0.25
        name_style = person % 40
        full = (
            f"DR. {first.upper()} {last.upper()}"
            if name_style == 0
            else f"{last}, {first}"
            if name_style < 10
            else f"{first} {last}"
        )
        data["org_id"].append("default")
        data["source_system"].append("csv")
        data["source_file"].append("contacts.csv" if row < people else "apollo.csv")
        data["source_row"].append(row + 1)
        data["source_key"].append(f"csv:{row}")
        data["raw"].append(None)
        data["email"].append(email)
        data["other_emails"].append(
            [f"{first.lower()}{person}@gmail.com"] if person % 10 == 0 else []
        )
        data["full_name"].append(full if full_only else None)
        data["first_name"].append(
            None if full_only else (first.upper() if person % 7 == 0 else first)
        )
        data["last_name"].append(None if full_only else last)
        data["phone"].append(_phone(rng, person) if p.random() < 0.6 else None)
        data["title"].append(p.choice(("CEO", "VP Sales", "Engineer", None)))
        data["linkedin_url"].append(
            f"https://www.linkedin.com/in/{first.lower()}-{last.lower()}-{person}/"
            if p.random() < 0.3
            else None
        )
        data["stage"].append(rng.choice(STAGES))
        data["source"].append(rng.choice(SOURCES))
        data["source_detail"].append(None)
        data["owner"].append("owner@northwind-labs.io")
        # a company is mostly written one way; a fifth of rows spell its legal form differently
        suffix = p.choice(SUFFIXES) if p.random() < 0.2 else SUFFIXES[company_i % len(SUFFIXES)]
        data["company_name"].append(f"{company} {suffix}".strip())
        data["company_domain"].append(
            f"https://www.{slug}{company_i}.com/about" if p.random() < 0.6 else None
        )
        data["tags"].append(["vip", "VIP"] if person % 13 == 0 else ["newsletter"])
        data["metadata"].append(json.dumps({"hs_object_id": str(person)}))
        data["created_at"].append(None)
        data["updated_at"].append(None)
    return pl.DataFrame(data, schema=records.RAW_CONTACT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--profile", action="store_true", help="print the top functions")
    args = parser.parse_args()

    started = time.perf_counter()
    raw = make_contacts(args.rows)
    generated = time.perf_counter() - started
    print(
        f"generated {raw.height:,} rows in {generated:.1f} s: "
        f"{raw['email'].n_unique():,} distinct emails, {raw['phone'].n_unique():,} phones, "
        f"{raw['full_name'].n_unique():,} full names, {raw['company_name'].n_unique():,} companies"
    )
    settings = Settings()
    profiler = cProfile.Profile() if args.profile else None
    started, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    clean, rejected = normalise_contacts(raw, settings)
    if profiler:
        profiler.disable()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert clean.height + rejected.height == raw.height
    print(
        f"normalise_contacts: {elapsed:.1f} s wall ({cpu:.1f} s CPU on all threads), "
        f"{raw.height / elapsed:,.0f} rows/s ({clean.height:,} clean, {rejected.height:,} rejected)"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
