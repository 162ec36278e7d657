"""Gmail parser throughput and memory on generated Takeout mbox files.

    .venv/bin/python benchmarks/gmail_bench.py                      # 25k and 100k messages
    .venv/bin/python benchmarks/gmail_bench.py --sizes 5000         # quick
    .venv/bin/python benchmarks/gmail_bench.py --compare-policies 5000
    .venv/bin/python benchmarks/gmail_bench.py --streamed           # 25k and 100k, streamed
    .venv/bin/python benchmarks/gmail_bench.py --inbox benchmarks/out/inbox_100000_20000_s0
        # the mbox files of a generated inbox (benchmarks/inbox_gen.py), as ingest reads them:
        # streamed through a sink, serially (--workers 1) and with a pool (default: all CPUs),
        # in one pass as ingest reads them (--prescan: with the owner pre-scan first)

Each size is generated into a temporary directory, then parsed in a fresh child process so its
peak RSS belongs to that parse alone. The output frames necessarily hold every message's body,
columns: "baseline" is the RSS once imports are done; "stream-only" the peak RSS of a first pass
that reads and interprets every message but keeps nothing (the parser alone: it must not grow
with the file); "peak RSS" the peak of the real parse; "peak-output-baseline" what the real
parse needs beyond its output frames (whose size grows with the mail, as it must).
msgs/cpu-s divides by the process's CPU time, so it stays comparable on a busy machine.

`--streamed` measures what ingest does with Gmail files: "sink" parses through a sink that drops
each chunk (header pass + parse, frames never held), "staged" runs `ingest.stream_files`, which
appends each chunk to the batch tables of a temporary DuckDB work database. The "sink" peak must
stay nearly equal as the file grows; "staged" adds DuckDB (~100 MB to open the work database,
then its buffer pool, a cache of written blocks bounded by `--duckdb-memory-limit`).

The generated mail mimics a sales inbox: CRLF Takeout separators with decimal Gmail ids, labels,
multipart/alternative (most), quoted-printable plain text with RFC 2047 names, HTML-only
newsletters, base64 attachments, replies, bounces (multipart/report), spam and trash.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

OWN = ["maria.chen@northwind-labs.io", "sales@northwind-labs.io"]
DOMAINS = ["northwind-labs.io"]
PEOPLE = [
    ("Lovelace, Ada", "ada.lovelace@acme-robotics.com"),
    ("Grace Hopper", "grace.hopper@globex.com"),
    ("Bob Smith", "bob.smith@initech.com"),
    ("=?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?=", "juergen.mueller@beispiel.de"),
    ("=?ISO-8859-1?Q?Fran=E7oise_Dupont?=", "f.dupont@exemple.fr"),
    ("Priya Natarajan", "priya@initech.com"),
]
WORDS = [
    "pricing", "proposal", "renewal", "onboarding", "pilot", "contract", "integration",
    "timeline", "security", "review", "budget", "quarter", "meeting", "demo", "forecast",
    "licence", "seats", "support", "rollout", "feedback",
]  # fmt: skip


def _paragraphs(rng: random.Random, count: int) -> list[str]:
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 60))) for _ in range(count)]


def _message(rng: random.Random, index: int, when: datetime) -> str:
    """One RFC 822 message (without the separator), LF line ends."""
    name, address = rng.choice(PEOPLE)
    outbound = rng.random() < 0.4
    sender = f"Maria Chen <{OWN[0]}>" if outbound else f"{name} <{address}>"
    recipient = f"{name} <{address}>" if outbound else f"Maria Chen <{OWN[0]}>"
    labels = "Sent" if outbound else rng.choice(["Inbox,Unread", "Inbox,Important", "Archived"])
    kind = rng.random()
    if kind < 0.01:
        labels = "Spam"
    elif kind < 0.02:
        labels = "Trash"
    date = when.strftime("%a, %d %b %Y %H:%M:%S +0000")
    head = [
        f"X-GM-THRID: {1700000000000000000 + index // 3}",
        f"X-Gmail-Labels: {labels}",
    ]
    if not outbound:
        head += [f"Delivered-To: {OWN[0]}", "Received: by 2002:a05:6a10:1234 with SMTP id x1"]
    subject = f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} #{index}"
    if index % 3:
        subject = "Re: " + subject
        head.append(f"In-Reply-To: <thread{index // 3}@mail.gmail.com>")
    head += [
        f"Date: {date}",
        f"From: {sender}",
        f"To: {recipient}",
        f"Subject: {subject}",
        f"Message-ID: <msg{index}.{rng.getrandbits(32):x}@mail.gmail.com>",
        "MIME-Version: 1.0",
    ]
    text = "\n\n".join(_paragraphs(rng, rng.randint(1, 4)))
    if kind < 0.05:  # bounce
        head[head.index(f"From: {sender}")] = (
            "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>"
        )
        head.append(f"X-Failed-Recipients: {address}")
        body = (
            'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\n\n'
            "--b1\nContent-Type: text/plain; charset=UTF-8\n\nAddress not found.\n\n"
            "--b1\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; googlemail.com\n\n"
            f"Final-Recipient: rfc822; {address}\nAction: failed\nStatus: 5.1.1\n\n"
            f"--b1\nContent-Type: message/rfc822\n\nFrom: {OWN[0]}\nTo: {address}\n"
            f"Message-ID: <orig{index}@mail.gmail.com>\nSubject: {subject}\n\n{text}\n\n--b1--\n"
        )
    elif kind < 0.15:  # HTML-only newsletter-style mail
        html = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
        body = (
            "Content-Type: text/html; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n"
            f"<html><body><table><tr><td>{html}</td></tr></table></body></html>\n"
        )
    elif kind < 0.25:  # with an attachment
        blob = base64.encodebytes(rng.randbytes(rng.randint(2000, 12000))).decode()
        body = (
            'Content-Type: multipart/mixed; boundary="m1"\n\n--m1\n'
            "Content-Type: text/plain; charset=UTF-8\n\n"
            f'{text}\n\n--m1\nContent-Type: application/pdf; name="proposal-{index}.pdf"\n'
            f'Content-Disposition: attachment; filename="proposal-{index}.pdf"\n'
            f"Content-Transfer-Encoding: base64\n\n{blob}\n--m1--\n"
        )
    elif kind < 0.45:  # quoted-printable plain text
        body = (
            "Content-Type: text/plain; charset=UTF-8\n"
            "Content-Transfer-Encoding: quoted-printable\n\n"
            + text.replace("pricing", "pri=C3=A7ing")
            + "\n"
        )
    else:  # multipart/alternative, what Gmail itself sends
        html = "".join(f'<div dir="ltr">{p}</div>' for p in text.split("\n\n"))
        body = (
            'Content-Type: multipart/alternative; boundary="a1"\n\n'
            f"--a1\nContent-Type: text/plain; charset=UTF-8\n\n{text}\n\n"
            f"--a1\nContent-Type: text/html; charset=UTF-8\n\n{html}\n\n--a1--\n"
        )
    return "\n".join(head) + "\n" + body


def generate_mbox(path: Path, count: int, seed: int = 7) -> None:
    """Write `count` messages as a CRLF Takeout mbox."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8", newline="\r\n") as out:
        for index in range(count):
            when = start + timedelta(minutes=7 * index)
            gmail_id = 1780000000000000000 + index * 7919
            out.write(f"From {gmail_id}@xxx {when.strftime('%a %b %d %H:%M:%S +0000 %Y')}\n")
            out.write(_message(rng, index, when))
            out.write("\n")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def parse_child(path: Path) -> dict[str, float]:
    """Runs in a fresh process: parse one file, report time and memory."""
    from rex_pipeline.sources.gmail import parse_gmail_file

    baseline = _peak_rss_mb()
    stream_peak = stream_only(path)
    started, cpu_started = time.perf_counter(), time.process_time()
    parsed = parse_gmail_file(path, "bench", [], ["northwind-labs.io"])
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    output_mb = sum(
        f.estimated_size("mb") for f in (parsed.activities, parsed.contacts, parsed.rejected)
    )
    peak = _peak_rss_mb()
    return {
        "messages": parsed.stats["messages_read"],
        "activities": parsed.activities.height,
        "seconds": seconds,
        "msgs_per_s": parsed.stats["messages_read"] / seconds,
        "msgs_per_cpu_s": parsed.stats["messages_read"] / cpu_seconds,
        "mb_per_s": path.stat().st_size / 2**20 / seconds,
        "baseline_rss_mb": baseline,
        "peak_rss_mb": peak,
        "output_mb": output_mb,
        "working_mb": peak - baseline - output_mb,
        "stream_only_peak_mb": stream_peak,
    }


