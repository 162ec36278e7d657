"""Find the Gmail API messages in a `.json` / `.jsonl` dump, whatever shape the dump has.

Accepted shapes: one message; an array of messages; `{"messages": [...]}` (or `"drafts"`); a
`users.drafts.get` response (`{"id": ..., "message": {...}}`); JSON Lines of any of these. A
line or an array item that is not a message becomes an `ApiItem` with an `error`, so one bad
record never hides the others. Plain `.json` is loaded whole (API dumps are small next to
Takeout files); `.jsonl` is streamed line by line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rex_pipeline.records import UnreadableFileError

_MESSAGE_KEYS = ("payload", "raw", "threadId", "labelIds", "internalDate")


@dataclass(frozen=True, slots=True)
class ApiItem:
    position: dict[str, Any]  # {"line": n} and/or {"item": i}, for rejected rows
    message: dict[str, Any] | None
    is_draft: bool = False
    error: str | None = None
    original: Any = None  # what was there instead of a message


def iter_api_items(path: Path) -> Iterator[ApiItem]:
    """Yield every message (or unusable record) in the file.

    Raises UnreadableFileError when the file is not JSON / JSON Lines, or holds no message."""
    if path.suffix.lower() == ".jsonl":
        yield from _checked(path, _iter_lines(path))
        return
    try:
        document = json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data":
            raise UnreadableFileError(f"{path.name}: not a JSON file ({exc})") from exc
        yield from _checked(path, _iter_lines(path))  # JSON Lines saved as .json
        return
    except (ValueError, RecursionError) as exc:  # bad UTF-8, a 5000-digit number, deep nesting
        raise UnreadableFileError(f"{path.name}: not a JSON file ({_json_error(exc)})") from exc
    yield from _checked(path, _items(document, {}))


def _json_error(exc: Exception) -> str:
    """What `json.loads` refused, in words: its own message, or that the nesting is too deep
    (Python's parser recurses, so hostile nesting raises RecursionError, not a decode error)."""
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc)


def _checked(path: Path, items: Iterator[ApiItem]) -> Iterator[ApiItem]:
    """Pass items through; refuse the file if nothing in it looked like a message."""
    seen_message = False
    seen_any = False
    pending: list[ApiItem] = []  # errors before the first message: held until we know
    for item in items:
        seen_any = True
        if item.message is not None:
            seen_message = True
            yield from pending
            pending = []
            yield item
        elif seen_message:
            yield item
        else:
            pending.append(item)
            if len(pending) > 1000:  # a large file of non-messages: no need to read on
                break
    if not seen_message and seen_any:
        reason = pending[0].error if pending else "no records"
        raise UnreadableFileError(f"{path.name}: no Gmail API message found ({reason})")
    if not seen_any:
        raise UnreadableFileError(f"{path.name}: no Gmail API message found (empty file)")


def _iter_lines(path: Path) -> Iterator[ApiItem]:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                document = json.loads(line)
            except (ValueError, RecursionError) as exc:  # one bad line costs only that line
                text = line[:200].decode("utf-8", errors="replace").strip()
                error = f"invalid JSON: {_json_error(exc)}"
                yield ApiItem({"line": number}, None, error=error, original=text)
                continue
            yield from _items(document, {"line": number})


_MAX_WRAPPING = 4  # lists and {"messages": [...]} wrappers around a message, at most


def _items(document: Any, position: dict[str, Any], depth: int = 0) -> Iterator[ApiItem]:
    """The messages of a document. Wrappers are unwrapped a few levels deep, not without limit:
    hostile nesting (`[[[[...]]]]`) must not exhaust the stack."""
    if isinstance(document, list | dict) and depth > _MAX_WRAPPING:
        yield ApiItem(position, None, error="nested too deeply to be a message", original="…")
    elif isinstance(document, list):
        for index, element in enumerate(document, start=1):
            yield from _items(element, {**position, "item": index}, depth + 1)
    elif isinstance(document, dict) and isinstance(document.get("message"), dict):
        yield ApiItem(position, document["message"], is_draft=True)  # drafts.get response
    elif isinstance(document, dict) and any(key in document for key in _MESSAGE_KEYS):
        yield ApiItem(position, document)
    elif isinstance(document, dict) and isinstance(document.get("messages"), list):
        yield from _items(document["messages"], position, depth + 1)
    elif isinstance(document, dict) and isinstance(document.get("drafts"), list):
        for index, draft in enumerate(document["drafts"], start=1):
            if isinstance(draft, dict) and isinstance(draft.get("message"), dict):
                yield ApiItem({**position, "item": index}, draft["message"], is_draft=True)
            else:
                yield ApiItem(
                    {**position, "item": index}, None, error="not a draft", original=draft
                )
    else:
        yield ApiItem(position, None, error="not a Gmail API message", original=document)
