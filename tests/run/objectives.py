"""Tiny objectives for the executor tests (importable by spawned workers)."""

from __future__ import annotations

import os
import time

from ashasim.run import Reporter, checkpoint, current_job


def curve(x: float, epoch: int) -> float:
    """A known learning curve: lower x is better, every epoch improves."""
    return x + 1.0 / epoch


def quadratic(x: float, max_epochs: int, sleep: float = 0.0) -> None:
    """Reports curve(x, epoch) for every epoch (no checkpoint: retrains from scratch)."""
    report = Reporter()
    for epoch in range(1, max_epochs + 1):
        if sleep:
            time.sleep(sleep)
        report(epoch=epoch, loss=curve(x, epoch))


def with_checkpoint(x: float, max_epochs: int) -> None:
    """Keeps its epoch counter and a tally of epochs actually trained in a checkpoint."""
    report = Reporter()
    state = checkpoint.load() or {"epoch": 0, "trained": 0, "pids": []}
    for epoch in range(state["epoch"] + 1, max_epochs + 1):
        state = {
            "epoch": epoch,
            "trained": state["trained"] + 1,
            "pids": [*state["pids"], os.getpid()],
        }
        checkpoint.save(state)  # before the report: the milestone report ends the job
        report(epoch=epoch, loss=curve(x, epoch), trained=state["trained"])


def crashes_on_trial(x: float, max_epochs: int, bad_trial: int = 1) -> None:
    report = Reporter()
    for epoch in range(1, max_epochs + 1):
        if current_job().trial_id == bad_trial and epoch == 2:
            raise RuntimeError("boom in trial 1")
        report(epoch=epoch, loss=curve(x, epoch))


def dies_on_trial(x: float, max_epochs: int, bad_trial: int = 1) -> None:
    """Trial ``bad_trial`` kills its own worker process with SIGKILL in the middle of epoch 2."""
    import signal

    report = Reporter()
    for epoch in range(1, max_epochs + 1):
        time.sleep(0.4)  # slow enough that the replacement worker gets jobs too
        if current_job().trial_id == bad_trial and epoch == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        report(epoch=epoch, loss=curve(x, epoch))


def bad_metric(x: float, max_epochs: int) -> None:
    """Trial 0 reports NaN, trial 1 forgets the metric, the others behave."""
    report = Reporter()
    for epoch in range(1, max_epochs + 1):
        trial = current_job().trial_id
        if trial == 0:
            report(epoch=epoch, loss=float("nan"))
        elif trial == 1:
            report(epoch=epoch, accuracy=0.5)
        else:
            report(epoch=epoch, loss=curve(x, epoch))


def returns_early(x: float, max_epochs: int) -> None:
    report = Reporter()
    for epoch in range(1, 2):
        report(epoch=epoch, loss=curve(x, epoch))


def with_checkpoint_slow(x: float, max_epochs: int) -> None:
    """with_checkpoint, with 0.3 s epochs (time for a test to interrupt the driver)."""
    report = Reporter()
    state = checkpoint.load() or {"epoch": 0, "trained": 0, "pids": []}
    for epoch in range(state["epoch"] + 1, max_epochs + 1):
        time.sleep(0.3)
        state = {"epoch": epoch, "trained": state["trained"] + 1, "pids": []}
        checkpoint.save(state)
        report(epoch=epoch, loss=curve(x, epoch))


def ray_kills_trial(x: float, max_epochs: int, bad_trial: int = 1) -> None:
    """Trial ``bad_trial`` is killed with ray.kill (its own actor) in the middle of epoch 2."""
    report = Reporter()
    for epoch in range(1, max_epochs + 1):
        if current_job().trial_id == bad_trial and epoch == 2:
            import ray

            ray.kill(ray.get_runtime_context().current_actor)
            time.sleep(60)  # the kill lands while we wait
        report(epoch=epoch, loss=curve(x, epoch))


def always_fails(x: float, max_epochs: int) -> None:
    raise FileNotFoundError("no data here")


def slow_to_unwind(x: float, max_epochs: int) -> None:
    """quadratic, but the objective needs 0.3 s to clean up after its job is ended (think of a
    ``finally`` that closes files or frees GPU memory)."""
    try:
        quadratic(x, max_epochs)
    finally:
        time.sleep(0.3)


def dies_after_its_milestone(x: float, max_epochs: int, bad_trial: int = 0) -> None:
    """quadratic, but trial ``bad_trial`` SIGKILLs its worker once each job has been ended."""
    import signal

    try:
        quadratic(x, max_epochs)
    finally:
        if current_job().trial_id == bad_trial:
            os.kill(os.getpid(), signal.SIGKILL)


def hangs(x: float, max_epochs: int, hang_trial: int = -1) -> None:
    """quadratic with 0.2 s epochs; trial ``hang_trial`` (every trial when -1) hangs in epoch 2,
    as an objective stuck in a dead data loader or a deadlocked collective would."""
    report = Reporter()
    for epoch in range(1, max_epochs + 1):
        time.sleep(0.2)
        if epoch == 2 and hang_trial in (-1, current_job().trial_id):
            time.sleep(3600)
        report(epoch=epoch, loss=curve(x, epoch))


_FLAKY: dict[int, int] = {}  # trial -> times it still raises (in-process FakeBackend runs only)


def reset_flaky(times: dict[int, int]) -> None:
    _FLAKY.clear()
    _FLAKY.update(times)


def flaky_objective(x: float, max_epochs: int) -> None:
    """Raises at its first epoch while its trial has raises left (a transient error)."""
    job = current_job()
    report = Reporter()
    for epoch in range(job.resume_from + 1, max_epochs + 1):
        if epoch == 1 and _FLAKY.get(job.trial_id, 0) > 0:
            _FLAKY[job.trial_id] -= 1
            raise RuntimeError("flaky")
        report(epoch=epoch, loss=curve(x, epoch))


def forgets_checkpoints(x: float, max_epochs: int) -> None:
    """``with_checkpoint`` on a worker whose disk does not have the trial's checkpoints (a
    checkpoint folder that is not shared): a promoted job finds nothing there."""
    job = current_job()
    folder = checkpoint.directory()
    if job.resume_from and folder is not None:
        for path in folder.glob("resource_*.pt"):
            path.unlink()
    with_checkpoint(x, max_epochs)


def starts_a_sleeper(x: float, max_epochs: int, pid_dir: str, hang: bool = False) -> None:
    """Starts ``sleep 300`` (same session), writes its pid to *pid_dir*, reports; with *hang*
    it waits after its first report (for the driver to be killed)."""
    import subprocess

    sleeper = subprocess.Popen(["sleep", "300"])
    job = current_job()
    trial = job.trial_id if job is not None else 0
    with open(os.path.join(pid_dir, f"{trial}.pid"), "w") as handle:
        handle.write(str(sleeper.pid))
    report = Reporter()
    for epoch in range(1, max_epochs + 1):
        report(epoch=epoch, loss=curve(x, epoch))
        while hang:
            time.sleep(0.1)
