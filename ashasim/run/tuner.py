"""``Tuner``: tune an objective for real, on local worker processes, Ray actors, or in-process.

``Tuner`` validates its arguments, keeps what a resume needs in the run directory
(``ashasim.run.settings``), and runs the one driver (``ashasim.driver``) through the real-time
loop (``ashasim.run.executor``) on a backend. Every report, decision and job end is journaled as
it happens; ``Tuner.resume(dir)`` continues a stopped or crashed run (``ashasim.run.resume``: the
saved scheduler catches up with the journal), and the result is the same as if the run had never
stopped, or refuses in one line (``ResumeError``) without touching the directory.

One driver per run directory: a new run and a resume hold the directory's lock
(``ashasim.run.lock``) from before they read or write anything there until the run ends.
Nothing is written before every argument has been checked.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import cloudpickle

from ashasim.core.jobs import Job, Scheduler
from ashasim.driver import Driver, RunError, check_bounded, run_header
from ashasim.events import JOURNAL, JobEnded, Trace
from ashasim.progress import Progress
from ashasim.run.arguments import (
    BACKENDS,
    DEFAULT_PLACEMENT_TIMEOUT,
    KEEP,
    apply_overrides,
    check_overrides,
    new_settings,
    plan_workers,
)
from ashasim.run.backend import make_backend
from ashasim.run.context import JobSpec
from ashasim.run.executor import Execution
from ashasim.run.lock import RunDirectoryBusyError, RunLock
from ashasim.run.preflight import check_first_worker
from ashasim.run.resume import ResumeError, ResumePoint, catch_up
from ashasim.run.settings import (
    STATE_FILE,
    RunSettings,
    StoppingCriterion,
    identity,
    load_settings,
    read_run_journal,
    restore_objective,
    save_settings,
    why_taken,
)
from ashasim.run.storage import join, probe_clean

__all__ = [
    "BACKENDS",
    "AllTrialsFailedError",
    "StoppingCriterion",
    "Tuner",
]


_Settings = RunSettings  # the name tuner.pkl files written before the settings module use


class Tuner:
    """Tune ``objective`` with ``scheduler`` on ``n_workers`` real workers.

    *objective*: a function of the config's keys (e.g. ``objective(learning_rate, batch_size,
    max_epochs)``) that reports through ``Reporter()(epoch=..., <metric>=...)``.
    *config_space*: the space (must be the scheduler's; None takes the scheduler's).
    *stop*: a ``StoppingCriterion``. *devices*: "auto" (every visible GPU, else the CPU), "cpu", or
    a list like ["cuda:0", "cuda:1"]. *workers_per_device*: at most this many workers per device
    (None: as many as needed, round-robin). *experiment_dir*: the run directory (default
    ``runs/<name>``); it must not hold a run already. *backend*: "local" (processes here), "ray"
    (*ray_address*: None for a local Ray, "auto" or "ray://host:port" for a cluster) or "fake"
    (in this process, on a virtual clock; *backend_options* go to ``FakeBackend``).
    *quiet*: no progress line. *print_every*: a plain status line on stdout every so many seconds
    (for notebooks and logs). *max_failures*: give up (RunError) after this many jobs in a row
    failed without a single good report in between: a systematic error (missing data, a bug in
    the objective) would otherwise burn through thousands of trials; None never gives up.
    *trial_timeout*: seconds a job may run; a job still running then fails with a reason naming
    the limit, and its worker is stopped and replaced (a hung objective). None: no limit.
    *max_retries*: times a trial is retried, from its last report and checkpoint, after its
    worker died (node lost, OOM kill, preemption): journaled ``retried``, not a failure; the
    scheduler hears of a failure only when the retries have run out (0: a death fails the job).
    *retry_on_error*: retry exceptions raised by the objective too (default: they fail the job).
    *checkpoint_storage*: where trials' checkpoints live (``ashasim.run.storage``): a path, or
    a URI such as ``s3://bucket/run`` (fsspec) that needs no shared disk; default
    ``<experiment_dir>/checkpoints``. On Ray (or with a URI) every worker checks at start-up
    that it sees the location as the driver does, and the run refuses to start when one does
    not. *retrain_on_miss*: a promoted or retried trial whose checkpoint its worker cannot find
    retrains from scratch (with a warning) instead of failing. On Ray the objective's own
    module and the modules beside it travel by value (``ashasim.run.worker.shipped_modules``):
    nodes need only the packages it imports.
    *placement_timeout*: seconds the run waits when no worker at all can be started (Ray cannot
    place any actor: the cluster lost its nodes, or none fits) before it stops with
    ``NoWorkersError``, its journal intact for a resume (None: wait for ever). Workers slow to
    start are shown on the progress line after ``ashasim.run.executor.WAIT_NOTICE`` seconds.
    *durable*: fsync the journal after every event, so that a crash of the machine (not only of
    the driver) loses nothing the driver acted on; README "Tune for real" gives the cost.
    *outputs*: write results.csv, summary.json and replay.csv when the run ends (figures are the
    CLI's: ``ashasim.outputs.write_figures``). *name*: the run's name (default: scheduler and
    time), the directory name under ``runs/``.

    Hooks for façades (``ashasim.tune``): *return_ends_trial* lets an objective end its trial by
    returning (see ``ashasim.driver.Driver``; saved with the run). *progress*: a display of
    your own instead of the status line, any object with ``enabled``, ``update(fraction, text)``
    and ``close()`` like ``ashasim.progress.Progress`` (the façade's CLIReporter table).
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
        backend_options: Mapping[str, Any] | None = None,
        quiet: bool = False,
        outputs: bool = True,
        name: str | None = None,
        print_every: float | None = None,
        max_failures: int | None = 10,
        trial_timeout: float | None = None,
        durable: bool = False,
        return_ends_trial: bool = False,
        progress: Progress | None = None,
        max_retries: int = 0,
        retry_on_error: bool = False,
        placement_timeout: float | None = DEFAULT_PLACEMENT_TIMEOUT,
        checkpoint_storage: str | Path | None = None,
        retrain_on_miss: bool = False,
    ) -> None:
        settings, directory = new_settings(
            objective,
            config_space,
            scheduler,
            n_workers,
            stop=stop,
            devices=devices,
            workers_per_device=workers_per_device,
            experiment_dir=experiment_dir,
            backend=backend,
            ray_address=ray_address,
            backend_options=backend_options,
            name=name,
            print_every=print_every,
            max_failures=max_failures,
            trial_timeout=trial_timeout,
            durable=durable,
            return_ends_trial=return_ends_trial,
            max_retries=max_retries,
            retry_on_error=retry_on_error,
            placement_timeout=placement_timeout,
            checkpoint_storage=checkpoint_storage,
            retrain_on_miss=retrain_on_miss,
        )
        try:  # saved now, so a scheduler that cannot be saved fails before anything is written
            self._saved_settings = cloudpickle.dumps(settings)
        except Exception as error:
            raise ValueError(
                f"scheduler cannot be saved for resume (cloudpickle: {type(error).__name__}: "
                f"{error})"
            ) from None
        self._digest = hashlib.sha256(self._saved_settings).hexdigest()
        self._configure(
            settings, directory, resuming=False, quiet=quiet, outputs=outputs, progress=progress
        )

    def _configure(
        self,
        settings: RunSettings,
        directory: Path,
        *,
        resuming: bool,
        quiet: bool,
        outputs: bool,
        progress: Progress | None = None,
    ) -> None:
        """Set every attribute from the settings; the one place both a new run and a resume
        go through."""
        self._settings = settings
        self._resuming = resuming
        self.scheduler = settings.scheduler
        self.stop = settings.stop
        self.name = settings.name
        self.experiment_dir = directory
        # where trials keep checkpoints: a path or URI the user gave, else the run's own folder
        # (resolved once, not per job)
        self._checkpoint_root = settings.checkpoint_storage or str(
            (directory / "checkpoints").resolve()
        )
        self.slots = plan_workers(
            settings.backend, settings.n_workers, settings.devices, settings.workers_per_device
        )
        self.quiet = quiet
        self.outputs = outputs
        self.progress = progress
        self.trace: Trace | None = None

    # -- public ---------------------------------------------------------------------------------

    @classmethod
    def resume(
        cls,
        experiment_dir: str | Path,
        *,
        stop: StoppingCriterion | None = None,
        trial_timeout: float | None = KEEP,
        durable: bool | None = None,
        quiet: bool = False,
        outputs: bool = True,
        progress: Progress | None = None,
        ray_address: str | None = None,
        placement_timeout: float | None = KEEP,
    ) -> Trace:
        """Continue a stopped or crashed run from its journal; returns the whole run's Trace.

        *stop* replaces the saved stopping criterion (e.g. a longer time budget); the time
        budget counts the whole run, the part before the interruption included.
        *trial_timeout* replaces the saved time limit per job (None: no limit); *durable* True
        or False replaces the saved choice. *ray_address*: the cluster to continue on (a Ray
        run; the saved address otherwise), e.g. after the cluster was restarted on a new one: it
        is reached before anything is written (``ClusterUnreachableError`` if it cannot be).
        *placement_timeout* replaces the saved one. Refuses with ``ResumeError`` (one line, the
        directory left exactly as it was) when the directory holds no run, its files are
        damaged, its journal belongs to another run, or its objective cannot be loaded here;
        with ``RunDirectoryBusyError`` when another driver holds the directory. *progress* as
        in ``Tuner``.
        """
        overrides = check_overrides(
            stop=stop,
            trial_timeout=trial_timeout,
            durable=durable,
            placement_timeout=placement_timeout,
            ray_address=ray_address,
        )
        directory = Path(experiment_dir)
        if not (directory / STATE_FILE).is_file():
            raise ResumeError(f"{directory} holds no resumable run (no {STATE_FILE})")
        if not (directory / JOURNAL).is_file():
            raise ResumeError(
                f"{directory} holds {STATE_FILE} but no {JOURNAL}: the run never started, or "
                f"its journal was removed; nothing to resume"
            )
        tuner = cls.__new__(cls)
        tuner.experiment_dir = directory
        tuner._overrides = overrides
        tuner._resuming = True
        tuner.quiet, tuner.outputs, tuner.progress = quiet, outputs, progress
        return tuner.run()

    def run(self) -> Trace:
        """Run until the scheduler is done, the stopping criterion fires, Ctrl-C (which
        cancels running jobs, keeps the journal, and re-raises KeyboardInterrupt) or SIGTERM
        (the same, then ``Terminated``, a SystemExit with status 143).

        Raises RunError when every trial failed (nothing was learned; the last error is in the
        message), after the journal is complete.
        """
        directory = self.experiment_dir
        if not self._resuming:
            directory.mkdir(parents=True, exist_ok=True)
        with RunLock(directory) as lock:
            if self._resuming:
                point, header, events = self._load_resume()
            else:
                taken = why_taken(directory)
                if taken:  # another driver made it since Tuner() looked
                    raise RunDirectoryBusyError(f"experiment_dir {taken}")
                point, header, events = ResumePoint(), None, []
            backend = make_backend(  # before anything is written: it may fail
                self._settings, self.slots, self.scheduler.resource_attr
            )
            settings = self._settings
            probe, ready = check_first_worker(
                backend,
                self.slots[0],
                settings.objective,
                self._checkpoint_root,
                settings.placement_timeout,
                remote=settings.backend == "ray",
            )
            lock.mark()
            trace, offset = self._open_trace(point, header, events)
            self.trace = trace
            driver = Driver(
                self.scheduler,
                trace,
                settings.n_workers,
                max_failures=settings.max_failures,
                idle=(),
                return_ends_trial=settings.return_ends_trial,
                max_retries=settings.max_retries,
                retry_on_error=settings.retry_on_error,
            )
            driver.retries.update(point.retries)
            driver.requeue(point.requeue)
            try:
                Execution(
                    driver,
                    backend,
                    self.slots,
                    settings.objective,
                    self._spec,
                    deadline=settings.stop.max_wallclock_time,
                    offset=offset,
                    progress=self._progress(),
                    trial_timeout=settings.trial_timeout,
                    ran=point.ran,
                    placement_timeout=settings.placement_timeout,
                    probe=probe,
                    ready=ready,
                ).run()
            finally:
                trace.close()
                if probe is not None:
                    probe_clean(*probe)
            if self.outputs:
                from ashasim.outputs import write_results
                from ashasim.run.export import export_tabular

                write_results(trace, self.experiment_dir)
                export_tabular(trace, self.experiment_dir / "replay.csv")
        _check_something_worked(trace)
        return trace

    # -- for run() ------------------------------------------------------------------------------

    def _load_resume(self) -> tuple[ResumePoint, dict[str, Any], list[Any]]:
        """Read and check everything a resume needs, writing nothing: the saved settings, the
        journal, that both belong to one run, the objective, and the journal's calls replayed
        on the saved scheduler."""
        directory = self.experiment_dir
        settings, digest = load_settings(directory)
        self._digest = digest
        apply_overrides(settings, self._overrides, directory)
        try:
            self._configure(
                settings,
                directory,
                resuming=True,
                quiet=self.quiet,
                outputs=self.outputs,
                progress=self.progress,
            )
        except ValueError as error:  # e.g. its GPUs are not on this machine
            raise ResumeError(f"cannot run the saved settings here: {error}") from None
        header, events = read_run_journal(directory, settings, digest)
        restore_objective(settings)
        point = catch_up(self.scheduler, events, settings.n_workers)
        if settings.stop.trials is not None:  # a new stopping criterion's budget, after the
            self.scheduler.limit_trials(settings.stop.trials)  # catch-up (it never undoes trials)
        try:
            check_bounded(self.scheduler, time_limit=settings.stop.max_wallclock_time, what="stop")
        except ValueError as error:
            raise ResumeError(f"the resumed run would never end: {error}") from None
        return point, header, events

    def _open_trace(
        self, point: ResumePoint, header: dict[str, Any] | None, events: list[Any]
    ) -> tuple[Trace, float]:
        """The run's trace (a new journal after tuner.pkl, or the old one reopened) and the run
        time already spent."""
        directory = self.experiment_dir
        journal = directory / JOURNAL
        durable = self._settings.durable
        if header is None:
            save_settings(directory, self._saved_settings)
            return Trace(self._header(), journal=journal, durable=durable), 0.0
        trace = Trace(header, journal=journal, append=True, events=events, durable=durable)
        offset = events[-1].t if events else 0.0
        # Jobs the journal never saw end were cut by the crash: end them where it stopped.
        for worker, trial_id, reached, reason in point.open_jobs:
            why = "the driver stopped before this job ended"
            trace.record(JobEnded(offset, worker, trial_id, reached, reason, why))
        return trace, offset

    def _header(self) -> dict[str, Any]:
        settings = self._settings
        extra = {
            "devices": [slot.device for slot in self.slots],
            "backend": settings.backend,
            "name": self.name,
            "started_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "max_wallclock_time": self.stop.max_wallclock_time,
            **identity(settings, self._digest),
        }
        return run_header(self.scheduler, settings.n_workers, "wallclock", extra)

    def _spec(self, job: Job) -> JobSpec:
        extra: dict[str, Any] = {"resource_attr": self.scheduler.resource_attr}
        if self._settings.retrain_on_miss:
            extra["retrain_on_miss"] = True
        return JobSpec(
            job.trial_id,
            dict(job.config),
            job.resume_from,
            job.milestone,
            join(self._checkpoint_root, f"trial_{job.trial_id}"),
            extra,
        )

    def _progress(self) -> Progress:
        if self.progress is not None:
            return self.progress
        every = self._settings.print_every
        if every is not None and not self.quiet:
            return Progress("tune", interval=every, stream=sys.stdout, lines=True)
        return Progress("tune", quiet=self.quiet)


class AllTrialsFailedError(RunError):
    """Every trial of the run failed: nothing was learned (the journal is complete)."""


def _check_something_worked(trace: Trace) -> None:
    """A run in which every trial failed learned nothing: an error, with the last failure's."""
    failed: dict[int, str] = {}
    for event in trace.events:
        if type(event) is JobEnded and event.reason == "failed":
            failed[event.trial_id] = event.error or "?"
    trials = trace.trial_ids
    if trials and len(failed) == len(trials):
        last = next(
            e for e in reversed(trace.events) if type(e) is JobEnded and e.reason == "failed"
        )
        raise AllTrialsFailedError(
            f"every trial failed ({len(trials)} of {len(trials)}); nothing was learned. The last "
            f"error (trial {last.trial_id}):\n{last.error}"
        )
