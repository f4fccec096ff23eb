"""The real-time driver: the same loop as the SimPy clock, waiting on real workers instead.

Theory of operation
-------------------
Free workers get jobs in worker-index order (``scheduler.suggest()``); each report an objective
makes travels to this process, which asks the scheduler and answers "continue" or "stop"; the job
ends at STOP or at its milestone (the objective is interrupted at that report), and the worker
acknowledges. The report at a job's milestone ends the job whatever the scheduler says, so it
is held back and given to the scheduler only once the worker has let go of the trial (its
acknowledgement, its death, or the end of the run): a scheduler may promote a paused trial at
once, and a trial must never run in two places. Every step is journaled as it happens
(``journal.jsonl``, one unbuffered write per event), so a crash loses at most the epoch in
flight.

Faults never stop the run: an exception in the objective, a metric that is missing, NaN or
infinite, a report the scheduler refuses, an objective that returns before its milestone, or a
worker process that dies all end the job as ``failed`` (the error text is journaled) and call
``scheduler.fail``; a dead worker is replaced. JobEnded's reason is ``failed`` exactly when
``scheduler.fail`` was called, which is what makes the journal replayable.

Resume: the run directory keeps the scheduler exactly as it was before its first call
(``tuner.pkl``). ``Tuner.resume(dir)`` replays the journal's calls into it (a scheduler is a pure
state machine: same calls, same state), checks every job it suggests against the journal, then
re-dispatches the jobs that were in flight (they continue from their last report, from the trial's
checkpoint when the objective keeps one) and goes on. Time continues from the last journaled event.
"""

from __future__ import annotations

import datetime as _dt
import math
import pickle
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ashasim.core.jobs import Decision, Scheduler, TrialState
from ashasim.events import JOURNAL, JobEnded, JobStarted, Reported, Trace, read_journal
from ashasim.progress import Progress, format_seconds
from ashasim.run.backend import Backend, WorkerSlot, plan_slots
from ashasim.run.context import JobSpec
from ashasim.run.worker import dumps_objective

__all__ = ["ResumeError", "StoppingCriterion", "Tuner", "TunerError"]

STATE_FILE = "tuner.pkl"
DEFAULT_ROOT = Path("runs")
MAX_RESTARTS = 5  # a worker that dies this many times in a row without finishing a job is fatal


class TunerError(RuntimeError):
    """The run cannot go on (the objective cannot be loaded, workers keep dying, ...)."""


class ResumeError(TunerError):
    """A run directory cannot be resumed (no saved state, or a journal its scheduler disputes)."""


