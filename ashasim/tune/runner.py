"""``tune.run``: Ray Tune's classic entry point, translated onto ``ashasim.run.Tuner``.

What it translates, and nothing more: the config (nested, Ray's domains) into a flat space; the
scheduler and search algorithm into an ashasim scheduler with its searcher and trial budget
(``num_samples``, times the grid's size for ``grid_search``); ``resources_per_trial`` into
workers (``ashasim.tune.resources``); ``time_budget_s`` and ``stop`` into the stopping criterion
and max_t; the trainable into a ``FunctionTrainable`` (``ashasim.tune.session``). The run itself
is ashasim's: the one driver, the journal, crash-safe resume, Gantt charts and idle time.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ashasim.checks import check_choice, check_int, check_number
from ashasim.driver import RunError
from ashasim.events import JobEnded, JobStarted, load_experiment
from ashasim.events.records import json_default
from ashasim.run.tuner import BACKENDS, STATE_FILE, AllTrialsFailedError, StoppingCriterion, Tuner
from ashasim.search import Searcher
from ashasim.space import Domain, GridSearch, sample
from ashasim.tune.analysis import META_FILE, ExperimentAnalysis, Trial, load_trials
from ashasim.tune.configs import flatten, trainable_name
from ashasim.tune.errors import TuneError
from ashasim.tune.reporter import CLIReporter, LiveTable
from ashasim.tune.resources import plan_workers
from ashasim.tune.schedulers import FIFOScheduler, TrialScheduler
from ashasim.tune.search import SearchAlgorithm, resolve_search_alg
from ashasim.tune.session import FunctionTrainable

__all__ = ["DEFAULT_STORAGE", "run", "with_parameters"]

DEFAULT_STORAGE = "~/ray_results"  # Ray Tune's
_RESUME = (True, False, None, "AUTO", "LOCAL")
_SCHEDULERS = (
    "FIFOScheduler, ASHAScheduler/AsyncHyperBandScheduler, HyperBandScheduler, HyperBandForBOHB"
)


def with_parameters(trainable: Callable[..., Any], **kwargs: Any) -> Callable[..., Any]:
    """``trainable`` with extra keyword arguments (large data, ...), as Ray Tune's; they travel
    to the workers with the trainable."""
    return functools.partial(trainable, **kwargs)


def _metric_and_mode(
    metric: str | None, mode: str | None, scheduler: TrialScheduler, search: SearchAlgorithm
) -> tuple[str | None, str | None]:
    """Where the metric comes from: tune.run, or the scheduler and/or search algorithm; never
    tune.run and one of them (Ray Tune's rule), never half of the pair."""
    if metric is not None or mode is not None:
        if metric is None or mode is None:
            raise ValueError("tune.run(): give metric and mode together (mode 'min' or 'max')")
        for owner in (scheduler, search):
            if owner.metric is not None or owner.mode is not None:
                raise ValueError(
                    f"metric/mode were given to tune.run() and to the {owner.ray_name} already: "
                    f"give them in one place (remove them from tune.run() or from the "
                    f"{owner.ray_name})"
                )
        check_choice("mode", mode, ("min", "max"))
        return metric, mode
    found = []
    for owner in (scheduler, search):
        if owner.metric is not None or owner.mode is not None:
            if owner.metric is None or owner.mode is None:
                raise ValueError(f"{owner.ray_name}: give metric and mode together")
            found.append((owner.metric, owner.mode))
    if len(found) == 2 and found[0] != found[1]:
        raise ValueError(
            f"the scheduler optimizes {found[0]} but the search algorithm {found[1]}: give "
            f"metric and mode once (e.g. to tune.run())"
        )
    return found[0] if found else (None, None)


def _stop_limit(stop: Any, time_attr: str) -> int | None:
    """``stop={time_attr: N}`` as max_t; anything else is not supported, said in one line."""
    if stop is None:
        return None
    if not isinstance(stop, Mapping):
        raise ValueError(
            f"stop must be a dict like {{{time_attr!r}: 10}}; stop functions and Stopper "
            f"objects are not supported (use time_budget_s for the whole run)"
        )
    unknown = sorted(set(stop) - {time_attr})
    if unknown:
        raise ValueError(
            f"stop: {unknown} not supported; ashasim ends a trial at a limit on the scheduler's "
            f"time_attr ({time_attr!r}) only, decided by the scheduler (use time_budget_s for "
            f"the whole run)"
        )
    return check_int(f"stop[{time_attr!r}]", stop[time_attr], minimum=1) if stop else None


def _check_config(config: Mapping[str, Any]) -> None:
    """A config the journal can keep: it writes every trial's config as JSON."""
    for key, value in config.items():
        try:
            json.dumps(value, default=json_default)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"config[{key!r}]: {error}; the journal keeps every config as JSON, so pass "
                f"other objects with tune.with_parameters(trainable, {key.split('/')[-1]}=...)"
            ) from None


