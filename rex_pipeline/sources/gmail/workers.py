"""Worker processes that read the parts of big mbox files on all cores.

Parsing mail is CPU-bound Python, so threads do not help; a process pool does. Workers are
started with 'spawn' (polars and duckdb keep threads and locks that a forked child would inherit
broken), which costs about a second, so the pool starts on first use and one pool serves every
file of a run. Results come back in submission order, with only a few parts in flight, so the
caller can stream them and memory stays bounded. While a file's last parts are read, the pool
already reads the first parts of the next file the caller named (`upcoming`), so the workers
do not sit idle through the file's tail, its contacts and the next file's scan.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")
_RESULT_PIPE_BYTES = 1 << 20  # the default pipe-max-size
# A worker only reads mail: millions of short-lived containers, almost none kept. Python's
# default (a collection every 700 new containers) spent 4% of a worker's CPU collecting
# little (170k messages on one worker: 14.1 to 13.6 CPU-s, means of six and five runs).
WORKER_GC_THRESHOLD = (50_000, 20, 100)
Call = tuple[Any, ...]
Queued = tuple[Callable[..., Any], Call, Future[Any]]


@dataclass(slots=True)
class _Ahead:
    """A later file's calls submitted ahead: its plan (what is left of it) and the queue."""

    path: Path
    calls: Iterator[Call]
    queued: deque[Queued]


def available_cpus() -> int:
    """CPUs this process may run on (the affinity mask, not the machine's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class PartPool:
    """A lazily started process pool; use it as a context manager so its workers end."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers if workers is not None else available_cpus())
        self._executor: ProcessPoolExecutor | None = None
        # the files the caller will read next, in order (see `next_file`)
        self.upcoming: list[Path] = []
        self._ahead: _Ahead | None = None  # calls submitted ahead for one later file
        self.ahead_state: dict[Path, Any] = {}  # what the caller learnt planning ahead, by file

    def executor(self) -> ProcessPoolExecutor:
        if self._executor is None:
            context = multiprocessing.get_context("spawn")
            self._executor = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_load_parser
            )
            _widen_result_pipe(self._executor)
        return self._executor

    def next_file(self, path: Path) -> Path | None:
        """The file named in `upcoming` right after `path`, if any."""
        try:
            at = self.upcoming.index(path)
        except ValueError:
            return None
        return self.upcoming[at + 1] if at + 1 < len(self.upcoming) else None

    def in_order(
        self,
        function: Callable[..., T],
        path: Path,
        calls: Iterable[Call],
        window: int,
        ahead: Callable[[], tuple[Path, Iterable[Call]] | None] | None = None,
    ) -> Iterator[T]:
        """`function(*args)` for each of `path`'s calls, run by the workers, yielded in order
        with at most `window` in flight (submitting all at once would hold every result in
        memory when the consumer is slower than the workers). Calls already submitted ahead
        for `path` are used, not run again. Once its own calls are all submitted, `ahead()`
        may name the next file and its calls: they are submitted as room frees up, up to the
        window, and kept for that file's `in_order`. Work not started yet is cancelled if
        the consumer stops early (work submitted ahead stays for its file)."""
        executor = self.executor()
        taken = self._take_ahead(path)
        pending: deque[Future[T]] = deque()
        try:
            for args in calls:
                if taken and taken[0][0] is function and taken[0][1] == args:
                    pending.append(taken.popleft()[2])
                else:
                    _cancel(future for _, _, future in taken)
                    taken.clear()
                    pending.append(executor.submit(function, *args))
                if len(pending) >= window:
                    yield pending.popleft().result()
            _cancel(future for _, _, future in taken)
            later = _planned(ahead) if ahead is not None else None
            while pending:
                if later is not None:
                    self._submit_ahead(function, later, window - len(pending))
                yield pending.popleft().result()
        finally:
            _cancel(pending)
            _cancel(future for _, _, future in taken)

    def _take_ahead(self, path: Path) -> deque[Queued]:
        if self._ahead is None or self._ahead.path != path:
            return deque()
        taken = self._ahead.queued
        self._ahead = None
        return taken

    def _submit_ahead(
        self, function: Callable[..., Any], later: tuple[Path, Iterator[Call]], room: int
    ) -> None:
        """Submit the next file's calls until `room` of them are queued (a file already being
        read ahead keeps its own queue and plan)."""
        if self._ahead is None or self._ahead.path != later[0]:
            if self._ahead is not None:
                _cancel(future for _, _, future in self._ahead.queued)
            self._ahead = _Ahead(later[0], later[1], deque())
        ahead = self._ahead
        while len(ahead.queued) < room:
            args = next(ahead.calls, None)
            if args is None:
                return
            ahead.queued.append((function, args, self.executor().submit(function, *args)))

    def close(self) -> None:
        self._ahead = None
        self.ahead_state.clear()
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


def _widen_result_pipe(executor: ProcessPoolExecutor) -> None:
    """Let a worker hand over a part's result (several MB) in a few writes, not in 64 KB
    pipe-fulls that each wait for the caller's result thread to be scheduled and take the
    GIL: with the cores busy (the caller stages chunks meanwhile) that wait held a worker
    idle for 0.1-0.3 s per part. Best effort: Linux only (F_SETPIPE_SZ), capped by
    /proc/sys/fs/pipe-max-size, and it reads the executor's result queue, which is private."""
    try:
        import fcntl

        reader = executor._result_queue._reader  # type: ignore[attr-defined]
        fcntl.fcntl(reader.fileno(), fcntl.F_SETPIPE_SZ, _RESULT_PIPE_BYTES)
    except (AttributeError, ImportError, OSError):
        pass


def _load_parser() -> None:
    """Import the parser (polars included) as each worker starts, while the caller is still
    cutting the file, rather than when the first part arrives; collect garbage less often."""
    import rex_pipeline.sources.gmail.parse  # noqa: F401

    gc.set_threshold(*WORKER_GC_THRESHOLD)


def _cancel(futures: Iterable[Future[Any]]) -> None:
    for future in futures:
        future.cancel()


def _planned(
    ahead: Callable[[], tuple[Path, Iterable[Call]] | None],
) -> tuple[Path, Iterator[Call]] | None:
    """The next file's calls, or None when there is nothing to read ahead. Planning must never
    cost the current file: a next file that cannot be read is left to its own turn."""
    try:
        planned = ahead()
    except Exception:
        return None
    return None if planned is None else (planned[0], iter(planned[1]))