@dataclass(frozen=True)
class StoppingCriterion:
    """When to stop: after ``max_wallclock_time`` seconds or ``max_trials`` trials started
    (``max_num_trials_started`` is Syne Tune's name for the latter); whichever comes first.
    The run also ends when the scheduler is done."""

    max_wallclock_time: float | None = None
    max_trials: int | None = None
    max_num_trials_started: int | None = None

    def __post_init__(self) -> None:
        if self.max_wallclock_time is not None and not (
            isinstance(self.max_wallclock_time, (int, float))
            and not isinstance(self.max_wallclock_time, bool)
            and 0 < self.max_wallclock_time < math.inf
        ):
            raise ValueError(
                f"max_wallclock_time must be a finite number of seconds > 0, "
                f"got {self.max_wallclock_time!r}"
            )
        for name in ("max_trials", "max_num_trials_started"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if self.max_trials is not None and self.max_num_trials_started is not None:
            raise ValueError("give max_trials or max_num_trials_started, not both")

    @property
    def trials(self) -> int | None:
        return self.max_trials if self.max_trials is not None else self.max_num_trials_started


@dataclass
class _Job:
    spec: JobSpec
    bracket: int
    resource: int  # last resource the scheduler heard of in this job
    ending: str | None = None  # "milestone" | "stopped" | "failed" once decided
    error: str | None = None
    held: tuple[int, float, dict] | None = None  # milestone report awaiting the worker's ack


@dataclass
class _Settings:
    """What a run directory needs to be resumed: saved before the scheduler's first call."""

    objective: bytes
    config_space: dict[str, Any]
    scheduler: Scheduler
    n_workers: int
    devices: Any
    workers_per_device: int | None
    backend: str
    backend_options: dict[str, Any] = field(default_factory=dict)
    name: str = ""


class Tuner:
    """Tune ``objective`` with ``scheduler`` on ``n_workers`` real workers.

    *objective*: a function of the config's keys (e.g. ``objective(learning_rate, batch_size,
    max_epochs)``) that reports through ``Reporter()(epoch=..., <metric>=...)``.
    *config_space*: the space (must be the scheduler's; None takes the scheduler's).
    *stop*: a ``StoppingCriterion``. *devices*: "auto" (every visible GPU, else the CPU), "cpu", or
    a list like ["cuda:0", "cuda:1"]. *workers_per_device*: at most this many workers per device
    (None: as many as needed, round-robin). *experiment_dir*: the run directory (default
    ``runs/<name>``); it must not hold a run already. *backend*: "local" (processes here) or
    "ray" (*ray_address*: None for a local Ray, "auto" or "ray://host:port" for a cluster).
    *quiet*: no progress line. *print_every*: a plain status line on stdout every so many seconds
    (for notebooks and logs). *max_failures*: give up (TunerError) after this many jobs in a row
    failed without a single good report in between: a systematic error (missing data, a bug in
    the objective) would otherwise burn through thousands of trials; None never gives up.
    *outputs*: write results.csv, summary.json, replay.csv and the Gantt
    and learning-curve figures when the run ends. *name*: the run's name (default: scheduler and
    time), the directory name under ``runs/``.
    """

    def __init__(
        self,
        objective: Callable[..., Any],
        config_space: Mapping[str, Any] | None,
        scheduler: Scheduler,
        n_workers: int,
        *,
        stop: StoppingCriterion | None = None,
        devices: str | Sequence[str] = "auto",
        workers_per_device: int | None = None,
        experiment_dir: str | Path | None = None,
        backend: str = "local",
        ray_address: str | None = None,
        quiet: bool = False,
        outputs: bool = True,
        name: str | None = None,
        print_every: float | None = None,
        max_failures: int | None = 10,
    ) -> None:
        if not callable(objective):
            raise ValueError(f"objective must be a function of the config, got {objective!r}")
        for method in ("suggest", "report", "fail"):
            if not callable(getattr(scheduler, method, None)):
                raise ValueError(f"scheduler must have suggest/report/fail, got {scheduler!r}")
        if getattr(scheduler, "n_trials", 0):
            raise ValueError(
                "scheduler has been used already; give the Tuner a fresh one (a run directory "
                "keeps it as it was before its first call, to resume)"
            )
        own_space = getattr(scheduler, "config_space", None)
        if config_space is None:
            config_space = own_space or {}
        elif own_space is not None and dict(config_space) != dict(own_space):
            raise ValueError("config_space differs from the scheduler's config_space")
        if backend not in ("local", "ray"):
            raise ValueError(f"backend must be 'local' or 'ray', got {backend!r}")
        self.stop = stop if stop is not None else StoppingCriterion()
        if not isinstance(self.stop, StoppingCriterion):
            raise ValueError(f"stop must be a StoppingCriterion, got {stop!r}")
        slots = _plan(backend, n_workers, devices, workers_per_device)  # validates the three
        if self.stop.trials is not None:
            limit = getattr(scheduler, "limit_trials", None)
            if limit is None:
                raise ValueError("stop.max_trials needs a scheduler with limit_trials()")
            limit(self.stop.trials)
        if self.stop.max_wallclock_time is None and getattr(scheduler, "max_trials", None) is None:
            raise ValueError(
                "give stop=StoppingCriterion(max_wallclock_time=...) or max_trials (or a "
                "scheduler with max_trials): otherwise the run never ends"
            )
        self.name = name or _default_name(scheduler)
        self.experiment_dir = Path(experiment_dir) if experiment_dir else DEFAULT_ROOT / self.name
        if (self.experiment_dir / JOURNAL).exists():
            raise ValueError(
                f"experiment_dir {self.experiment_dir} already holds a run; resume it with "
                f"Tuner.resume({str(self.experiment_dir)!r}) or choose another directory"
            )
        if print_every is not None and not (
            isinstance(print_every, (int, float)) and 0 < print_every < math.inf
        ):
            raise ValueError(f"print_every must be a number of seconds > 0, got {print_every!r}")
        if max_failures is not None and (
            isinstance(max_failures, bool) or not isinstance(max_failures, int) or max_failures < 1
        ):
            raise ValueError(f"max_failures must be an integer >= 1 or None, got {max_failures!r}")
        self.scheduler = scheduler
        self.slots = slots
        self.quiet = quiet
        self.outputs = outputs
        self.print_every = print_every
        self.max_failures = max_failures
        self._settings = _Settings(
            objective=dumps_objective(objective),
            config_space=dict(config_space),
            scheduler=scheduler,
            n_workers=n_workers,
            devices=devices if isinstance(devices, str) else list(devices),
            workers_per_device=workers_per_device,
            backend=backend,
            backend_options={
                "ray_address": ray_address,
                "workers_per_device": workers_per_device,
                "use_gpus": devices != "cpu",
            },
            name=self.name,
        )
        self._resuming = False
        self.trace: Trace | None = None

    # -- public ---------------------------------------------------------------------------------

    @classmethod
    def resume(
        cls,
        experiment_dir: str | Path,
        *,
        stop: StoppingCriterion | None = None,
        quiet: bool = False,
        outputs: bool = True,
    ) -> Trace:
        """Continue a stopped or crashed run from its journal; returns the whole run's Trace.

        *stop* replaces the saved stopping criterion (e.g. a longer time budget); the time
        budget counts the whole run, the part before the interruption included.
        """
        directory = Path(experiment_dir)
        state = directory / STATE_FILE
        if not state.exists():
            raise ResumeError(f"{directory} holds no resumable run (no {STATE_FILE})")
        with open(state, "rb") as handle:
            settings: _Settings = pickle.load(handle)
            saved_stop: StoppingCriterion = pickle.load(handle)
        tuner = cls.__new__(cls)
        tuner._settings = settings
        tuner.scheduler = settings.scheduler
        tuner.stop = stop if stop is not None else saved_stop
        tuner.slots = _plan(
            settings.backend, settings.n_workers, settings.devices, settings.workers_per_device
        )
        tuner.name = settings.name
        tuner.experiment_dir = directory
        tuner.quiet = quiet
        tuner.outputs = outputs
        tuner.print_every = None
        tuner.max_failures = 10
        tuner._resuming = True
        tuner.trace = None
        return tuner.run()

    def run(self) -> Trace:
        """Run until the scheduler is done, the stopping criterion fires, or Ctrl-C (which
        cancels running jobs, keeps the journal, and re-raises KeyboardInterrupt)."""
        _Run(self).execute()
        assert self.trace is not None
        if self.outputs:
            from ashasim.outputs import write_outputs
            from ashasim.run.replay import export_tabular

            write_outputs(self.trace, self.experiment_dir, title=f"{self.name}")
            export_tabular(self.trace, self.experiment_dir / "replay.csv")
        return self.trace

    # -- for _Run -------------------------------------------------------------------------------

    def _info(self) -> dict[str, Any]:
        describe = getattr(self.scheduler, "describe", None)
        return {
            "n_workers": self._settings.n_workers,
            "clock": "wallclock",
            "metric": getattr(self.scheduler, "metric", "metric"),
            "mode": getattr(self.scheduler, "mode", "min"),
            "resource_attr": getattr(self.scheduler, "resource_attr", "epoch"),
            "scheduler": describe() if describe else {"name": type(self.scheduler).__name__},
            "devices": [slot.device for slot in self.slots],
            "backend": self._settings.backend,
            "name": self.name,
            "started_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "max_wallclock_time": self.stop.max_wallclock_time,
        }

    def _make_backend(self) -> Backend:
        if self._settings.backend == "ray":
            from ashasim.run.ray_backend import RayBackend

            return RayBackend(self.slots, **self._settings.backend_options)
        from ashasim.run.local import LocalBackend

        return LocalBackend()


def _plan(
    backend: str, n_workers: int, devices: Any, workers_per_device: int | None
) -> list[WorkerSlot]:
    """Worker slots: pinned to local devices, or (Ray) placed by Ray across the cluster."""
    if backend != "ray":
        return plan_slots(n_workers, devices, workers_per_device)
    plan_slots(n_workers, "cpu", None)  # validates n_workers
    if workers_per_device is not None and (
        isinstance(workers_per_device, bool)
        or not isinstance(workers_per_device, int)
        or workers_per_device < 1
    ):
        raise ValueError(
            f"workers_per_device must be an integer >= 1 or None, got {workers_per_device!r}"
        )
    return [WorkerSlot(index, "ray", None) for index in range(n_workers)]


def _default_name(scheduler: Scheduler) -> str:
    stamp = _dt.datetime.now().strftime("%Y-%m-%d-%H-%M-%S-%f")[:-3]
    return f"{type(scheduler).__name__.lower()}-{stamp}"


class _Run:
    """One execution of a Tuner (a fresh start or a resume)."""

    def __init__(self, tuner: Tuner) -> None:
        self.tuner = tuner
        self.scheduler = tuner.scheduler
        self.metric = getattr(self.scheduler, "metric", "metric")
        self.resource_attr = getattr(self.scheduler, "resource_attr", "epoch")
        self.max_t = getattr(self.scheduler, "max_t", None)
        self.bracket_of = getattr(self.scheduler, "trial_bracket", lambda trial_id: 0)
        self.jobs: dict[int, _Job] = {}  # worker -> its job
        self.idle: set[int] = set()
        self.starting: set[int] = set()
        self.restarts: dict[int, int] = {}
        self.orphans: deque[tuple[JobStarted, int]] = deque()  # (original start, resume point)
        self.offset = 0.0
        self.failed_jobs = 0
        self.failures_in_a_row = 0
        if tuner.print_every is not None and not tuner.quiet:
            self.progress = Progress(
                "tune", interval=tuner.print_every, stream=sys.stdout, lines=True
            )
        else:
            self.progress = Progress("tune", quiet=tuner.quiet)

    # -- time -----------------------------------------------------------------------------------

    def now(self) -> float:
        return self.offset + time.monotonic() - self.t0

    # -- set-up ---------------------------------------------------------------------------------

    def open_trace(self) -> Trace:
        directory = self.tuner.experiment_dir
        journal = directory / JOURNAL
        if not self.tuner._resuming:
            directory.mkdir(parents=True, exist_ok=True)
            with open(directory / STATE_FILE, "wb") as handle:
                pickle.dump(self.tuner._settings, handle)
                pickle.dump(self.tuner.stop, handle)
            return Trace(self.tuner._info(), journal=journal)
        header, events = read_journal(journal)
        trace = Trace(header, journal=journal, append=True)
        trace.events = events
        self.replay(events)
        self.offset = events[-1].t if events else 0.0
        # Jobs the journal never saw end were cut by the crash: end them where it stopped.
        for worker, (start, _) in sorted(self.open_at_end.items()):
            trace.record(
                JobEnded(
                    self.offset,
                    worker,
                    start.trial_id,
                    self.reached[start.trial_id],
                    "cancelled",
                    "the driver stopped before this job ended",
                )
            )
        return trace

    def replay(self, events: list) -> None:
        """Feed the journal's calls to the fresh scheduler, checking each suggested job."""
        scheduler = self.scheduler
        starts: dict[int, JobStarted] = {}  # trial -> its latest JobStarted
        self.reached: dict[int, int] = {}
        self.open_at_end: dict[int, tuple[JobStarted, int]] = {}
        for number, event in enumerate(events, start=2):
            kind = type(event)
            if kind is JobStarted:
                continuing = (
                    event.trial_id in starts
                    and _state(scheduler, event.trial_id) is TrialState.RUNNING
                )
                if not continuing:
                    job = scheduler.suggest()
                    expected = (event.trial_id, event.resume_from, event.milestone)
                    got = None if job is None else (job.trial_id, job.resume_from, job.milestone)
                    if got != expected:
                        raise ResumeError(
                            f"journal line {number}: the run started (trial, resume_from, "
                            f"milestone) = {expected}, but the saved scheduler suggests {got}; "
                            f"the journal does not belong to this scheduler"
                        )
                starts[event.trial_id] = event
                self.reached[event.trial_id] = event.resume_from
                self.open_at_end[event.worker] = (event, event.resume_from)
            elif kind is Reported:
                decision = scheduler.report(event.trial_id, event.resource, event.metric)
                if decision.value != event.decision:
                    raise ResumeError(
                        f"journal line {number}: trial {event.trial_id} got {event.decision!r} "
                        f"but the saved scheduler answers {decision.value!r}"
                    )
                self.reached[event.trial_id] = event.resource
            elif kind is JobEnded:
                self.open_at_end.pop(event.worker, None)
                if event.reason == "failed":
                    scheduler.fail(event.trial_id)
        # Trials still running in the scheduler lost their job: continue them from their last
        # report (in trial order, before any new suggestion).
        for trial_id in sorted(starts):
            if _state(scheduler, trial_id) is TrialState.RUNNING:
                self.orphans.append((starts[trial_id], self.reached[trial_id]))

    # -- the loop -------------------------------------------------------------------------------

    def execute(self) -> None:
        tuner = self.tuner
        trace = tuner.trace = self.open_trace()
        self.trace = trace
        self.t0 = time.monotonic()
        self.backend = tuner._make_backend()
        deadline = tuner.stop.max_wallclock_time
        try:
            for slot in tuner.slots:
                self.start_worker(slot)
            while True:
                now = self.now()
                if deadline is not None and now >= deadline:
                    self.cancel_all(deadline, "the time budget ran out")
                    break
                self.dispatch()
                if not self.jobs and not self.orphans and not self.starting:
                    if getattr(self.scheduler, "done", False):
                        break
                    if len(self.idle) == len(tuner.slots):
                        raise TunerError(
                            f"stalled at t={now:.1f}s: no job runs, the scheduler suggests "
                            f"none, yet it is not done"
                        )
                timeout = 0.5 if deadline is None else max(0.0, min(0.5, deadline - now))
                for worker, message in self.backend.wait(timeout):
                    self.handle(worker, message)
                self.show_progress()
        except BaseException as error:
            # Ctrl-C, or a reason to give up: close the journal's open jobs, then stop.
            why = "interrupted (Ctrl-C)" if isinstance(error, KeyboardInterrupt) else str(error)
            self.cancel_all(self.now(), f"the run stopped: {why.splitlines()[0]}")
            raise
        finally:
            self.progress.close()
            self.backend.close()
            trace.close()

    def start_worker(self, slot: WorkerSlot) -> None:
        self.starting.add(slot.index)
        self.idle.discard(slot.index)
        self.backend.start(slot, self.tuner._settings.objective)

    def dispatch(self) -> None:
        for worker in sorted(self.idle):
            if self.orphans:
                start, resume_from = self.orphans.popleft()
                spec = self.spec(start.trial_id, start.config, resume_from, start.milestone)
                bracket = start.bracket
            else:
                job = self.scheduler.suggest()
                if job is None:
                    return
                spec = self.spec(job.trial_id, job.config, job.resume_from, job.milestone)
                bracket = self.bracket_of(job.trial_id)
            self.idle.discard(worker)
            self.jobs[worker] = _Job(spec, bracket, spec.resume_from)
            self.trace.record(
                JobStarted(
                    self.now(),
                    worker,
                    spec.trial_id,
                    spec.config,
                    spec.resume_from,
                    spec.milestone,
                    bracket,
                )
            )
            self.backend.send(worker, ("job", spec))

    def spec(self, trial_id: int, config: dict, resume_from: int, milestone: int) -> JobSpec:
        folder = self.tuner.experiment_dir / "checkpoints" / f"trial_{trial_id}"
        return JobSpec(
            trial_id,
            dict(config),
            resume_from,
            milestone,
            str(folder.resolve()),
            {"resource_attr": self.resource_attr},
        )

    # -- messages -------------------------------------------------------------------------------

    def handle(self, worker: int, message: tuple) -> None:
        kind = message[0]
        if kind == "ready":
            self.starting.discard(worker)
            self.idle.add(worker)
        elif kind == "fatal":
            raise TunerError(f"worker {worker} could not load the objective:\n{message[1]}")
        elif kind == "report":
            self.on_report(worker, message[2])
        elif kind in ("returned", "stopped", "error"):
            self.on_job_end(worker, kind, message[2] if kind == "error" else None)
        elif kind == "died":
            self.on_death(worker, message[1])

    def on_report(self, worker: int, values: dict[str, Any]) -> None:
        job = self.jobs[worker]
        spec = job.spec
        if job.ending is not None:
            self.backend.send(worker, "stop")
            return
        resource = values.get(self.resource_attr)
        metric = values.get(self.metric)
        problem = None
        if isinstance(resource, float) and resource.is_integer():
            resource = int(resource)
        if isinstance(resource, bool) or not isinstance(resource, int):
            problem = (
                f"report({_show(values)}) must include {self.resource_attr}=<integer>, "
                f"the resource the scheduler counts"
            )
        elif self.metric not in values:
            problem = (
                f"report({_show(values)}) has no {self.metric!r}, the metric the scheduler "
                f"optimizes"
            )
        elif (
            isinstance(metric, bool)
            or not isinstance(metric, (int, float))
            or not math.isfinite(metric)
        ):
            problem = (
                f"{self.metric} = {metric!r} at {self.resource_attr}={resource} is not a finite "
                f"number"
            )
        if problem is None and resource <= spec.resume_from:
            # The objective retrains from scratch (no checkpoint): the scheduler has these.
            self.backend.send(worker, "continue")
            return
        if problem is not None:
            self.fail(job, problem)
        elif resource >= spec.milestone:
            # The job ends here whatever the decision; the scheduler hears of it in settle().
            job.ending, job.held = "milestone", (resource, float(metric), values)
        else:
            self.deliver(worker, job, resource, float(metric), values)
        self.backend.send(worker, "continue" if job.ending is None else "stop")

    def deliver(
        self, worker: int, job: _Job, resource: int, metric: float, values: dict[str, Any]
    ) -> None:
        """Give a report to the scheduler and journal it with the decision (or fail the job)."""
        spec = job.spec
        try:
            decision = self.scheduler.report(spec.trial_id, resource, metric)
        except (ValueError, KeyError) as error:
            self.fail(job, f"the scheduler refused report({_show(values)}): {error}")
            return
        job.resource = resource
        self.failures_in_a_row = 0
        self.trace.record(
            Reported(self.now(), worker, spec.trial_id, resource, metric, decision.value)
        )
        if decision is Decision.STOP:
            job.ending = "stopped"
        elif resource >= spec.milestone:
            job.ending = "milestone"

    def settle(self, worker: int, job: _Job) -> None:
        """The worker has let go of the trial: deliver the milestone report held back for it."""
        if job.held is not None:
            resource, metric, values = job.held
            job.held = None
            self.deliver(worker, job, resource, metric, values)

    def fail(self, job: _Job, error: str) -> None:
        job.ending, job.error = "failed", error
        self.scheduler.fail(job.spec.trial_id)
        self.failures_in_a_row += 1

    def on_job_end(self, worker: int, kind: str, error: str | None) -> None:
        job = self.jobs.get(worker)
        if job is None:
            return
        self.settle(worker, job)
        if job.ending is None:
            if kind == "returned":
                error = (
                    f"the objective returned after {self.resource_attr}={job.resource}, before "
                    f"the job's milestone {job.spec.milestone} (does it report every "
                    f"{self.resource_attr} up to the config's maximum?)"
                )
            self.fail(job, error or f"the job ended unexpectedly ({kind})")
        elif error is not None and job.error is None:
            job.error = error  # raised while unwinding after its last report; the result stands
        self.end_job(worker, job)
        self.restarts[worker] = 0
        self.idle.add(worker)

    def on_death(self, worker: int, exitcode: int | str | None) -> None:
        self.starting.discard(worker)
        self.idle.discard(worker)
        job = self.jobs.get(worker)
        if job is not None:
            self.settle(worker, job)  # a result reported before the death stands
            if job.ending is None:
                self.fail(job, f"the worker process died ({_exit_reason(exitcode)})")
            self.end_job(worker, job)
        self.restarts[worker] = self.restarts.get(worker, 0) + 1
        if self.restarts[worker] > MAX_RESTARTS:
            raise TunerError(
                f"worker {worker} died {MAX_RESTARTS + 1} times in a row "
                f"({_exit_reason(exitcode)}); giving up"
            )
        self.start_worker(self.tuner.slots[worker])

    def end_job(self, worker: int, job: _Job) -> None:
        del self.jobs[worker]
        if job.ending == "failed":
            self.failed_jobs += 1
        self.trace.record(
            JobEnded(
                self.now(),
                worker,
                job.spec.trial_id,
                job.resource,
                job.ending or "failed",
                job.error,
            )
        )
        limit = self.tuner.max_failures
        if job.ending == "failed" and limit is not None and self.failures_in_a_row >= limit:
            raise TunerError(
                f"{self.failures_in_a_row} jobs failed in a row without a single good report; "
                f"giving up (a systematic error? max_failures={limit}). The last error:\n"
                f"{job.error}"
            )

    def cancel_all(self, at: float, why: str) -> None:
        """End every running job as cancelled at time ``at`` and stop its worker."""
        for worker in sorted(self.jobs):
            job = self.jobs[worker]
            self.settle(worker, job)  # a milestone reached before the stop counts
            del self.jobs[worker]
            # Undecided jobs are cancelled (their trials stay running, and a resume continues
            # them); decided ones keep their reason, which the scheduler already acted on.
            reason = job.ending or "cancelled"
            at = max(at, self.trace.makespan)
            self.trace.record(
                JobEnded(at, worker, job.spec.trial_id, job.resource, reason, job.error or why)
            )
            self.backend.stop(worker)

    def show_progress(self) -> None:
        if not self.progress.enabled:
            return
        now = self.now()
        deadline = self.tuner.stop.max_wallclock_time
        best = self.trace.best
        best_text = "—" if best is None else f"{best.metric:.4g}"
        started = getattr(self.scheduler, "n_trials", 0)
        remaining = f" left {format_seconds(max(0.0, deadline - now))}" if deadline else ""
        self.progress.update(
            None if deadline is None else now / deadline,
            f"trials {started} running {len(self.jobs)} failed jobs {self.failed_jobs} "
            f"best {self.metric} {best_text} elapsed {format_seconds(now)}{remaining}",
        )


def _state(scheduler: Scheduler, trial_id: int) -> TrialState | None:
    getter = getattr(scheduler, "trial_state", None)
    if getter is None:
        return None
    try:
        return getter(trial_id)
    except KeyError:
        return None


def _show(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in values.items())


def _exit_reason(exitcode: int | str | None) -> str:
    if isinstance(exitcode, str):
        return exitcode
    if exitcode is None:
        return "exit code unknown"
    if exitcode < 0:
        import signal

        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"
