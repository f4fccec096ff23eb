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
import importlib.util
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import cloudpickle

from ashasim.checks import check_choice, check_int, check_number, check_optional_int
from ashasim.core.jobs import Job, Scheduler
from ashasim.driver import Driver, RunError, check_bounded, check_scheduler, run_header
from ashasim.events import JOURNAL, JobEnded, Trace
from ashasim.progress import Progress
from ashasim.run.backend import Backend, WorkerSlot, plan_slots
from ashasim.run.context import JobSpec
from ashasim.run.executor import Execution
from ashasim.run.lock import RunDirectoryBusyError, RunLock
from ashasim.run.preflight import preflight
from ashasim.run.resume import ResumeError, ResumePoint, catch_up
from ashasim.run.settings import (
    STATE_FILE,
    RunSettings,
    StoppingCriterion,
    identity,
    load_settings,
    objective_name,
    objective_origin,
    read_run_journal,
    restore_objective,
    save_settings,
    why_taken,
)
from ashasim.run.storage import is_uri, join, probe_clean
from ashasim.run.worker import dumps_objective

__all__ = [
    "BACKENDS",
    "AllTrialsFailedError",
    "StoppingCriterion",
    "Tuner",
]

DEFAULT_ROOT = Path("runs")
DEFAULT_PLACEMENT_TIMEOUT = 600.0  # seconds without any worker before a run gives up
_KEEP: Any = object()  # Tuner.resume: keep the saved value
BACKENDS = ("local", "ray", "fake")


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
        if not callable(objective):
            raise ValueError(f"objective must be a function of the config, got {objective!r}")
        check_scheduler(scheduler)
        if scheduler.n_trials:
            raise ValueError(
                "scheduler has been used already; give the Tuner a fresh one (a run directory "
                "keeps it as it was before its first call, to resume)"
            )
        if config_space is None:
            config_space = scheduler.config_space
        elif dict(config_space) != dict(scheduler.config_space):
            raise ValueError("config_space differs from the scheduler's config_space")
        check_choice("backend", backend, BACKENDS)
        stop = stop if stop is not None else StoppingCriterion()
        if not isinstance(stop, StoppingCriterion):
            raise ValueError(f"stop must be a StoppingCriterion, got {stop!r}")
        _plan(backend, n_workers, devices, workers_per_device)  # validates the three
        if stop.trials is not None:
            scheduler.limit_trials(stop.trials)
        check_bounded(
            scheduler,
            time_limit=stop.max_wallclock_time,
            what="stop=StoppingCriterion(max_wallclock_time=...)",
        )
        name = name or _default_name(scheduler)
        directory = Path(experiment_dir) if experiment_dir else DEFAULT_ROOT / name
        taken = why_taken(directory)
        if taken:
            raise ValueError(f"experiment_dir {taken}")
        if print_every is not None:
            check_number("print_every", print_every, minimum=0, strict=True)
        check_optional_int("max_failures", max_failures, minimum=1)
        check_int("max_retries", max_retries, minimum=0)
        _check_placement_timeout(placement_timeout)
        storage = _check_storage(checkpoint_storage)
        if not isinstance(retrain_on_miss, bool):
            raise ValueError(f"retrain_on_miss must be True or False, got {retrain_on_miss!r}")
        if not isinstance(retry_on_error, bool):
            raise ValueError(f"retry_on_error must be True or False, got {retry_on_error!r}")
        _check_trial_timeout(trial_timeout)
        if not isinstance(durable, bool):
            raise ValueError(f"durable must be True or False, got {durable!r}")
        options = dict(backend_options or {})
        if backend == "ray":
            if importlib.util.find_spec("ray") is None:
                raise ValueError(
                    "backend='ray' needs Ray, which is not installed: pip install 'ashasim[ray]'"
                )
            options.update(
                ray_address=ray_address,
                workers_per_device=workers_per_device,
                use_gpus=devices != "cpu",
            )
        try:
            objective_bytes = dumps_objective(objective, ship=backend == "ray")
        except Exception as error:
            raise ValueError(
                f"objective cannot be sent to workers (cloudpickle: {type(error).__name__}: "
                f"{error}); define it at module level or make what it refers to picklable"
            ) from None
        settings = RunSettings(
            objective=objective_bytes,
            config_space=dict(config_space),
            scheduler=scheduler,
            n_workers=n_workers,
            devices=devices if isinstance(devices, str) else list(devices),
            workers_per_device=workers_per_device,
            backend=backend,
            backend_options=options,
            name=name,
            stop=stop,
            max_failures=max_failures,
            print_every=print_every,
            objective_name=objective_name(objective),
            origin=objective_origin(objective),
            trial_timeout=trial_timeout,
            durable=durable,
            return_ends_trial=bool(return_ends_trial),
            max_retries=max_retries,
            retry_on_error=retry_on_error,
            placement_timeout=placement_timeout,
            checkpoint_storage=storage,
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
        self.slots = _plan(
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
        trial_timeout: float | None = _KEEP,
        durable: bool | None = None,
        quiet: bool = False,
        outputs: bool = True,
        progress: Progress | None = None,
        ray_address: str | None = None,
        placement_timeout: float | None = _KEEP,
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
        if stop is not None and not isinstance(stop, StoppingCriterion):
            raise ValueError(f"stop must be a StoppingCriterion, got {stop!r}")
        if trial_timeout is not _KEEP:
            _check_trial_timeout(trial_timeout)
        if durable is not None and not isinstance(durable, bool):
            raise ValueError(f"durable must be True, False or None, got {durable!r}")
        if placement_timeout is not _KEEP:
            _check_placement_timeout(placement_timeout)
        if ray_address is not None and not isinstance(ray_address, str):
            raise ValueError(f"ray_address must be a string like 'host:6379', got {ray_address!r}")
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
        tuner._overrides = {
            "stop": stop,
            "trial_timeout": trial_timeout,
            "durable": durable,
            "ray_address": ray_address,
            "placement_timeout": placement_timeout,
        }
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
            backend = self._make_backend()  # before anything is written: it may fail
            settings = self._settings
            probe, ready, location = None, (), self._checkpoint_root
            if settings.backend == "ray" or is_uri(location):
                try:  # a worker on the cluster, the objective and the checkpoints, checked
                    token = preflight(
                        backend,
                        self.slots[0],
                        settings.objective,
                        location,
                        settings.placement_timeout,
                    )
                except BaseException:
                    backend.close()
                    raise
                probe, ready = (location, token), (0,)
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
        overrides = self._overrides
        if overrides["stop"] is not None:
            settings.stop = overrides["stop"]
        if overrides["trial_timeout"] is not _KEEP:
            settings.trial_timeout = overrides["trial_timeout"]
        if overrides["durable"] is not None:
            settings.durable = overrides["durable"]
        if overrides["placement_timeout"] is not _KEEP:
            settings.placement_timeout = overrides["placement_timeout"]
        if overrides["ray_address"] is not None:
            if settings.backend != "ray":
                raise ResumeError(
                    f"ray_address: the run in {directory} uses the {settings.backend!r} backend, "
                    f"not Ray"
                )
            settings.backend_options = {
                **settings.backend_options,
                "ray_address": overrides["ray_address"],
            }
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

    def _make_backend(self) -> Backend:
        settings = self._settings
        if settings.backend == "ray":
            from ashasim.run.ray_backend import RayBackend

            return RayBackend(self.slots, **settings.backend_options)
        if settings.backend == "fake":
            from ashasim.run.fake import FakeBackend

            options = {"resource_attr": self.scheduler.resource_attr}
            return FakeBackend(**{**options, **settings.backend_options})
        from ashasim.run.local import LocalBackend

        return LocalBackend()


def _plan(
    backend: str, n_workers: int, devices: Any, workers_per_device: int | None
) -> list[WorkerSlot]:
    """Worker slots: pinned to local devices, or (Ray) placed by Ray across the cluster, or (the
    fake backend) threads of this process."""
    if backend == "local":
        return plan_slots(n_workers, devices, workers_per_device)
    plan_slots(n_workers, "cpu", None)  # validates n_workers
    check_optional_int("workers_per_device", workers_per_device, minimum=1)
    return [WorkerSlot(index, backend, None) for index in range(n_workers)]


def _check_storage(location: str | Path | None) -> str | None:
    """A checkpoint location as saved: an absolute path, or a URI fsspec can open here."""
    if location is None:
        return None
    if not isinstance(location, (str, Path)) or not str(location):
        raise ValueError(
            f"checkpoint_storage must be a path or a URI like 's3://bucket/run', got {location!r}"
        )
    text = str(location)
    if not is_uri(text):
        return str(Path(text.removeprefix("file://")).expanduser().resolve())
    try:
        import fsspec

        fsspec.get_filesystem_class(text.split("://", 1)[0])
    except ImportError as error:
        raise ValueError(
            f"checkpoint_storage {text!r} needs fsspec and the protocol's package "
            f"(pip install fsspec s3fs, ...): {error}"
        ) from None
    except ValueError as error:
        raise ValueError(f"checkpoint_storage {text!r}: {error}") from None
    return text


def _check_placement_timeout(placement_timeout: float | None) -> None:
    if placement_timeout is not None:
        check_number("placement_timeout", placement_timeout, minimum=0, strict=True)


def _check_trial_timeout(trial_timeout: float | None) -> None:
    if trial_timeout is not None:
        check_number("trial_timeout", trial_timeout, minimum=0, strict=True)


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


def _default_name(scheduler: Scheduler) -> str:
    stamp = _dt.datetime.now().strftime("%Y-%m-%d-%H-%M-%S-%f")[:-3]
    return f"{type(scheduler).__name__.lower()}-{stamp}"
