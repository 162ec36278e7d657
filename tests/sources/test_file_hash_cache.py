"""The file hash cache knows an inbox by the place of each file inside it, so an inbox that
is moved or restored with its times (cp -a, rsync -a, a backup) is not read again, while a
file whose size or mtime differs always is."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from rex_pipeline import ingest, warehouse

HEADER = "First Name,Last Name,Email Address,Company\n"


def _inbox(root: Path) -> Path:
    (root / "csv" / "2026").mkdir(parents=True)
    (root / "csv" / "Connections.csv").write_text(HEADER + "Ana,Silva,ana@acme.io,Acme\n")
    (root / "csv" / "2026" / "Connections.csv").write_text(HEADER + "Bo,Li,bo@x.io,X\n")
    return root


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    read: list[str] = []
    real = ingest.sha256_of
    monkeypatch.setattr(ingest, "sha256_of", lambda p: read.append(str(p)) or real(p))
    return read


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    warehouse.ensure_schema(con)
    return con


def _hashes(con: duckdb.DuckDBPyConnection, inbox: Path) -> dict[str, str]:
    found = ingest.file_hashes(con, ingest.scan_inbox(inbox, "csv"))
    return {p.relative_to(inbox).as_posix(): sha for p, sha in found.items()}


def test_a_moved_inbox_is_not_read_again(
    tmp_path: Path, con: duckdb.DuckDBPyConnection, reads: list[str]
) -> None:
    first = _hashes(con, _inbox(tmp_path / "a" / "inbox"))
    assert len(reads) == 2 and len(first) == 2
    for name, sha in first.items():
        assert sha == hashlib.sha256((tmp_path / "a" / "inbox" / name).read_bytes()).hexdigest()
    shutil.copytree(tmp_path / "a", tmp_path / "b")  # copy2: times kept
    assert _hashes(con, tmp_path / "b" / "inbox") == first
    assert len(reads) == 2  # nothing read


def test_a_copy_with_another_mtime_or_content_is_read(
    tmp_path: Path, con: duckdb.DuckDBPyConnection, reads: list[str]
) -> None:
    first = _hashes(con, _inbox(tmp_path / "a"))
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    touched = tmp_path / "b" / "csv" / "Connections.csv"
    st = touched.stat()
    os.utime(touched, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    assert _hashes(con, tmp_path / "b") == first and len(reads) == 3  # same bytes, read again
    rewritten = tmp_path / "b" / "csv" / "2026" / "Connections.csv"
    st = rewritten.stat()
    rewritten.write_text(HEADER + "Bo,Lu,bo@x.io,X\n")  # same size, new content
    os.utime(rewritten, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    again = _hashes(con, tmp_path / "b")
    assert again["csv/2026/Connections.csv"] != first["csv/2026/Connections.csv"]
    assert len(reads) == 4


def test_entries_cached_under_absolute_paths_still_count(
    tmp_path: Path, con: duckdb.DuckDBPyConnection, reads: list[str]
) -> None:
    """A work database written before the keys were relative holds absolute paths."""
    inbox = _inbox(tmp_path / "new")
    old_root = "/srv/old place/inbox"
    for f in ingest.scan_inbox(inbox, "csv"):
        sha = hashlib.sha256(f.path.read_bytes()).hexdigest()
        con.execute(
            "INSERT INTO file_hash_cache VALUES (?, ?, ?, ?)",
            [f"{old_root}/csv/{f.relative}", f.size, f.mtime_ns, sha],
        )
    hashes = _hashes(con, inbox)
    assert reads == [] and len(hashes) == 2
    assert ingest.InboxFile("csv", inbox / "x.csv", 1, 1, "x.csv").cache_key == "csv/x.csv"
