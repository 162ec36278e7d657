"""The two DuckDB files and how data moves between them.

* The **work database** (`data/.rex.work.duckdb`) is the pipeline's private read-write file: the
  persistent staging tables, the identity map, the file manifest, the per-run batch tables and
  the canonical tables. No analyst opens it, so nobody can hold a lock that blocks a run.
* The **published warehouse** (`data/rex.duckdb`, REX_DUCKDB_PATH) is what analysts open. Each run
  copies the canonical tables into a temporary file and atomically renames it over the old one.
  Readers that have the old file open keep their (consistent) snapshot; new readers see the new
  run. DuckDB's lock is never contended, and a failed run never touches the published file.
  The temporary file starts as a copy of the published one, changed only where the canonical
  tables differ (`publish.delta`), so publishing costs what the run changed; it is written
  afresh when the published file is not the one the last publish wrote, or has grown too much.

A run killed at any moment (tests/hardening/test_crash.py) leaves either the old or the new
published file: the work database recovers its last commit from its WAL, the next run removes
the temporary copies a killed publish left, and publishes again.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import duckdb
import polars as pl

from rex_pipeline import records
from rex_pipeline.faults import crash_point
from rex_pipeline.handover import registered
from rex_pipeline.publish import touched
from rex_pipeline.publish.compression import compression_disabled
from rex_pipeline.publish.delta import (
    apply_table_delta,
    record_hashes,
    same_columns,
    table_shapes,
)
from rex_pipeline.publish.derived import (
    DERIVED_FROM,
    PUBLISH_ORDER,
    build_derived_tables,
    stale_derived,
)
from rex_pipeline.publish.derived_update import (
    DELTA_KEYS,
    forget_deltas,
    kept_deltas,
    update_derived_tables,
)
from rex_pipeline.schema import CANONICAL_TABLES, DERIVED_TABLES, Table

# Extra columns the work database keeps on staged records.
_STAGED_EXTRA = {
    "record_id": pl.String(),  # stable id of the input record (hash of its lineage)
    "entity_id": pl.String(),  # the cont_/comp_/act_/deal_/task_ id it resolved to
    "company_id": pl.String(),  # contacts: the company the record names, once resolved
    "match_rule": pl.String(),
    "match_score": pl.Float64(),
    "file_sha": pl.String(),
    "loaded_at": records.UTC_TS,
}

STAGED_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "stg_contacts": {**records.CLEAN_CONTACT, **_STAGED_EXTRA},
    "stg_companies": {**records.CLEAN_COMPANY, **_STAGED_EXTRA},
    "stg_activities": {**records.CLEAN_ACTIVITY, **_STAGED_EXTRA},
    "stg_deals": {**records.CLEAN_DEAL, **_STAGED_EXTRA},
    "stg_tasks": {**records.CLEAN_TASK, **_STAGED_EXTRA},
}

_INTERNAL_DDL = (
    """CREATE TABLE IF NOT EXISTS manifest (
        org_id VARCHAR NOT NULL, source_system VARCHAR NOT NULL, file_name VARCHAR NOT NULL,
        path VARCHAR NOT NULL, size BIGINT, sha256 VARCHAR NOT NULL,
        records_read BIGINT, records_rejected BIGINT, status VARCHAR, error VARCHAR,
        loaded_at TIMESTAMPTZ)""",
    """CREATE TABLE IF NOT EXISTS identity_keys (
        org_id VARCHAR NOT NULL, entity VARCHAR NOT NULL, key VARCHAR NOT NULL,
        entity_id VARCHAR NOT NULL, first_seen_at TIMESTAMPTZ)""",
    """CREATE TABLE IF NOT EXISTS own_addresses (
        org_id VARCHAR NOT NULL, address VARCHAR NOT NULL, source_system VARCHAR)""",
    # what each inbox file hashed to, by path, size and mtime: an unchanged file is not read
    # again (hashing a 50 MB mbox costs a third of a second; see ingest.file_hashes)
    """CREATE TABLE IF NOT EXISTS file_hash_cache (
        path VARCHAR PRIMARY KEY, size BIGINT NOT NULL, mtime_ns BIGINT NOT NULL,
        sha256 VARCHAR NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS run_stats (
        org_id VARCHAR NOT NULL, run_at TIMESTAMPTZ NOT NULL, stats JSON)""",
    # which state of the canonical tables the published file holds (see `publish`)
    """CREATE TABLE IF NOT EXISTS publish_state (
        generation BIGINT NOT NULL, published_generation BIGINT, published_file VARCHAR)""",
    # the size of the last file written afresh: an updated copy may grow to GROWTH_LIMIT x it
    "ALTER TABLE publish_state ADD COLUMN IF NOT EXISTS written_size BIGINT",
    # whether the published file's derived tables were checked to point at the right rows after
    # its last checkpoint (see `_write_published`): only then may an update keep some of them
    "ALTER TABLE publish_state ADD COLUMN IF NOT EXISTS derived_checked BOOLEAN",
    # the published file (identity) the kept row hashes describe (see `publish.delta`): set
    # with published_file after the swap, cleared before a publish starts changing them
    "ALTER TABLE publish_state ADD COLUMN IF NOT EXISTS hashes_file VARCHAR",
    # the keys of the canonical rows applies changed since the last publish, trusted while
    # touched_generation = generation (see `publish.touched`)
    "CREATE TABLE IF NOT EXISTS touched_keys (table_name VARCHAR NOT NULL, key VARCHAR)",
    "ALTER TABLE publish_state ADD COLUMN IF NOT EXISTS touched_generation BIGINT",
    """INSERT INTO publish_state (generation) SELECT 0
       WHERE NOT EXISTS (SELECT 1 FROM publish_state)""",
)


# Compression the private work database goes without. DuckDB's dictionary-FSST takes about four
# times the CPU of the other methods to choose and apply, and a run's commit rewrites every row
# group its updates touched (merged ids in identity_keys, relinked lineage): on a million
# contacts, the apply of a +1% run spent 17 s of its 21 s committing, 8 s without it. It is the
# only string method DuckDB 2.0 writes (pragma_storage_info shows every VARCHAR segment of the
# work database 'Uncompressed', three-valued columns too): 5.6 GB at 1M instead of 1.9 GB. Yet
# with it the first load took 30-45 s longer and an increment was no faster (see
# benchmarks/TUNING.md). The published file, written once per run and read by analysts, keeps
# every method (without dictionary-FSST it would be 2.6x larger).
WORK_UNUSED_COMPRESSION = "dict_fsst"
PUBLISHED_UNUSED_COMPRESSION = ""
# How much an updated copy of the published file may grow (by rows deleted from it) over the
# last file written afresh before the next publish writes afresh again.
GROWTH_LIMIT = 2.0


def scalar(con: duckdb.DuckDBPyConnection, query: str, params: object = None) -> object:
    """The first value of a query's result. Fetches the whole (one-row) result: duckdb 2.0
    refuses further work on a connection while a result is half-read."""
    rows = con.execute(query, params).fetchall()
    return rows[0][0] if rows else None


def execute(
    con: duckdb.DuckDBPyConnection, query: str, params: dict[str, object] | None = None
) -> list[tuple[object, ...]]:
    """Run a statement with the named `$parameters` it uses (duckdb rejects unused ones) and
    fetch its whole result."""
    used = {k: v for k, v in (params or {}).items() if f"${k}" in query}
    return con.execute(query, used or None).fetchall()


def work_db_path(published: Path) -> Path:
    return published.with_name(f".{published.stem}.work.duckdb")


def _create_if_missing(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    with registered(con, "__shape", frame):
        con.execute(f'CREATE TABLE IF NOT EXISTS "{name}" AS SELECT * FROM __shape LIMIT 0')


# The tables whose rows a file read again replaces (see `batch.from_reread_file`).
_LINEAGE_TABLES = (*STAGED_SCHEMAS, "contact_sources", "company_sources", "rejected_records")

# Files the warehouse holds records of without a manifest entry: those a bootstrap found in
# the published lineage (and, once, those of a work database older than this table). With the
# manifest, they tell whether a run reads a file again (`batch.rereads_known_file`).
_KNOWN_FILES_DDL = """CREATE TABLE known_files (
    org_id VARCHAR NOT NULL, source_system VARCHAR NOT NULL, file_name VARCHAR NOT NULL)"""
_LINEAGE_FILES = " UNION ALL ".join(
    f"SELECT DISTINCT org_id, source_system, source_file FROM {table}" for table in _LINEAGE_TABLES
)
_SEED_KNOWN_FILES = f"""INSERT INTO known_files
    SELECT DISTINCT org_id, source_system, source_file FROM ({_LINEAGE_FILES}) s
    WHERE NOT EXISTS (SELECT 1 FROM manifest m WHERE m.org_id = s.org_id
                      AND m.source_system = s.source_system AND m.file_name = s.source_file)"""


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table the pipeline needs, leaving existing ones (and their data) alone.
    Only missing tables are created: every step opens the work database, and asking for each
    table cost ~25 ms a connection on a large one (the staged tables' shapes go over as
    frames)."""
    existing = {
        name
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() "
            "WHERE database_name = current_database() AND schema_name = 'main'"
        ).fetchall()
    }
    for table in CANONICAL_TABLES:
        if table.name not in existing:
            con.execute(table.create_sql(if_not_exists=True))
    for ddl in _INTERNAL_DDL:
        con.execute(ddl)
    for name, schema in STAGED_SCHEMAS.items():
        if name not in existing:
            _create_if_missing(con, name, records.empty(schema))
    if "known_files" not in existing:
        con.execute(_KNOWN_FILES_DDL)
        con.execute(_SEED_KNOWN_FILES)


