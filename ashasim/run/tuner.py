"""``Tuner``: tune an objective for real, on local worker processes, Ray actors, or in-process.

``Tuner`` is the builder kept for code written before ``ashasim.Experiment``: it turns its
arguments into an ``ashasim.frame.Frame`` (scheduler, workers, ``Stop``, ``Faults``), a backend
config (``ashasim.run.configs``: ``Local``, ``Ray``, ``Fake``) and a ``Checkpoints`` config, and
runs them as ``ashasim.run.real_run.RealRun`` does for an ``Experiment``: every check at
construction, every report journaled as it happens, ``Tuner.resume(dir)`` continuing a stopped or
crashed run as if it had never stopped, or refusing in one line (``ResumeError``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ashasim.checks import check_choice, check_name, check_number, check_workers
from ashasim.contract import check_scheduler
from ashasim.core.jobs import Scheduler
from ashasim.events import Trace
from ashasim.frame import Faults, Frame, check_directory
from ashasim.progress import Progress
from ashasim.run.configs import DEFAULT_PLACEMENT_TIMEOUT, Checkpoints, Fake, Local, Ray
from ashasim.run.real_run import AllTrialsFailedError, Display, RealRun
from ashasim.run.settings import STATE_FILE, StoppingCriterion

__all__ = [
    "BACKENDS",
    "STATE_FILE",
    "AllTrialsFailedError",
    "StoppingCriterion",
    "Tuner",
]

BACKENDS = ("local", "ray", "fake")
KEEP: Any = object()  # Tuner.resume: keep the saved value


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
    *max_failed_trials*: give up once more than this many trials failed in all (None: never).
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
    the driver) loses nothing the driver acted on; docs/guides/fault-tolerance.md gives the cost.
    *outputs*: write results.csv, summary.json and replay.csv when the run ends (figures are the
    CLI's: ``ashasim.outputs.write_figures``). *allow_pickle*: keep by value (pickled) the
    settings that have no JSON form, such as an objective defined in a notebook or a lambda, so
    that the run can be resumed (with ``Tuner.resume(..., allow_pickle=True)``); without it such
    a run runs, with a warning that it cannot be resumed (``ashasim.run.settings_files``).
    *name*: the run's name (default: scheduler and time), the directory name under ``runs/``.

    Hooks for façades (``ashasim.tune``): *return_ends_trial* lets an objective end its trial by
    returning, *allow_nan* makes a NaN metric a result (see ``ashasim.driver.Driver``; both
    saved with the run). *progress*: a display of
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
        max_failed_trials: int | None = None,
        trial_timeout: float | None = None,
        durable: bool = False,
        return_ends_trial: bool = False,
        progress: Progress | None = None,
        max_retries: int = 0,
        retry_on_error: bool = False,
        placement_timeout: float | None = DEFAULT_PLACEMENT_TIMEOUT,
        checkpoint_storage: str | Path | None = None,
        retrain_on_miss: bool = False,
        allow_pickle: bool = False,
        allow_nan: bool = False,
    ) -> None:
        if not callable(objective):
            raise ValueError(f"objective must be a function of the config, got {objective!r}")
        check_scheduler(scheduler)
        if config_space is not None and dict(config_space) != dict(scheduler.config_space):
            raise ValueError("config_space differs from the scheduler's config_space")
        stop = StoppingCriterion() if stop is None else stop
        if not isinstance(stop, StoppingCriterion):
            raise ValueError(f"stop must be a StoppingCriterion, got {stop!r}")
        check_workers("n_workers", n_workers)  # before the slots are planned for them
        if experiment_dir:
            check_directory("experiment_dir", Path(experiment_dir))
        if name is not None:
            check_name("name", name)
        config = backend_config(
            backend, devices, workers_per_device, ray_address, placement_timeout, backend_options
        )
        config.slots(n_workers)  # n_workers fits the devices
        faults = Faults(max_failures, max_retries, retry_on_error, trial_timeout, max_failed_trials)
        frame = Frame(
            scheduler,
            n_workers,
            stop=stop.as_stop(scheduler.metric),
            faults=faults,
            durable=durable,
            outputs=outputs,
            directory=Path(experiment_dir) if experiment_dir else None,
        )
        if print_every is not None:
            check_number("print_every", print_every, minimum=0, strict=True)
        self._run = RealRun.new(
            frame,
            objective,
            backend=config,
            checkpoints=Checkpoints(
                str(checkpoint_storage)
                if isinstance(checkpoint_storage, Path)
                else checkpoint_storage,
                retrain_on_miss,
            ),
            name=name,
            display=Display(quiet, print_every, progress),
            return_ends_trial=return_ends_trial,
            allow_pickle=allow_pickle,
            allow_nan=allow_nan,
        )
        self._describe(self._run)

    def _describe(self, run: RealRun) -> None:
        self.scheduler = run.frame.scheduler
        self.stop = run.frame.stop
        self.name = run.settings.name
        self.experiment_dir = run.directory
        self.slots = run.slots
        self.trace: Trace | None = None

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
        allow_pickle: bool = False,
        objective: Callable[..., Any] | None = None,
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
        in ``Tuner``. *allow_pickle*: read what the run kept by value, or a ``tuner.pkl`` of
        the previous format; unpickling runs code, so allow it only for directories you trust
        (without it, such a directory is refused in one line that says so). *objective*: the
        run's objective given again, used instead of the saved one (which then need not have
        been kept: a notebook's objective); it must have the saved one's name.
        """
        changes = _resume_changes(stop, trial_timeout, durable, ray_address, placement_timeout)
        run = RealRun.resume(
            experiment_dir,
            {**changes, "outputs": outputs},
            Display(quiet, None, progress),
            allow_pickle=allow_pickle,
            objective=objective,
        )
        return run.run()

    def run(self) -> Trace:
        """Run until the scheduler is done, the stopping criterion fires, Ctrl-C (which
        cancels running jobs, keeps the journal, and re-raises KeyboardInterrupt) or SIGTERM
        (the same, then ``Terminated``, a SystemExit with status 143).

        Raises RunError when every trial failed (nothing was learned; the last error is in the
        message), after the journal is complete.
        """
        try:
            return self._run.run()
        finally:
            self.trace = self._run.trace


