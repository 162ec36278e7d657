"""The Instantly parser's entry point: one file of `inbox/instantly/` -> raw staged records."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from rex_pipeline import records
from rex_pipeline.sources.instantly.emails import emails_to_records
from rex_pipeline.sources.instantly.events import events_to_records
from rex_pipeline.sources.instantly.fields import Kind
from rex_pipeline.sources.instantly.leads import leads_to_contacts
from rex_pipeline.sources.instantly.load import load_file
from rex_pipeline.sources.instantly.staged import Origin, Staged

_READ_ERROR = {"source_row": pl.Int64(), "raw": pl.String(), "reason": pl.String()}
_MAPPERS: dict[Kind, Callable[[pl.DataFrame, Origin], Staged]] = {
    "leads": leads_to_contacts,
    "emails": emails_to_records,
    "events": events_to_records,
}


def parse_instantly_file(path: Path, org_id: str) -> records.ParsedFile:
    """Parse an Instantly lead export, `/emails` export or webhook-event archive (.csv, .json,
    .jsonl; recognised by shape) into RAW contacts and activities, with rejected rows.

    stats: kind (leads | emails | events | mixed | empty), format, rows_read, rejected,
    contacts, activities, own_addresses (the org's sending mailboxes seen, lower case, sorted:
    they never become contacts anywhere) and next_starting_after when the file is one page of a
    longer API list. Raises records.UnreadableFileError when the file cannot be read at all."""
    path = Path(path)
    loaded = load_file(path)
    origin = Origin(org_id, path.name)
    staged = [_MAPPERS[kind](frame, origin) for kind, frame in loaded.frames.items()]
    read_errors = origin.rejected(
        pl.DataFrame(loaded.rejected, schema=_READ_ERROR), pl.col("reason")
    )
    contacts = _concat([s.contacts for s in staged], records.RAW_CONTACT)
    activities = _concat([s.activities for s in staged], records.RAW_ACTIVITY)
    rejected = _concat([read_errors, *(s.rejected for s in staged)], records.REJECTED)
    kinds = list(loaded.frames)
    stats = {
        "kind": kinds[0] if len(kinds) == 1 else ("mixed" if kinds else "empty"),
        "format": loaded.file_format,
        "rows_read": loaded.records_read,
        "rejected": rejected.height,
        "contacts": contacts.height,
        "activities": activities.height,
        "own_addresses": sorted({a for s in staged for a in s.own_addresses}),
        **loaded.notes,
    }
    return records.ParsedFile(
        contacts=contacts, activities=activities, rejected=rejected, stats=stats
    )


def _concat(frames: list[pl.DataFrame | None], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    present = [records.conform(f, schema) for f in frames if f is not None]
    return pl.concat(present) if present else records.empty(schema)
