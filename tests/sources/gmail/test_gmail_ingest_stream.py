"""Gmail files are staged chunk by chunk into the batch tables (ingest.stage_system)."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from rex_pipeline import ingest, warehouse
from rex_pipeline.config import load_settings
from rex_pipeline.ingest import stage_system
from rex_pipeline.sources.gmail import parse, parse_gmail_file
from rex_pipeline.sources.gmail.mbox import MboxMessage, MboxPart
from rex_pipeline.warehouse import connect_work
from tests.conftest import Env

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "gmail"
PEOPLE = ["ada@acme-robotics.com", "grace@globex.com", "bob@initech.com"]


def _takeout(count: int) -> bytes:
    """`count` received messages (one in Spam, one Message-ID repeated), CRLF Takeout style."""
    out = []
    for i in range(count):
        person = PEOPLE[i % len(PEOPLE)]
        labels = "Spam" if i == 4 else "Inbox"
        message_id = "<dup@globex.com>" if i in (7, 8) else f"<m{i}@{person.split('@')[1]}>"
        out.append(
            f"From {1780000000000000000 + i}@xxx Mon Jan 01 09:{i:02d}:00 +0000 2024\r\n"
            f"X-Gmail-Labels: {labels}\r\nDelivered-To: maria@northwind-labs.io\r\n"
            f"From: {person}\r\nTo: Maria Chen <maria@northwind-labs.io>\r\n"
            f"Subject: Note {i}\r\nDate: Mon, 1 Jan 2024 09:{i:02d}:00 +0000\r\n"
            f"Message-ID: {message_id}\r\n\r\nBody {i}.\r\n\r\n"
        )
    return "".join(out).encode()


def _batch_counts(con: duckdb.DuckDBPyConnection, file_name: str) -> dict[str, int]:
    counts = {}
    for entity in ("contacts", "activities", "rejected"):
        table = "batch_rejected_source" if entity == "rejected" else f"batch_raw_{entity}"
        counts[entity] = con.execute(
            f"SELECT count(*) FROM {table} WHERE source_system = 'gmail' AND source_file = ?",
            [file_name],
        ).fetchone()[0]
    return counts


def test_multi_chunk_mbox_stages_every_record_once(env: Env) -> None:
    path = env.write("gmail/takeout.mbox", _takeout(20))
    shutil.copyfile(FIXTURES / "edge_truncated_headers.mbox", env.inbox / "gmail" / "cut.mbox")
    settings = load_settings()
    held = {
        p.name: parse_gmail_file(p, settings.org_id, [], settings.own_domains)
        for p in (path, env.inbox / "gmail" / "cut.mbox")
    }
    with connect_work(settings.duckdb_path) as con:
        for _ in range(2):  # a re-run replaces the system's batch rows, never doubles them
            batch = stage_system(con, settings, "gmail", force=True, chunk_messages=3)
        takeout = _batch_counts(con, "takeout.mbox")
        cut = _batch_counts(con, "cut.mbox")
    # 20 read: 18 activities, 1 spam skipped and 1 second copy (rejected rows); 3 correspondents
    assert takeout == {"contacts": 3, "activities": 18, "rejected": 2}
    assert cut["rejected"] == held["cut.mbox"].rejected.height >= 1
    assert cut["activities"] == held["cut.mbox"].activities.height
    reports = {r.file_name: r for r in batch.reports}
    for name, staged in (("takeout.mbox", takeout), ("cut.mbox", cut)):
        assert reports[name].status == "loaded"
        assert reports[name].records_read == sum(staged.values()) == held[name].records_read
        assert reports[name].records_rejected == staged["rejected"]
    assert batch.counts["activities"] == 18 + cut["activities"]
    assert batch.frames["activities"].height <= 20  # only a preview is held
    assert batch.own_addresses == {"maria@northwind-labs.io"}


def test_a_file_failing_midway_leaves_no_rows_and_one_rejection(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    env.write("gmail/good.mbox", _takeout(10))
    env.write("gmail/broken.mbox", _takeout(10))
    real_iter = parse.iter_mbox

    def failing(
        path: Path, headers_only: bool = False, part: MboxPart | None = None
    ) -> Iterator[MboxMessage]:
        for item in real_iter(path, headers_only=headers_only, part=part):
            if path.name == "broken.mbox" and not headers_only and item.index == 8:
                raise OSError(5, "Input/output error")
            yield item

    monkeypatch.setattr(parse, "iter_mbox", failing)
    settings = load_settings()
    with connect_work(settings.duckdb_path) as con:
        batch = stage_system(con, settings, "gmail", chunk_messages=2)
        broken = _batch_counts(con, "broken.mbox")
        good = _batch_counts(con, "good.mbox")
        reason = con.execute(
            "SELECT reason FROM batch_rejected_source WHERE source_file = 'broken.mbox'"
        ).fetchone()[0]
    assert broken == {"contacts": 0, "activities": 0, "rejected": 1}
    assert "unreadable file" in reason and "Input/output error" in reason
    assert good == {"contacts": 3, "activities": 8, "rejected": 2}  # a spam, a second copy
    reports = {r.file_name: r for r in batch.reports}
    assert (reports["broken.mbox"].status, reports["broken.mbox"].records_rejected) == (
        "unreadable",
        1,
    )
    assert reports["good.mbox"].records_read == 13


def test_unchanged_files_are_not_hashed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file whose path, size and mtime match the cache keeps its hash without being read;
    touching it or rewriting it reads it again, and the hashes are the real SHA-256."""
    path = tmp_path / "gmail" / "takeout.mbox"
    path.parent.mkdir()
    path.write_bytes(_takeout(3))
    read: list[str] = []
    real_sha = ingest.sha256_of
    monkeypatch.setattr(ingest, "sha256_of", lambda p: read.append(p.name) or real_sha(p))
    con = duckdb.connect()
    warehouse.ensure_schema(con)

    def sha() -> str:
        return ingest.file_hashes(con, ingest.scan_inbox(tmp_path, "gmail"))[path]

    first = sha()
    assert first == hashlib.sha256(path.read_bytes()).hexdigest() and read == ["takeout.mbox"]
    assert sha() == first and read == ["takeout.mbox"]  # cached
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert sha() == first and len(read) == 2  # touched: read again, same content
    path.write_bytes(_takeout(4))
    assert sha() == hashlib.sha256(path.read_bytes()).hexdigest() != first and len(read) == 3
