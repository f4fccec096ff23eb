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
from typing import Any

from ashasim.run.context import Channel, JobContext, JobSpec, StopTrial, reset_context, set_context
from ashasim.run.messages import Exit, Failed, Fatal, Ready, Returned, Stopped

__all__ = ["dumps_objective", "loads_objective", "run_job", "serve", "setup_threads"]


def dumps_objective(objective: Any) -> bytes:
    """Serialize the objective with cloudpickle: functions defined in a notebook or a script's
    ``__main__`` travel by value; functions of an importable module travel by reference (the
    worker imports the module)."""
    import cloudpickle

    return cloudpickle.dumps(objective)


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
        objective(**job.config)
    except StopTrial:
        return Stopped(job.trial_id)
    except BaseException:
        return Failed(job.trial_id, traceback.format_exc())
    finally:
        reset_context(token)
    return Returned(job.trial_id)


def serve(channel: Channel, objective_bytes: bytes, threads: int | None = None) -> None:
    """The worker loop: load the objective, then run jobs until Exit() or a closed channel."""
    setup_threads(threads)
    try:
        objective = loads_objective(objective_bytes)
    except BaseException:
        channel.send(Fatal(traceback.format_exc()))
        return
    channel.send(Ready())
    while True:
        try:
            message = channel.recv()
        except (EOFError, OSError):
            return  # the driver is gone
        if type(message) is Exit:
            return
        channel.send(run_job(objective, message.spec, channel))
