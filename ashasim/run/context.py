"""What a worker knows about the job it is running, for the objective's helpers to read.

The worker runtime sets the current ``JobContext`` before calling the objective; ``Reporter``,
``ashasim.run.checkpoint`` and ``current_job()`` read it. Outside a tuner there is none, and
those helpers fall back to standalone behaviour, so an objective can be run as a plain function.
"""

from __future__ import annotations

import os
import sys
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

__all__ = ["Channel", "JobContext", "JobSpec", "StopTrial", "current_job", "refuse_forked_child"]


class StopTrial(BaseException):
    """Raised inside the objective at a report when its job must end (STOP or milestone).

    A BaseException, so that an objective's ``except Exception`` does not swallow it.
    """


class Channel(Protocol):
    """A worker's two-way line to the driver (a pipe, a Ray queue, an in-process queue)."""

    def send(self, message: Any) -> None: ...

    def recv(self) -> Any: ...


@dataclass(frozen=True)
class JobSpec:
    """A job as the worker sees it: the scheduler's Job plus where its checkpoints live.

    *resource_attr*: the report key that counts levels (the scheduler's). *checkpoint_at*: the
    level of the newest checkpoint the driver knows the trial saved at or below ``resume_from``
    (None: none), which the worker must find. *retrain_on_miss*: a missing one retrains from
    scratch (with a warning) instead of failing the job. *allow_pickle*: the run allows reading
    checkpoints by unpickling them (``ashasim.run.state_format``)."""

    trial_id: int
    config: dict[str, Any]
    resume_from: int
    milestone: int
    checkpoint_dir: str | None = None
    resource_attr: str = "epoch"
    checkpoint_at: int | None = None
    retrain_on_miss: bool = False
    allow_pickle: bool = False


@dataclass
class JobContext:
    """The job a worker runs, its line to the driver, and the worker's own process id: a process
    the objective forks inherits the context, but not the right to use the line."""

    job: JobSpec
    channel: Channel
    pid: int = field(default_factory=os.getpid)

    @property
    def checkpoint_dir(self) -> Path | None:
        return None if self.job.checkpoint_dir is None else Path(self.job.checkpoint_dir)


_CURRENT: ContextVar[JobContext | None] = ContextVar("ashasim_job", default=None)


def current_job() -> JobSpec | None:
    """The job this process is running for a tuner (trial_id, config, resume_from, milestone),
    or None when the objective is called directly."""
    context = _CURRENT.get()
    return None if context is None else context.job


def current_context() -> JobContext | None:
    return _CURRENT.get()


def refuse_forked_child(context: JobContext | None) -> None:
    """A process the objective forked shares its worker's line to the driver: a report from it
    would interleave with the worker's own and fail healthy trials. It is refused, and the child
    ends at once, so that no exception reaches the worker loop it inherited (which would report
    the trial failed on that same line)."""
    if context is not None and context.pid != os.getpid():
        sys.stderr.write(
            f"ashasim: report() from process {os.getpid()}, which the objective forked from its "
            f"worker (process {context.pid}), is refused: only the worker's process reports; "
            f"this process ends\n"
        )
        sys.stderr.flush()
        os._exit(70)  # EX_SOFTWARE; not sys.exit, which would unwind into the inherited worker


def set_context(context: JobContext | None) -> Any:
    return _CURRENT.set(context)


def reset_context(token: Any) -> None:
    _CURRENT.reset(token)
