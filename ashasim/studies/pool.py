"""Run a study's independent simulations, in this process or in a pool of processes.

Every study is a list of tasks (a workload, a scheduler, a seed, ...) whose runs share nothing,
so they parallelize over processes; the results come back in the tasks' order whatever the
pool size, so a study's tables do not depend on how many processes made them.

Several studies can share one pool (``shared_pool``) and run at once, each from its own thread
(``run_concurrently``): their tasks then fill the processes together, and no process idles
while the last runs of one study finish before the next study's pool has even started (with a
pool per study, each study ended on one busy process and the others idle).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = ["run_all", "run_concurrently", "shared_pool"]

Task = TypeVar("Task")
Result = TypeVar("Result")

_shared: Executor | None = None  # the pool of ``shared_pool``, while one is open


def run_all(
    run_one: Callable[[Task], Result],
    tasks: Iterable[Task],
    *,
    processes: int | None = None,
    on_result: Callable[[Result], None] | None = None,
) -> list[Result]:
    """``run_one`` of every task, in order. *processes*: pool size (None: one per CPU; 1: in
    this process, which is what a debugger or a profiler wants). *on_result* is called with each
    result as it arrives (a progress line), in the tasks' order."""
    results: list[Result] = []
    if processes == 1:
        for task in tasks:
            results.append(run_one(task))
            if on_result is not None:
                on_result(results[-1])
        return results
    with _pool(processes) as pool:
        for result in pool.map(run_one, tasks, chunksize=1):
            results.append(result)
            if on_result is not None:
                on_result(result)
    return results


@contextmanager
def _pool(processes: int | None) -> Iterator[Executor]:
    """The shared pool when one is open (left open), else a pool of its own (closed after)."""
    if _shared is not None:
        yield _shared
        return
    with ProcessPoolExecutor(max_workers=processes) as pool:
        yield pool


@contextmanager
def shared_pool(processes: int | None) -> Iterator[None]:
    """Every ``run_all`` inside (from any thread) uses one pool of *processes* (None: one per
    CPU); with 1, nothing is shared: each runs in its caller's process, as ``run_all`` does."""
    global _shared
    if processes == 1 or _shared is not None:
        yield
        return
    with ProcessPoolExecutor(max_workers=processes) as pool:
        _shared = pool
        try:
            yield
        finally:
            _shared = None


def run_concurrently(
    calls: list[Callable[[], Any]],
    processes: int | None,
    meanwhile: Callable[[], None] | None = None,
) -> list[Any]:
    """Each of ``calls`` (a study's ``run``, which calls ``run_all``) from its own thread, over one
    shared pool; their results in order. *meanwhile* runs in this thread while they do (figures:
    matplotlib wants one thread). With *processes* 1 everything runs one after the other in this
    process (what a debugger or a profiler wants), *meanwhile* first."""
    if processes == 1:
        if meanwhile is not None:
            meanwhile()
        return [call() for call in calls]
    with shared_pool(processes), ThreadPoolExecutor(max_workers=len(calls)) as threads:
        futures = [threads.submit(call) for call in calls]
        if meanwhile is not None:
            meanwhile()
        return [future.result() for future in futures]
