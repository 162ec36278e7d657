"""A small mbox read here, with a pool at hand, is not cut into a part per worker: each part
would be one more chunk for the sink (one more batch-table insert), for files that the pool
never reads. An increment's new Takeout files are all small."""

from __future__ import annotations

from pathlib import Path

from rex_pipeline import records
from rex_pipeline.sources.gmail import mbox, parse, parse_gmail_file
from rex_pipeline.sources.gmail.workers import PartPool

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "gmail"
OWN_DOMAINS = ["northwind-labs.io"]


def _small_mbox(path: Path) -> Path:
    """Several fixtures together: a few dozen messages, far below PARALLEL_MIN_MESSAGES."""
    names = ("dogsheep_small.gmail", "edge_bounce_and_auto_reply", "edge_headers_and_charsets")
    path.write_bytes(b"\n".join((FIXTURES / f"{n}.mbox").read_bytes() for n in names * 3))
    return path


def _chunks(path: Path, pool: PartPool) -> list[records.ParsedFile]:
    chunks: list[records.ParsedFile] = []
    parse_gmail_file(path, "org_test", [], OWN_DOMAINS, sink=chunks.append, pool=pool)
    return chunks


def test_a_small_file_reaches_the_sink_in_one_chunk(tmp_path: Path) -> None:
    path = _small_mbox(tmp_path / "small.mbox")
    assert 8 < mbox.scan_mbox(path).messages < parse.PARALLEL_MIN_MESSAGES
    pool = PartPool(4)
    chunks = _chunks(path, pool)
    assert pool._executor is None  # never started
    with_activities = [c for c in chunks if c.activities.height]
    assert len(with_activities) == 1
    assert with_activities[0].activities.height > 8


def test_one_chunk_holds_what_the_serial_read_held(tmp_path: Path) -> None:
    path = _small_mbox(tmp_path / "small.mbox")
    pooled = _chunks(path, PartPool(4))
    serial = _chunks(path, PartPool(1))
    for entity in ("activities", "contacts", "rejected"):
        got = [getattr(c, entity) for c in pooled if getattr(c, entity).height]
        want = [getattr(c, entity) for c in serial if getattr(c, entity).height]
        assert len(got) == len(want), entity
        assert all(g.equals(w) for g, w in zip(got, want, strict=True)), entity


def test_layout_counts_messages_and_cuts_parts_like_split_mbox(tmp_path: Path) -> None:
    path = _small_mbox(tmp_path / "small.mbox")
    layout = mbox.scan_mbox(path)
    assert layout.messages == sum(p.messages for p in mbox.split_mbox(path, 1000))
    assert layout.parts(5, min_parts=1) == mbox.split_mbox(path, 5)
    assert layout.parts(1000, min_parts=4) == mbox.split_mbox(path, 1000, min_parts=4)
    assert len(layout.parts(1000, min_parts=1)) == 1
