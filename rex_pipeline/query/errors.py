"""The query module's errors: each one is a sentence an analyst can act on, so the CLI can print
it as one line and a service can map it to an HTTP status (422, 404, 503)."""

from __future__ import annotations

from pydantic import ValidationError


class QueryError(Exception):
    """Base class: something the caller asked for cannot be answered."""


class InvalidRequest(QueryError):
    """The request is malformed (the API's 422); the message names the bad part."""


class InvalidCursor(InvalidRequest):
    """A cursor was tampered with, truncated, or made for a different sort."""


class NotFound(QueryError):
    """No record with that id is visible in this scope (the API's 404)."""


class WarehouseUnavailable(QueryError):
    """The warehouse file is missing or is not a published rex warehouse."""


def invalid_from_pydantic(exc: ValidationError, prefix: str = "") -> InvalidRequest:
    """Turn pydantic's error list into one InvalidRequest naming every bad field by its path
    (`groups[0].conditions[1].value: ...`)."""
    problems = []
    for err in exc.errors():
        path = prefix
        for part in err["loc"]:
            if isinstance(part, int):
                path += f"[{part}]"
            else:
                path += f".{part}" if path else str(part)
        message = str(err["msg"]).removeprefix("Value error, ")
        problems.append(f"{path}: {message}" if path else message)
    return InvalidRequest("; ".join(problems))
