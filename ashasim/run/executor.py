"""The real-time loop: worker messages in, driver calls out (the executor's half of the one loop).

Everything a run decides is the driver's (``ashasim.driver``); this loop only starts workers on a
backend, turns their messages (``ashasim.run.messages``) into driver calls, sends the jobs the
driver hands out, keeps the clock (the backend's), stops at the time budget, and replaces workers
that die. Ctrl-C, SIGTERM, or any error, ends every running job in the journal (``cancelled``, so
a resume continues them) before it propagates.

Time limit per job (*trial_timeout*), counted from the worker's ``Started`` (sent as it calls
the objective: start-up, imports and transit are not the job's): a job past it fails with a
reason naming the limit, and its worker, stuck in the objective, is replaced (the only way to
get a hung objective back). A resumed job the interruption cut after it had run past the limit
(*ran*) fails at once, so a hung trial cannot hang the run twice. A driver killed outright
journals nothing as it dies, so the loop notes the run time about once a second (*alive*, a
heartbeat): a resume charges the cut jobs with the time they ran until the crash.

No silent waits: a worker that was started but has not said ``Ready`` (Ray cannot place its
actor: no node has room, the cluster lost its nodes, a node it landed on is dying) is shown on the
progress line after ``WAIT_NOTICE`` seconds; when *no* worker at all has been ready for
*placement_timeout* seconds, the run stops (``NoWorkersError``: running jobs cancelled in the
journal, so a resume continues it) instead of waiting for ever.
"""

from __future__ import annotations

import dataclasses
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
    Probe,
    Probed,
    Ready,
    Report,
    Returned,
    RunJob,
    Started,
    Stopped,
)
from ashasim.run.preflight import NoWorkersError, fatal_error, probed_error
from ashasim.run.stopping import Terminated, exit_reason, stop_on_signals, stop_reason
from ashasim.stop_rules import StopRules

__all__ = [
    "MAX_RESTARTS",
    "WAIT_NOTICE",
    "Execution",
    "NoWorkersError",
    "Terminated",
    "exit_reason",
    "stop_on_signals",
    "stop_reason",
]

MAX_RESTARTS = 5  # a worker that dies more often in a row, reporting nothing between, is fatal
POLL = 0.5  # seconds between looks at the clock while nothing arrives
WAIT_NOTICE = 10.0  # seconds a worker may take to start before the progress line says so
BEAT = 1.0  # seconds of run time between two heartbeats


