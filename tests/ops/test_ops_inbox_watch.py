"""The inbox sensor's logic on a real folder: what counts as a change, when it waits, what it
hashes, and how run keys behave."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from rex_pipeline.ingest import sha256_of
from rex_pipeline.ops.inbox_watch import Cursor, Decision, evaluate, stat_inbox

HUBSPOT = (
    '"Record ID","First Name","Last Name","Email"\n'
    '"101","Ada","Lovelace","ada.lovelace@acme-robotics.com"\n'
)
SETTLE = 5.0


class Inbox:
    """A temporary inbox whose files look finished unless written with `fresh=True`, and a
    hash function that counts what it hashes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.hashed: list[str] = []

    def write(self, relative: str, content: str, fresh: bool = False) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        if not fresh:
            old = time.time() - 60
            os.utime(path, (old, old))
        return path

    def hash(self, path: Path) -> str:
        self.hashed.append(path.relative_to(self.root).as_posix())
        return sha256_of(path)

    def tick(self, cursor: Cursor) -> Decision:
        self.hashed.clear()
        return evaluate(cursor, stat_inbox(self.root), time.time_ns(), SETTLE, self.hash)


@pytest.fixture
def inbox(tmp_path: Path) -> Inbox:
    return Inbox(tmp_path)


def test_first_tick_sees_every_inbox_file_and_ignores_others(inbox: Inbox) -> None:
    inbox.write("csv/hubspot.csv", HUBSPOT)
    inbox.write("gmail/Takeout/Mail/All mail.mbox", "From x@y Mon Jan 1 00:00:00 2024\n\n")
    inbox.write("csv/.~lock.hubspot.csv#", "locked")  # hidden: an editor's lock file
    inbox.write("csv/export.csv.crdownload", "half a download")  # not an inbox suffix
    decision = inbox.tick(Cursor())
    assert [c.path for c in decision.changes] == [
        "csv/hubspot.csv",
        "gmail/Takeout/Mail/All mail.mbox",
    ]
    assert all(c.before is None for c in decision.changes)
    assert decision.run_key is not None and decision.cursor.requests == 1


def test_unchanged_inbox_hashes_nothing_and_requests_nothing(inbox: Inbox) -> None:
    inbox.write("csv/hubspot.csv", HUBSPOT)
    first = inbox.tick(Cursor())
    again = inbox.tick(Cursor.from_json(first.cursor.to_json()))
    assert again.changes == () and again.run_key is None
    assert inbox.hashed == []  # stat only
    assert again.cursor == first.cursor


def test_touched_but_identical_file_is_hashed_once_and_starts_nothing(inbox: Inbox) -> None:
    path = inbox.write("csv/hubspot.csv", HUBSPOT)
    first = inbox.tick(Cursor())
    old = time.time() - 30
    os.utime(path, (old, old))
    touched = inbox.tick(first.cursor)
    assert inbox.hashed == ["csv/hubspot.csv"] and touched.changes == ()
    assert touched.cursor.files["csv/hubspot.csv"].mtime_ns == path.stat().st_mtime_ns
    assert touched.cursor.requests == first.cursor.requests
    assert inbox.tick(touched.cursor).changes == () and inbox.hashed == []


def test_changed_file_runs_with_its_old_and_new_hash(inbox: Inbox) -> None:
    path = inbox.write("csv/hubspot.csv", HUBSPOT)
    first = inbox.tick(Cursor())
    inbox.write("csv/hubspot.csv", HUBSPOT + '"102","Grace","Hopper","grace@globex.com"\n')
    second = inbox.tick(first.cursor)
    (change,) = second.changes
    assert change.before == first.cursor.files["csv/hubspot.csv"].sha256
    assert change.after == sha256_of(path) != change.before
    assert second.run_key != first.run_key


def test_file_still_being_written_is_waited_for(inbox: Inbox) -> None:
    inbox.write("csv/hubspot.csv", HUBSPOT)
    first = inbox.tick(Cursor())
    inbox.write("csv/apollo.csv", "First Name,Email\nLinus,linus@init", fresh=True)
    inbox.write("csv/salesforce.csv", "Id,Email\n003,a@b.com\n")  # finished, but waits too
    waiting = inbox.tick(first.cursor)
    assert waiting.waiting == ("csv/apollo.csv",)
    assert waiting.changes == () and waiting.run_key is None
    assert waiting.cursor == first.cursor and inbox.hashed == []
    inbox.write("csv/apollo.csv", "First Name,Email\nLinus,linus@initech.com\n")  # settled
    ready = inbox.tick(waiting.cursor)
    assert [c.path for c in ready.changes] == ["csv/apollo.csv", "csv/salesforce.csv"]


def test_a_file_dated_in_the_future_does_not_hold_the_inbox_back(inbox: Inbox) -> None:
    """Unpacked from an archive made in another time zone, its mtime is hours ahead: no writer
    is at work on it, so it and the files beside it sync at once."""
    first = inbox.tick(Cursor())
    ahead = inbox.write("csv/from_zip.csv", HUBSPOT)
    later = time.time() + 10 * 3600
    os.utime(ahead, (later, later))
    inbox.write("csv/salesforce.csv", "Id,Email\n003,a@b.com\n")
    ready = inbox.tick(first.cursor)
    assert ready.waiting == ()
    assert [c.path for c in ready.changes] == ["csv/from_zip.csv", "csv/salesforce.csv"]


def test_same_change_gets_same_run_key_so_it_never_runs_twice(inbox: Inbox) -> None:
    inbox.write("csv/hubspot.csv", HUBSPOT)
    cursor = Cursor.from_json(inbox.tick(Cursor()).cursor.to_json())
    inbox.write("csv/apollo.csv", "First Name,Email\nLinus,linus@initech.com\n")
    retried = [inbox.tick(cursor).run_key for _ in range(2)]  # cursor failed to save: re-tick
    assert retried[0] == retried[1] is not None


def test_content_changed_back_still_runs_under_a_new_key(inbox: Inbox) -> None:
    inbox.write("csv/hubspot.csv", HUBSPOT)
    first = inbox.tick(Cursor())
    inbox.write("csv/hubspot.csv", HUBSPOT.replace("Ada", "Augusta"))
    second = inbox.tick(first.cursor)
    inbox.write("csv/hubspot.csv", HUBSPOT)  # back to the first content
    third = inbox.tick(second.cursor)
    (change,) = third.changes
    assert change.after == first.changes[0].after
    assert len({first.run_key, second.run_key, third.run_key}) == 3


def test_deleted_file_is_forgotten_without_a_run(inbox: Inbox) -> None:
    path = inbox.write("csv/hubspot.csv", HUBSPOT)
    inbox.write("csv/apollo.csv", "First Name,Email\nLinus,linus@initech.com\n")
    first = inbox.tick(Cursor())
    path.unlink()
    after = inbox.tick(first.cursor)
    assert after.removed == ("csv/hubspot.csv",) and after.changes == ()
    assert list(after.cursor.files) == ["csv/apollo.csv"]


def test_cursor_json_round_trip_and_empty_cursor() -> None:
    assert Cursor.from_json(None) == Cursor() == Cursor.from_json("")
    inbox_cursor = Cursor(requests=3)
    assert Cursor.from_json(inbox_cursor.to_json()) == inbox_cursor
