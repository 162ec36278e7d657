"""Worker processes that read the parts of big mbox files on all cores.

Parsing mail is CPU-bound Python, so threads do not help; a process pool does. Workers are
started with 'spawn' (polars and duckdb keep threads and locks that a forked child would inherit
broken), which costs about a second, so the pool starts on first use and one pool serves every
file of a run. Results come back in submission order, with only a few parts in flight, so the
caller can stream them and memory stays bounded.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")


def available_cpus() -> int:
    """CPUs this process may run on (the affinity mask, not the machine's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class PartPool:
    """A lazily started process pool; use it as a context manager so its workers end."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers if workers is not None else available_cpus())
        self._executor: ProcessPoolExecutor | None = None

    def executor(self) -> ProcessPoolExecutor:
        if self._executor is None:
            context = multiprocessing.get_context("spawn")
            self._executor = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_load_parser
            )
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> PartPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _load_parser() -> None:
    """Import the parser (polars included) as each worker starts, while the caller is still
    cutting the file, rather than when the first part arrives."""
    import rex_pipeline.sources.gmail.parse  # noqa: F401


def in_order(
    executor: ProcessPoolExecutor,
    function: Callable[..., T],
    calls: Iterable[tuple[Any, ...]],
    window: int,
) -> Iterator[T]:
    """`function(*args)` for each call, run in the pool, yielded in the order of `calls` with
    at most `window` in flight (submitting all at once would hold every result in memory when
    the consumer is slower than the workers). Work not started yet is cancelled if the consumer
    stops early."""
    pending: deque[Future[T]] = deque()
    try:
        for args in calls:
            pending.append(executor.submit(function, *args))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
