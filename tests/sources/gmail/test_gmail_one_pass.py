"""The one-pass streamed mbox read (no owner pre-scan) and the faster readers under it give
exactly what the two-pass read gives, and hand the file back when an owner comes too late."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import polars as pl
import pytest

from rex_pipeline import records
from rex_pipeline.config import load_settings
from rex_pipeline.ingest import stage_system
from rex_pipeline.sources.gmail import LateOwnerError, parse, parse_gmail_file
from rex_pipeline.sources.gmail.identity import OwnIdentity
from rex_pipeline.sources.gmail.mbox import iter_mbox, split_mbox
from rex_pipeline.sources.gmail.workers import PartPool
from rex_pipeline.warehouse import connect_work
from tests.conftest import Env
from tests.sources.gmail.test_gmail_fast_paths import _big_mbox
from tests.sources.gmail.test_gmail_sink import LATE_OWNER_MBOX

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "gmail"
MBOXES = sorted(FIXTURES.glob("*.mbox"))
OWN_DOMAINS = ["northwind-labs.io"]
ENTITIES = ("activities", "contacts", "rejected")


def _streamed(path: Path, chunk: int, **kwargs: object) -> dict[str, object]:
    """The chunks a sink receives, concatenated in order, and the stats."""
    chunks: list[records.ParsedFile] = []
    parsed = parse_gmail_file(
        path, "org_test", [], OWN_DOMAINS, sink=chunks.append, chunk_messages=chunk, **kwargs
    )
    frames: dict[str, object] = {
        e: pl.concat([getattr(c, e) for c in chunks] + [getattr(parsed, e)]) for e in ENTITIES
    }
    return frames | {"stats": parsed.stats}


def _assert_same(got: dict[str, object], want: dict[str, object]) -> None:
    assert got["stats"] == want["stats"]
    for entity in ENTITIES:
        assert got[entity].equals(want[entity]), entity  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", MBOXES, ids=lambda p: p.name)
@pytest.mark.parametrize("chunk", [1, 3, 5000])
def test_one_pass_equals_the_prescan_read(path: Path, chunk: int) -> None:
    _assert_same(_streamed(path, chunk, prescan=False), _streamed(path, chunk))


def test_one_pass_in_a_pool_equals_the_serial_prescan_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _big_mbox(tmp_path / "big.mbox")
    monkeypatch.setattr(parse, "PARALLEL_MIN_MESSAGES", 10)
    serial = _streamed(path, 7)
    with PartPool(2) as pool:
        one_pass = _streamed(path, 7, prescan=False, pool=pool)
    assert serial["stats"]["duplicates"] > 0 and serial["stats"]["rejected"] > 0  # type: ignore[index]
    _assert_same(one_pass, serial)


def test_an_owner_named_before_it_is_learnt_stops_the_one_pass_read(tmp_path: Path) -> None:
    path = tmp_path / "late_owner.mbox"
    path.write_bytes(LATE_OWNER_MBOX)
    with pytest.raises(LateOwnerError, match=r"maria@personal-mail\.example"):
        _streamed(path, 1, prescan=False)
    # in one chunk the owner is learnt before any row is decided: nothing to hand back
    _assert_same(_streamed(path, 5000, prescan=False), _streamed(path, 5000))


def test_an_owner_already_own_by_its_domain_is_no_late_owner(tmp_path: Path) -> None:
    path = tmp_path / "late_owner.mbox"
    path.write_bytes(LATE_OWNER_MBOX.replace(b"personal-mail.example", b"sales.northwind-labs.io"))
    _assert_same(_streamed(path, 1, prescan=False), _streamed(path, 1))


def test_covers_is_the_own_expression_on_one_address() -> None:
    identity = OwnIdentity(["Boss@Elsewhere.example"], ["northwind-labs.io", "x@y.example"])
    identity.discover("Maria@Personal.example")
    addresses = [
        "boss@elsewhere.example", "x@Y.example", "maria@personal.example", "a@northwind-labs.io",
        "a@eu.northwind-labs.io", "a@northwind-labs.io.evil.example", "a@xnorthwind-labs.io",
        "a@northwind-labs.io\n", "northwind-labs.io", "ada@acme.example",
    ]  # fmt: skip
    frame = pl.DataFrame({"a": addresses}).select(identity.expr(pl.col("a")))
    assert [identity.covers(a) for a in addresses] == frame["a"].to_list()


def test_ingest_reads_a_file_again_when_an_owner_comes_late(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    env.write("gmail/late.mbox", LATE_OWNER_MBOX)
    calls: list[bool] = []
    real = parse_gmail_file

    def spy(*args: object, prescan: bool = True, **kwargs: object) -> records.ParsedFile:
        calls.append(prescan)
        return real(*args, prescan=prescan, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("rex_pipeline.sources.gmail.parse_gmail_file", spy)
    settings = load_settings()
    with connect_work(settings.duckdb_path) as con:
        batch = stage_system(con, settings, "gmail", chunk_messages=1)
        staged = _staged(con)
    assert calls == [False, True]  # one pass, then the pre-scan read
    late = env.inbox / "gmail" / "late.mbox"
    want = parse_gmail_file(late, settings.org_id, [], settings.own_domains)
    assert batch.reports[0].status == "loaded"
    assert staged["activities"] == sorted(want.activities["direction"].to_list())
    assert (
        staged["contacts"] == sorted(want.contacts["email"].to_list()) == ["ada@acme-robotics.com"]
    )


def _staged(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    rows = con.execute("SELECT direction FROM batch_raw_activities ORDER BY 1").fetchall()
    contacts = con.execute("SELECT email FROM batch_raw_contacts ORDER BY 1").fetchall()
    return {"activities": [r[0] for r in rows], "contacts": [r[0] for r in contacts]}


@pytest.mark.parametrize("path", MBOXES, ids=lambda p: p.name)
def test_a_part_reads_the_same_with_or_without_its_offsets(path: Path) -> None:
    whole = list(iter_mbox(path))
    for per_part in (1, 2, 1000):
        parts = split_mbox(path, per_part)
        assert all(part.offsets for part in parts)
        bare = [dataclasses.replace(part, offsets=()) for part in parts]
        assert [m for part in parts for m in iter_mbox(path, part=part)] == whole
        assert [m for part in bare for m in iter_mbox(path, part=part)] == whole


def test_a_part_unquotes_from_lines_as_the_line_loop(tmp_path: Path) -> None:
    path = tmp_path / "quoted.mbox"
    path.write_bytes(
        b"From 1@xxx Mon Jan 01 09:00:00 +0000 2024\n>From: not a header\nSubject: a\n\n"
        b">From the start\n>>From twice\n> From not quoted\nx>From inside\n>From \r\n\n"
        b"From 2@xxx Mon Jan 01 09:01:00 +0000 2024\nSubject: b\n\nend>From"
    )
    whole = list(iter_mbox(path))
    assert [m for part in split_mbox(path, 1) for m in iter_mbox(path, part=part)] == whole
    assert whole[0].data.count(b"\nFrom the start\n>From twice\n> From not quoted\n") == 1