def _one_line(error: str | None) -> str:
    """The last line of a traceback, without the exception's module path."""
    lines = [line for line in (error or "").strip().splitlines() if line.strip()]
    last = lines[-1].strip() if lines else "(no message)"
    head, sep, tail = last.partition(": ")
    return f"{head.rsplit('.', 1)[-1]}{sep}{tail}" if sep and " " not in head else last


def _finished(directory: Path) -> bool:
    """The run ended because its scheduler was done, not cut by the time budget: no job was
    cancelled after the last job started."""
    cancelled = False
    for event in load_experiment(directory).events:
        if type(event) is JobStarted:
            cancelled = False
        elif type(event) is JobEnded and event.reason == "cancelled":
            cancelled = True
    return not cancelled


def run(
    run_or_experiment: Callable[..., Any],
    name: str | None = None,
    metric: str | None = None,
    mode: str | None = None,
    stop: Mapping[str, Any] | None = None,
    time_budget_s: float | None = None,
    config: Mapping[str, Any] | None = None,
    resources_per_trial: Mapping[str, Any] | None = None,
    num_samples: int = 1,
    storage_path: str | os.PathLike[str] | None = None,
    local_dir: str | os.PathLike[str] | None = None,
    search_alg: Any = None,
    scheduler: TrialScheduler | None = None,
    verbose: int = 3,
    progress_reporter: CLIReporter | None = None,
    resume: bool | str | None = False,
    max_concurrent_trials: int | None = None,
    raise_on_failed_trial: bool = True,
    max_failures: int = 0,
    fail_fast: bool = False,
    *,
    seed: int | None = None,
    backend: str = "local",
    num_cpus: int | None = None,
    num_gpus: int | None = None,
    ray_address: str | None = None,
    backend_options: Mapping[str, Any] | None = None,
) -> ExperimentAnalysis:
    """Tune ``run_or_experiment`` (a function of the config that calls ``tune.report``) as Ray
    Tune's ``tune.run`` does, on ashasim's executor; returns an ``ExperimentAnalysis``.

    Ray Tune's arguments keep their meaning and defaults (see the README, "Coming from Ray
    Tune", for what differs). ashasim's own, keyword-only: *seed* (default: the search
    algorithm's seed, else 0) fixes every config, ``sample_from`` values included; *backend*
    "local" (worker processes, the default), "ray" (Ray actors; *ray_address*) or "fake" (in
    this process on a virtual clock, for tests; *backend_options* go to ``FakeBackend``);
    *num_cpus*/*num_gpus* cap the resources trials are planned on, like ``ray.init``'s.

    ``resume=True`` (or "AUTO" when the directory holds a run) continues the run saved in
    ``storage_path/name`` as ashasim's ``Tuner.resume`` does: with the trainable, space,
    scheduler and searcher saved there (the ones passed now are checked, not used);
    ``time_budget_s`` replaces the saved budget and counts the whole run.
    """
    _check_arguments(
        run_or_experiment, scheduler, progress_reporter, backend, resume, verbose, max_failures
    )
    if storage_path is not None and local_dir is not None:
        raise ValueError("give storage_path or local_dir (its older name), not both")
    if time_budget_s is not None:
        check_number("time_budget_s", time_budget_s, minimum=0, strict=True)
    scheduler = FIFOScheduler() if scheduler is None else scheduler
    search = resolve_search_alg(search_alg)
    if search.space is not None and config:
        raise ValueError(
            f"the search space was given twice: to the {search.ray_name} and as config; give "
            f"it once"
        )
    flat = flatten(search.space if search.space is not None else config or {})
    metric, mode = _metric_and_mode(metric, mode, scheduler, search)
    if metric is None and (not isinstance(scheduler, FIFOScheduler) or search.models):
        raise ValueError(
            f"{scheduler.ray_name} with {search.ray_name} needs a metric and a mode: give them "
            f"to the scheduler or to tune.run() (not both)"
        )
    trials = _trial_budget(flat, num_samples, search, time_budget_s)
    if seed is not None and search.seed is not None and seed != search.seed:
        raise ValueError(f"seed={seed} disagrees with the search algorithm's seed {search.seed}")
    seed = seed if seed is not None else search.seed if search.seed is not None else 0
    _check_config(sample(flat, np.random.default_rng(seed)))  # fails now, not in the run
    searcher = search.make(None if num_samples == -1 else num_samples)
    core = _build(scheduler, search, searcher, flat, (metric, mode), trials, seed, stop)
    limits = [n for n in (search.max_concurrent, max_concurrent_trials) if n is not None]
    plan = plan_workers(
        resources_per_trial,
        num_cpus=num_cpus,
        num_gpus=num_gpus,
        max_concurrent=min(limits) if limits else None,
        max_trials=trials,
        check_visible=backend == "local",
    )
    prefix = trainable_name(run_or_experiment)
    root = Path(storage_path or local_dir or DEFAULT_STORAGE).expanduser().resolve()
    directory, resuming = _directory(root, name, prefix, resume)
    meta_path = directory / META_FILE
    if resuming and meta_path.exists():
        meta = json.loads(meta_path.read_text())
    else:
        meta = {"prefix": prefix, "metric": metric, "mode": mode}
    meta.update(finished=False, time_attr=scheduler.time_attr, scheduler=scheduler.describe())
    directory.mkdir(parents=True, exist_ok=True)
    meta_path.write_text(json.dumps(meta, indent=1) + "\n")

    devices = plan.devices if isinstance(plan.devices, str) else ", ".join(plan.devices)
    live = LiveTable(
        progress_reporter or CLIReporter(),
        lambda: _trials(directory, meta),
        metric=meta.get("metric"),
        mode=meta.get("mode"),
        varying=[key for key, value in flat.items() if isinstance(value, Domain)],
        header=f"Scheduler: {scheduler.describe()} | search: {search.ray_name} | "
        f"{plan.n_workers} workers ({devices})",
        enabled=verbose >= 1,
    )
    budget = StoppingCriterion(max_wallclock_time=time_budget_s)
    cwd = os.getcwd()
    try:
        if resuming:
            Tuner.resume(
                directory, stop=budget if time_budget_s else None, quiet=True, progress=live
            )
        else:
            trainable = FunctionTrainable(
                run_or_experiment,
                keys=list(flat),
                experiment_dir=str(directory),
                prefix=prefix,
                metric=metric,
                time_attr=scheduler.time_attr,
            )
            Tuner(
                trainable,
                flat,
                core,
                plan.n_workers,
                stop=budget,
                devices=plan.devices,
                workers_per_device=plan.workers_per_device,
                experiment_dir=directory,
                backend=backend,
                ray_address=ray_address,
                backend_options=backend_options,
                quiet=True,
                name=directory.name,
                max_failures=1 if fail_fast else 10,
                # Ray Tune's max_failures: retry a failed trial from its last checkpoint, whatever
                # failed (the objective's exception or its worker)
                max_retries=max_failures,
                retry_on_error=max_failures > 0,
                return_ends_trial=True,
                progress=live,
            ).run()
    except AllTrialsFailedError:
        pass  # listed below as ERROR trials, and raised (or not) the way Ray Tune does
    except RunError as error:
        lines = str(error).splitlines()
        detail = f"; the last error: {_one_line(str(error))}" if len(lines) > 1 else ""
        raise TuneError(f"the run stopped: {lines[0] if lines else error}{detail}") from error
    finally:
        os.chdir(cwd)  # the FakeBackend's trainables change it in this very process
    meta["finished"] = _finished(directory)
    meta_path.write_text(json.dumps(meta, indent=1) + "\n")
    analysis = ExperimentAnalysis(directory)
    live.final(analysis.trials)
    failed = [trial for trial in analysis.trials if trial.status == "ERROR"]
    if failed and raise_on_failed_trial:
        raise TuneError(
            f"{len(failed)} of {len(analysis.trials)} trials failed ({failed[0].name}: "
            f"{_one_line(failed[0].error)}); the results are in {directory}"
        )
    return analysis


