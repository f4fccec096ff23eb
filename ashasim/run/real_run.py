"""A framed run on real workers: the one driver through the real-time loop, journaled, resumable.

``RealRun.new`` turns a checked ``Frame`` (``ashasim.frame``), an objective, a backend config and
a checkpoint config into the settings a run directory keeps (``ashasim.run.settings``), checking
what only a real run needs (the objective can be sent to workers, the scheduler is fresh, the
directory holds no run); nothing is written before every check has passed. ``RealRun.resume``
reads a run directory's settings back, applies the changes it was given, and catches the saved
scheduler up with the journal (``ashasim.run.resume``), so the result is the same as if the run
had never stopped; or it refuses in one line (``ResumeError``) without touching the directory.

One driver per run directory: a new run and a resume hold the directory's lock
(``ashasim.run.lock``) from before they read or write anything there until the run ends.
``ashasim.Experiment`` and ``ashasim.Tuner`` are the builders users call.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ashasim.checks import check_flag
from ashasim.core.jobs import Job
from ashasim.driver import Driver, RunError
from ashasim.events import CHECKSUMS, JOURNAL, JobEnded, Trace
from ashasim.frame import Frame
from ashasim.progress import Progress
from ashasim.run import checkpoint
from ashasim.run.changes import changed, check_changes, raise_budget
from ashasim.run.configs import BackendConfig, Checkpoints, Local
from ashasim.run.context import JobSpec
from ashasim.run.executor import Execution
from ashasim.run.lock import RunDirectoryBusyError, RunLock
from ashasim.run.preflight import check_first_worker
from ashasim.run.resume import ResumeError, ResumePoint, catch_up
from ashasim.run.run_checks import check_new_run, check_run_directory
from ashasim.run.settings import (
    STATE_FILE,
    RunSettings,
    identity,
    objective_name,
    read_run_journal,
    why_taken,
)
from ashasim.run.settings_files import SavedSettings, load_settings, save_settings, settings_files
from ashasim.run.storage import probe_clean
from ashasim.run.worker import dumps_objective
from ashasim.stop_rules import StopRules

__all__ = ["DEFAULT_ROOT", "AllTrialsFailedError", "DirectoryTakenError", "Display", "RealRun"]

DEFAULT_ROOT = Path("runs")  # where a run without a directory goes: runs/<name>
HEARTBEAT = "heartbeat"  # the run time the driver last knew itself alive (``Execution``'s alive)


@dataclasses.dataclass(frozen=True)
class Display:
    """How a run shows itself, which is not a setting of the run: *quiet* (no progress line),
    *print_every* (a plain status line on stdout every so many seconds, for notebooks and logs),
    *progress* (a display of the caller's own, like ``ashasim.progress.Progress``)."""

    quiet: bool = False
    print_every: float | None = None
    progress: Progress | None = None


class RealRun:
    """A run directory's settings, ready to run (``run``); see the module docstring."""

    changes: Mapping[str, Any] = MappingProxyType({})  # a resume's, applied under the lock
    allow_pickle = False  # a resume's switch: read what the run kept by value
    objective: Callable[..., Any] | None = None  # a resume's objective, given again

    def __init__(self, settings: RunSettings, digest: str, display: Display) -> None:
        self.settings = settings
        self.frame = settings.frame
        self.directory: Path = settings.frame.directory  # type: ignore[assignment]
        self.digest = digest
        self.display = display
        self.slots = settings.backend.slots(settings.frame.n_workers)
        self.checkpoint_root = settings.checkpoints.root(self.directory)
        self.saved: SavedSettings | None = None  # the settings to write (a new run only)
        self.trace: Trace | None = None

    @classmethod
    def new(
        cls,
        frame: Frame,
        objective: Callable[..., Any],
        *,
        backend: BackendConfig | None = None,
        checkpoints: Checkpoints | None = None,
        name: str | None = None,
        display: Display | None = None,
        return_ends_trial: bool = False,
        allow_pickle: bool = False,
        allow_nan: bool = False,
    ) -> RealRun:
        """Check what a new real run needs beyond its frame; write nothing. *allow_pickle*:
        keep by value (pickled) what has no JSON form, such as an objective defined in a
        notebook (``ashasim.run.settings_files``)."""
        backend = Local() if backend is None else backend
        checkpoints = Checkpoints() if checkpoints is None else checkpoints
        check_new_run(frame, objective, backend, checkpoints)
        check_flag("allow_pickle", allow_pickle)
        check_flag("allow_nan", allow_nan)
        scheduler = frame.scheduler
        name = name or default_name(scheduler)
        frame = frame.replace(directory=frame.directory or DEFAULT_ROOT / name)
        taken = why_taken(frame.directory)  # type: ignore[arg-type]
        if taken:
            raise DirectoryTakenError(f"experiment_dir {taken}")
        try:
            shipped = dumps_objective(objective, ship=backend.remote)
        except Exception as error:
            raise ValueError(
                f"objective cannot be sent to workers (cloudpickle: {type(error).__name__}: "
                f"{error}); define it at module level or make what it refers to picklable"
            ) from None
        settings = RunSettings(
            frame=frame,
            objective=shipped,
            config_space=dict(scheduler.config_space),
            backend=backend,
            checkpoints=checkpoints,
            name=name,
            objective_name=objective_name(objective),
            return_ends_trial=bool(return_ends_trial),
            allow_nan=allow_nan,
            print_every=(display or Display()).print_every,
            function=objective,
            allow_pickle=allow_pickle,
        )
        saved = settings_files(settings)  # now: what cannot be saved fails before any write
        frame.limit_trials()  # after saving: a resume rebuilds the scheduler, then limits it
        by_value = tuple(json.loads(saved.text)["by_value"]["fields"]) if saved.by_value else ()
        settings = dataclasses.replace(settings, by_value=by_value)
        run = cls(settings, saved.digest, display or Display())
        run.saved = saved
        return run

    @classmethod
    def resume(
        cls,
        directory: str | Path,
        changes: Mapping[str, Any],
        display: Display | None = None,
        *,
        allow_pickle: bool = False,
        objective: Callable[..., Any] | None = None,
    ) -> RealRun:
        """The run in *directory* with *changes* to its frame (``stop``, ``faults``, ``durable``,
        ``outputs``) or its ``backend``; checked, nothing read but the directory's files.
        The catch-up with the journal happens in ``run``, under the directory's lock.
        *allow_pickle*: read settings the run kept by value, or a ``tuner.pkl`` of the previous
        format (unpickling runs code: only for directories you trust). *objective*: the run's
        objective given again (as Ray Tune's ``tune.run(..., resume=True)`` takes it), used
        instead of the saved one, which then need not have been kept; it must have its name."""
        check_changes(changes)
        if objective is not None and not callable(objective):
            raise ValueError(f"objective must be a function of the config, got {objective!r}")
        check_flag("allow_pickle", allow_pickle)
        directory = check_run_directory(directory)
        if not (directory / JOURNAL).is_file():
            raise ResumeError(
                f"{directory} holds {STATE_FILE} but no {JOURNAL}: the run never started, or "
                f"its journal was removed; nothing to resume"
            )
        run = cls.__new__(cls)
        run.directory, run.display, run.trace, run.saved = (
            directory,
            display or Display(),
            None,
            None,
        )
        run.changes = dict(changes)  # applied once the lock is held (``_load``)
        run.allow_pickle = allow_pickle
        run.objective = objective
        return run

    # -- running --------------------------------------------------------------------------------

    def run(self) -> Trace:
        """Run until the scheduler is done, the stop fires, Ctrl-C (which cancels running jobs,
        keeps the journal, and re-raises KeyboardInterrupt) or SIGTERM (the same, then
        ``Terminated``, a SystemExit with status 143).

        Raises ``AllTrialsFailedError`` when every trial failed (nothing was learned; the last
        error is in the message), after the journal is complete.
        """
        resuming = self.saved is None
        if not resuming:
            self.directory.mkdir(parents=True, exist_ok=True)
        with RunLock(self.directory) as lock:
            if resuming:
                point, header, events = self._load()
            else:
                taken = why_taken(self.directory)
                if taken:  # another driver made it since the run was framed
                    raise RunDirectoryBusyError(f"experiment_dir {taken}")
                point, header, events = ResumePoint(), None, []
            trace = self._execute(lock, point, header, events)
            self.frame.write_outputs(trace)
        _check_something_worked(trace)
        return trace

    def _execute(
        self, lock: RunLock, point: ResumePoint, header: dict[str, Any] | None, events: list[Any]
    ) -> Trace:
        settings, frame = self.settings, self.frame
        backend = settings.backend.build(self.slots, frame.scheduler.resource_attr)
        probe, ready = check_first_worker(  # before anything is written: it may fail
            backend,
            self.slots[0],
            settings.objective,
            self.checkpoint_root,
            settings.backend.placement_timeout,
            remote=settings.backend.remote,
        )
        lock.mark()
        trace, offset = self._open_trace(point, header, events)
        self.trace = trace
        rules = StopRules.attach(frame.stop, trace, frame.scheduler.max_t)  # before the Driver
        faults = frame.faults
        driver = Driver(
            frame.scheduler,
            trace,
            frame.n_workers,
            max_failures=faults.max_failures,
            max_failed_trials=faults.max_failed_trials,
            idle=(),
            return_ends_trial=settings.return_ends_trial,
            allow_nan=settings.allow_nan,
            max_retries=faults.max_retries,
            retry_on_error=faults.retry_on_error,
        )
        driver.retries.update(point.retries)
        driver.failed_jobs = sum(type(e) is JobEnded and e.reason == "failed" for e in events)
        driver.requeue(point.requeue)
        try:
            Execution(
                driver,
                backend,
                self.slots,
                settings.objective,
                self._spec,
                deadline=frame.stop.time,
                offset=offset,
                progress=self._progress(),
                trial_timeout=faults.trial_timeout,
                ran=point.ran,
                saved=point.saved,
                placement_timeout=settings.backend.placement_timeout,
                probe=probe,
                ready=ready,
                alive=self._beat,
                rules=rules,
            ).run()
        finally:
            trace.close()
            if probe is not None:
                probe_clean(*probe)
        return trace

    def _load(self) -> tuple[ResumePoint, dict[str, Any], list[Any]]:
        """Read and check everything a resume needs, writing nothing: the saved settings with
        the changes, the journal, that both belong to one run, the objective, and the journal's
        calls replayed on the saved scheduler."""
        directory = self.directory
        settings, digest = load_settings(directory, self.allow_pickle, self.objective)
        settings = changed(settings, self.changes, directory)
        try:
            RealRun.__init__(self, settings, digest, self.display)
        except ValueError as error:  # e.g. its GPUs are not on this machine
            raise ResumeError(f"cannot run the saved settings here: {error}") from None
        header, events = read_run_journal(directory, settings, digest)
        raise_budget(self.frame.scheduler, self.frame.stop, events, directory)
        point = catch_up(self.frame.scheduler, events, self.frame.n_workers)
        self.frame.limit_trials()  # a new stop's budget, after the catch-up (never undoes one)
        return point, header, events

    def _open_trace(
        self, point: ResumePoint, header: dict[str, Any] | None, events: list[Any]
    ) -> tuple[Trace, float]:
        """The run's trace (a new journal after tuner.pkl, or the old one reopened) and the run
        time already spent."""
        journal, durable = self.directory / JOURNAL, self.frame.durable
        if header is None:
            save_settings(self.directory, self.saved)  # type: ignore[arg-type]
            return Trace(self._header(), journal=journal, durable=durable), 0.0
        trace = Trace(header, journal=journal, append=True, events=events, durable=durable)
        last = events[-1].t if events else 0.0
        offset = max(last, self._last_beat())  # a crash comes after the journal's last line
        # Jobs the journal never saw end were cut by the crash: end them where it stopped, and
        # charge them (the time limit) with the time they ran until then.
        for worker, trial_id, reached, reason in point.open_jobs:
            if trial_id in point.ran:  # it was running: requeued, charged until the crash
                point.ran[trial_id] += offset - last
            why = "the driver stopped before this job ended"
            trace.record(JobEnded(offset, worker, trial_id, reached, reason, why))
        return trace, offset

    def _beat(self, now: float) -> None:
        """Note that the run was alive at run time *now* (written aside, then renamed, so a
        crash leaves the previous heartbeat or this one, never half of one)."""
        path = self.directory / HEARTBEAT
        staged = path.with_name(HEARTBEAT + ".new")
        staged.write_text(f"{now!r}\n")
        staged.replace(path)

    def _last_beat(self) -> float:
        """The run time of the last heartbeat; 0 when there is none or it cannot be read (a
        hint only: the journal's last line is then where the crash is taken to be)."""
        try:
            value = float((self.directory / HEARTBEAT).read_text())
        except (OSError, ValueError):
            return 0.0
        return value if math.isfinite(value) and value > 0 else 0.0

    def _header(self) -> dict[str, Any]:
        settings = self.settings
        fields = {
            "devices": [slot.device for slot in self.slots],
            "backend": type(settings.backend).__name__.lower(),
            "name": settings.name,
            "started_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "max_wallclock_time": self.frame.stop.time,
            "by_value": list(settings.by_value),  # settings kept pickled (allow_pickle=True)
            CHECKSUMS[0]: CHECKSUMS[1],  # a resume reads this journal back: seal its lines
            **identity(settings, self.digest),
        }
        return self.frame.header("wallclock", fields)

    def _spec(self, job: Job) -> JobSpec:
        return JobSpec(
            job.trial_id,
            dict(job.config),
            job.resume_from,
            job.milestone,
            checkpoint.trial_dir(self.checkpoint_root, job.trial_id),
            resource_attr=self.frame.scheduler.resource_attr,
            retrain_on_miss=self.settings.checkpoints.retrain_on_miss,
            allow_pickle=self.settings.checkpoints.allow_pickle,
        )

    def _progress(self) -> Progress:
        display = self.display
        if display.progress is not None:
            return display.progress
        every = self.settings.print_every if display.print_every is None else display.print_every
        if every is not None and not display.quiet:
            return Progress("tune", interval=every, stream=sys.stdout, lines=True)
        return Progress("tune", quiet=display.quiet)


def default_name(scheduler: Any, prefix: str | None = None) -> str:
    """*prefix* (default: the scheduler's class, lower case) and the time, to the millisecond."""
    stamp = _dt.datetime.now().strftime("%Y-%m-%d-%H-%M-%S-%f")[:-3]
    return f"{prefix or type(scheduler).__name__.lower()}-{stamp}"


class DirectoryTakenError(RunDirectoryBusyError, ValueError):
    """A new run's directory already holds a run: a bad argument to ``Tuner``/``Experiment``
    (ValueError), and, for the command line, a busy directory (another driver may have just
    made it: exit 2, like losing the lock)."""


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
