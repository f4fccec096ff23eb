"""No orphans: each local worker leads its own process group, and the whole group goes with it.

An objective may start processes of its own (a data loader's helpers, ``subprocess.Popen``, a
shell command). They are not the worker's children for long, and killing the worker, or the
driver, leaves them running. So a local worker makes itself the leader of a new process group
(everything the objective starts, in the same session, joins it), and forks a *guard*: a tiny
process of the same group that blocks reading a pipe only the worker holds open. However the
worker ends (its job loop returns, ``kill``, the driver's death through ``PR_SET_PDEATHSIG``, a
crash), the pipe closes, and the guard SIGKILLs the group, itself included. The guard does nothing
else, so it runs even while the worker is stuck in the objective. After each job the worker also
kills what the job left in its group (``end_job_processes``), so a job's helpers never run into
the next job. Processes that leave the group on purpose (``setsid``, ``start_new_session``) are
theirs to manage. Linux only (the group is found through ``/proc``); elsewhere nothing changes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path

__all__ = ["end_job_processes", "lead_own_group"]

_guard: int | None = None  # the pid of this worker's guard


def lead_own_group() -> None:
    """Make this process the leader of a new process group, and start the group's guard."""
    global _guard
    if not sys.platform.startswith("linux"):  # pragma: no cover - other platforms
        return
    try:
        os.setpgid(0, 0)
    except OSError:  # pragma: no cover - a session leader cannot; it keeps its group
        return
    read_end, write_end = os.pipe()  # not inherited by what the objective executes
    pid = os.fork()
    if pid == 0:  # the guard
        os.close(write_end)
        try:
            while os.read(read_end, 1):
                pass
        finally:
            os.killpg(0, signal.SIGKILL)
            os._exit(0)
    os.close(read_end)
    _guard = pid  # write_end stays open for the worker's whole life, on purpose


def end_job_processes() -> None:
    """SIGKILL every process of this worker's group but the worker and its guard: what the
    job that just ended started and left running."""
    if _guard is None:
        return
    group, keep = os.getpgid(0), {os.getpid(), _guard}
    for pid in _group_members(group):
        if pid not in keep:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def _group_members(group: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()  # state, ppid, pgrp, ...
        if len(fields) > 2 and int(fields[2]) == group:
            members.append(int(entry.name))
    return members