def streamed_child(path: Path, mode: str, memory_limit: str | None) -> dict[str, float]:
    """Runs in a fresh process: the streamed paths, through a sink ("sink") or into DuckDB
    batch tables ("staged"). Reports time and peak RSS."""
    from rex_pipeline.records import ParsedFile
    from rex_pipeline.sources.gmail import parse_gmail_file

    baseline = _peak_rss_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    rows = 0
    if mode == "sink":

        def drop(chunk: ParsedFile) -> None:
            nonlocal rows
            rows += chunk.records_read

        stats = parse_gmail_file(path, "bench", [], ["northwind-labs.io"], sink=drop).stats
    else:
        stats, rows = _staged(path, memory_limit)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    return {
        "messages": stats["messages_read"],
        "rows": rows,
        "seconds": seconds,
        "msgs_per_s": stats["messages_read"] / seconds,
        "msgs_per_cpu_s": stats["messages_read"] / cpu_seconds,
        "baseline_rss_mb": baseline,
        "peak_rss_mb": _peak_rss_mb(),
    }


def _staged(path: Path, memory_limit: str | None) -> tuple[dict[str, object], int]:
    """ingest.stream_files on one file into a temporary work database (DuckDB's buffer pool,
    a cache of the written blocks, is capped at `memory_limit` when given)."""
    from rex_pipeline.config import load_settings
    from rex_pipeline.ingest import InboxFile, stream_files
    from rex_pipeline.warehouse import connect_work

    settings = load_settings(
        org_id="bench", own_domains=["northwind-labs.io"], duckdb_path=path.with_suffix(".duckdb")
    )
    st = path.stat()
    with connect_work(settings.duckdb_path) as con:
        if memory_limit:
            con.execute(f"SET memory_limit = '{memory_limit}'")
        batch = stream_files(
            con, "gmail", [(InboxFile("gmail", path, st.st_size, st.st_mtime_ns), "-")],
            settings, set(),
        )  # fmt: skip
    report = batch.reports[0]
    return report.stats, report.records_read


