"""The real-time loop: worker messages in, driver calls out (the executor's half of the one loop).

Everything a run decides is the driver's (``ashasim.driver``); this loop only starts workers on a
backend, turns their messages (``ashasim.run.messages``) into driver calls, sends the jobs the
driver hands out, keeps the clock (the backend's), stops at the time budget, and replaces workers
that die. Ctrl-C, or any error, ends every running job in the journal (``cancelled``, so a resume
continues them) before it propagates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ashasim.core.jobs import Job
from ashasim.driver import Driver, RunError
from ashasim.progress import Progress, format_seconds
from ashasim.run.backend import Backend, WorkerSlot
from ashasim.run.context import JobSpec
from ashasim.run.messages import (
    CONTINUE,
    STOP,
    Died,
    Failed,
    Fatal,
    Ready,
    Report,
    Returned,
    RunJob,
    Stopped,
)

__all__ = ["MAX_RESTARTS", "Execution"]

MAX_RESTARTS = 5  # a worker that dies this many times in a row without finishing a job is fatal
POLL = 0.5  # seconds between looks at the clock while nothing arrives


class Execution:
    """One execution of a run (a fresh start or a resume) on ``backend``.

    *spec*: turns a scheduler's Job into the JobSpec a worker gets (checkpoint folder, ...).
    *offset*: run time already spent before this execution (a resume continues the clock).
    *deadline*: the time budget in run time (None: none).
    """

    def __init__(
        self,
        driver: Driver,
        backend: Backend,
        slots: Sequence[WorkerSlot],
        objective: bytes,
        spec: Callable[[Job], JobSpec],
        *,
        deadline: float | None = None,
        offset: float = 0.0,
        progress: Progress | None = None,
    ) -> None:
        self.driver = driver
        self.backend = backend
        self.slots = list(slots)
        self.objective = objective
        self.spec = spec
        self.deadline = deadline
        self.offset = offset
        self.progress = progress or Progress("tune", quiet=True)
        self.restarts = [0] * len(self.slots)
        self.t0 = 0.0

    def now(self) -> float:
        """Run time: seconds since the experiment began (across resumes)."""
        return self.offset + (self.backend.clock() - self.t0)

    def run(self) -> None:
        """Until the scheduler is done or the budget runs out; any exception (Ctrl-C included)
        first ends the running jobs in the journal, then propagates."""
        driver, backend, deadline = self.driver, self.backend, self.deadline
        self.t0 = backend.clock()
        try:
            for slot in self.slots:
                backend.start(slot, self.objective)
            while True:
                now = self.now()
                if deadline is not None and now >= deadline:
                    self.stop_all(deadline, "the time budget ran out")
                    return
                if backend.quiescent():
                    for worker, job in driver.dispatch(now):
                        backend.send(worker, RunJob(self.spec(job)))
                    if driver.finished:
                        return
                until = now + POLL if deadline is None else min(now + POLL, deadline)
                for worker, message in backend.wait(until - self.offset + self.t0):
                    self.handle(worker, message)
                self.show_progress()
        except BaseException as error:
            why = "interrupted (Ctrl-C)" if isinstance(error, KeyboardInterrupt) else str(error)
            self.stop_all(self.now(), f"the run stopped: {why.splitlines()[0] if why else why}")
            raise
        finally:
            self.progress.close()
            backend.close()

    def stop_all(self, at: float, why: str) -> None:
        """End every running job in the journal at ``at`` and stop its worker."""
        for worker in self.driver.cancel(at, why):
            self.backend.stop(worker)

    def handle(self, worker: int, message: Any) -> None:
        driver, kind, now = self.driver, type(message), self.now()
        if kind is Report:
            go_on = driver.report_values(worker, now, message.values)
            self.backend.send(worker, CONTINUE if go_on else STOP)
        elif kind is Stopped:
            self.job_done(worker, now)
        elif kind is Returned:
            self.job_done(worker, now, returned=True)
        elif kind is Failed:
            self.job_done(worker, now, error=message.error)
        elif kind is Ready:
            driver.add_worker(worker)
        elif kind is Died:
            self.on_death(worker, now, message.detail)
        elif kind is Fatal:
            raise RunError(f"worker {worker} could not load the objective:\n{message.error}")

    def job_done(
        self, worker: int, now: float, *, returned: bool = False, error: str | None = None
    ) -> None:
        if self.driver.jobs[worker] is None:
            return  # a job the driver already ended (cancelled); nothing to settle
        self.driver.end_job(worker, now, returned=returned, error=error)
        self.restarts[worker] = 0

    def on_death(self, worker: int, now: float, detail: int | str | None) -> None:
        reason = exit_reason(detail)
        self.driver.lose_worker(worker, now, f"the worker process died ({reason})")
        self.restarts[worker] += 1
        if self.restarts[worker] > MAX_RESTARTS:
            raise RunError(
                f"worker {worker} died {MAX_RESTARTS + 1} times in a row ({reason}); giving up"
            )
        self.backend.start(self.slots[worker], self.objective)

    def show_progress(self) -> None:
        if not self.progress.enabled:
            return
        driver, now, deadline = self.driver, self.now(), self.deadline
        best = driver.trace.best
        best_text = "—" if best is None else f"{best.metric:.4g}"
        remaining = f" left {format_seconds(max(0.0, deadline - now))}" if deadline else ""
        self.progress.update(
            None if deadline is None else now / deadline,
            f"trials {driver.scheduler.n_trials} running {driver.n_running} failed jobs "
            f"{driver.failed_jobs} best {driver.metric_name} {best_text} elapsed "
            f"{format_seconds(now)}{remaining}",
        )


def exit_reason(detail: int | str | None) -> str:
    """A worker's death in words: "killed by SIGKILL", "exit code 1", or the backend's reason."""
    if isinstance(detail, str):
        return detail
    if detail is None:
        return "exit code unknown"
    if detail < 0:
        import signal

        try:
            return f"killed by {signal.Signals(-detail).name}"
        except ValueError:
            return f"killed by signal {-detail}"
    return f"exit code {detail}"
