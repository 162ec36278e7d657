"""Overlap DuckDB's reads and writes with Python work on two cores.

DuckDB releases the GIL while a query runs, so a thread that reads the next chunk of a batch, or
writes the last one, runs beside the main thread's normalising (Python and polars). This pays
where the work beside it leaves a core free: normalising at 1M, about 2 s of 12; not CSV
parsing, whose polars reader already uses both cores. Each helper keeps at most one item in
flight, so memory grows by one chunk, not with the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
_END = object()


def read_ahead(items: Iterable[T]) -> Iterator[T]:
    """`items` in order, the next one produced on a background thread while the caller works
    on the current one. A caller that may stop early closes it (`contextlib.closing`): closing
    waits for the item being produced, so nothing runs on behind the caller's back."""
    source = iter(items)
    with ThreadPoolExecutor(1, thread_name_prefix="read-ahead") as pool:
        pending = pool.submit(next, source, _END)
        while (item := pending.result()) is not _END:
            pending = pool.submit(next, source, _END)
            yield item  # type: ignore[misc]


@contextmanager
def write_behind() -> Iterator[Callable[[Callable[[], None]], None]]:
    """A `submit(write)` that runs the writes in order on one background thread and returns as
    soon as the previous write has finished; a write's error is raised by the next `submit`, or
    on leaving the block, which waits for the last write."""
    with ThreadPoolExecutor(1, thread_name_prefix="write-behind") as pool:
        pending: Future[None] | None = None

        def submit(write: Callable[[], None]) -> None:
            nonlocal pending
            if pending is not None:
                pending.result()
            pending = pool.submit(write)

        yield submit
        if pending is not None:
            pending.result()
