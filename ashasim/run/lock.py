"""One driver per run directory: an exclusive OS lock, held for the driver's whole life.

Two drivers on one directory would interleave their journals and share checkpoint folders, so a
new run and a resume both take ``DIR/driver.lock`` (``fcntl.flock``, exclusive, non-blocking)
before they read or write anything else there, and hold it until the run ends. The kernel releases
the lock when the process ends, however it ends (SIGKILL, a crash), so a lock is never stale and
there is nothing to clean up. The lock file holds the pid of the driver that last wrote the run,
for the message the second driver prints.

It covers this machine, and file systems whose ``flock`` locks are seen by every client (local
disks; NFS v4). Without ``fcntl`` (Windows) there is no lock.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from types import TracebackType

from ashasim.driver import RunError

__all__ = ["LOCK_FILE", "RunDirectoryBusyError", "RunLock"]

LOCK_FILE = "driver.lock"


class RunDirectoryBusyError(RunError):
    """Another driver holds the run directory (or, for a new run, it already holds a run)."""


class RunLock:
    """The lock on ``directory``: ``acquire()`` or RunDirectoryBusyError; ``release()`` (or
    leave the ``with`` block) when the run ends."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / LOCK_FILE
        self._descriptor: int | None = None

    def acquire(self) -> RunLock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return self
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _read_pid(descriptor)
            os.close(descriptor)
            who = f" (process {holder})" if holder else ""
            raise RunDirectoryBusyError(
                f"{self.directory} is in use by another ashasim driver{who}; one driver per run "
                f"directory: wait for it to end, or stop it first"
            ) from None
        self._descriptor = descriptor
        return self

    def mark(self) -> None:
        """Write this process's pid into the lock file (once the run is going to change the
        directory; a refused resume leaves every file as it was)."""
        if self._descriptor is not None:
            os.ftruncate(self._descriptor, 0)
            os.pwrite(self._descriptor, f"{os.getpid()}\n".encode(), 0)

    def release(self) -> None:
        if self._descriptor is not None:
            with contextlib.suppress(OSError):
                os.close(self._descriptor)  # closing the last descriptor drops the flock
            self._descriptor = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def _read_pid(descriptor: int) -> int | None:
    try:
        text = os.pread(descriptor, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
