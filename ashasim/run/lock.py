"""One driver per run directory: an exclusive OS lock, held for the driver's whole life.

Two drivers on one directory would interleave their journals and share checkpoint folders, so a
new run and a resume both lock the run directory itself (``fcntl.flock`` on the directory,
exclusive, non-blocking) before they read or write anything else there, and hold it until the run
ends. The lock is on the directory, not on a file in it, so deleting ``driver.lock`` while a run is
live cannot let a second driver in. The kernel releases
the lock when the process ends, however it ends (SIGKILL, a crash), so a lock is never stale and
there is nothing to clean up. ``driver.lock`` holds the pid of the driver that last wrote the run,
for the message the second driver prints; it is opened without following a symlink, so a link
planted there cannot make the driver write outside the directory.

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
        self._directory: int | None = None

    def acquire(self) -> RunLock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return self
        directory = _open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(directory, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(directory)
            holder = _read_pid(self.path)
            who = f" (process {holder})" if holder else ""
            raise RunDirectoryBusyError(
                f"{self.directory} is in use by another ashasim driver{who}; one driver per run "
                f"directory: wait for it to end, or stop it first"
            ) from None
        self._directory = directory
        return self

    def mark(self) -> None:
        """Write this process's pid into the lock file (once the run is going to change the
        directory; a refused resume leaves every file as it was)."""
        if self._directory is None:
            return
        descriptor = _open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        try:
            os.write(descriptor, f"{os.getpid()}\n".encode())
        finally:
            os.close(descriptor)

    def release(self) -> None:
        if self._directory is not None:
            with contextlib.suppress(OSError):
                os.close(self._directory)  # closing the last descriptor drops the flock
            self._directory = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def _open(path: Path, flags: int, mode: int = 0o777) -> int:
    """``os.open``, or one line naming the path (a lock file that is a directory or a symlink, a
    read-only directory)."""
    try:
        return os.open(path, flags, mode)
    except OSError as error:
        raise RunError(f"cannot lock {path}: {error.strerror or error}") from None


def _read_pid(path: Path) -> int | None:
    try:
        with open(path, "rb") as stream:
            text = stream.read(32).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
