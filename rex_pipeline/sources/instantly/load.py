"""Read an Instantly file into *flat frames*: per kind of record (leads, emails, events), one
String column per field of `fields.FIELD_SETS[kind]`, plus

- `custom`: JSON object of the lead's custom variables (API `payload`; CSV: every column that is
  not one of Instantly's own fields) or NULL,
- `extra`: JSON object of the keys we do not know (kept in metadata) or NULL,
- `raw`: JSON object of the original record, `source_row`: 1-based CSV row (NULL for JSON).

JSON objects are walked one by one (they nest and vary); a CSV is renamed and encoded by polars.
Records that are not Instantly's become rejected rows; a file that holds none raises
`records.UnreadableFileError`. Text is decoded as the CSV parser does (`csv.decode`): in a UTF-8
file with a few corrupt bytes, the records holding them are rejected, the others load intact.
"""

from __future__ import annotations

import io
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from rex_pipeline.records import UnreadableFileError
from rex_pipeline.sources.csv.decode import decode_bytes
from rex_pipeline.sources.instantly.exprs import json_object_of
from rex_pipeline.sources.instantly.fields import (
    CUSTOM_CONTAINERS,
    FIELD_SETS,
    FieldSet,
    Kind,
    classify,
    key_of,
)

# Keys of a JSON object that wrap the list of records (`{"items": [...], "next_starting_after"}`).
_LIST_KEYS = ("items", "data", "leads", "emails", "events", "results", "records")
_JSONL_SUFFIXES = (".jsonl", ".ndjson")
_CSV_SUFFIXES = (".csv", ".tsv")
_to_json = json.JSONEncoder(ensure_ascii=False).encode  # one encoder, not one per call
INVALID_TEXT = "\ufffd"  # what `decode_bytes` put in place of a corrupt UTF-8 sequence
INVALID_UTF8 = "invalid UTF-8: the record holds bytes that are not text (shown as U+FFFD in raw)"


@dataclass
class Loaded:
    """What a file held: flat frames by kind, records rejected while reading, notes for stats."""

    file_format: str
    frames: dict[Kind, pl.DataFrame] = field(default_factory=dict)
    rejected: list[dict[str, Any]] = field(default_factory=list)  # {source_row, raw, reason}
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def records_read(self) -> int:
        return sum(f.height for f in self.frames.values()) + len(self.rejected)


def load_file(path: Path) -> Loaded:
    """Read a .csv, .json or .jsonl Instantly export (see the module docstring)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFileError(f"cannot read {path.name}: {exc}") from exc
    try:
        decoded = decode_bytes(data)  # UTF-8, else Windows-1252 as Excel writes CSVs
    except UnreadableFileError as exc:
        raise UnreadableFileError(f"{path.name}: {exc}") from exc
    corrupt = decoded.replaced > 0
    if path.suffix.lower() in _CSV_SUFFIXES:
        return _load_csv(decoded.text, path.name, corrupt)
    try:
        jsonl = path.suffix.lower() in _JSONL_SUFFIXES
        return _load_json(decoded.text, path.name, jsonl=jsonl, corrupt=corrupt)
    except RecursionError as exc:  # walking or re-encoding hostile nesting exhausts the stack
        raise UnreadableFileError(f"{path.name} is nested too deeply to read") from exc


# --- JSON ------------------------------------------------------------------------------------


def _load_json(text: str, name: str, *, jsonl: bool, corrupt: bool = False) -> Loaded:
    loaded = Loaded("jsonl" if jsonl else "json")
    values: list[Any] = []
    if not jsonl:
        try:
            values = _unwrap(json.loads(text), loaded.notes)
        except json.JSONDecodeError as exc:
            if exc.msg != "Extra data":  # "Extra data": one object per line after all
                raise UnreadableFileError(f"{name} is not valid JSON: {exc}") from exc
            jsonl, loaded.file_format = True, "jsonl"
        except ValueError as exc:  # e.g. a number of 4300+ digits, which `int` refuses
            raise UnreadableFileError(f"{name} is not valid JSON: {exc}") from exc
    if jsonl:
        values = _read_lines(text, name, loaded)

    by_kind: dict[Kind, list[dict[str, Any]]] = defaultdict(list)
    recognised = False
    for value in values:
        kind = classify(value) if isinstance(value, dict) else None
        recognised = recognised or kind is not None
        if kind is None:
            loaded.rejected.append(_rejection(value, _not_instantly(value)))
        elif corrupt and INVALID_TEXT in _to_json(value):
            loaded.rejected.append(_rejection(value, INVALID_UTF8))
        else:
            by_kind[kind].append(value)
    if values and not recognised:
        raise UnreadableFileError(f"{name} holds no Instantly leads, emails or webhook events")
    for kind, objects in by_kind.items():
        loaded.frames[kind] = _flat_frame([_flatten(o, FIELD_SETS[kind]) for o in objects], kind)
    return loaded


def _unwrap(value: Any, notes: dict[str, Any]) -> list[Any]:
    """The records of a JSON document: a list, a list-response page or one record."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        for key in _LIST_KEYS:
            if isinstance(value.get(key), list):
                if value.get("next_starting_after"):
                    notes["next_starting_after"] = value["next_starting_after"]
                return value[key]
        return [value]
    raise UnreadableFileError(f"the JSON document is a {type(value).__name__}, not records")


