"""The read-ahead and write-behind threads that let DuckDB's I/O run beside Python work."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import closing

import pytest

from rex_pipeline.overlap import read_ahead, write_behind

WAIT = 5.0  # seconds: long enough never to fail on a slow machine, short enough not to hang


def test_read_ahead_keeps_order_and_reads_the_next_item_while_the_current_is_worked_on() -> None:
    produced_second = threading.Event()

    def items() -> Iterator[int]:
        yield 1
        produced_second.set()
        yield 2
        yield 3

    seen = []
    for item in read_ahead(items()):
        if item == 1:  # the second item is produced before the first is done with
            assert produced_second.wait(WAIT)
        seen.append(item)
    assert seen == [1, 2, 3]


def test_read_ahead_raises_the_producers_error_after_the_items_before_it() -> None:
    def items() -> Iterator[int]:
        yield 1
        raise ValueError("broken chunk")

    seen = []
    with pytest.raises(ValueError, match="broken chunk"):
        for item in read_ahead(items()):
            seen.append(item)
    assert seen == [1]


def test_closing_read_ahead_early_waits_for_the_item_being_read() -> None:
    finished: list[int] = []

    def items() -> Iterator[int]:
        yield 1
        time.sleep(0.2)  # the read ahead is still running when the caller gives up
        finished.append(2)
        yield 2

    with pytest.raises(RuntimeError), closing(read_ahead(items())) as chunks:
        for _ in chunks:
            raise RuntimeError("normalising failed")
    assert finished == [2]


def test_read_ahead_of_nothing_yields_nothing() -> None:
    assert list(read_ahead(iter([]))) == []


def test_write_behind_runs_writes_in_order_one_at_a_time_beside_the_caller() -> None:
    release_first = threading.Event()
    written: list[int] = []

    def first() -> None:
        assert release_first.wait(WAIT)
        written.append(1)

    with write_behind() as submit:
        submit(first)  # returns while the write still waits
        assert written == []
        release_first.set()
        submit(lambda: written.append(2))  # waits for the first write before queueing
        assert written[0] == 1
    assert written == [1, 2]  # leaving the block waited for the last write


def test_a_failed_write_is_raised_by_the_next_submit() -> None:
    def broken() -> None:
        raise OSError("disk full")

    never: list[int] = []
    with pytest.raises(OSError, match="disk full"), write_behind() as submit:
        submit(broken)
        submit(lambda: never.append(1))
    assert never == []


def test_a_failed_last_write_is_raised_on_leaving_the_block() -> None:
    def broken() -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"), write_behind() as submit:
        submit(broken)