def stream_only(path: Path) -> float:
    """Read and interpret every message but keep nothing: the parser's own peak memory, which
    must not depend on the file's size. Returns peak RSS in MB."""
    from rex_pipeline.sources.gmail.inputs import from_mbox
    from rex_pipeline.sources.gmail.mbox import iter_mbox
    from rex_pipeline.sources.gmail.message import interpret

    for item in iter_mbox(path):
        interpret(from_mbox(item))
    return _peak_rss_mb()


def compare_policies(path: Path) -> None:
    """Parse-only throughput of the stdlib email policies on the same messages."""
    from rex_pipeline.sources.gmail.mbox import iter_mbox

    chunks = [item.data for item in iter_mbox(path)]
    for name, chosen in (("compat32", policy.compat32), ("default", policy.default)):
        parser = BytesParser(policy=chosen)
        started = time.perf_counter()
        for data in chunks:
            msg = parser.parsebytes(data)
            for header in ("From", "To", "Subject", "Date", "Message-ID", "X-Gmail-Labels"):
                str(msg.get(header, ""))
            for part in msg.walk():
                if not part.is_multipart():
                    part.get_payload(decode=True)
        rate = len(chunks) / (time.perf_counter() - started)
        print(f"policy {name:9s}: {rate:8.0f} msgs/s (parse + headers + payload decode)")


