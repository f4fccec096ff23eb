"""The ``local`` backend: long-lived worker processes on this machine, one pipe each.

Workers are spawned once (never per trial) with the ``spawn`` start method, which is safe with
CUDA. The objective travels to them by value (cloudpickle), so they never need the parent's
``__main__``: it is hidden from multiprocessing while a worker starts, which spares users the
``if __name__ == "__main__":`` guard that spawn otherwise demands of a tuning script (and makes
objectives typed at an interactive prompt work).

Each worker is pinned to its device through ``CUDA_VISIBLE_DEVICES``, set in the environment the
child inherits *before* it starts, so even an objective module that imports torch at the top sees
only its GPU. Workers ignore SIGINT: Ctrl-C reaches the driver alone, which shuts them down in
order. They are born with SIGINT blocked (the driver blocks it in its thread while it creates a
worker, and a blocked signal stays blocked across ``exec``) and unblock it once they ignore it, so
a Ctrl-C during start-up finds no half-started worker to print a traceback, and the driver's own
Ctrl-C waits until the worker is created and known (never lost). (multiprocessing's resource
tracker, started with the first worker, unblocks SIGINT in the thread that starts it; so it is
started first.) A worker that dies (killed, segfault, out of memory) is seen at once through its
process sentinel and reported as ``Died(exit code)``.

Workers never outlive their driver: on Linux each asks the kernel to SIGKILL it when the driver
dies (``prctl(PR_SET_PDEATHSIG)``), elsewhere a watchdog thread ends it once its parent is gone;
either way also when the driver itself was SIGKILLed, and a worker stuck in the objective goes too.
Nor do the processes an objective starts: each worker leads its own process group, killed
whole when the worker ends and swept after each job (``ashasim.run.groups``).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Iterator
from multiprocessing import resource_tracker
from multiprocessing.connection import Connection, wait
from typing import Any

from ashasim.run.backend import Backend, WorkerSlot
from ashasim.run.groups import end_job_processes, lead_own_group
from ashasim.run.messages import Died, Exit
from ashasim.run.worker import serve

__all__ = ["LocalBackend"]

_ENV_LOCK = threading.Lock()


@contextlib.contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Keep spawn from re-running the parent's main script in the child (see module docstring):
    multiprocessing reads ``__main__.__file__`` and ``__spec__`` when a process starts."""
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    missing = object()
    saved = {name: main.__dict__.get(name, missing) for name in ("__file__", "__spec__")}
    main.__dict__.pop("__file__", None)
    main.__dict__["__spec__"] = None
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                main.__dict__.pop(name, None)
            else:
                main.__dict__[name] = value


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Ctrl-C held back while a worker process is created: SIGINT blocked in this thread, so the
    worker is born with it blocked, and (in the main thread) Python's handler only noted, since
    another thread of the driver (a math library's) may take the signal; it acts right after."""
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
        yield
        return
    resource_tracker.ensure_running()  # its start would unblock SIGINT in this thread
    noted: list[int] = []
    main = (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is not None  # None: a handler Python cannot restore
    )
    previous = signal.signal(signal.SIGINT, lambda n, f: noted.append(n)) if main else None
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        if main:
            signal.signal(signal.SIGINT, previous)
            if noted and callable(previous):
                previous(signal.SIGINT, None)  # Python's default handler: KeyboardInterrupt
            elif noted and previous == signal.SIG_DFL:
                os.kill(os.getpid(), signal.SIGINT)


def _worker_main(
    connection: Connection, objective: bytes, threads: int | None, driver: int
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked since its birth
    die_with(driver)
    lead_own_group()  # what the objective starts dies with the worker (ashasim.run.groups)
    serve(connection, objective, threads, after_job=end_job_processes)


def die_with(driver: int) -> None:
    """End this process when the process ``driver`` ends, even by SIGKILL."""
    if not (sys.platform.startswith("linux") and _parent_death_signal(signal.SIGKILL)):
        threading.Thread(target=_watch_parent, args=(driver,), daemon=True).start()
    if os.getppid() != driver:  # it died before the request above was made
        os._exit(1)


def _parent_death_signal(signum: int) -> bool:
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(1, int(signum), 0, 0, 0) == 0  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - no prctl
        return False


def _watch_parent(driver: int) -> None:  # pragma: no cover - other platforms
    import time

    while os.getppid() == driver:
        time.sleep(0.5)
    os._exit(1)


def _kill_group(leader: int | None) -> None:
    """The worker's process group, whatever is left of it (its guard kills it too; this does
    not wait for that)."""
    if leader is not None and hasattr(os, "killpg"):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(leader, signal.SIGKILL)


class LocalBackend(Backend):
    """Worker processes on this machine."""

    def __init__(self) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._processes: dict[int, Any] = {}
        self._pipes: dict[int, Connection] = {}

    def start(self, slot: WorkerSlot, objective: bytes) -> None:
        parent, child = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_worker_main,
            args=(child, objective, slot.threads, os.getpid()),
            name=f"ashasim-worker-{slot.index}",
            daemon=True,
        )
        # the child copies os.environ when it starts; a Ctrl-C meanwhile acts once it is known
        with _ENV_LOCK, _main_module_hidden(), _sigint_deferred():
            saved = os.environ.get("CUDA_VISIBLE_DEVICES")
            os.environ["CUDA_VISIBLE_DEVICES"] = slot.visible_devices
            try:
                process.start()
            finally:
                if saved is None:
                    del os.environ["CUDA_VISIBLE_DEVICES"]
                else:
                    os.environ["CUDA_VISIBLE_DEVICES"] = saved
            child.close()
            self._processes[slot.index] = process
            self._pipes[slot.index] = parent

    def send(self, index: int, message: Any) -> None:
        # A dead worker cannot take messages; its sentinel tells the driver.
        with contextlib.suppress(KeyError, OSError):
            self._pipes[index].send(message)

    def wait(self, until: float) -> list[tuple[int, Any]]:
        timeout = max(0.0, until - self.clock())
        by_handle: dict[Any, tuple[int, str]] = {}
        for index, pipe in self._pipes.items():
            by_handle[pipe] = (index, "pipe")
            by_handle[self._processes[index].sentinel] = (index, "process")
        ready = wait(list(by_handle), timeout)
        messages: list[tuple[int, Any]] = []
        dead: set[int] = set()
        for handle in ready:
            index, kind = by_handle[handle]
            if index in dead:
                continue
            if kind == "pipe":
                try:
                    while self._pipes[index].poll():
                        messages.append((index, self._pipes[index].recv()))
                except (EOFError, OSError):
                    dead.add(index)
            else:
                dead.add(index)
        for index in sorted(dead):
            messages.extend((index, message) for message in self._drain(index))
            process = self._processes[index]
            process.join(timeout=1.0)
            messages.append((index, Died(process.exitcode)))
            self._forget(index)
        return messages

    def _drain(self, index: int) -> list[Any]:
        """Messages a dead worker sent before dying (they still count)."""
        drained = []
        pipe = self._pipes[index]
        try:
            while pipe.poll():
                drained.append(pipe.recv())
        except (EOFError, OSError):
            pass
        return drained

    def pid(self, index: int) -> int | None:
        process = self._processes.get(index)
        return None if process is None else process.pid

    def kill(self, index: int) -> None:
        process = self._processes.get(index)
        if process is None:
            return
        if process.is_alive():
            process.terminate()
            process.join(timeout=2.0)
            if process.is_alive():
                process.kill()
                process.join(timeout=2.0)
        _kill_group(process.pid)
        self._forget(index)

    def close(self) -> None:
        for index in list(self._processes):
            self.send(index, Exit())
        for index in list(self._processes):
            self._processes[index].join(timeout=2.0)
            self.kill(index)

    def _forget(self, index: int) -> None:
        self._processes.pop(index, None)
        pipe = self._pipes.pop(index, None)
        if pipe is not None:
            pipe.close()
