"""Compare schedulers on simulated clusters: idle time, time to a target, best at a budget, and
what synchronisation costs (``ashasim.studies.measures``).

One *run* is a contender on a workload with n workers and a seed, cut at ``max_time``. For each
(setting, contender, workers) the runs over seeds are summarized by mean and standard deviation.
Runs are independent, so they go to a process pool; each is deterministic in its seed, so the
table does not depend on the number of processes.

A *contender* is a scheduler name, optionally with the synchronous overlap policy after a colon:
``sync-sh:none``, ``sync-sh:top-rung``, ``sync-sh:always``, ``sync-hyperband:always``, ``asha``,
``asha-stopping``, ``async-hyperband``. Bracket sizing, stated for each:

* synchronous SH: n0 = max(eta**K, workers), so rung 0 has a trial for every worker (what a user
  sizing SH for that cluster would choose; with eta**K alone a 256-worker cluster would mostly
  idle by construction);
* synchronous Hyperband: Li et al.'s bracket sizes, ceil((s_max+1)/(s+1) eta**s), not resized
  (the algorithm as published; it starts fewer trials per bracket than a large cluster has
  workers, which is part of what the study shows);
* ASHA and asynchronous Hyperband have no bracket to size: a free worker always gets work.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ashasim.core import OVERLAPS, SCHEDULER_NAMES, make_scheduler, rung_levels
from ashasim.experiment import Experiment, Stop
from ashasim.sim import CostModel, LearningCurves
from ashasim.studies import measures
from ashasim.studies.pool import run_all

__all__ = [
    "RunResult",
    "Summary",
    "as_rows",
    "compare",
    "format_costs_table",
    "format_table",
    "parse_contender",
    "run_one",
    "summarize",
    "variance_settings",
]


def parse_contender(spec: str) -> tuple[str, dict[str, Any]]:
    """("sync-sh", {"overlap": "always"}) from "sync-sh:always"; a ValueError naming what is
    accepted otherwise."""
    name, _, overlap = spec.partition(":")
    if name not in SCHEDULER_NAMES:
        raise ValueError(
            f"scheduler must be one of {', '.join(SCHEDULER_NAMES)} (synchronous ones may add "
            f":OVERLAP); got {spec!r}"
        )
    if not overlap:
        return name, {}
    if not name.startswith("sync"):
        raise ValueError(f"scheduler {spec!r}: only sync-sh and sync-hyperband take an :OVERLAP")
    if overlap not in OVERLAPS:
        raise ValueError(
            f"scheduler {spec!r}: the overlap after ':' must be one of {', '.join(OVERLAPS)}"
        )
    return name, {"overlap": overlap}


@dataclass(frozen=True)
class RunResult:
    setting: str
    scheduler: str
    n_workers: int
    seed: int
    idle_fraction: float
    time_to_target: float | None  # None: the target was not reached within max_time
    best_metric: float | None
    trials: int
    epochs: int
    first_at_top: float | None = None  # when the first trial reached r_max
    at_top: int = 0  # trials trained to r_max within the budget
    wait_median: float | None = None  # promotion waits (s)
    wait_p90: float | None = None
    unfinished_share: float = 0.0  # busy time in brackets that never reached r_max
    wrong_promotions: int = 0  # promotions SH, seeing the whole rung, would not have made
    promotions: int = 0
    failed_jobs: int = 0


@dataclass(frozen=True)
class Summary:
    setting: str
    scheduler: str
    n_workers: int
    seeds: int
    idle_mean: float
    idle_std: float
    reached: int  # seeds that reached the target
    time_to_target_mean: float | None  # over the seeds that reached it
    time_to_target_std: float | None
    best_mean: float | None
    best_std: float | None
    idle_fractions: tuple[float, ...]
    first_at_top: tuple[float | None, float | None] = (None, None)  # mean, std (seeds with one)
    at_top: tuple[float | None, float | None] = (None, None)
    wait_median: tuple[float | None, float | None] = (None, None)
    wait_p90: tuple[float | None, float | None] = (None, None)
    unfinished: tuple[float | None, float | None] = (None, None)
    wrong_fraction: tuple[float | None, float | None] = (None, None)


def variance_settings(max_epochs: int = 10, **model: Any) -> dict[str, LearningCurves]:
    """The LeNet-calibrated workload with low and with high epoch-time variance; *model* (e.g.
    ``drop_probability``) goes to both."""
    return {
        "low variance": LearningCurves(
            max_epochs=max_epochs,
            time_jitter=0.02,
            trial_speed_spread=0.02,
            straggler_prob=0.0,
            **model,
        ),
        "high variance": LearningCurves(
            max_epochs=max_epochs,
            time_jitter=0.3,
            trial_speed_spread=0.3,
            straggler_prob=0.15,
            straggler_factor=4.0,
            **model,
        ),
    }


@dataclass(frozen=True)
class _Task:
    setting: str
    workload: CostModel
    scheduler: str
    n_workers: int
    seed: int
    max_time: float
    target: float | None
    options: Mapping[str, Any]
    journal: Path | None = None


def journal_dir(root: Path, setting: str, scheduler: str, n_workers: int, seed: int) -> Path:
    """Where ``compare(journals=root)`` journals one run:
    ``root/<setting>/<contender>_w<N>_s<seed>``, each part one path component (spaces and the
    contender's ``:`` become ``-`` and ``_``), so ``ashasim plot`` and ``ashasim dashboard`` find
    every run under *root*."""
    name = f"{scheduler.replace(':', '_')}_w{n_workers}_s{seed}"
    return root / setting.replace(" ", "-").replace("/", "-") / name


def _quantile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_one(task: _Task) -> RunResult:
    """One simulated run (module-level so a process pool can pickle it)."""
    space = task.workload.config_space or {}
    name, policy = parse_contender(task.scheduler)
    options = {**task.options, **policy}
    if name == "sync-sh" and options.get("n0") is None:
        levels = rung_levels(options["grace_period"], options["max_t"], options["reduction_factor"])
        options["n0"] = max(options["reduction_factor"] ** (len(levels) - 1), task.n_workers)
    scheduler = make_scheduler(name, space, seed=task.seed, **options)
    experiment = Experiment(
        scheduler, task.n_workers, stop=Stop(time=task.max_time), directory=task.journal
    )
    trace = experiment.simulate(task.workload, seed=task.seed)
    best = trace.best
    waits = measures.promotion_waits(trace)
    wrong, promotions = measures.wrong_promotions(trace)
    return RunResult(
        setting=task.setting,
        scheduler=task.scheduler,
        n_workers=task.n_workers,
        seed=task.seed,
        idle_fraction=trace.idle_fraction,
        time_to_target=None if task.target is None else trace.time_to_reach(task.target),
        best_metric=None if best is None else best.metric,
        trials=len(trace.trial_ids),
        epochs=len(trace.results),
        first_at_top=measures.first_at_top(trace),
        at_top=len(measures.count_at_top(trace)),
        wait_median=None if not waits else statistics.median(waits),
        wait_p90=_quantile(waits, 0.9),
        unfinished_share=measures.unfinished_share(trace),
        wrong_promotions=wrong,
        promotions=promotions,
        failed_jobs=trace.failed_jobs,  # (not summary(): it would walk the idle intervals again)
    )


def compare(
    schedulers: Sequence[str],
    workers: Sequence[int],
    seeds: int | Sequence[int],
    *,
    settings: Mapping[str, CostModel],
    max_time: float,
    target: float | None = None,
    processes: int | None = None,
    on_result: Callable[[RunResult], None] | None = None,
    journals: Path | None = None,
    **options: Any,
) -> list[RunResult]:
    """Every (setting, contender, workers, seed) run, in that order.

    *schedulers*: contenders (see the module docstring). *options* are scheduler options
    (max_t, grace_period, reduction_factor, overlap, resume, n0, mode, ...); a contender's own
    overlap wins. *processes*: pool size (None: one per CPU; 1: run in this process).
    *journals*: also journal every run, with its results, under this folder (``journal_dir``).
    """
    for spec in schedulers:
        parse_contender(spec)  # a bad name fails before any run
    seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    if not seed_list:
        raise ValueError("seeds must name at least one seed")

    def journal(setting: str, name: str, n: int, seed: int) -> Path | None:
        return None if journals is None else journal_dir(journals, setting, name, n, seed)

    tasks = [
        _Task(
            setting,
            workload,
            name,
            n,
            seed,
            max_time,
            target,
            options,
            journal(setting, name, n, seed),
        )
        for setting, workload in settings.items()
        for name in schedulers
        for n in workers
        for seed in seed_list
    ]
    return run_all(run_one, tasks, processes=processes, on_result=on_result)


def _mean_std(values: Sequence[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return statistics.fmean(values), statistics.pstdev(values)


def _known(values: Iterable[float | None]) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def summarize(results: Iterable[RunResult]) -> list[Summary]:
    """Mean and spread over seeds, per (setting, contender, workers), in first-seen order."""
    groups: dict[tuple[str, str, int], list[RunResult]] = {}
    for result in results:
        groups.setdefault((result.setting, result.scheduler, result.n_workers), []).append(result)
    summaries = []
    for (setting, scheduler, n_workers), runs in groups.items():
        idle = [r.idle_fraction for r in runs]
        times = _known(r.time_to_target for r in runs)
        idle_mean, idle_std = _mean_std(idle)
        time_mean, time_std = _mean_std(times)
        best_mean, best_std = _mean_std(_known(r.best_metric for r in runs))
        wrong = [r.wrong_promotions / r.promotions for r in runs if r.promotions]
        summaries.append(
            Summary(
                setting,
                scheduler,
                n_workers,
                len(runs),
                idle_mean or 0.0,
                idle_std or 0.0,
                len(times),
                time_mean,
                time_std,
                best_mean,
                best_std,
                tuple(idle),
                first_at_top=_mean_std(_known(r.first_at_top for r in runs)),
                at_top=_mean_std([float(r.at_top) for r in runs]),
                wait_median=_mean_std(_known(r.wait_median for r in runs)),
                wait_p90=_mean_std(_known(r.wait_p90 for r in runs)),
                unfinished=_mean_std([r.unfinished_share for r in runs]),
                wrong_fraction=_mean_std(wrong),
            )
        )
    return summaries


def _pm(mean: float | None, std: float | None, fmt: str) -> str:
    return "—" if mean is None else f"{mean:{fmt}} ± {std:{fmt}}"


def format_table(summaries: Iterable[Summary], *, target: float | None = None) -> str:
    """A Markdown table: idle fraction, time to target, best metric; mean ± std over seeds."""
    to_target = f"time to ≤ {target:g} (s)" if target is not None else "time to target (s)"
    lines = [
        f"| setting | scheduler | workers | idle fraction | {to_target} | reached | best |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for s in summaries:
        lines.append(
            f"| {s.setting} | {s.scheduler} | {s.n_workers} | "
            f"{s.idle_mean:.1%} ± {s.idle_std:.1%} | "
            f"{_pm(s.time_to_target_mean, s.time_to_target_std, ',.0f')} | "
            f"{s.reached}/{s.seeds} | {_pm(s.best_mean, s.best_std, '.4f')} |"
        )
    return "\n".join(lines)


def format_costs_table(summaries: Iterable[Summary]) -> str:
    """A Markdown table of what synchronisation costs: first trial at r_max, trials at r_max by
    the budget, promotion waits (median, 90th percentile), share of busy time in brackets that
    never reached r_max, promotions SH would not have made; mean ± std over seeds."""
    lines = [
        "| setting | scheduler | workers | first at r_max (s) | at r_max | promotion wait, "
        "median (s) | wait, p90 (s) | unfinished brackets | promotions SH would not make |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in summaries:
        lines.append(
            f"| {s.setting} | {s.scheduler} | {s.n_workers} | {_pm(*s.first_at_top, ',.0f')} | "
            f"{_pm(*s.at_top, ',.0f')} | {_pm(*s.wait_median, ',.1f')} | "
            f"{_pm(*s.wait_p90, ',.1f')} | {_pm(*s.unfinished, '.1%')} | "
            f"{_pm(*s.wrong_fraction, '.1%')} |"
        )
    return "\n".join(lines)


def as_rows(summaries: Iterable[Summary]) -> list[dict[str, Any]]:
    """Rows for ``ashasim.plot.idle_comparison`` (and JSON)."""
    rows = []
    for s in summaries:
        row = asdict(s)
        row["idle_fraction"] = list(s.idle_fractions)
        del row["idle_fractions"]
        rows.append(row)
    return rows
