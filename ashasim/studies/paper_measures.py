"""The ASHA paper's simulated-workload measures (Li et al., MLSys 2020), on ashasim's simulator.

The paper compares ASHA with synchronous SH on simulated workloads by two measures: the time
until the first configuration is trained to R (r_max), as the spread of training times grows;
and the number of configurations trained to R over time, as jobs are dropped with a probability.

What is reproduced: the two measures, the two axes (spread of training time, drop probability),
the ladder eta = 4, r_min = 1, r_max = 256 (rungs 1, 4, 16, 64, 256) and 25 workers, with
synchronous SH's bracket of n0 = 256 trials at r_min. What is ours (the paper's text was not at
hand to check its exact distributions): training time per epoch is a per-trial log-normal speed
factor with standard deviation ``spread`` (configurations train at different speeds: the
straggler effect a barrier pays for) times a small per-epoch jitter; a dropped job dies at a
uniformly random point of its work (``CostModel.drop_probability``) and is journaled failed; the
loss at r epochs is the trial's quality plus a decaying, trial-specific offset, so early ranks
are informative but not exact. Synchronous SH is run with each overlap policy; what a drop means
to it is ashasim's: the rung closes without the dropped trial (no re-run).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ashasim.core import make_scheduler
from ashasim.experiment import Experiment, Stop
from ashasim.sim.costs import CostModel, EpochFn
from ashasim.sim.randomness import key_of, uniforms
from ashasim.space import uniform
from ashasim.studies import measures
from ashasim.studies.compare import parse_contender
from ashasim.studies.pool import run_all

__all__ = [
    "CONTENDERS",
    "DROPS",
    "LADDER",
    "SPREADS",
    "PaperWorkload",
    "Point",
    "format_tables",
    "run",
    "write",
]

LADDER: dict[str, Any] = {"max_t": 256, "grace_period": 1, "reduction_factor": 4}
N_WORKERS = 25
N0 = 256
CONTENDERS = ("asha", "sync-sh:none", "sync-sh:top-rung", "sync-sh:always")
SPREADS = (0.0, 0.25, 0.5, 1.0, 1.5)
DROPS = (0.0, 0.01, 0.05)
HORIZON = 3000.0  # simulated seconds (an average epoch takes about one second)


def _normal(u1: float, u2: float) -> float:
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


class PaperWorkload(CostModel):
    """A config is a quality ``x`` in [0, 1); the loss at epoch r is x + 0.3 * (1 + z) / sqrt(r)
    with z a trial-specific normal (early ranks mislead a little); an epoch of a trial takes
    exp(spread * n) * (1 + 0.05 * e) seconds, n a per-trial normal, e a per-epoch normal."""

    def __init__(self, *, spread: float = 0.5, max_epochs: int = 256, **options: Any) -> None:
        super().__init__(**options)
        self.spread = spread
        self.max_epochs = max_epochs
        self.config_space = {"x": uniform(0.0, 1.0)}

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "spread": self.spread, "max_epochs": self.max_epochs}

    def epoch_fn(self, seed: int) -> EpochFn:
        spread = self.spread
        # A trial's hash key, speed and offset, computed at its first epoch: they are most of an
        # epoch's arithmetic, and a run asks for about three epochs per trial. (The trace keeps
        # every trial anyway, so the cache adds a tuple per trial to what a run holds.)
        trials: dict[int, tuple[int, float, float]] = {}

        def epoch(trial_id: int, config: dict, level: int) -> tuple[float, float]:
            constants = trials.get(trial_id)
            if constants is None:
                key = key_of(seed, trial_id)
                speed = math.exp(spread * _normal(*uniforms(key, 0)))
                constants = trials[trial_id] = (key, speed, 1.0 + _normal(*uniforms(key, 1)))
            key, speed, offset = constants
            jitter = 1.0 + 0.05 * _normal(*uniforms(key, level + 2))
            seconds = max(0.01, speed * jitter)
            return seconds, float(config["x"]) + 0.3 * offset / math.sqrt(level)

        return epoch


@dataclass(frozen=True)
class Point:
    """One run: the axis value, and the two measures."""

    axis: str  # "spread" or "drop"
    value: float
    contender: str
    seed: int
    first_at_top: float | None
    at_top: tuple[tuple[float, int], ...]  # (t, trials at r_max so far)


@dataclass(frozen=True)
class _Task:
    axis: str
    value: float
    contender: str
    seed: int


def run_one(task: _Task) -> Point:
    spread = task.value if task.axis == "spread" else 0.5
    drop = task.value if task.axis == "drop" else 0.0
    costs = PaperWorkload(spread=spread, drop_probability=drop)
    name, policy = parse_contender(task.contender)
    options: dict[str, Any] = {**LADDER, **policy}
    if name == "sync-sh":
        options["n0"] = N0
    scheduler = make_scheduler(name, costs.config_space, seed=task.seed, **options)
    trace = Experiment(scheduler, N_WORKERS, stop=Stop(time=HORIZON)).simulate(
        costs, seed=task.seed
    )
    return Point(
        task.axis,
        task.value,
        task.contender,
        task.seed,
        measures.first_at_top(trace),
        tuple(measures.count_at_top(trace)),
    )


def run(
    *,
    seeds: int = 10,
    spreads: Sequence[float] = SPREADS,
    drops: Sequence[float] = DROPS,
    contenders: Sequence[str] = CONTENDERS,
    processes: int | None = None,
    on_result: Callable[[Point], None] | None = None,
) -> list[Point]:
    """Both sweeps: the spread of training time (no drops), and the drop probability (spread
    0.5)."""
    tasks = [
        _Task(axis, value, contender, seed)
        for axis, values in (("spread", spreads), ("drop", drops))
        for value in values
        for contender in contenders
        for seed in range(seeds)
    ]
    return run_all(run_one, tasks, processes=processes, on_result=on_result)


def _median_iqr(values: Sequence[float | None]) -> str:
    ordered = sorted(math.inf if v is None else v for v in values)
    n = len(ordered)
    mid, low, high = ordered[(n - 1) // 2], ordered[(n - 1) // 4], ordered[-(-3 * (n - 1) // 4)]

    def show(x: float) -> str:
        return "never" if math.isinf(x) else f"{x:,.0f}"

    return f"{show(mid)} [{show(low)}, {show(high)}]"


def _count_at(point: Point, t: float) -> int:
    count = 0
    for when, n in point.at_top:
        if when > t:
            break
        count = n
    return count


def format_tables(points: Sequence[Point]) -> str:
    """Two Markdown tables: time to the first trial at r_max per spread, and trials at r_max by
    the horizon per drop probability (median [interquartile range] over seeds)."""
    contenders = list(dict.fromkeys(p.contender for p in points))
    spreads = sorted({p.value for p in points if p.axis == "spread"})
    drops = sorted({p.value for p in points if p.axis == "drop"})
    lines = [
        "| first trial at r_max (s) | " + " | ".join(f"spread {s:g}" for s in spreads) + " |",
        "|---|" + "---:|" * len(spreads),
    ]
    for contender in contenders:
        cells = [
            _median_iqr(
                [
                    p.first_at_top
                    for p in points
                    if p.axis == "spread" and p.value == s and p.contender == contender
                ]
            )
            for s in spreads
        ]
        lines.append(f"| {contender} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"| trials at r_max by {HORIZON:,.0f} s | "
        + " | ".join(f"drop p = {d:g}" for d in drops)
        + " |",
        "|---|" + "---:|" * len(drops),
    ]
    for contender in contenders:
        cells = []
        for d in drops:
            counts = [
                _count_at(p, HORIZON)
                for p in points
                if p.axis == "drop" and p.value == d and p.contender == contender
            ]
            cells.append(f"{statistics.median(counts):,.0f} [{min(counts)}, {max(counts)}]")
        lines.append(f"| {contender} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write(out: Path, points: Sequence[Point]) -> dict[str, Path]:
    """The tables and the two figures (PNG + SVG) under ``out``."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    from ashasim.plot import quartile_errorbar, save

    out.mkdir(parents=True, exist_ok=True)
    table = out / "paper_measures.md"
    table.write_text(format_tables(points) + "\n", encoding="utf-8")
    contenders = list(dict.fromkeys(p.contender for p in points))
    color = {c: colormaps["tab10"](i) for i, c in enumerate(contenders)}

    fig = Figure(figsize=(6.0, 4.0), layout="constrained")
    ax = fig.add_subplot()
    spreads = sorted({p.value for p in points if p.axis == "spread"})
    for contender in contenders:
        samples = {
            s: [
                p.first_at_top
                for p in points
                if p.axis == "spread" and p.value == s and p.contender == contender
            ]
            for s in spreads
        }
        quartile_errorbar(ax, samples, color=color[contender], label=contender)
    ax.set_xlabel("spread of training time (sd of log speed across trials)")
    ax.set_ylabel("time until the first trial reaches r_max (s)")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"eta = 4, r_max = 256, {N_WORKERS} workers (median, quartiles)", fontsize=10)
    first = save(fig, out / "paper_first_at_top")[0]

    drops = sorted({p.value for p in points if p.axis == "drop"})
    fig = Figure(figsize=(4.0 * len(drops), 3.6), layout="constrained")
    axes = fig.subplots(1, len(drops), sharey=True, squeeze=False)[0]
    grid = [HORIZON * i / 200 for i in range(201)]
    for ax, d in zip(axes, drops, strict=True):
        for contender in contenders:
            runs = [
                p for p in points if p.axis == "drop" and p.value == d and p.contender == contender
            ]
            medians = [statistics.median(_count_at(p, t) for p in runs) for t in grid]
            ax.plot(grid, medians, color=color[contender], label=contender)
        ax.set_title(f"drop probability {d:g}", fontsize=10)
        ax.set_xlabel("simulated time (s)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("trials trained to r_max (median)")
    axes[0].legend(fontsize=8)
    counts = save(fig, out / "paper_at_top")[0]
    return {"table": table, "first_at_top": first, "at_top": counts}
