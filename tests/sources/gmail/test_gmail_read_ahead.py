"""The session-8 speed-ups of the mbox read give what the code before them gave: the one-match
header reader equals the line loop, a part's result crosses the process boundary unchanged,
and a pool reading ahead into the next file reads every part once and changes no output."""

from __future__ import annotations

import fcntl
import gc
import json
import pickle
import sys
from concurrent.futures import Future
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rex_pipeline import records
from rex_pipeline.config import load_settings
from rex_pipeline.ingest import stage_system
from rex_pipeline.sources.gmail import collect, parse, parse_gmail_file, workers
from rex_pipeline.sources.gmail.headers import _read_header_block, read_header_block
from rex_pipeline.sources.gmail.inputs import from_mbox
from rex_pipeline.sources.gmail.mbox import iter_mbox, split_mbox
from rex_pipeline.sources.gmail.workers import PartPool
from rex_pipeline.warehouse import connect_work
from tests.conftest import Env
from tests.sources.gmail.test_gmail_fast_paths import HEADER_BLOCKS, _big_mbox
from tests.sources.gmail.test_gmail_sink import LATE_OWNER_MBOX

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "gmail"
OWN_DOMAINS = ["northwind-labs.io"]
ENTITIES = ("activities", "contacts", "rejected")
EMAIL_PACKAGE = BytesParser(policy=policy.compat32)

# lines a header section is made of, the odd ones included: every shape the line loop tells
# apart (field, continuation, nameless field, `From ` lines, body text, blank lines)
_LINES = st.sampled_from(
    [
        "From: Ada <ada@acme.example>", "To: a@b.c", "Subject: =?UTF-8?Q?J=C3=BCrgen?=",
        "X-Empty:", "X-Spaces:   ", "Weird-Name!#$%&'*+-.^_`|~: v", "\tcontinued", "  more",
        " ", ":nameless", "No colon here", "From x@y Mon Jan  1 00:00:00 2024", "From: x:y",
        "Bad Name: x", "", "body text", "Content-Type: text/plain; charset=utf-8", "A:b\rc",
        "Subject:  two  spaces  ", "X-Tab:\tv\t", " tail  ",
    ]
)  # fmt: skip
_ENDINGS = st.sampled_from(["\n", "\r\n", "\r", ""])


@st.composite
def _header_texts(draw: st.DrawFn) -> str:
    lines = draw(st.lists(st.tuples(_LINES, _ENDINGS), max_size=8))
    return "".join(line + ending for line, ending in lines)


