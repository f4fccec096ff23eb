"""``tune.run``: Ray Tune's classic entry point, translated onto ``ashasim.run.Tuner``.

What it translates, and nothing more: the config (nested, Ray's domains) into a flat space; the
scheduler and search algorithm into an ashasim scheduler with its searcher and trial budget
(``num_samples``, times the grid's size for ``grid_search``); ``resources_per_trial`` into workers
(``ashasim.tune.resources``); ``time_budget_s`` into the stopping criterion; ``stop`` into max_t
and a per-result check (``ashasim.tune.stopping``); the trainable into a ``FunctionTrainable``
(``ashasim.tune.session``). The run itself is ashasim's: the one driver, the journal, crash-safe
resume, Gantt charts and idle time. Arguments are checked, or refused in one line, by
``ashasim.tune.arguments``.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ashasim.checks import check_name
from ashasim.driver import RunError
from ashasim.errors import last_line
from ashasim.events import JobEnded, JobStarted, load_experiment
from ashasim.run.tuner import STATE_FILE, AllTrialsFailedError, StoppingCriterion, Tuner
from ashasim.space import Domain
from ashasim.tune.analysis import META_FILE, ExperimentAnalysis, Trial, load_trials
from ashasim.tune.arguments import (
    check_arguments,
    check_failures,
    keep_policy,
    refuse_arguments,
    storage_root,
    time_budget_seconds,
)
from ashasim.tune.callbacks import Callback, CallbackList, check_callbacks
from ashasim.tune.configs import recorded_names
from ashasim.tune.errors import TuneError
from ashasim.tune.planning import Plan, make_plan, unstarted_trials
from ashasim.tune.reporter import CLIReporter, LiveTable
from ashasim.tune.resources import WorkerPlan, plan_workers
from ashasim.tune.schedulers import FIFOScheduler, TrialScheduler
from ashasim.tune.session import FunctionTrainable
from ashasim.tune.stopping import StopAll, TrialStop
from ashasim.tune.trial_lines import TrialLines

__all__ = ["DEFAULT_STORAGE", "run", "with_parameters"]

DEFAULT_STORAGE = "~/ray_results"  # Ray Tune's


def run(
    run_or_experiment: Callable[..., Any],
    name: str | None = None,
    metric: str | None = None,
    mode: str | None = None,
    stop: Any = None,
    time_budget_s: float | _dt.timedelta | None = None,
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
    keep_checkpoints_num: int | None = None,
    checkpoint_score_attr: str | None = None,
    callbacks: Sequence[Callback] | None = None,
    trial_name_creator: Callable[[Trial], str] | None = None,
    trial_dirname_creator: Callable[[Trial], str] | None = None,
    *,
    seed: int | None = None,
    backend: str = "local",
    num_cpus: int | None = None,
    num_gpus: int | None = None,
    ray_address: str | None = None,
    backend_options: Mapping[str, Any] | None = None,
    **ray_options: Any,
) -> ExperimentAnalysis:
    """Tune ``run_or_experiment`` (a function of the config that calls ``tune.report``, or
    returns/yields its results) as Ray Tune's ``tune.run`` does, on ashasim's executor. Ray
    Tune's arguments keep their meaning and defaults, or are refused in one line. ashasim's
    own, keyword-only: *seed* (default: the search algorithm's, else a fresh one, printed and
    kept in ``tune.json``); *backend* "local" (worker processes), "ray" (Ray actors;
    *ray_address*) or "fake" (in this process on a virtual clock; *backend_options* go to
    ``FakeBackend``); *num_cpus*/*num_gpus* cap the resources. ``resume=True`` continues the
    run in ``storage_path/name``; without it, a *name* that holds a run gets a fresh suffixed
    directory, said in one line.
    """
    refuse_arguments(ray_options)
    check_arguments(
        run_or_experiment, scheduler, progress_reporter, backend, resume, verbose, (metric, mode)
    )
    failures = check_failures(max_failures, fail_fast)
    time_budget_s = time_budget_seconds(time_budget_s)
    hooks = check_callbacks(callbacks)
    plan = make_plan(
        run_or_experiment,
        scheduler or FIFOScheduler(),
        search_alg,
        config,
        objective=(metric, mode),
        num_samples=num_samples,
        time_budget_s=time_budget_s,
        seed=seed,
        stop=stop,
        keep=keep_policy(keep_checkpoints_num, checkpoint_score_attr),
        creators=(trial_name_creator, trial_dirname_creator),
        max_concurrent_trials=max_concurrent_trials,
    )
    workers = _workers(plan, resources_per_trial, num_cpus, num_gpus, backend)
    directory, resuming = _directory(
        storage_root(storage_path, local_dir, DEFAULT_STORAGE), name, plan.prefix, resume, verbose
    )
    meta = _write_meta(directory, plan, resuming)
    live: Any = _live_table(plan, workers, directory, meta, progress_reporter, verbose)
    setup = {"stop": stop, "num_samples": num_samples, "total_num_samples": plan.trials}
    live = _listening(live, hooks, directory, meta, (resuming, verbose), setup, plan.stop)
    options = {"backend": backend, "ray_address": ray_address, "backend_options": backend_options}
    failure = _execute(plan, workers, directory, resuming, time_budget_s, live, options, failures)
    analysis = _analysis(directory, meta, live, plan if time_budget_s else None, verbose)
    _raise_failures(analysis, directory, failure, fail_fast, raise_on_failed_trial)
    return analysis


def _listening(
    live: LiveTable,
    hooks: list[Callback],
    directory: Path,
    meta: dict[str, Any],
    flags: tuple[bool, int],
    setup: dict[str, Any],
    stop: TrialStop | None,
) -> Any:
    """The status display, wrapped so that Ray's callbacks and a Stopper's ``stop_all`` hear the
    run; *flags*: resuming, and ``verbose`` (from 2, Ray's lines per trial result)."""
    resuming, verbose = flags
    hooks = [*hooks, TrialLines(verbose, meta.get("metric"))] if verbose >= 2 else hooks
    stop_all = StopAll.of(stop)
    if not hooks and stop_all is None:
        return live
    listening = CallbackList(hooks, live, directory, meta, resuming=resuming, stop_all=stop_all)
    listening.call("setup", **setup)
    return listening


def _analysis(
    directory: Path, meta: dict[str, Any], live: Any, budgeted: Plan | None, verbose: int
) -> ExperimentAnalysis:
    """The run's analysis, once ``tune.json`` says whether the run ended or was cut (and how
    many trials Ray Tune would list unstarted, with *budgeted*: the plan of a run with a time
    budget) and what the trial name creators named."""
    meta["finished"] = _finished(directory)
    names = recorded_names(directory)
    if names:
        meta["trial_names"] = {str(k): list(v) for k, v in names.items()}
    meta.pop("unstarted", None)
    if budgeted is not None and not meta["finished"]:
        trials = load_trials(directory, load_experiment(directory), meta)
        live_ones = sum(not t.done and t.status != "ERROR" for t in trials)
        meta["unstarted"] = unstarted_trials(budgeted, len(trials), live_ones)
        if meta["unstarted"] and verbose >= 1:
            print(
                f"time_budget_s ended the run with {meta['unstarted']} trials not started: "
                f"listed TERMINATED without results, as Ray Tune lists them, and with empty "
                f"configs (ashasim draws a config when its trial starts)"
            )
    (directory / META_FILE).write_text(json.dumps(meta, indent=1) + "\n")
    analysis = ExperimentAnalysis(directory)
    live.final(analysis.trials)
    if isinstance(live, CallbackList):
        live.call("on_experiment_end", trials=analysis.trials)
    return analysis


def _workers(
    plan: Plan, resources_per_trial: Any, num_cpus: int | None, num_gpus: int | None, backend: str
) -> WorkerPlan:
    """Workers from the resources per trial, capped by the concurrency limits."""
    return plan_workers(
        resources_per_trial,
        num_cpus=num_cpus,
        num_gpus=num_gpus,
        max_concurrent=plan.limit,
        max_trials=plan.trials,
        check_visible=backend == "local",
    )


def _write_meta(directory: Path, plan: Plan, resuming: bool) -> dict[str, Any]:
    """``tune.json``: what the analysis needs besides the journal (the seed included)."""
    meta_path = directory / META_FILE
    if resuming and meta_path.exists():
        meta = json.loads(meta_path.read_text())
    else:
        meta = {"prefix": plan.prefix, "metric": plan.metric, "mode": plan.mode, "seed": plan.seed}
    scheduler = plan.scheduler
    meta.update(finished=False, time_attr=scheduler.time_attr, scheduler=scheduler.describe())
    directory.mkdir(parents=True, exist_ok=True)
    meta_path.write_text(json.dumps(meta, indent=1) + "\n")
    return meta


def _live_table(
    plan: Plan,
    workers: WorkerPlan,
    directory: Path,
    meta: dict[str, Any],
    reporter: CLIReporter | None,
    verbose: int,
) -> LiveTable:
    """The status table; first, where the scheduler decides otherwise than Ray Tune's on
    purpose, the one line that says so."""
    notice = plan.scheduler.notice()
    if notice and verbose >= 1:
        print(notice)
    devices = workers.devices if isinstance(workers.devices, str) else ", ".join(workers.devices)
    reporter = reporter or CLIReporter()
    # Ray Tune's setup: the run's count of trials replaces the reporter's own total_samples
    reporter.set_total_samples(sys.maxsize if plan.trials is None else plan.trials)
    return LiveTable(
        reporter,
        lambda: _trials(directory, meta),
        metric=meta.get("metric"),
        mode=meta.get("mode"),
        varying=[key for key, value in plan.flat.items() if isinstance(value, Domain)],
        header=f"Scheduler: {plan.scheduler.describe()} | search: {plan.search.ray_name} | "
        f"{workers.n_workers} workers ({devices}) | seed {meta.get('seed', plan.seed)}",
        verbose=verbose,
    )


def _execute(
    plan: Plan,
    workers: WorkerPlan,
    directory: Path,
    resuming: bool,
    time_budget_s: float | None,
    live: Any,
    options: dict[str, Any],
    failures: tuple[int, bool],
) -> RunError | None:
    """Run (or resume) on ashasim's Tuner; the RunError that stopped it, if one did.
    *failures*: Ray Tune's max_failures (retries per trial) and fail_fast."""
    max_failures, fail_fast = failures
    budget = StoppingCriterion(max_wallclock_time=time_budget_s)
    cwd = os.getcwd()
    trainable = FunctionTrainable(
        plan.trainable,
        keys=list(plan.flat),
        experiment_dir=str(directory),
        naming=plan.naming,
        metric=plan.metric,
        time_attr=plan.scheduler.time_attr,
        stop=plan.stop,
        keep=plan.keep,
    )
    try:
        if resuming:  # with the trainable given again, as Ray Tune resumes
            stop = budget if budget.max_wallclock_time else None
            Tuner.resume(directory, stop=stop, quiet=True, progress=live, objective=trainable)
            return None
        Tuner(
            trainable,
            plan.flat,
            plan.core,
            workers.n_workers,
            stop=budget,
            devices=workers.devices,
            workers_per_device=workers.workers_per_device,
            experiment_dir=directory,
            quiet=True,
            name=directory.name,
            max_failures=1 if fail_fast else 10,
            # Ray Tune's max_failures: retry a failed trial from its last checkpoint, whatever
            # failed (the objective's exception or its worker)
            max_retries=max_failures,
            retry_on_error=max_failures > 0,
            return_ends_trial=True,
            allow_nan=True,  # Ray Tune records a NaN metric and the trial goes on
            progress=live,
            **options,
        ).run()
    except AllTrialsFailedError:
        pass  # listed as ERROR trials, and raised (or not) the way Ray Tune does
    except RunError as error:
        return error
    finally:
        os.chdir(cwd)  # the FakeBackend's trainables change it in this very process
    return None


def _raise_failures(
    analysis: ExperimentAnalysis,
    directory: Path,
    failure: RunError | None,
    fail_fast: bool,
    raise_on_failed_trial: bool,
) -> None:
    """Ray Tune's end of a run with errors, in one line each."""
    failed = [trial for trial in analysis.trials if trial.status == "ERROR"]
    first = f"{failed[0].name}: {_one_line(failed[0].error)}" if failed else ""
    if failure is not None and fail_fast:
        raise TuneError(
            f"fail_fast=True: the run stopped at the first failed trial ({first or failure}); "
            f"the results are in {directory}"
        ) from failure
    if failure is not None:
        lines = str(failure).splitlines()
        raise TuneError(
            f"the run stopped: {lines[0] if lines else failure}"
            + (f" (first failed trial {first})" if first else "")
        ) from failure
    if failed and raise_on_failed_trial:
        raise TuneError(
            f"{len(failed)} of {len(analysis.trials)} trials failed ({first}); the results "
            f"are in {directory}"
        )


def with_parameters(trainable: Callable[..., Any], **kwargs: Any) -> Callable[..., Any]:
    """``trainable`` with extra keyword arguments (large data, ...), as Ray Tune's; they travel
    to the workers with the trainable."""
    return functools.partial(trainable, **kwargs)


def _one_line(error: str | None) -> str:
    """The last line of a traceback, without the exception's module path."""
    last = last_line(error)
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


def _directory(
    root: Path, name: str | None, prefix: str, resume: Any, verbose: int
) -> tuple[Path, bool]:
    """The run's directory, and whether the run resumes what is there. A name that holds a run
    already, without resume: the next free ``<name>_<k>``, said in one line (Ray Tune adds the
    new trials beside the old ones; ashasim keeps one run per journal)."""
    if name is None:  # Ray Tune's default: the trainable and the time; made unique here
        stamp = f"{prefix}_{_dt.datetime.now().strftime('%Y-%m-%d_%H-%M-%S')}"
        name = next(n for n in _numbered(stamp) if not (root / n).exists())
    else:  # a folder under storage_path: never a path that leaves it
        check_name("name", name)
    directory = root / name
    held = (directory / STATE_FILE).exists()
    resuming = resume in (True, "LOCAL") or (resume == "AUTO" and held)
    if resuming and not held:
        raise ValueError(f"resume={resume!r}: {directory} holds no run to resume")
    if not resuming and held:
        fresh = next(n for n in _numbered(name) if not (root / n).exists())
        if verbose >= 1:
            print(
                f"{directory} holds a run already: this run goes to {root / fresh} "
                f"(resume=True continues the old one)"
            )
        directory = root / fresh
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