def _read_lines(text: str, name: str, loaded: Loaded) -> list[Any]:
    values: list[Any] = []
    bad = 0
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    for number, line in lines:
        try:
            value = json.loads(line)
        except (ValueError, RecursionError) as exc:  # one bad line costs only that line
            bad += 1
            why = "nested too deeply" if isinstance(exc, RecursionError) else exc
            reason = f"line {number} is not a JSON record: {why}"
            loaded.rejected.append(_rejection({"line": number, "text": line[:2000]}, reason))
            continue
        # a line is one record, or one list-response page of them
        values.extend(_unwrap(value, loaded.notes) if isinstance(value, dict) else [value])
    if bad == len(lines):
        raise UnreadableFileError(f"{name} has no readable JSON line")
    return values


def _not_instantly(value: Any) -> str:
    if not isinstance(value, dict):
        return f"not a JSON object but a {type(value).__name__}"
    return "not an Instantly lead, email or event (no email, ue_type or event_type key)"


def _rejection(value: Any, reason: str) -> dict[str, Any]:
    return {"source_row": None, "raw": _to_json(value), "reason": reason}


def _text(value: Any) -> str | None:
    """A JSON value as the text a CSV would hold: numbers without '.0', objects as JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _flatten(obj: dict[str, Any], fields: FieldSet) -> dict[str, Any]:
    """One JSON record as a flat row of its kind (see the module docstring)."""
    row: dict[str, Any] = dict.fromkeys(fields.names)
    lookup = fields.lookup
    custom: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in obj.items():
        k = key_of(key)
        if k in fields.nested and isinstance(value, dict):
            for member, name in fields.nested[k].items():
                row[name] = row[name] or _text(value.get(member))
        elif k in CUSTOM_CONTAINERS and isinstance(value, dict):
            custom.update(value)
        elif k in lookup and row[lookup[k]] is None:
            row[lookup[k]] = _text(value)
        elif value is not None:  # unknown, or a second spelling of a field already read
            extra[key] = value
    # lead data under other names (firstName, jobTitle ...) fills the fields still empty,
    # the best-ranked name first
    fallback = fields.fallback_lookup
    hints = [
        (*fallback[k], value)
        for key, value in (*custom.items(), *extra.items())
        if (k := key_of(key)) in fallback and value not in (None, "")
    ]
    for _, name, value in sorted(hints, key=lambda hint: hint[0]):
        if row[name] is None:
            row[name] = _text(value)
    row["custom"] = _to_json(custom) if custom else None
    row["extra"] = _to_json(extra) if extra else None
    row["raw"] = _to_json(obj)
    row["source_row"] = None
    return row


def _flat_frame(rows: list[dict[str, Any]], kind: Kind) -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {name: pl.String() for name in FIELD_SETS[kind].names}
    schema.update(custom=pl.String(), extra=pl.String(), raw=pl.String(), source_row=pl.Int64())
    return pl.DataFrame(rows, schema=schema)


# --- CSV -------------------------------------------------------------------------------------


def _load_csv(text: str, name: str, corrupt: bool = False) -> Loaded:
    header_line = text.lstrip().splitlines()[0]
    separator = max((",", ";", "\t"), key=header_line.count)
    try:
        frame = pl.read_csv(
            io.BytesIO(text.encode()), separator=separator, infer_schema=False, raise_if_empty=True
        )
    except (pl.exceptions.PolarsError, ValueError) as exc:  # polars' first line says why
        why = str(exc).strip().split("\n", 1)[0][:200]
        raise UnreadableFileError(f"{name} is not a readable CSV: {why}") from exc
    kind = classify(frame.columns)
    if kind is None:
        raise UnreadableFileError(
            f"{name}: no Instantly lead, email or event columns in header {frame.columns[:12]}"
        )
    loaded = Loaded("csv")
    flat = _flat_csv(frame, kind)
    if corrupt:  # rows holding the file's invalid bytes are rejected, not loaded garbled
        cells = pl.concat_str(pl.all(), ignore_nulls=True)
        bad = frame.select(cells.str.contains(INVALID_TEXT, literal=True))
        bad_rows = bad.to_series().fill_null(False)
        reason = pl.lit(INVALID_UTF8).alias("reason")
        loaded.rejected += flat.filter(bad_rows).select("source_row", "raw", reason).to_dicts()
        flat = flat.filter(~bad_rows)
    loaded.frames[kind] = flat
    return loaded


def _flat_csv(frame: pl.DataFrame, kind: Kind) -> pl.DataFrame:
    """Rename Instantly's headers to fields; the other columns become `custom` (a lead export's
    custom variables) or `extra`, and the fallback fields are filled from them."""
    fields = FIELD_SETS[kind]
    lookup = fields.lookup
    raw = frame.select(pl.struct(pl.all()).struct.json_encode().alias("raw")).to_series()
    frame = frame.with_columns(pl.all().str.strip_chars().replace("", None))
    renamed: dict[str, str] = {}
    others: list[str] = []
    for column in frame.columns:
        name = lookup.get(key_of(column))
        if name is not None and name not in renamed.values():
            renamed[column] = name
        else:
            others.append(column)
    columns: dict[str, pl.Expr] = {name: pl.col(column) for column, name in renamed.items()}
    others_by_key = {key_of(c): c for c in reversed(others)}  # the first of equal keys wins
    for name, keys in fields.fallback.items():
        candidates = [pl.col(others_by_key[k]) for k in keys if k in others_by_key]
        if name in columns:
            candidates.insert(0, columns[name])
        if candidates:
            columns[name] = pl.coalesce(candidates)
    unknown = json_object_of(frame, others)
    no_text = pl.lit(None, dtype=pl.String)
    return frame.select(
        *(columns.get(name, no_text).alias(name) for name in fields.names),
        (unknown if kind == "leads" else no_text).alias("custom"),
        (no_text if kind == "leads" else unknown).alias("extra"),
        pl.lit(raw).alias("raw"),
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("source_row"),
    )