def _temp_files(published: Path) -> list[Path]:
    """The temporary copies (and their WALs) publishes left beside the warehouse."""
    pattern = f"{published.name}.*.tmp"
    return [*published.parent.glob(pattern), *published.parent.glob(f"{pattern}.wal")]


def _wal(database: Path) -> Path:
    return database.with_name(f"{database.name}.wal")


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


# A record's identity key `rec:<record id>`, from its lineage: the same md5 as the record_id
# normalisation gives it (staging._RECORD_ID); a company named by a contact record has the
# contact record's lineage and the suffix `:company`.
_RECORD_KEY = """'rec:' || md5(concat_ws('|', s.org_id, s.source_system, s.source_file,
    coalesce(CAST(s.source_row AS VARCHAR), ''), coalesce(s.source_key, '')))"""
_SEED_IDENTITY_MAP = f"""
    INSERT INTO identity_keys
    SELECT s.org_id, 'contact', {_RECORD_KEY}, s.contact_id, current_timestamp
    FROM contact_sources s;
    INSERT INTO identity_keys
    SELECT s.org_id, 'company', {_RECORD_KEY} || CASE WHEN EXISTS (
               SELECT 1 FROM contact_sources c WHERE c.org_id = s.org_id
                  AND c.source_system = s.source_system AND c.source_file = s.source_file
                  AND c.source_row IS NOT DISTINCT FROM s.source_row
                  AND c.source_key IS NOT DISTINCT FROM s.source_key)
           THEN ':company' ELSE '' END, s.company_id, current_timestamp
    FROM company_sources s;
    INSERT INTO identity_keys
    SELECT org_id, 'activity', 'ext:' || source || ':' || external_id, id, current_timestamp
    FROM activities WHERE source IS NOT NULL AND external_id IS NOT NULL;"""


