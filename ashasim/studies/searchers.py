"""Which config to try next: random search, BOHB's KDE and Gaussian-process BO, in simulation.

Every run is ASHA (promotion type) or Hyperband on simulated workers; only the searcher, or the
synchronisation, changes. Two workloads with different landscapes:

* ``lenet``: the LeNet-calibrated ``LearningCurves`` (learning rate x batch size; the error stays
  at chance until learning rate x SGD steps passes a trial's escape point, then follows a power
  law: a ridge, with a sweet spot at large learning rates and small batches);
* ``branin``: ``BraninCurves``, a four-parameter landscape with three separated optima (Branin's
  function over two continuous parameters), an integer width that trades epoch time for a lower
  floor, and a categorical optimizer that shifts the floor.

For each (workload, workers, searcher) the study runs many seeds and records the best metric so
far over simulated time; the summary gives, per cell, the median time to a target and its spread
(quartiles), and the median best at the budget.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ashasim.core import make_scheduler
from ashasim.experiment import Experiment, Stop
from ashasim.sim import LearningCurves
from ashasim.sim.costs import CostModel, EpochFn
from ashasim.sim.randomness import GOLDEN, MASK64, mix64, uniforms
from ashasim.space import choice, randint, uniform
from ashasim.studies.pool import run_all

__all__ = [
    "BUDGETS",
    "CONTENDERS",
    "SETTINGS",
    "TARGETS",
    "BraninCurves",
    "Cell",
    "RunCurve",
    "format_table",
    "load_curves",
    "run",
    "save_curves",
    "summarize",
    "write",
]

# name -> (scheduler, searcher): the searchers under ASHA, and BOHB synchronous vs asynchronous
CONTENDERS: dict[str, tuple[str, str | None]] = {
    "ASHA + random": ("asha", "random"),
    "ASHA + KDE": ("asha", "kde"),
    "ASHA + GP": ("asha", "gp"),
    "BOHB (sync)": ("bohb", None),
    "BOHB (async)": ("async-bohb", None),
}
LADDER: dict[str, Any] = {"max_t": 10, "grace_period": 1, "reduction_factor": 3}
# simulated seconds per worker count: enough for every contender to level off
BUDGETS = {8: 900.0, 64: 300.0}
# what "a good config" means on each workload: reached by most random-search seeds, not at once
TARGETS = {"lenet": 0.105, "branin": 0.25}


class BraninCurves(CostModel):
    """Learning curves whose final error is Branin's function of two parameters.

    Space: ``x1`` uniform(-5, 10), ``x2`` uniform(0, 15), ``width`` randint(1, 8) and
    ``optimizer`` choice of sgd/momentum/adam. Final error = 0.05 + 0.9 * b(x1, x2) / (b + 60),
    where b is Branin's function (minimum 0.398 at three points), plus 0.01 per unit of width
    below 8, plus 0.02 for plain sgd, 0 for momentum and 0.01 for adam. The curve starts at 0.9
    and approaches the final error as ``epoch ** -0.7``; epochs take 0.5 + 0.25 * width seconds
    with 10% log-normal jitter. Metric noise is Gaussian with sd 0.005. Deterministic per
    (seed, trial, epoch), like ``LearningCurves``.
    """

    def __init__(self, *, max_epochs: int = 10, **options: Any) -> None:
        super().__init__(**options)
        self.max_epochs = max_epochs
        self.config_space = {
            "x1": uniform(-5.0, 10.0),
            "x2": uniform(0.0, 15.0),
            "width": randint(1, 8),
            "optimizer": choice(["sgd", "momentum", "adam"]),
            "max_epochs": max_epochs,
        }

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "max_epochs": self.max_epochs}

    @staticmethod
    def final_error(config: Mapping[str, Any]) -> float:
        x1, x2 = float(config["x1"]), float(config["x2"])
        b = (x2 - 5.1 / (4 * math.pi**2) * x1**2 + 5 / math.pi * x1 - 6) ** 2
        b += 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1) + 10
        shift = {"sgd": 0.02, "momentum": 0.0, "adam": 0.01}[config["optimizer"]]
        return 0.05 + 0.9 * b / (b + 60) + 0.01 * (8 - int(config["width"])) + shift

    def epoch_fn(self, seed: int) -> EpochFn:
        def epoch(trial_id: int, config: dict, epoch: int) -> tuple[float, float]:
            key = mix64((seed * GOLDEN + trial_id) & MASK64)
            u1, u2 = uniforms(key, epoch)
            normal = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
            final = self.final_error(config)
            error = final + (0.9 - final) * epoch**-0.7 + 0.005 * normal
            seconds = (0.5 + 0.25 * int(config["width"])) * math.exp(0.1 * normal)
            return seconds, min(max(error, 0.0), 1.0)

        return epoch


SETTINGS: dict[str, Callable[[], CostModel]] = {"lenet": LearningCurves, "branin": BraninCurves}


@dataclass(frozen=True)
class RunCurve:
    """One run: the best metric so far at each improvement, and what it cost."""

    workload: str
    contender: str
    n_workers: int
    seed: int
    steps: tuple[tuple[float, float], ...]  # (t, best so far)
    trials: int

    def best_at(self, t: float) -> float:
        best = math.inf
        for when, value in self.steps:
            if when > t:
                break
            best = value
        return best

    def time_to(self, target: float) -> float | None:
        return next((t for t, value in self.steps if value <= target), None)


@dataclass(frozen=True)
class _Task:
    workload: str
    contender: str
    n_workers: int
    seed: int
    max_time: float


def run_one(task: _Task) -> RunCurve:
    costs = SETTINGS[task.workload]()
    name, searcher = CONTENDERS[task.contender]
    scheduler = make_scheduler(
        name, costs.config_space, seed=task.seed, searcher=searcher, **LADDER
    )
    trace = Experiment(scheduler, task.n_workers, stop=Stop(time=task.max_time)).simulate(
        costs, seed=task.seed
    )
    steps = tuple((t, value) for t, value, _ in trace.best_so_far())
    return RunCurve(
        task.workload, task.contender, task.n_workers, task.seed, steps, len(trace.trial_ids)
    )


def run(
    *,
    workloads: Sequence[str] = tuple(SETTINGS),
    contenders: Sequence[str] = tuple(CONTENDERS),
    workers: Sequence[int] = (8, 64),
    seeds: int = 20,
    max_time: Mapping[int, float] | float = 900.0,
    processes: int | None = None,
    on_result: Callable[[RunCurve], None] | None = None,
) -> list[RunCurve]:
    """Every (workload, contender, workers, seed) run. *max_time*: simulated seconds, one for
    all or per worker count."""
    budgets = max_time if isinstance(max_time, Mapping) else dict.fromkeys(workers, max_time)
    tasks = [
        _Task(workload, contender, n, seed, float(budgets[n]))
        for workload in workloads
        for n in workers
        for contender in contenders
        for seed in range(seeds)
    ]
    return run_all(run_one, tasks, processes=processes, on_result=on_result)


@dataclass(frozen=True)
class Cell:
    """A (workload, workers, contender) cell summarized over seeds."""

    workload: str
    n_workers: int
    contender: str
    seeds: int
    reached: int
    time_median: float  # inf: fewer than half the seeds reached the target
    time_quartiles: tuple[float, float]  # inf where a quartile's seed never reached it
    best_median: float
    trials_median: float


def _quartiles(ordered: Sequence[float]) -> tuple[float, float]:
    """Lower and upper quartile by rank (so a never-reached inf stays inf, not NaN)."""
    n = len(ordered)
    return ordered[(n - 1) // 4], ordered[-(-3 * (n - 1) // 4)]


def summarize(
    curves: Sequence[RunCurve], targets: Mapping[str, float], budgets: Mapping[int, float]
) -> list[Cell]:
    """Median time to the workload's target and its quartiles (a seed that never reached it
    counts as infinitely late) and the median best at the budget."""
    groups: dict[tuple[str, int, str], list[RunCurve]] = {}
    for curve in curves:
        groups.setdefault((curve.workload, curve.n_workers, curve.contender), []).append(curve)
    cells = []
    for (workload, n_workers, contender), runs in groups.items():
        times = [run.time_to(targets[workload]) for run in runs]
        ordered = sorted(math.inf if t is None else t for t in times)
        cells.append(
            Cell(
                workload,
                n_workers,
                contender,
                len(runs),
                sum(t is not None for t in times),
                statistics.median(ordered),
                _quartiles(ordered),
                statistics.median(run.best_at(budgets[n_workers]) for run in runs),
                statistics.median(run.trials for run in runs),
            )
        )
    return cells


def format_table(cells: Sequence[Cell], targets: Mapping[str, float]) -> str:
    """A Markdown table: time to target (median [quartiles]), reached, best at the budget."""

    def seconds(value: float) -> str:
        return "never" if math.isinf(value) else f"{value:,.0f}"

    lines = [
        "| workload | workers | searcher | time to target (s), median [IQR] | reached | "
        "best at budget (median) | trials (median) |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for c in cells:
        q1, q3 = c.time_quartiles
        lines.append(
            f"| {c.workload} (≤ {targets[c.workload]:g}) | {c.n_workers} | {c.contender} | "
            f"{seconds(c.time_median)} [{seconds(q1)}, {seconds(q3)}] | {c.reached}/{c.seeds} | "
            f"{c.best_median:.4f} | {c.trials_median:,.0f} |"
        )
    return "\n".join(lines)


def save_curves(path: Path, curves: Sequence[RunCurve]) -> Path:
    """Every run's best-so-far steps as JSON, so the table and figure can be redrawn."""
    path.write_text(json.dumps([asdict(curve) for curve in curves]) + "\n", encoding="utf-8")
    return path


