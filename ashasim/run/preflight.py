"""Before a run writes anything: one worker started where the backend places it, the objective
loaded there, and the checkpoint location seen by that worker as the driver sees it.

On a cluster the three usual ways to lose a run late (an objective a node cannot import, a
checkpoint folder that is not shared, a cluster that places no worker) then refuse it in one
line before its journal exists. Every later worker (another node, a replacement) is checked the
same way when it says ``Ready``, before it gets a job (``ashasim.run.executor``).
"""

from __future__ import annotations

import math

from ashasim.driver import RunError
from ashasim.errors import last_line
from ashasim.run.backend import Backend, WorkerSlot
from ashasim.run.messages import Died, Fatal, Probe, Probed, Ready
from ashasim.run.storage import is_uri, probe_check, probe_write

__all__ = [
    "NoWorkersError",
    "StorageError",
    "check_first_worker",
    "fatal_error",
    "preflight",
    "probed_error",
]


class NoWorkersError(RunError):
    """No worker could be started for ``placement_timeout`` seconds: the run stopped, its
    journal intact (resumable once workers can be placed again)."""


class StorageError(RunError):
    """The checkpoint location is not shared by the driver and a worker."""


def _advice(location: str) -> str:
    return (
        f"checkpoint storage {location} is not shared with every worker: give "
        f"checkpoint_storage a location all of them reach (a folder every node mounts at the "
        f"same absolute path, or a URI such as s3://bucket/run)"
    )


def probed_error(worker: int, message: Probed, location: str) -> StorageError | None:
    """The error a worker's answer to ``Probe`` means, or None when the location is shared."""
    if message.error is not None:
        return StorageError(f"{_advice(location)}; worker {worker}: {message.error}")
    if not probe_check(location, message.name):
        return StorageError(
            f"{_advice(location)}; worker {worker}: the driver cannot read what it wrote there"
        )
    return None


def fatal_error(worker: int, message: Fatal) -> RunError:
    """A worker that could not load the objective, naming the node and the module."""
    where = f" on {message.where}" if message.where else ""
    summary = message.summary or last_line(message.error)
    return RunError(
        f"worker {worker}{where} could not load the objective: {summary}\n{message.error}"
    )


def preflight(
    backend: Backend,
    slot: WorkerSlot,
    objective: bytes,
    location: str,
    timeout: float | None,
) -> str:
    """Start ``slot``'s worker and check it (see the module docstring); the probe's token, for
    the checks of later workers. Raises ``StorageError``, ``NoWorkersError`` or ``RunError``
    (the objective cannot be loaded there) and leaves the worker running otherwise."""
    try:
        token = probe_write(location)
    except (OSError, ValueError) as error:
        raise StorageError(
            f"checkpoint storage {location}: the driver cannot write there "
            f"({type(error).__name__}: {error})"
        ) from None
    backend.start(slot, objective)
    deadline = backend.clock() + (math.inf if timeout is None else timeout)
    while True:
        now = backend.clock()
        if now >= deadline:
            raise NoWorkersError(
                f"the first worker could not be started in {timeout:g} s (placement_timeout): "
                f"the backend cannot place it (a Ray cluster without a node that fits?)"
            )
        for worker, message in backend.wait(min(now + 0.5, deadline)):
            kind = type(message)
            if kind is Ready:
                backend.send(worker, Probe(location, token))
            elif kind is Probed:
                refused = probed_error(worker, message, location)
                if refused is not None:
                    raise refused
                return token
            elif kind is Fatal:
                raise fatal_error(worker, message)
            elif kind is Died:
                raise RunError(f"worker {worker} died while starting ({message.detail})")


def check_first_worker(
    backend: Backend,
    slot: WorkerSlot,
    objective: bytes,
    location: str,
    timeout: float | None,
    *,
    remote: bool,
) -> tuple[tuple[str, str] | None, tuple[int, ...]]:
    """Before a run writes anything: on a cluster (*remote*) or with checkpoints behind a URI,
    start the first worker and run the ``preflight`` check; returns the probe (location, token)
    later workers are checked with, and the workers already started. Elsewhere the workers share
    this machine's disk: nothing to check. Closes the backend when the check fails."""
    if not remote and not is_uri(location):
        return None, ()
    try:
        token = preflight(backend, slot, objective, location, timeout)
    except BaseException:
        backend.close()
        raise
    return (location, token), (0,)