def _bootstrap_from_published(work: Path, published: Path) -> None:
    """A warehouse copied to a new machine has no work database: start from its canonical
    tables, and seed the identity map from their lineage, so that re-reading the inbox finds
    every contact, company and activity under its old id and merges carry over. (Deals and
    tasks keep no lineage in the warehouse: re-read, they get new ids.)

    Built under a temporary name and renamed when complete: a run killed half-way must not
    leave a work database without canonical tables (the next run would start afresh and mint
    new ids for everything)."""
    if work.exists() or not published.exists():
        return
    tmp = work.with_name(f"{work.name}.bootstrap.tmp")
    _remove([tmp, _wal(tmp), _wal(work)])  # leftovers of a killed bootstrap; an orphan WAL
    con = duckdb.connect(str(tmp))
    try:
        con.execute(f"ATTACH '{published}' AS pub (READ_ONLY)")
        for table in CANONICAL_TABLES:
            exists = scalar(
                con,
                "SELECT count(*) FROM duckdb_tables() WHERE database_name='pub' AND table_name=?",
                [table.name],
            )
            if exists:
                con.execute(f'CREATE TABLE "{table.name}" AS SELECT * FROM pub."{table.name}"')
        con.execute("DETACH pub")
        ensure_schema(con)
        con.execute(_SEED_IDENTITY_MAP)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    crash_point("bootstrap.copied")
    os.replace(tmp, work)


