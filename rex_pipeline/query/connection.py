"""Read-only access to the published warehouse, and the scope every query runs in.

The pipeline publishes by atomically replacing the file (see publish/), so a connection is cheap
and short-lived: one per Warehouse, closed when the caller is done, which also means a reader
never sees a half-written warehouse and picks up the next publish on its next open.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
from pydantic import BaseModel, ConfigDict, Field, field_validator

from rex_pipeline.query.cursor import Seal
from rex_pipeline.query.errors import WarehouseUnavailable

LATE_MATERIALIZATION_ROWS = 256  # > the largest page (200) plus the row that tells has_more
CATALOG = "warehouse"  # the name the file is attached under (see open_readonly)
JSON_COLUMNS = frozenset({"metadata", "raw", "query", "evidence", "detail"})


class Scope(BaseModel):
    """Who is asking: one org always; optionally one owner, who then sees only the contacts
    assigned to them and the activities, deals and tasks of those contacts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    org_id: str
    owner_id: str | None = None
    cursor_secret: bytes = Field(b"", repr=False)

    @field_validator("org_id", "owner_id")
    @classmethod
    def _utf8(cls, value: str | None) -> str | None:
        return None if value is None else valid_text(value)

    @field_validator("org_id")
    @classmethod
    def _org_not_blank(cls, value: str) -> str:
        """A blank org is a mistake (an empty --org or variable), not a request for a default."""
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("owner_id")
    @classmethod
    def _owner_not_blank(cls, value: str | None) -> str | None:
        """A blank owner is refused, never read as "no owner": that would widen a member's
        scope to the whole org. None (not given) is the org-wide scope."""
        if value is not None and not value.strip():
            raise ValueError("must not be blank (leave it out to answer for the whole org)")
        return value

    def seal(self, what: str, request: Mapping[str, Any]) -> Seal:
        """The seal of cursors for query `what` (a record kind or a timeline) with these
        request values: bound to this org and owner, signed with the cursor secret."""
        shape = json.dumps(
            {"org": self.org_id, "owner": self.owner_id, "what": what, "request": request},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            default=str,
        )
        return Seal(shape, self.cursor_secret)


def valid_text(value: str) -> str:
    """DuckDB takes only valid UTF-8; a Python str can hold lone surrogates, refused here with a
    message rather than failing inside a query."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (it holds an unpaired surrogate)") from None
    return value


def open_readonly(path: Path) -> duckdb.DuckDBPyConnection:
    """Open the warehouse so that nothing can write: the file attached read-only to a private
    in-memory database, then no file system access (no COPY TO, no ATTACH of another file;
    DuckDB refuses to turn it back on while open).

    Attached rather than `duckdb.connect(path, read_only=True, config=...)`: DuckDB shares one
    database instance per file within a process and refuses a second connect with another
    configuration, so a notebook that also opened the file with a plain read-only connect
    failed, whichever came first. The in-memory instance is ours alone: the lock-down applies
    to it and not to the notebook's connection, which keeps its own settings; a read-write
    handle on the same file in this process is still refused (DuckDB's unique file check)."""
    if not path.is_file():
        raise WarehouseUnavailable(
            f"no warehouse at {path}: run the pipeline first or set REX_DUCKDB_PATH"
        )
    conn = duckdb.connect(":memory:")
    try:
        conn.execute(f"ATTACH ? AS {CATALOG} (READ_ONLY)", [str(path)])
        conn.execute(f"USE {CATALOG}")
        conn.execute("SET enable_external_access = false")
    except duckdb.Error as exc:
        conn.close()
        raise WarehouseUnavailable(f"cannot open warehouse {path}: {exc}") from exc
    conn.execute("SET TimeZone = 'UTC'")  # times come back in UTC whatever the machine's zone
    # A page is a top-N over (sort key, id); late materialisation reads the other columns only
    # for the rows kept. DuckDB does it up to 50 rows by default; our pages go to 200 (+1).
    conn.execute(f"SET late_materialization_max_rows = {LATE_MATERIALIZATION_ROWS}")
    return conn


def decode_value(column: str, value: Any) -> Any:
    """JSON columns come back from DuckDB as text; the API answers with objects."""
    if column in JSON_COLUMNS and isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def fetch_dicts(
    conn: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> list[dict[str, Any]]:
    """Run one parameterised query and return its rows as dicts (pages are small: ≤ 201 rows)."""
    cursor = conn.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [
        {name: decode_value(name, value) for name, value in zip(names, row, strict=True)}
        for row in cursor.fetchall()
    ]
