"""The worker side of the executor: one loop every backend runs, whatever carries its messages.

A worker loads the objective once, says ``("ready",)``, then serves jobs until told to exit::

    driver -> worker   ("job", JobSpec) | ("exit",)
    worker -> driver   ("report", trial_id, values)   ... answered "continue" or "stop"
                       ("returned", trial_id)          the objective returned by itself
                       ("stopped", trial_id)           it was told to stop (StopTrial)
                       ("error", trial_id, traceback)  it raised

The objective is a plain function of the config (the chapter's ``objective(learning_rate,
batch_size, max_epochs)``); it reports through ``Reporter``, which uses the channel set here.
"""

from __future__ import annotations

import os
import pickle
import traceback
from typing import Any

from ashasim.run.context import Channel, JobContext, JobSpec, StopTrial, reset_context, set_context

__all__ = ["dumps_objective", "loads_objective", "serve", "setup_threads"]


def dumps_objective(objective: Any) -> bytes:
    """Serialize the objective *by value* when cloudpickle is there (functions defined in a
    notebook or a script's ``__main__`` then work in spawned workers), else by reference."""
    try:
        import cloudpickle
    except ImportError:  # pragma: no cover - cloudpickle is a dependency
        return pickle.dumps(objective)
    return cloudpickle.dumps(objective)


def loads_objective(data: bytes) -> Any:
    return pickle.loads(data)


def setup_threads(threads: int | None) -> None:
    """Cap math-library threads so several workers do not oversubscribe the CPU cores."""
    if threads is None:
        return
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(threads)
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(threads)


def run_job(objective: Any, job: JobSpec, channel: Channel) -> tuple:
    """Call the objective for one job; the outcome message for the driver."""
    token = set_context(JobContext(job, channel))
    try:
        objective(**job.config)
    except StopTrial:
        return ("stopped", job.trial_id)
    except BaseException:
        return ("error", job.trial_id, traceback.format_exc())
    finally:
        reset_context(token)
    return ("returned", job.trial_id)


def serve(channel: Channel, objective_bytes: bytes, threads: int | None = None) -> None:
    """The worker loop: load the objective, then run jobs until ("exit",) or a closed channel."""
    setup_threads(threads)
    try:
        objective = loads_objective(objective_bytes)
    except BaseException:
        channel.send(("fatal", traceback.format_exc()))
        return
    channel.send(("ready",))
    while True:
        try:
            message = channel.recv()
        except (EOFError, OSError):
            return  # the driver is gone
        if message[0] == "exit":
            return
        channel.send(run_job(objective, message[1], channel))