@contextmanager
def connect_work(published: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the work database read-write (creating it on first use) and always close it."""
    published.parent.mkdir(parents=True, exist_ok=True)
    work = work_db_path(published)
    _bootstrap_from_published(work, published)
    con = duckdb.connect(str(work))
    try:
        # a SET: duckdb 2.0 ignores this option in connect(config=...)
        con.execute(f"SET disabled_compression_methods = '{WORK_UNUSED_COMPRESSION}'")
        ensure_schema(con)
        yield con
    finally:
        con.close()


def _fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (a power cut must not bring the old name back)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def mark_changed(con: duckdb.DuckDBPyConnection) -> None:
    """Inside the apply transaction: the canonical tables are about to change, so the
    published file will be out of date until the next `publish`."""
    con.execute("UPDATE publish_state SET generation = generation + 1")


def file_identity(path: Path) -> str | None:
    """inode:size:mtime of a file: a publish always writes a new one."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"


def is_published(con: duckdb.DuckDBPyConnection, published: Path) -> bool:
    """Whether `published` is the file the last publish wrote and nothing changed since: then
    a run that changed nothing (an unchanged inbox) need not copy the warehouse again."""
    rows = con.execute(
        "SELECT generation = published_generation, published_file FROM publish_state"
    ).fetchall()
    return bool(rows and rows[0][0] and rows[0][1] == file_identity(published))


def _reusable(con: duckdb.DuckDBPyConnection, published: Path) -> bool:
    """Whether the published file is the one the last publish wrote (not replaced since) and
    has not outgrown the last fresh write by GROWTH_LIMIT: deleted rows keep their space until
    the file is written afresh, which that bounds."""
    rows = con.execute("SELECT published_file, written_size FROM publish_state").fetchall()
    if not rows or rows[0][0] is None or rows[0][1] is None:
        return False
    recorded, written = rows[0]
    return recorded == file_identity(published) and published.stat().st_size <= (
        GROWTH_LIMIT * written
    )


def _row_ids(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, tuple[object, ...]]:
    """Per table derived tables point into, a fingerprint of where its rows sit (rowid, id): it
    changes when a checkpoint renumbers them, which DuckDB does to a table with deleted rows
    when it merges row groups."""
    query = 'SELECT count(*), sum(hash(rowid, id)) FROM "{catalog}".main."{table}"'
    return {
        table: con.execute(query.format(catalog=catalog, table=table)).fetchall()[0]
        for table in DERIVED_FROM
    }


@contextmanager
def _checkpoint_when_detached(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Inside the block no commit checkpoints a database automatically (the threshold is the
    instance's): the copy being written is checkpointed once, when `_write_published` detaches
    it, and only then may its rows be renumbered. Otherwise whichever statement's commit grows
    its WAL past 16 MB checkpoints it there (at 1M contacts, in the middle of the derived
    tables' update), and a checkpoint that merged the row groups of a table with deletions
    before `_row_ids` is taken would leave derived tables pointing at moved rows unnoticed.
    The checkpoint's work is the same either way. The work database's own WAL is checkpointed
    as before, at the first commit after the block (recording the publish) or on closing."""
    before = scalar(con, "SELECT current_setting('checkpoint_threshold')")
    con.execute("SET checkpoint_threshold = '1TB'")
    try:
        yield
    finally:
        con.execute(f"SET checkpoint_threshold = '{before}'")


def _write_published(
    con: duckdb.DuckDBPyConnection,
    tmp: Path,
    update: bool,
    keep_derived: bool,
    trust_kept: bool = False,
    use_touched: bool = False,
) -> None:
    """Make `tmp` hold the canonical tables (with their comments) and the derived tables,
    complete and checkpointed: written afresh, or, when `update`, by changing a copy of the
    last published file row by row where it differs, and updating the derived tables whose
    canonical tables changed (`keep_derived`: the copy's others are still right) in place
    where they can be (`update_derived_tables`), else building them again.

    Derived tables hold rowids, and the final checkpoint of an updated copy may renumber the
    rows of a table with deletions: that is checked after it, and the derived tables of a
    renumbered table are built again (the next checkpoint finds nothing to renumber). A
    checkpoint before building them would do too, but it makes building the search table half
    as costly again, on every update (200k contacts: +0.3 CPU-s of 0.6).

    Every canonical table's row hashes are kept for the next update (`publish.delta`);
    `trust_kept`: the kept ones describe the copy (it is the file the last publish wrote).
    `use_touched`: besides, the log of touched keys holds every change since that publish
    (`publish.touched`), so only the logged rows of its tables are compared."""
    work_catalog = scalar(con, "SELECT current_database()")
    row_ids: dict[str, tuple[object, ...]] | None = None
    forget_deltas(con)
    con.execute(f"ATTACH '{tmp}' AS pub")
    try:
        crash_point("publish.attached")
        changed: set[str] = set()
        shapes = table_shapes(con, "pub", str(work_catalog)) if update else {}
        logged = touched.logged_counts(con) if use_touched else {}
        for table in CANONICAL_TABLES:
            crash_point(f"publish.copy.{table.name}")
            if update and same_columns(con, "pub", str(work_catalog), table, shapes):
                keep = DELTA_KEYS.get(table.name, ())
                by_log = (
                    use_touched
                    and table.name in touched.TOUCH_KEYS
                    and touched.worth_it(
                        con, str(work_catalog), table.name, logged.get(table.name, 0)
                    )
                )
                among = touched.touched_keys(work_catalog, table.name) if by_log else None
                files = touched.touched_files(work_catalog, table.name) if by_log else None
                delta = apply_table_delta(
                    con, "pub", work_catalog, table, keep, trust_kept, among, touched_files=files
                )
                if delta.changed:
                    changed.add(table.name)
                continue
            changed.add(table.name)
            con.execute(table.create_sql("pub"))
            source = f'"{work_catalog}".main."{table.name}"'
            order = PUBLISH_ORDER.get(table.name, "")
            con.execute(f'INSERT INTO pub.main."{table.name}" SELECT * FROM {source} {order}')
            record_hashes(con, "pub", work_catalog, table)
        row_ids = _row_ids(con, "pub") if update else None
        stale = stale_derived(con, "pub", changed) if update and keep_derived else None
        if stale is not None and kept_deltas(con):
            stale = update_derived_tables(con, "pub", stale)
        build_derived_tables(con, "pub", stale)
        _comment(con, "pub", work_catalog, (*CANONICAL_TABLES, *DERIVED_TABLES))
    finally:
        forget_deltas(con)
        con.execute("DETACH pub")  # checkpoints: the file is complete, with no WAL
    while row_ids is not None:  # after an update: until a checkpoint renumbers nothing
        con.execute(f"ATTACH '{tmp}' AS pub")
        try:
            now = _row_ids(con, "pub")
            renumbered = {table for table in DERIVED_FROM if now[table] != row_ids[table]}
            if renumbered:
                build_derived_tables(con, "pub", stale_derived(con, "pub", renumbered))
                _comment(con, "pub", work_catalog, DERIVED_TABLES)
            row_ids = now if renumbered else None
        finally:
            con.execute("DETACH pub")


def _comment(
    con: duckdb.DuckDBPyConnection, catalog: str, work_catalog: object, tables: tuple[Table, ...]
) -> None:
    """Give `tables` of `catalog` their comments, skipping those they already have (an updated
    copy keeps them; each statement is a catalog write, ~0.2 s for every table at 1M)."""
    have = {
        (table, column): comment
        for table, column, comment in con.execute(
            "SELECT table_name, NULL, comment FROM duckdb_tables() WHERE database_name = ?"
            " UNION ALL SELECT table_name, column_name, comment FROM duckdb_columns()"
            " WHERE database_name = ?",
            [catalog, catalog],
        ).fetchall()
    }
    con.execute(f'USE "{catalog}"')
    try:
        for table in tables:
            wanted = [(table.comment, None), *((c.comment, c.name) for c in table.columns)]
            for (comment, column), stmt in zip(wanted, table.comment_sql(), strict=True):
                if have.get((table.name, column)) != comment:
                    con.execute(stmt)
    finally:
        con.execute(f'USE "{work_catalog}"')


def publish(
    con: duckdb.DuckDBPyConnection, published: Path, force: bool = False
) -> Literal["written", "updated"] | None:
    """Bring a new file up to date with the canonical tables (with their comments), add the
    derived tables, and atomically swap it in. Open readers keep the old inode; the swap is
    all or nothing. The new file is a copy of the published one changed where it differs
    (`publish.delta`; "updated") when that file is the one the last publish wrote, or else
    written afresh ("written"). Skipped (None) when the published file already holds the
    current state (`is_published`), unless `force`d.

    A run killed mid-publish leaves its `<name>.<pid>.tmp` (and `.tmp.wal`) behind; the next
    publish removes them. Only the holder of the work database's write lock publishes, so no
    other process can be writing one of them. The state is recorded after the swap; a run
    killed in between publishes again next time."""
    if not force and is_published(con, published):
        return None
    _remove(_temp_files(published))
    tmp = published.with_name(f"{published.name}.{os.getpid()}.tmp")
    update = _reusable(con, published)
    keep_derived = bool(scalar(con, "SELECT derived_checked FROM publish_state"))
    # _reusable: published_file is the file there; its kept hashes are those this one recorded
    trust_kept = update and bool(
        scalar(con, "SELECT hashes_file = published_file FROM publish_state")
    )
    # _reusable: the log of touched keys, if trusted, holds every change since that file (a
    # forced publish trusts nothing: it may follow changes made by hand, which no log holds)
    use_touched = update and not force and touched.trusted(con)
    con.execute("UPDATE publish_state SET hashes_file = NULL")  # about to change them
    try:
        if update:
            shutil.copyfile(published, tmp)
        with (
            compression_disabled(con, PUBLISHED_UNUSED_COMPRESSION),
            _checkpoint_when_detached(con),
        ):
            _write_published(con, tmp, update, keep_derived, trust_kept, use_touched)
        crash_point("publish.before_replace")
        os.replace(tmp, published)
    except BaseException:
        _remove([tmp, _wal(tmp)])
        raise
    crash_point("publish.replaced")
    _fsync_dir(published.parent)
    identity = file_identity(published)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "UPDATE publish_state SET published_generation = generation, published_file = ?,"
            " written_size = CASE WHEN ? THEN written_size ELSE ? END, derived_checked = true,"
            " hashes_file = ?",
            [identity, update, published.stat().st_size, identity],
        )
        touched.restart(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return "updated" if update else "written"