def _resume_changes(
    stop: StoppingCriterion | None,
    trial_timeout: float | None,
    durable: bool | None,
    ray_address: str | None,
    placement_timeout: float | None,
) -> dict[str, Any]:
    """``Tuner.resume``'s arguments as ``RealRun.resume``'s changes (``KEEP``/None: keep)."""
    changes: dict[str, Any] = {}
    if stop is not None:
        if not isinstance(stop, StoppingCriterion):
            raise ValueError(f"stop must be a StoppingCriterion, got {stop!r}")
        changes["stop"] = stop  # (said in ashasim's words with the saved scheduler's metric)
    if trial_timeout is not KEEP:
        Faults(trial_timeout=trial_timeout)  # checked here, before anything is read
        changes["faults"] = {"trial_timeout": trial_timeout}
    if durable is not None:
        if not isinstance(durable, bool):
            raise ValueError(f"durable must be True, False or None, got {durable!r}")
        changes["durable"] = durable
    backend: dict[str, Any] = {}
    if ray_address is not None:
        if not isinstance(ray_address, str):
            raise ValueError(f"ray_address must be a string like 'host:6379', got {ray_address!r}")
        backend["address"] = ray_address
    if placement_timeout is not KEEP:
        Local(placement_timeout=placement_timeout, devices="cpu")  # checked
        backend["placement_timeout"] = placement_timeout
    if backend:
        changes["backend"] = backend
    return changes


def backend_config(
    backend: str,
    devices: str | Sequence[str],
    workers_per_device: int | None,
    ray_address: str | None,
    placement_timeout: float | None,
    options: Mapping[str, Any] | None,
) -> Local | Ray | Fake:
    """``Tuner``'s ``backend=`` string and its options as a typed config."""
    check_choice("backend", backend, BACKENDS)
    if backend == "ray":
        ray_devices = "cpu" if devices == "cpu" else "auto"
        return Ray(
            ray_address,
            placement_timeout=placement_timeout,
            devices=ray_devices,
            workers_per_device=workers_per_device,
            **dict(options or {}),
        )
    if backend == "fake":
        return Fake(placement_timeout=placement_timeout, **dict(options or {}))
    return Local(devices, workers_per_device, placement_timeout)