def _check_arguments(
    trainable: Any,
    scheduler: Any,
    progress_reporter: Any,
    backend: str,
    resume: Any,
    verbose: int,
    max_failures: int,
) -> None:
    if isinstance(trainable, (str, type)) or not callable(trainable):
        raise ValueError(
            f"tune.run() takes a function trainable (def train(config): ... tune.report(...)), "
            f"got {trainable!r}; class Trainables and registered names are not supported"
        )
    if scheduler is not None and not isinstance(scheduler, TrialScheduler):
        raise ValueError(
            f"scheduler {type(scheduler).__name__} is not supported; available: {_SCHEDULERS} "
            f"(from ashasim.tune.schedulers)"
        )
    if progress_reporter is not None and not isinstance(progress_reporter, CLIReporter):
        raise ValueError(f"progress_reporter must be a CLIReporter, got {progress_reporter!r}")
    check_choice("backend", backend, BACKENDS)
    check_choice("resume", resume, _RESUME)
    check_int("verbose", verbose, minimum=0)
    if max_failures == -1:
        raise ValueError(
            "max_failures=-1 (retry a failed trial for ever) is not supported: a trial that "
            "fails deterministically would run for ever; give a number of retries"
        )
    check_int("max_failures", max_failures, minimum=0)


def _trial_budget(
    flat: Mapping[str, Any], num_samples: int, search: SearchAlgorithm, time_budget_s: Any
) -> int | None:
    """Trials to start: num_samples, times the grid's size under the basic variant generator;
    None for Ray Tune's num_samples=-1 (until the time budget)."""
    if num_samples == -1:
        if time_budget_s is None:
            raise ValueError("num_samples=-1 (no limit) needs time_budget_s")
        return None
    check_int("num_samples", num_samples, minimum=1)
    grid = [d for d in flat.values() if isinstance(d, GridSearch)]
    if grid and search.models:
        raise ValueError(
            f"{search.ray_name} cannot use tune.grid_search (only the default "
            f"BasicVariantGenerator sweeps grids); use tune.choice instead"
        )
    return num_samples * (1 if search.models else math.prod(len(d.values) for d in grid))


