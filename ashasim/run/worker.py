"""The worker side of the executor: one loop every backend runs, whatever carries its messages.

A worker loads the objective once, says ``Ready()``, then serves ``RunJob`` messages until
``Exit()`` or a closed channel (``ashasim.run.messages`` lists the vocabulary). The objective is a
plain function of the config (the chapter's ``objective(learning_rate, batch_size, max_epochs)``);
it reports through ``Reporter``, which uses the channel set here.
"""

from __future__ import annotations

import os
import pickle
import sys
import traceback
from collections.abc import Callable
from typing import Any

from ashasim.run.context import Channel, JobContext, JobSpec, StopTrial, reset_context, set_context
from ashasim.run.messages import (
    Exit,
    Failed,
    Fatal,
    Probe,
    Probed,
    Ready,
    Returned,
    Started,
    Stopped,
)
from ashasim.run.storage import probe_answer, where_am_i

__all__ = ["dumps_objective", "loads_objective", "run_job", "serve", "setup_threads"]


def dumps_objective(objective: Any, *, ship: bool = False) -> bytes:
    """Serialize the objective with cloudpickle. Functions defined in a notebook or a script's
    ``__main__`` travel by value. Functions of an importable module travel by reference (the
    worker imports the module) unless *ship*: then the objective's module and the modules
    beside it (``shipped_modules``) travel by value, so workers on other machines need only
    the packages it imports, not the user's own files."""
    import cloudpickle

    modules = shipped_modules(objective) if ship else []
    for module in modules:
        cloudpickle.register_pickle_by_value(module)
    try:
        return cloudpickle.dumps(objective)
    finally:
        for module in modules:
            cloudpickle.unregister_pickle_by_value(module)


def shipped_modules(objective: Any) -> list[Any]:
    """The modules *ship* sends by value: the objective's own and every module loaded from its
    folder or below (its local imports), except installed packages (site-packages, the standard
    library) and ashasim itself (workers must share its classes with the driver)."""
    function = objective
    while hasattr(function, "func"):  # functools.partial
        function = function.func
    name = getattr(function, "__module__", None)
    module = sys.modules.get(name or "")
    file = getattr(module, "__file__", None)
    if module is None or name == "__main__" or not file or _installed(file):
        return []
    folder = os.path.dirname(os.path.abspath(file)) + os.sep
    chosen = []
    for other_name, other in list(sys.modules.items()):
        other_file = getattr(other, "__file__", None)
        if (
            other_file
            and os.path.abspath(other_file).startswith(folder)
            and not _installed(other_file)
            and other_name.split(".")[0] != "ashasim"
            and other_name != "__main__"
        ):
            chosen.append(other)
    return chosen


def _installed(file: str) -> bool:
    """A module of an installed distribution or of the standard library."""
    path = os.path.abspath(file)
    if "site-packages" in path or "dist-packages" in path:
        return True
    stdlib = os.path.dirname(os.__file__)
    return path.startswith(stdlib + os.sep)


def loads_objective(data: bytes) -> Any:
    return pickle.loads(data)


def setup_threads(threads: int | None) -> None:
    """Cap math-library threads so several workers do not oversubscribe the CPU cores.

    The variables are read when a library is first imported (torch sizes its thread pool from
    ``OMP_NUM_THREADS``), which in a fresh worker is after this; torch is not imported here for
    the objective's sake (seconds per worker start, and replacements after a death or a time
    limit are started while the run waits), only told when something imported it already.
    """
    if threads is None:
        return
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)


def run_job(objective: Any, job: JobSpec, channel: Channel) -> Returned | Stopped | Failed:
    """Call the objective for one job; the outcome message for the driver."""
    token = set_context(JobContext(job, channel))
    try:
        channel.send(Started(job.trial_id))  # the job's time limit counts from here
        objective(**job.config)
    except StopTrial:
        return Stopped(job.trial_id)
    except BaseException:
        return Failed(job.trial_id, traceback.format_exc())
    finally:
        reset_context(token)
    return Returned(job.trial_id)


def serve(
    channel: Channel,
    objective_bytes: bytes,
    threads: int | None = None,
    after_job: Callable[[], None] | None = None,
) -> None:
    """The worker loop: load the objective, then run jobs until Exit() or a closed channel.
    *after_job*: called when a job has ended, before its outcome is sent (the local backend
    ends what the job left running)."""
    setup_threads(threads)
    try:
        objective = loads_objective(objective_bytes)
    except BaseException as error:
        channel.send(Fatal(traceback.format_exc(), where_am_i(), _why_not_loaded(error)))
        return
    channel.send(Ready())
    while True:
        try:
            message = channel.recv()
        except (EOFError, OSError):
            return  # the driver is gone
        kind = type(message)
        if kind is Exit:
            return
        if kind is Probe:
            channel.send(Probed(*probe_answer(message.location, message.token)))
            continue
        outcome = run_job(objective, message.spec, channel)
        if after_job is not None:
            after_job()
        channel.send(outcome)


def _why_not_loaded(error: BaseException) -> str:
    """One line: which module is missing, and what to do about it."""
    if isinstance(error, ModuleNotFoundError) and error.name:
        return (
            f"ModuleNotFoundError: no module {error.name!r} on this node. Packages the "
            f"objective imports must be installed on every node (the Ray backend ships only the "
            f"objective's own module and the modules beside it)"
        )
    return f"{type(error).__name__}: {error}"