def inbox_child(folder: Path, workers: int, prescan: bool = False) -> dict[str, float]:
    """Runs in a fresh process: parse every mbox of `folder` through a sink that drops the
    chunks, as ingest does (one pass, or with the owner pre-scan), with a pool of `workers`
    processes (1: none). CPU seconds and peak RSS include the workers (ended and so
    accounted for before measuring)."""
    from rex_pipeline.records import ParsedFile
    from rex_pipeline.sources.gmail import parse_gmail_file

    def drop(chunk: ParsedFile) -> None:
        pass

    files = sorted(folder.glob("*.mbox"))
    started = time.perf_counter()
    messages = 0
    if workers > 1:
        from rex_pipeline.sources.gmail.workers import PartPool

        with PartPool(workers) as pool:
            pool.upcoming = files  # as ingest names them: the pool reads ahead into the next
            for path in files:
                stats = parse_gmail_file(
                    path, "bench", [], DOMAINS, sink=drop, pool=pool, prescan=prescan
                ).stats
                messages += stats["messages_read"]
    else:
        for path in files:
            stats = parse_gmail_file(path, "bench", [], DOMAINS, sink=drop, prescan=prescan).stats
            messages += stats["messages_read"]
    seconds = time.perf_counter() - started
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu_seconds = sum(u.ru_utime + u.ru_stime for u in usage)
    return {
        "files": len(files),
        "messages": messages,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "msgs_per_s": messages / seconds,
        "msgs_per_cpu_s": messages / cpu_seconds,
        "peak_rss_mb": usage[0].ru_maxrss / 1024,
        "worker_peak_rss_mb": usage[1].ru_maxrss / 1024,
    }