def _build(
    scheduler: TrialScheduler,
    search: SearchAlgorithm,
    searcher: Searcher,
    flat: dict[str, Any],
    objective: tuple[str | None, str | None],
    trials: int | None,
    seed: int,
    stop: Any,
) -> Any:
    """The ashasim scheduler with its searcher; a searcher's refusal in Ray Tune's words."""
    metric, mode = objective
    points = [
        flatten(point, what=f"points_to_evaluate[{i}]")
        for i, point in enumerate(search.points_to_evaluate)
    ]
    try:
        return scheduler.build(
            flat,
            metric=metric or "training_iteration",  # FIFO + random search: nothing to optimize
            mode=mode or "max",
            max_trials=trials,
            seed=seed,
            searcher=searcher,
            points_to_evaluate=points,
            stop_t=_stop_limit(stop, scheduler.time_attr),
        )
    except ValueError as error:
        text = str(error).replace("config_space parameter", "config parameter")
        text = text.replace(type(searcher).__name__, search.ray_name)
        raise ValueError(text.replace("a SampleFrom domain", "tune.sample_from")) from None


def _directory(root: Path, name: str | None, prefix: str, resume: Any) -> tuple[Path, bool]:
    """The run's directory, and whether the run resumes what is there."""
    if name is None:  # Ray Tune's default: the trainable and the time; made unique here
        stamp = f"{prefix}_{_dt.datetime.now().strftime('%Y-%m-%d_%H-%M-%S')}"
        name = next(n for n in _numbered(stamp) if not (root / n).exists())
    directory = root / name
    held = (directory / STATE_FILE).exists()
    resuming = resume in (True, "LOCAL") or (resume == "AUTO" and held)
    if resuming and not held:
        raise ValueError(f"resume={resume!r}: {directory} holds no run to resume")
    if not resuming and held:
        raise ValueError(
            f"{directory} holds a run already: pass resume=True to continue it, or another name"
        )
    return directory, resuming


def _numbered(name: str) -> Any:
    yield name
    count = 2
    while True:
        yield f"{name}_{count}"
        count += 1


def _trials(directory: Path, meta: dict[str, Any]) -> list[Trial]:
    """The trials as the journal has them now (the status table reads the files on disk)."""
    try:
        trace = load_experiment(directory)
    except (FileNotFoundError, ValueError):
        return []
    return load_trials(directory, trace, meta, live=True)
