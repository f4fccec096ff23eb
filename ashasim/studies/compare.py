"""Compare schedulers on simulated clusters: idle time, time to a target, best at a budget.

One *run* is a scheduler on a workload with n workers and a seed, cut at ``max_time``. For each
(setting, scheduler, workers) the runs over seeds are summarized by mean and standard deviation.
Runs are independent, so they go to a process pool; each is deterministic in its seed, so the
table does not depend on the number of processes.

For synchronous SH the bracket size follows the cluster: n0 = max(eta**K, workers), so that rung 0
has a trial for every worker (what a user sizing SH for that cluster would choose; with the
default eta**K a 256-worker cluster would mostly idle by construction).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from ashasim.core import make_scheduler, rung_levels
from ashasim.sim import CostModel, LearningCurves, simulate

__all__ = [
    "RunResult",
    "Summary",
    "as_rows",
    "compare",
    "format_table",
    "run_one",
    "summarize",
    "variance_settings",
]


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


def variance_settings(max_epochs: int = 10) -> dict[str, LearningCurves]:
    """The LeNet-calibrated workload with low and with high epoch-time variance."""
    return {
        "low variance": LearningCurves(
            max_epochs=max_epochs, time_jitter=0.02, trial_speed_spread=0.02, straggler_prob=0.0
        ),
        "high variance": LearningCurves(
            max_epochs=max_epochs,
            time_jitter=0.3,
            trial_speed_spread=0.3,
            straggler_prob=0.15,
            straggler_factor=4.0,
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


def run_one(task: _Task) -> RunResult:
    """One simulated run (module-level so a process pool can pickle it)."""
    space = task.workload.config_space or {}
    options = dict(task.options)
    if task.scheduler == "sync-sh" and options.get("n0") is None:
        levels = rung_levels(options["grace_period"], options["max_t"], options["reduction_factor"])
        options["n0"] = max(options["reduction_factor"] ** (len(levels) - 1), task.n_workers)
    scheduler = make_scheduler(task.scheduler, space, seed=task.seed, **options)
    trace = simulate(
        scheduler, task.workload, task.n_workers, max_time=task.max_time, seed=task.seed
    )
    best = trace.best
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
    **options: Any,
) -> list[RunResult]:
    """Every (setting, scheduler, workers, seed) run, in that order.

    *options* are scheduler options (max_t, grace_period, reduction_factor, overlap, resume, n0,
    mode, ...). *processes*: pool size (None: one per CPU; 1: run in this process).
    """
    seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    if not seed_list:
        raise ValueError("seeds must name at least one seed")
    tasks = [
        _Task(setting, workload, name, n, seed, max_time, target, options)
        for setting, workload in settings.items()
        for name in schedulers
        for n in workers
        for seed in seed_list
    ]
    if processes == 1:
        results = []
        for task in tasks:
            results.append(run_one(task))
            if on_result is not None:
                on_result(results[-1])
        return results
    with ProcessPoolExecutor(max_workers=processes) as pool:
        results = []
        for result in pool.map(run_one, tasks, chunksize=1):
            results.append(result)
            if on_result is not None:
                on_result(result)
        return results


def _mean_std(values: Sequence[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return statistics.fmean(values), statistics.pstdev(values)


def summarize(results: Iterable[RunResult]) -> list[Summary]:
    """Mean and spread over seeds, per (setting, scheduler, workers), in first-seen order."""
    groups: dict[tuple[str, str, int], list[RunResult]] = {}
    for result in results:
        groups.setdefault((result.setting, result.scheduler, result.n_workers), []).append(result)
    summaries = []
    for (setting, scheduler, n_workers), runs in groups.items():
        idle = [r.idle_fraction for r in runs]
        times = [r.time_to_target for r in runs if r.time_to_target is not None]
        bests = [
            r.best_metric
            for r in runs
            if r.best_metric is not None and math.isfinite(r.best_metric)
        ]
        idle_mean, idle_std = _mean_std(idle)
        time_mean, time_std = _mean_std(times)
        best_mean, best_std = _mean_std(bests)
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


def as_rows(summaries: Iterable[Summary]) -> list[dict[str, Any]]:
    """Rows for ``ashasim.plot.idle_comparison`` (and JSON)."""
    rows = []
    for s in summaries:
        row = asdict(s)
        row["idle_fraction"] = list(s.idle_fractions)
        del row["idle_fractions"]
        rows.append(row)
    return rows