class Execution:
    """One execution of a run (a fresh start or a resume) on ``backend``.

    *spec*: turns a scheduler's Job into the JobSpec a worker gets (checkpoint folder, ...).
    *offset*: run time already spent before this execution (a resume continues the clock).
    *deadline*: the time budget in run time (None: none).
    *trial_timeout*: seconds a job may run (None: no limit). *ran*: trial -> seconds its job had
    run when an earlier execution was interrupted (jobs this one continues first). *saved*:
    trial -> resources it filed checkpoints at before (from the journal), which its workers must
    find.
    *alive*: called with the run time about every ``BEAT`` seconds while the loop runs (the
    heartbeat a resume reads after a crash). *rules*: the run's ``Stop`` rules that watch the
    journal (``ashasim.stop_rules``); once one is met the loop ends the run at its next turn,
    as when the time budget runs out.
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
        trial_timeout: float | None = None,
        ran: dict[int, float] | None = None,
        saved: dict[int, list[int]] | None = None,
        placement_timeout: float | None = None,
        probe: tuple[str, str] | None = None,
        ready: Sequence[int] = (),
        alive: Callable[[float], None] | None = None,
        rules: StopRules | None = None,
    ) -> None:
        self.driver = driver
        self.rules = rules
        self.backend = backend
        self.slots = list(slots)
        self.objective = objective
        self.spec = spec
        self.deadline = deadline
        self.offset = offset
        self.progress = progress or Progress("tune", quiet=True)
        self.restarts = [0] * len(self.slots)
        self.t0 = 0.0
        self.trial_timeout = trial_timeout
        self.ran = dict(ran or {})
        self.job_deadlines: dict[int, float] = {}  # worker -> run time its job must end by
        self.signalled: int | None = None  # SIGTERM or SIGHUP received: stop at the next turn
        self.placement_timeout = placement_timeout
        self.starting: dict[int, float] = {}  # worker -> run time it was (re)started, until Ready
        self.none_ready_since: float | None = None  # every worker starting since then
        # (location, token): each worker must see the checkpoint location before it gets jobs
        self.probe = probe
        self.ready = list(ready)  # workers started and checked already (``preflight``)
        # trial -> resources it filed a checkpoint for (a resumed run's from its journal)
        self.saved: dict[int, list[int]] = {k: list(v) for k, v in (saved or {}).items()}
        self.alive = alive
        self.next_beat = 0.0

    def now(self) -> float:
        """Run time: seconds since the experiment began (across resumes)."""
        return self.offset + (self.backend.clock() - self.t0)

    def run(self) -> None:
        """Until the scheduler is done or the budget runs out; any exception (Ctrl-C included)
        first ends the running jobs in the journal, then propagates."""
        driver, backend, deadline = self.driver, self.backend, self.deadline
        self.t0 = backend.clock()
        try:
            with stop_on_signals(self.on_signal):
                self.loop(driver, backend, deadline)
        except BaseException as error:
            self.stop_all(self.now(), f"the run stopped: {stop_reason(error)}")
            raise
        finally:
            self.progress.close()
            backend.close()

    def on_signal(self, signum: int) -> None:
        self.signalled = signum

    def loop(self, driver: Driver, backend: Backend, deadline: float | None) -> None:
        if driver.finished:  # a resume of a run that had ended: no worker to start
            return
        if self.rules is not None and self.rules.reason is not None:
            return  # a resume whose journal already meets a Stop rule: nothing to start
        for slot in self.slots:
            if slot.index in self.ready:
                driver.add_worker(slot.index)
            else:
                self.start_worker(slot.index)
        while True:
            if self.signalled is not None:
                raise Terminated(self.signalled)
            now = self.now()
            if self.none_ready_since is not None:
                self.check_placement(now)
            if deadline is not None and now >= deadline:
                self.stop_all(deadline, "the time budget ran out")
                return
            if self.alive is not None and now >= self.next_beat:
                self.alive(now)
                self.next_beat = now + BEAT
            if self.job_deadlines:
                self.enforce_time_limits(now)
            if backend.quiescent():
                for worker, job in driver.dispatch(now):
                    self.start_job(worker, job, now)
                if driver.finished:
                    return
            until = now + POLL if deadline is None else min(now + POLL, deadline)
            if self.job_deadlines:
                until = min(until, *self.job_deadlines.values())
            for worker, message in backend.wait(until - self.offset + self.t0):
                self.handle(worker, message)
            self.show_progress()
            asked = getattr(self.progress, "stop_reason", None)  # (ashasim.tune's stop_all)
            if asked is None and self.rules is not None:
                asked = self.rules.reason  # a Stop rule met (ashasim.stop_rules)
            if asked is not None:
                self.stop_all(self.now(), asked)
                return

    def start_job(self, worker: int, job: Job, now: float) -> None:
        """Send a job the driver handed to ``worker``, with its time limit; a continued job that
        had already run past the limit before the interruption fails here instead."""
        limit = self.trial_timeout
        ran = self.ran.pop(job.trial_id, 0.0)
        if limit is not None and ran >= limit:
            self.driver.lose_worker(
                worker,
                now,
                f"its job had run {ran:.4g} s, past the time limit (trial_timeout={limit:g} s), "
                f"when the run was interrupted; not run again",
                retry=False,
            )
            self.driver.add_worker(worker)  # the worker never saw the job
            return
        spec = self.spec(job)
        saved = [r for r in self.saved.get(job.trial_id, ()) if r <= job.resume_from]
        if saved:  # the worker must find it (a checkpoint location that is not shared: an error)
            spec = dataclasses.replace(spec, checkpoint_at=max(saved))
        self.backend.send(worker, RunJob(spec))

    def enforce_time_limits(self, now: float) -> None:
        """End the jobs past their time limit: failed, their workers stopped and replaced."""
        for worker, due in sorted(self.job_deadlines.items()):
            if due > now:
                continue
            del self.job_deadlines[worker]
            if self.driver.jobs[worker] is None:
                continue
            self.replace_worker(
                worker,
                now,
                f"the job ran past its time limit (trial_timeout={self.trial_timeout:g} s); "
                f"its worker was stopped and replaced",
            )

    def replace_worker(self, worker: int, now: float, why: str) -> None:
        """Stop a worker stuck in (or misusing) its objective, fail its job, start a new one."""
        self.job_deadlines.pop(worker, None)
        self.backend.kill(worker)
        self.driver.lose_worker(worker, now, why, retry=False)
        self.start_worker(worker)

    def start_worker(self, worker: int) -> None:
        """(Re)start a worker; until it says Ready it counts as starting."""
        self.starting[worker] = self.now()
        if len(self.starting) == len(self.slots) and self.none_ready_since is None:
            self.none_ready_since = self.now()
        self.backend.start(self.slots[worker], self.objective)

    def check_placement(self, now: float) -> None:
        """Stop the run when no worker has been ready for ``placement_timeout`` seconds."""
        limit = self.placement_timeout
        since = self.none_ready_since
        if limit is None or since is None or now - since < limit:
            return
        raise NoWorkersError(
            f"no worker could be started for {now - since:.0f} s (placement_timeout={limit:g} s): "
            f"the backend cannot place any (a Ray cluster without nodes that fit, or lost "
            f"nodes); the journal is intact, resume the run once workers can start"
        )

    def stop_all(self, at: float, why: str) -> None:
        """End every running job in the journal at ``at`` and stop its worker."""
        for worker in self.driver.cancel(at, why):
            self.backend.kill(worker)

    def handle(self, worker: int, message: Any) -> None:
        driver, kind, now = self.driver, type(message), self.now()
        if kind is Report:
            ignored = driver.told_to_end(worker)
            # journaled (with whether a checkpoint came with it), then answered
            go_on = driver.report_values(worker, now, message.values, message.saved)
            if ignored:  # the objective swallowed its stop: the job failed, the worker must go
                self.replace_worker(worker, now, "the objective ignored a stop")
                return
            self.restarts[worker] = 0  # progress: a worker whose jobs report is not broken
            if not message.final:  # at its milestone the worker has let go, waiting for nothing
                self.backend.send(worker, CONTINUE if go_on else STOP)
            if message.saved:
                resource = message.values.get(driver.resource_attr)
                self.saved.setdefault(message.trial_id, []).append(resource)
        elif kind is Started:
            if self.trial_timeout is not None and driver.jobs[worker] is not None:
                self.job_deadlines[worker] = now + self.trial_timeout
        elif kind is Stopped:
            self.job_done(worker, now)
        elif kind is Returned:
            self.job_done(worker, now, returned=True)
        elif kind is Failed:
            self.job_done(worker, now, error=message.error)
        elif kind is Ready:
            self.starting.pop(worker, None)
            self.none_ready_since = None
            if self.probe is None:
                driver.add_worker(worker)
            else:  # jobs only once it sees the checkpoint location (``Probed``)
                self.backend.send(worker, Probe(*self.probe))
        elif kind is Probed:
            error = probed_error(worker, message, self.probe[0])  # type: ignore[index]
            if error is not None:
                raise error
            driver.add_worker(worker)
        elif kind is Died:
            self.on_death(worker, now, message.detail)
        elif kind is Fatal:
            raise fatal_error(worker, message)

    def job_done(
        self, worker: int, now: float, *, returned: bool = False, error: str | None = None
    ) -> None:
        self.job_deadlines.pop(worker, None)
        if self.driver.jobs[worker] is None:
            return  # a job the driver already ended (cancelled); nothing to settle
        self.driver.end_job(worker, now, returned=returned, error=error)
        self.restarts[worker] = 0

    def on_death(self, worker: int, now: float, detail: int | str | None) -> None:
        self.job_deadlines.pop(worker, None)
        reason = exit_reason(detail)
        self.driver.lose_worker(worker, now, f"the worker process died ({reason})")
        self.restarts[worker] += 1
        if self.restarts[worker] > MAX_RESTARTS:
            raise RunError(
                f"worker {worker} died {MAX_RESTARTS + 1} times in a row ({reason}); giving up"
            )
        self.start_worker(worker)

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
            f"{format_seconds(now)}{remaining}{self.waiting_text(now)}",
        )

    def waiting_text(self, now: float) -> str:
        """ " — waiting 42 s for 2 worker(s) to start" once a start takes WAIT_NOTICE seconds."""
        if not self.starting:
            return ""
        longest = now - min(self.starting.values())
        if longest < WAIT_NOTICE:
            return ""
        limit = self.placement_timeout
        stop = (
            f", stopping at {format_seconds(limit)} without any"
            if limit is not None and len(self.starting) == len(self.slots)
            else ""
        )
        return (
            f" — waiting {format_seconds(longest)} for {len(self.starting)} worker(s) to "
            f"start (no room on the cluster?){stop}"
        )