def run_inbox(inbox: Path, workers: list[int], prescan: bool = False) -> None:
    """Time the Gmail parse alone on a generated inbox, once per worker count."""
    folder = inbox / "inbox" / "gmail" if (inbox / "inbox").is_dir() else inbox / "gmail"
    size_mb = sum(p.stat().st_size for p in folder.glob("*.mbox")) / 2**20
    print(f"{folder} ({size_mb:.0f} MB)")
    print(
        f"{'workers':>7} {'files':>5} {'messages':>9} {'wall s':>7} {'CPU s':>7} {'msgs/s':>8} "
        f"{'msgs/cpu-s':>10} {'peak RSS':>9} {'worker peak':>11}"
    )
    for count in workers:
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(folder), "--child-mode", "inbox",
             "--workers", str(count), *(["--prescan"] if prescan else [])],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        r = json.loads(child.stdout)
        print(
            f"{count:>7} {r['files']:>5} {r['messages']:>9} {r['seconds']:>7.1f} "
            f"{r['cpu_seconds']:>7.1f} {r['msgs_per_s']:>8.0f} {r['msgs_per_cpu_s']:>10.0f} "
            f"{r['peak_rss_mb']:>7.0f}MB {r['worker_peak_rss_mb']:>9.0f}MB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[25_000, 100_000])
    parser.add_argument("--compare-policies", type=int, metavar="N")
    parser.add_argument("--streamed", action="store_true", help="measure the streamed paths")
    parser.add_argument("--duckdb-memory-limit", help="with --streamed, e.g. 128MB")
    parser.add_argument("--inbox", type=Path, help="parse a generated inbox's mbox files")
    parser.add_argument(
        "--workers", type=int, nargs="+", help="with --inbox: worker counts (default: 1 and all)"
    )
    parser.add_argument(
        "--prescan", action="store_true", help="with --inbox: read with the owner pre-scan"
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-mode", default="held", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.child_mode == "held":
            print(json.dumps(parse_child(args.child)))
        elif args.child_mode == "inbox":
            print(json.dumps(inbox_child(args.child, args.workers[0], args.prescan)))
        else:
            child = streamed_child(args.child, args.child_mode, args.duckdb_memory_limit)
            print(json.dumps(child))
        return
    if args.inbox:
        if not args.workers:
            from rex_pipeline.sources.gmail.workers import available_cpus

            args.workers = sorted({1, available_cpus()})
        run_inbox(args.inbox, args.workers, args.prescan)
        return
    if args.streamed:
        run_streamed(args.sizes, args.duckdb_memory_limit)
        return
    with tempfile.TemporaryDirectory(prefix="gmail_bench_") as tmp:
        if args.compare_policies:
            path = Path(tmp) / "policies.mbox"
            generate_mbox(path, args.compare_policies)
            compare_policies(path)
            return
        print(
            f"{'messages':>9} {'file MB':>8} {'s':>7} {'msgs/s':>8} {'msgs/cpu-s':>10} "
            f"{'MB/s':>6} {'baseline':>9} {'stream-only':>12} {'peak RSS':>9} {'output':>7} "
            f"{'peak-output-baseline':>21}"
        )
        for size in args.sizes:
            path = Path(tmp) / f"All mail Including Spam and Trash {size}.mbox"
            generate_mbox(path, size)
            child = subprocess.run(
                [sys.executable, __file__, "--child", str(path)],
                check=True,
                capture_output=True,
                text=True,
            )
            r = json.loads(child.stdout)
            print(
                f"{r['messages']:>9.0f} {path.stat().st_size / 2**20:>8.1f} {r['seconds']:>7.1f} "
                f"{r['msgs_per_s']:>8.0f} {r['msgs_per_cpu_s']:>10.0f} "
                f"{r['mb_per_s']:>6.1f} {r['baseline_rss_mb']:>7.0f}MB "
                f"{r['stream_only_peak_mb']:>10.0f}MB {r['peak_rss_mb']:>7.0f}MB "
                f"{r['output_mb']:>5.0f}MB {r['working_mb']:>19.0f}MB"
            )
            path.unlink()


def run_streamed(sizes: list[int], memory_limit: str | None) -> None:
    limit = ["--duckdb-memory-limit", memory_limit] if memory_limit else []
    print(
        f"{'mode':>6} {'messages':>9} {'file MB':>8} {'rows':>8} {'s':>7} {'msgs/s':>8} "
        f"{'msgs/cpu-s':>10} {'baseline':>9} {'peak RSS':>9}"
    )
    with tempfile.TemporaryDirectory(prefix="gmail_bench_") as tmp:
        for size in sizes:
            path = Path(tmp) / f"All mail Including Spam and Trash {size}.mbox"
            generate_mbox(path, size)
            for mode in ("sink", "staged"):
                child = subprocess.run(
                    [sys.executable, __file__, "--child", str(path), "--child-mode", mode, *limit],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                r = json.loads(child.stdout)
                print(
                    f"{mode:>6} {r['messages']:>9.0f} {path.stat().st_size / 2**20:>8.1f} "
                    f"{r['rows']:>8.0f} {r['seconds']:>7.1f} {r['msgs_per_s']:>8.0f} "
                    f"{r['msgs_per_cpu_s']:>10.0f} {r['baseline_rss_mb']:>7.0f}MB "
                    f"{r['peak_rss_mb']:>7.0f}MB"
                )
            for leftover in Path(tmp).glob("*duckdb*"):
                leftover.unlink()
            path.unlink()


if __name__ == "__main__":
    main()