@settings(
    derandomize=True, max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(_header_texts())
@example("From: a@b.c\r\nSubject: s\r\n continued\r\n\r\nbody\r\n")
@example("\r\nbody")
@example("X: a\r\r\n\r\n")
@example("X: a\n\n")
def test_one_match_header_reader_equals_the_line_loop(text: str) -> None:
    assert read_header_block(text) == _read_header_block(text)
    data = text.encode("ascii", "surrogateescape")
    items = [(str(n), str(v)) for n, v in EMAIL_PACKAGE.parsebytes(data).raw_items()]
    assert read_header_block(text).items == items


@pytest.mark.parametrize("name", sorted(HEADER_BLOCKS))
def test_one_match_header_reader_on_the_known_odd_blocks(name: str) -> None:
    text = HEADER_BLOCKS[name].decode("ascii", "surrogateescape")
    assert read_header_block(text) == _read_header_block(text)


def test_a_part_result_crosses_processes_unchanged(tmp_path: Path) -> None:
    """Rows go as uncompressed Arrow IPC: same values, same schema (lists, UTC times, nulls)."""
    path = _big_mbox(tmp_path / "big.mbox")
    for part in split_mbox(path, 5):
        result = parse.read_mbox_part(path, part, True)
        back = pickle.loads(pickle.dumps(result))
        assert back.work.schema == result.work.schema
        assert back.work.equals(result.work)
        assert back.rejected == result.rejected and back.counts == result.counts
        assert back.owners_seen == result.owners_seen
        assert list(back.evidence) == list(result.evidence)
        assert [vars_of(e) for e in back.evidence.values()] == [
            vars_of(e) for e in result.evidence.values()
        ]


def vars_of(evidence: Any) -> tuple[Any, ...]:
    return (
        evidence.email,
        list(evidence.names.items()),
        evidence.first_seen,
        evidence.last_seen,
        evidence.messages,
    )


@pytest.mark.skipif(sys.platform != "linux", reason="F_SETPIPE_SZ is Linux only")
def test_the_result_pipe_is_widened() -> None:
    with PartPool(2) as pool:
        reader = pool.executor()._result_queue._reader  # type: ignore[attr-defined]
        assert fcntl.fcntl(reader.fileno(), fcntl.F_GETPIPE_SZ) >= workers._RESULT_PIPE_BYTES


def test_workers_collect_garbage_less_often_than_python_does() -> None:
    with PartPool(1) as pool:
        threshold = pool.executor().submit(gc.get_threshold).result()
    assert threshold == workers.WORKER_GC_THRESHOLD
    assert gc.get_threshold() != workers.WORKER_GC_THRESHOLD  # the caller's is its own


def _files(tmp_path: Path) -> list[Path]:
    """Three mbox files big enough for the pool (with PARALLEL_MIN_MESSAGES lowered), with
    duplicates, rejects and a truncated last message, and one API dump between them."""
    paths = [_big_mbox(tmp_path / f"{name}.mbox") for name in ("a", "b")]
    api = tmp_path / "c.jsonl"
    api.write_bytes((FIXTURES / "api_edge_cases.jsonl").read_bytes())
    last = tmp_path / "d.mbox"
    last.write_bytes((FIXTURES / "edge_headers_and_charsets.mbox").read_bytes())
    return [*paths, api, last]


def _read(paths: list[Path], pool: PartPool | None, chunk: int = 7) -> list[dict[str, Any]]:
    out = []
    for path in paths:
        chunks: list[records.ParsedFile] = []
        parsed = parse_gmail_file(
            path, "org_test", [], OWN_DOMAINS, sink=chunks.append, chunk_messages=chunk,
            pool=pool, prescan=False,
        )  # fmt: skip
        frames = {e: pl.concat([getattr(c, e) for c in chunks]) for e in ENTITIES}
        out.append(frames | {"stats": parsed.stats})
    return out


def _assert_same(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    assert len(got) == len(want)
    for one, other in zip(got, want, strict=True):
        assert one["stats"] == other["stats"]
        for entity in ENTITIES:
            assert one[entity].equals(other[entity]), entity


class _Spy:
    """Records each part submitted to the pool's executor: (file, first message)."""

    def __init__(self, pool: PartPool) -> None:
        self.submitted: list[tuple[str, int]] = []
        executor = pool.executor()
        real = executor.submit

        def submit(function: Any, *args: Any, **kwargs: Any) -> Future[Any]:
            if function is parse.read_mbox_part:
                self.submitted.append((args[0].name, args[1].first_index))
            return real(function, *args, **kwargs)

        executor.submit = submit  # type: ignore[method-assign]


def test_reading_ahead_reads_every_part_once_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _files(tmp_path)
    monkeypatch.setattr(parse, "PARALLEL_MIN_MESSAGES", 10)
    serial = _read(paths, None)
    assert serial[0]["stats"]["duplicates"] > 0 and serial[0]["stats"]["rejected"] > 0
    with PartPool(2) as pool:
        spy = _Spy(pool)
        pool.upcoming = paths
        seen_before_b: list[tuple[str, int]] = []
        real_finish = parse.FileCollector.finish

        def finish(self: Any) -> records.ParsedFile:
            if self.source_file == "a.mbox":
                seen_before_b.extend(spy.submitted)
            return real_finish(self)

        monkeypatch.setattr(parse.FileCollector, "finish", finish)
        ahead = _read(paths, pool)
    _assert_same(ahead, serial)
    assert len(spy.submitted) == len(set(spy.submitted))  # no part read twice
    expected = set()
    for path in paths:
        if path.suffix == ".mbox" and parse.scan_mbox(path).messages >= 10:
            calls, _ = parse._mbox_calls(path, parse.scan_mbox(path), 7, 2, True)
            expected |= {(path.name, part.first_index) for _, part, _ in calls}
    assert set(spy.submitted) == expected
    # b's first parts went to the workers before a was finished
    assert any(name == "b.mbox" for name, _ in seen_before_b)


def test_parts_read_ahead_for_other_calls_are_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next file read with another chunk size than was planned: its parts differ, so
    what was read ahead is dropped and its parts are read as asked."""
    first, second = _files(tmp_path)[:2]
    monkeypatch.setattr(parse, "PARALLEL_MIN_MESSAGES", 10)
    want = _read([second], None, chunk=5)
    with PartPool(2) as pool:
        pool.upcoming = [first, second]
        _read([first], pool, chunk=7)
        assert pool._ahead is not None and pool._ahead.path == second
        _assert_same(_read([second], pool, chunk=5), want)


def test_without_upcoming_files_nothing_is_read_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _files(tmp_path)[:2]
    monkeypatch.setattr(parse, "PARALLEL_MIN_MESSAGES", 10)
    with PartPool(2) as pool:
        spy = _Spy(pool)
        _read(paths[:1], pool)
        assert {name for name, _ in spy.submitted} == {"a.mbox"}
        assert pool._ahead is None


def test_a_next_file_that_is_not_mail_costs_the_current_one_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _files(tmp_path)[:1]
    bad = tmp_path / "bad.mbox"
    bad.write_bytes(b"this is not an mbox\n")
    missing = tmp_path / "gone.mbox"
    monkeypatch.setattr(parse, "PARALLEL_MIN_MESSAGES", 10)
    serial = _read(paths, None)
    for following in (bad, missing):
        with PartPool(2) as pool:
            pool.upcoming = [*paths, following]
            _assert_same(_read(paths, pool), serial)
            with pytest.raises(records.UnreadableFileError):
                parse_gmail_file(following, "org_test", [], OWN_DOMAINS, pool=pool)


def test_a_file_read_again_for_a_late_owner_keeps_the_read_ahead(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ingest reads a file again (with the pre-scan) when an owner comes late; the next
    file's parts read ahead meanwhile are still used, and the output is that of a serial
    read."""
    late = LATE_OWNER_MBOX
    env.write("gmail/a_late.mbox", late * 3)
    env.write("gmail/b_big.mbox", _big_mbox(env.root / "big.mbox").read_bytes())
    monkeypatch.setattr(parse, "PARALLEL_MIN_MESSAGES", 3)
    settings = load_settings()

    def staged(cpus: int) -> tuple[list[Any], dict[str, list[tuple[Any, ...]]]]:
        monkeypatch.setattr(workers, "available_cpus", lambda: cpus)
        calls: list[bool] = []
        real = parse_gmail_file

        def spy(*args: Any, prescan: bool = True, **kwargs: Any) -> records.ParsedFile:
            calls.append(prescan)
            return real(*args, prescan=prescan, **kwargs)

        monkeypatch.setattr("rex_pipeline.sources.gmail.parse_gmail_file", spy)
        with connect_work(settings.duckdb_path) as con:
            batch = stage_system(con, settings, "gmail", force=True, chunk_messages=1)
            tables = {
                name: sorted(
                    con.execute(
                        f"SELECT * EXCLUDE (file_sha) FROM {name}"
                        if name != "batch_rejected_source"
                        else f"SELECT * FROM {name}"
                    ).fetchall(),
                    key=repr,
                )
                for name in ("batch_raw_activities", "batch_raw_contacts", "batch_rejected_source")
            }
        assert calls == [False, True, False]  # a: one pass, then again; b: one pass
        return [(r.file_name, r.status, r.stats) for r in batch.reports], tables

    pooled = staged(2)
    serial = staged(1)
    assert pooled == serial
    assert all(status == "loaded" for _, status, _ in pooled[0])


def test_work_frame_is_the_frame_polars_builds_from_the_rows(tmp_path: Path) -> None:
    """The list columns built from one flat column: same values (empty lists, not nulls;
    bounces' failed recipients), same schema, for every part of every fixture and no rows."""
    path = _big_mbox(tmp_path / "big.mbox")
    paths = [path, *sorted(FIXTURES.glob("*.mbox"))]
    failed = 0
    for mbox in paths:
        for part in split_mbox(mbox, 4):
            reader = collect.ChunkReader()
            for item in iter_mbox(mbox, part=part):
                parse._read_one(reader, lambda item=item: from_mbox(item), {}, True)
            rows = reader._rows
            want = pl.DataFrame(rows, schema=collect._WORK_SCHEMA, strict=False)
            got = collect._work_frame(rows)
            assert got.schema == want.schema and got.equals(want), (mbox.name, part)
            failed += sum(1 for row in rows if row["_failed"])
    assert failed > 0
    assert collect._work_frame([]).schema == pl.DataFrame(schema=collect._WORK_SCHEMA).schema


@pytest.mark.parametrize(
    "value",
    [
        {"a": "Ünï", "t": datetime(2024, 1, 2, tzinfo=UTC), "n": None, "f": float("nan")},
        {"s": "\ud800 lone surrogate", "list": [1, 2.5, True, {"x": []}]},
        {"truncated": '{"quote": "\\"', "tab": "a\tb\n"},
    ],
)
def test_the_shared_json_encoder_writes_what_dumps_writes(value: dict[str, Any]) -> None:
    assert collect._json(value) == json.dumps(value, ensure_ascii=False, default=str)
