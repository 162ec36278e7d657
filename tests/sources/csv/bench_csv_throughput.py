"""Parse throughput of `parse_csv_file` on a generated HubSpot-style contacts export.

Not a test (pytest does not collect it): run
    .venv/bin/python tests/sources/csv/bench_csv_throughput.py [rows]
CPU time is printed beside wall time because the machine is often shared: it is the steadier of
the two.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

from rex_pipeline.sources.csv import parse_csv_file

HEADER = (
    '"Record ID","First Name","Last Name","Email","Phone Number","Contact owner",'
    '"Primary Associated Company ID","Last Activity Date","Lead Status",'
    '"Marketing contact status","Create Date","Associated Company"'
)
FIRST = ["Ana", "Ben", "Chloé", "Dmitri", "Emma", "Farid", "Greta", "Hiro", "Ines", "Jonas"]
LAST = ["Alvarez", "Brooks", "Müller", "Nakamura", "O'Neil", "Petrov", "Quinn", "Rossi"]
STATUS = ["New", "Open", "In progress", "Connected", "Unqualified", ""]


def write_export(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER + "\n")
        for i in range(rows):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            company = rng.randrange(2000)
            out.write(
                f'"{100000 + i}","{first}","{last}","{first.lower()}.{i}@company{company}.com",'
                f'"+1 415 555 {i % 10000:04d}","maria@northwind-labs.io","{company}",'
                f'"2025-0{1 + i % 9}-1{i % 10} 09:30","{rng.choice(STATUS)}",'
                f'"Marketing contact","2024-03-0{1 + i % 9} 12:{i % 60:02d}",'
                f'"Company {company}, Inc."\n'
            )


def main(rows: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hubspot_contacts.csv"
        write_export(path, rows)
        size_mb = path.stat().st_size / 1e6
        best = cpu = float("inf")
        for _ in range(3):
            started, cpu_started = time.perf_counter(), time.process_time()
            parsed = parse_csv_file(path, "bench")
            best = min(best, time.perf_counter() - started)
            cpu = min(cpu, time.process_time() - cpu_started)
        print(
            f"{rows} rows, {size_mb:.1f} MB: best of 3 {best:.2f} s wall "
            f"= {rows / best:,.0f} rows/s, {size_mb / best:.1f} MB/s; {cpu:.2f} s CPU "
            f"(contacts {parsed.contacts.height}, rejected {parsed.rejected.height}, "
            f"reader {parsed.stats['reader']})"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)
