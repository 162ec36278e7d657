"""Normalise this run's raw batch into clean staged records.

Runs the normalisers (rex_pipeline.normalise) over every raw entity table of the batch, gives
every record its stable `record_id` (a record of a re-read file keeps the one it had: see
`reread`), drops the org's own mailboxes from the contacts (they are
never contacts: rejected with that reason), and writes `batch_clean_*` plus the rejections.
Records are normalised one chunk at a time (each is independent of the others), so memory stays
flat at a million rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from functools import partial

import duckdb
import polars as pl

from rex_pipeline import batch, records
from rex_pipeline.config import Settings
from rex_pipeline.handover import registered
from rex_pipeline.ingest import RAW_SCHEMAS
from rex_pipeline.overlap import read_ahead, write_behind
from rex_pipeline.reread import keep_record_ids

CHUNK_ROWS = 200_000
"""Raw records normalised at a time: bounds the stage's memory (polars needs about 0.4 GB
per 100,000 contacts) whatever the batch size."""

_LINEAGE_KEYS = ["org_id", "source_system", "source_file", "source_row", "source_key"]
"""What identifies a raw record (and is hashed into its record_id)."""

CLEAN_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "contacts": records.CLEAN_CONTACT,
    "companies": records.CLEAN_COMPANY,
    "activities": records.CLEAN_ACTIVITY,
    "deals": records.CLEAN_DEAL,
    "tasks": records.CLEAN_TASK,
}


@dataclass
class NormaliseStats:
    read: dict[str, int] = field(default_factory=dict)
    clean: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    record_ids_kept: dict[str, int] = field(default_factory=dict)  # see `reread`


def _normalisers() -> dict[str, Callable[..., tuple[pl.DataFrame, pl.DataFrame]]]:
    from rex_pipeline import normalise

    return {
        "contacts": normalise.normalise_contacts,
        "companies": normalise.normalise_companies,
        "activities": normalise.normalise_activities,
        "deals": normalise.normalise_deals,
        "tasks": normalise.normalise_tasks,
    }


def own_addresses(con: duckdb.DuckDBPyConnection, settings: Settings) -> tuple[set[str], set[str]]:
    """(own addresses, own domains): config entries with an @ are addresses, others domains;
    plus the sending mailboxes exports showed us (persisted and this batch's)."""
    addresses = {d for d in settings.own_domains if "@" in d}
    domains = {d for d in settings.own_domains if "@" not in d}
    addresses |= {
        r[0]
        for r in con.execute(
            "SELECT address FROM own_addresses WHERE org_id = ?", [settings.org_id]
        ).fetchall()
    }
    if batch.exists(con, "batch_own_addresses"):
        addresses |= {
            r[0] for r in con.execute("SELECT address FROM batch_own_addresses").fetchall()
        }
    return {a.lower() for a in addresses}, domains


_RECORD_ID = (
    "md5(concat_ws('|', org_id, source_system, source_file, "
    "coalesce(CAST(source_row AS VARCHAR), ''), coalesce(source_key, ''))) AS record_id"
)
"""A stable id per input record: md5 of its lineage (same file + row + key = same id)."""


def _store_clean(
    con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame, *, create: bool
) -> None:
    """Write clean records with their record_id into batch table `name` (created, or
    appended to); the id is computed on the way in, so the frame is never copied back."""
    select = f"SELECT {_RECORD_ID}, * FROM __clean"
    with registered(con, "__clean", frame):
        if create:
            con.execute(f'CREATE OR REPLACE TABLE "{name}" AS {select}')
        else:
            con.execute(f'INSERT INTO "{name}" BY NAME {select}')


def _split_own(
    contacts: pl.DataFrame, raw: pl.DataFrame, addresses: set[str], domains: set[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    email = pl.col("email").str.to_lowercase()
    is_own = email.is_in(list(addresses)) | email.str.split("@").list.last().is_in(list(domains))
    own = contacts.filter(is_own.fill_null(False))
    kept = contacts.filter(~is_own.fill_null(False)).with_columns(
        pl.col("other_emails").list.eval(
            pl.element().filter(
                ~pl.element().str.to_lowercase().is_in(list(addresses))
                & ~pl.element().str.split("@").list.last().str.to_lowercase().is_in(list(domains))
            )
        )
    )
    rejected = (
        own.join(
            raw.select([*_LINEAGE_KEYS, "raw"]), on=_LINEAGE_KEYS, how="left", nulls_equal=True
        ).select(
            "org_id",
            "source_system",
            "source_file",
            "source_row",
            "raw",
            reason=pl.lit("the org's own address: never a contact"),
        )
        if own.height
        else records.empty(records.REJECTED)
    )
    return kept, rejected


_RAW_ROW = "\x1fbatch_raw row "
"""What a chunk holds in `raw` instead of the text: this prefix and the raw record's rowid.
`raw` (the original fields as JSON, the widest column) matters only to the few records that
are rejected, so it is read for those alone, by rowid, once the entity is normalised
(`_raw_text`). A record without one stays NULL, and its rejection gets its fields as JSON
(`normalise.rejects`). Reading it for every record cost about 1.5 s of the step at 1M."""


def raw_chunks(
    con: duckdb.DuckDBPyConnection, entity: str, org_id: str, chunk_rows: int
) -> Iterator[pl.DataFrame]:
    """The org's raw records of one entity, in staging order, `chunk_rows` at a time (one
    empty frame when there are none): normalising is per record, so a million-row batch
    never has to be held in memory at once. `raw` holds a reference (`_RAW_ROW`)."""
    name = f"batch_raw_{entity}"
    schema = {**RAW_SCHEMAS[entity], "file_sha": pl.String()}
    if not batch.exists(con, name):
        yield records.empty(schema)
        return
    first, last = con.execute(
        f'SELECT min(rowid), max(rowid) FROM "{name}" WHERE org_id = ?', [org_id]
    ).fetchall()[0]
    if first is None:
        yield records.empty(schema)
        return
    for start in range(first, last + 1, chunk_rows):
        # no ORDER BY (it costs a sort of the whole chunk, every column included): a filtered
        # scan keeps the table's order while DuckDB's preserve_insertion_order is on (default)
        yield con.sql(
            f"""SELECT * REPLACE (CASE WHEN raw IS NOT NULL THEN $ref || rowid END AS raw)
                FROM "{name}" WHERE org_id = $org AND rowid >= $start AND rowid < $end""",
            params={"org": org_id, "start": start, "end": start + chunk_rows, "ref": _RAW_ROW},
        ).pl()


def _raw_text(con: duckdb.DuckDBPyConnection, entity: str, rejected: pl.DataFrame) -> pl.DataFrame:
    """`rejected` (REJECTED rows of one entity's chunks) with the raw text in place of each
    `_RAW_ROW` reference, read by rowid from the entity's raw table."""
    raw = pl.col("raw")
    row = pl.when(raw.str.starts_with(_RAW_ROW)).then(raw.str.strip_prefix(_RAW_ROW).cast(pl.Int64))
    rejected = rejected.with_columns(_row=row)
    wanted = rejected.select(pl.col("_row").drop_nulls().unique())
    if wanted.is_empty():
        return rejected.drop("_row")
    with registered(con, "__raw_rows", wanted):
        texts = con.sql(
            f'SELECT rowid AS _row, raw AS _text FROM "batch_raw_{entity}"'
            " WHERE rowid IN (SELECT _row FROM __raw_rows)"
        ).pl()
    return (
        rejected.join(texts, on="_row", how="left", maintain_order="left")
        .with_columns(raw=pl.when(pl.col("_row").is_not_null()).then("_text").otherwise(raw))
        .drop("_row", "_text")
    )


def _with_file_sha(clean: pl.DataFrame, raw: pl.DataFrame) -> pl.DataFrame:
    """`clean` with the file_sha of each record's raw record. A file has one hash in a batch,
    so the few (system, file) pairs of the chunk find it, not a join on every record's
    lineage; that join is kept for a chunk where a file name has more than one hash."""
    keys = ["source_system", "source_file"]
    files = raw.select(*keys, "file_sha").unique()
    if files.select(keys).is_duplicated().any():
        keys = [*keys, "source_row", "source_key"]
        files = raw.select(*keys, "file_sha").unique(keys)
    return clean.join(files, on=keys, how="left", nulls_equal=True, maintain_order="left")


def _normalise_chunk(
    entity: str, raw: pl.DataFrame, settings: Settings, own: tuple[set[str], set[str]]
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(clean records with file_sha, REJECTED rows, REJECTED rows of the org's own
    mailboxes) of one chunk."""
    clean, bad = _normalisers()[entity](raw.drop("file_sha", strict=False), settings)
    clean = _with_file_sha(records.conform(clean, CLEAN_SCHEMAS[entity]), raw)
    own_rows = records.empty(records.REJECTED)
    if entity == "contacts":
        clean, own_rows = _split_own(clean, raw, *own)
    return (
        clean,
        records.conform(bad, records.REJECTED),
        records.conform(own_rows, records.REJECTED),
    )


def normalise_batch(
    con: duckdb.DuckDBPyConnection, settings: Settings, chunk_rows: int = CHUNK_ROWS
) -> NormaliseStats:
    """Normalise every raw entity table of the batch into `batch_clean_<entity>` (same record
    order) and `batch_rejected_normalise`, `chunk_rows` raw records at a time; the result
    does not depend on the chunk size. The next chunk is read and the last one written (each
    on a cursor of its own) while the current one is normalised (`overlap`)."""
    stats = NormaliseStats()
    rejected: list[pl.DataFrame] = []
    own = own_addresses(con, settings)
    with con.cursor() as reader, con.cursor() as writer, write_behind() as submit:
        for entity in _normalisers():
            target = f"batch_clean_{entity}"
            stats.read[entity] = stats.clean[entity] = stats.rejected[entity] = 0
            bad_rows: list[pl.DataFrame] = []
            own_rejected: list[pl.DataFrame] = []
            chunks = read_ahead(raw_chunks(reader, entity, settings.org_id, chunk_rows))
            with closing(chunks):  # on an error, no read is left running on the connection
                for number, raw in enumerate(chunks):
                    clean, bad, own_rows = _normalise_chunk(entity, raw, settings, own)
                    stats.read[entity] += raw.height
                    stats.clean[entity] += clean.height
                    stats.rejected[entity] += bad.height + own_rows.height
                    bad_rows.append(bad)
                    own_rejected.append(own_rows)
                    submit(partial(_store_clean, writer, target, clean, create=number == 0))
                    del raw, clean  # free this chunk once it is written
            rejected.append(_raw_text(reader, entity, pl.concat([*bad_rows, *own_rejected])))
    batch.replace(con, "batch_rejected_normalise", pl.concat(rejected))
    stats.record_ids_kept = keep_record_ids(con, settings.org_id)
    return stats
