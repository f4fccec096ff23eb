"""The price of asynchrony: how often ASHA promotes a trial that synchronous SH, seeing the whole
rung, would not have promoted, and what that costs in the best config found at equal budget.

The chapter asserts that ASHA's "suboptimal early promotions have a negligible impact". Both
measures come from the same runs: ASHA (promotion type) and synchronous SH that never idles
(``sync-sh:always``, brackets sized to the cluster) tune the LeNet-calibrated workload for the
same simulated time and seeds, with r_min = 1 and r_max = 16. One factor varies at a time around
eta = 3, 16 workers and the workload's default curve-crossing noise (``trial_spread`` = 0.65: how
far a trial's escape point, and so its early rank, strays from what its learning rate predicts):

* eta in 2, 3, 4; workers in 4, 16, 64; trial_spread in 0.2, 0.65, 1.3.

Per cell: the fraction of ASHA's promotions SH would not have made
(``measures.wrong_promotions``), the best validation error each scheduler found by the budget,
and their difference per seed (ASHA minus SH; negative: ASHA found the better config).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ashasim.core import make_scheduler, rung_levels
from ashasim.experiment import Experiment, Stop
from ashasim.sim import LearningCurves
from ashasim.studies import measures
from ashasim.studies.pool import run_all

__all__ = ["BASE", "SWEEPS", "Pair", "format_table", "run", "write"]

MAX_T = 16
BASE = {"eta": 3, "workers": 16, "spread": 0.65}
SWEEPS = {"eta": (2, 3, 4), "workers": (4, 16, 64), "spread": (0.2, 0.65, 1.3)}
BUDGET = 900.0  # simulated seconds


@dataclass(frozen=True)
class Pair:
    """ASHA and synchronous SH on one cell and seed."""

    factor: str
    value: float
    seed: int
    wrong: int
    promotions: int
    best_asha: float
    best_sync: float


@dataclass(frozen=True)
class _Task:
    factor: str
    value: float
    seed: int


def _best(name: str, eta: int, workers: int, costs: LearningCurves, seed: int) -> tuple[Any, float]:
    options: dict[str, Any] = {"max_t": MAX_T, "grace_period": 1, "reduction_factor": eta}
    if name == "sync-sh":
        levels = rung_levels(1, MAX_T, eta)
        options.update(overlap="always", n0=max(eta ** (len(levels) - 1), workers))
    scheduler = make_scheduler(name, costs.config_space, seed=seed, **options)
    trace = Experiment(scheduler, workers, stop=Stop(time=BUDGET)).simulate(costs, seed=seed)
    return trace, trace.best.metric if trace.best is not None else float("nan")


def run_one(task: _Task) -> Pair:
    cell = {**BASE, task.factor: task.value}
    eta, workers = int(cell["eta"]), int(cell["workers"])
    costs = LearningCurves(max_epochs=MAX_T, trial_spread=float(cell["spread"]))
    trace, best_asha = _best("asha", eta, workers, costs, task.seed)
    wrong, promotions = measures.wrong_promotions(trace)
    _, best_sync = _best("sync-sh", eta, workers, costs, task.seed)
    return Pair(task.factor, task.value, task.seed, wrong, promotions, best_asha, best_sync)


def run(
    *,
    seeds: int = 10,
    sweeps: dict[str, Sequence[float]] | None = None,
    processes: int | None = None,
    on_result: Callable[[Pair], None] | None = None,
) -> list[Pair]:
    tasks = [
        _Task(factor, value, seed)
        for factor, values in (sweeps or SWEEPS).items()
        for value in values
        for seed in range(seeds)
    ]
    return run_all(run_one, tasks, processes=processes, on_result=on_result)


def _pm(values: Sequence[float], fmt: str) -> str:
    return f"{statistics.fmean(values):{fmt}} ± {statistics.pstdev(values):{fmt}}"


def format_table(pairs: Sequence[Pair]) -> str:
    """Per cell: wrong-promotion fraction, best errors and their per-seed difference (mean ±
    std over seeds)."""
    lines = [
        "| factor | value | ASHA promotions SH would not make | best, ASHA | best, sync SH "
        "(always) | ASHA − sync SH |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    cells: dict[tuple[str, float], list[Pair]] = {}
    for pair in pairs:
        cells.setdefault((pair.factor, pair.value), []).append(pair)
    for (factor, value), runs in cells.items():
        wrong = [p.wrong / p.promotions for p in runs if p.promotions]
        lines.append(
            f"| {factor} | {value:g} | {_pm(wrong, '.1%')} | "
            f"{_pm([p.best_asha for p in runs], '.4f')} | "
            f"{_pm([p.best_sync for p in runs], '.4f')} | "
            f"{_pm([p.best_asha - p.best_sync for p in runs], '+.4f')} |"
        )
    return "\n".join(lines)


def write(out: Path, pairs: Sequence[Pair]) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    table = out / "asynchrony.md"
    table.write_text(format_table(pairs) + "\n", encoding="utf-8")
    return {"table": table}
