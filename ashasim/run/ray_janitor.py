"""Ends the Ray processes a driver started, when the driver dies without shutting Ray down.

A driver that starts a local Ray instance (``ray.init()`` without an address) is the parent of
Ray's GCS server and raylet, which start agents of their own (the dashboard agent, the runtime
environment agent). Ray stops them all at a normal exit; a SIGKILLed driver (or one the kernel's
OOM killer ended) leaves some of them running for good, reparented to init. This watcher is a
separate process that remembers the driver's Ray processes (its descendants whose command line
is Ray's: a program of the ray package, or a ``ray::`` process) while the driver lives, and ends
those still alive once the driver is gone (SIGTERM, then SIGKILL after a grace period). It learns
of the driver's death from its stdin, a pipe only the driver holds: the kernel closes it however
the driver dies. Processes are matched by pid *and* start time, so a reused pid is never hit.

Linux only (it reads ``/proc``); stdlib only, so it starts in a fraction of a second. Started by
``ashasim.run.ray_backend`` as ``python ray_janitor.py <driver pid> <ray package folder>``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time

POLL = 1.0  # seconds between looks for new Ray processes while the driver lives
GRACE = 2.0  # seconds Ray's processes get to end after SIGTERM, before SIGKILL


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, start time) of a live process; None when it is gone (or a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as stream:
            text = stream.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    if fields[0] == "Z":
        return None
    return int(fields[1]), fields[19]


def _is_ray(pid: int, ray_dir: str) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as stream:
            command = stream.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return command.startswith("ray::") or ray_dir + os.sep in command


def ray_descendants(root: int, ray_dir: str) -> dict[int, str]:
    """The Ray processes among *root*'s descendants: pid -> start time."""
    parents: dict[int, list[int]] = {}
    started: dict[int, str] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            stat = _stat(int(name))
            if stat is not None:
                parents.setdefault(stat[0], []).append(int(name))
                started[int(name)] = stat[1]
    found, todo = {}, list(parents.get(root, ()))
    while todo:
        pid = todo.pop()
        todo.extend(parents.get(pid, ()))
        if pid != os.getpid() and _is_ray(pid, ray_dir):
            found[pid] = started[pid]
    return found


def end(processes: dict[int, str]) -> None:
    """SIGTERM the processes still alive (same pid, same start time), SIGKILL the stragglers."""

    def alive() -> list[int]:
        return [pid for pid, start in processes.items() if (_stat(pid) or (0, ""))[1] == start]

    for signum in (signal.SIGTERM, signal.SIGKILL):
        for pid in alive():
            with contextlib.suppress(OSError):  # gone meanwhile
                os.kill(pid, signum)
        deadline = time.monotonic() + GRACE
        while alive() and time.monotonic() < deadline:
            time.sleep(0.1)


def main(driver: int, ray_dir: str) -> None:
    gone = threading.Event()

    def wait_for_eof() -> None:
        while sys.stdin.buffer.read(4096):
            pass
        gone.set()

    threading.Thread(target=wait_for_eof, daemon=True).start()
    seen: dict[int, str] = {}
    while not gone.is_set():
        seen.update(ray_descendants(driver, ray_dir))
        gone.wait(POLL)
    time.sleep(GRACE)  # a driver that exited normally has stopped Ray itself by now
    end(seen)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    main(int(sys.argv[1]), sys.argv[2])