def load_curves(path: Path) -> list[RunCurve]:
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [
        RunCurve(**{**row, "steps": tuple(tuple(step) for step in row["steps"])}) for row in rows
    ]


def write(out: Path, curves: Sequence[RunCurve]) -> dict[str, Path]:
    """The table (``searchers.md``), the figure (``searchers.png/.svg``) and the runs
    (``searchers.json``) under ``out``."""
    from ashasim.plot import best_so_far_bands, save

    out.mkdir(parents=True, exist_ok=True)
    save_curves(out / "searchers.json", curves)
    budgets = {c.n_workers: BUDGETS.get(c.n_workers, max(t for t, _ in c.steps)) for c in curves}
    table = out / "searchers.md"
    table.write_text(format_table(summarize(curves, TARGETS, budgets), TARGETS) + "\n")
    panels: dict[str, dict[str, list]] = {}
    horizons: dict[str, float] = {}
    marks: dict[str, float] = {}
    for curve in curves:
        name = f"{curve.workload}, {curve.n_workers} workers"
        panels.setdefault(name, {}).setdefault(curve.contender, []).append(curve.steps)
        horizons[name] = budgets[curve.n_workers]
        marks[name] = TARGETS[curve.workload]
    figure = best_so_far_bands(
        panels, horizons=horizons, targets=marks, ylabel="best validation error so far"
    )
    return {"table": table, "figure": save(figure, out / "searchers")[0]}
