"""Line plots of a run: learning curves, best-so-far over time, idle fraction against workers.

These answer the questions the Gantt chart does not: how quickly a scheduler finds a good
configuration (anytime performance), and how its idle time grows with the number of workers.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator, PercentFormatter

from ashasim.events import Trace
from ashasim.plot.colors import ConfigColors, listed_colors
from ashasim.plot.gantt import _scheduler_name, _time_label

__all__ = [
    "best_so_far",
    "best_so_far_bands",
    "idle_comparison",
    "learning_curves",
    "quartile_errorbar",
    "save",
    "workers_comparison",
]


def learning_curves(
    trace: Trace,
    *,
    title: str | None = None,
    max_legend: int = 12,
    x: str = "time",
) -> Figure:
    """Each trial's metric against the time it was reported, one line per trial in its config's
    colour (as in the Gantt chart).

    The x axis is time rather than resource so that the plot shows what the scheduler spent its
    budget on: early-stopped trials are short stubs, promoted ones keep going. ``x="fidelity"``
    plots against the fidelity instead (its real values, e.g. training-set sizes, on a log axis
    when they span a factor of 10 or more). Non-finite metrics (diverged trials) are skipped; a
    legend is drawn only for at most *max_legend* trials.
    """
    if x not in ("time", "fidelity"):
        raise ValueError(f"x must be 'time' or 'fidelity', got {x!r}")
    by_trial: dict[int, tuple[list[float], list[float]]] = {}
    for row in trace.results:
        if math.isfinite(row.metric):
            xs, values = by_trial.setdefault(row.trial_id, ([], []))
            xs.append(row.t if x == "time" else trace.fidelity_of(row.resource))
            values.append(row.metric)

    fig = Figure(figsize=(7.0, 4.2), layout="constrained")
    ax = fig.add_subplot()
    color_of = ConfigColors(trace)
    for trial_id, (xs, values) in by_trial.items():
        ax.plot(
            xs,
            values,
            marker="o",
            markersize=3.5,
            linewidth=1.2,
            color=color_of(trial_id),
            label=f"trial {trial_id}",
        )
    if x == "time":
        ax.set_xlabel(_time_label(trace))
        ax.set_xlim(left=0.0)
    else:
        fidelity = trace.fidelity
        ax.set_xlabel(fidelity[0] if fidelity else trace.info.get("resource_attr", "epoch"))
        points = [v for xs, _ in by_trial.values() for v in xs]
        if points and min(points) > 0 and max(points) >= 10 * min(points):
            ax.set_xscale("log")
    ax.set_ylabel(trace.metric)
    ax.grid(alpha=0.3)
    if title is None:
        title = f"{_scheduler_name(trace) or 'Run'}: learning curves ({len(by_trial)} trials)"
    ax.set_title(title)
    if 0 < len(by_trial) <= max_legend:
        ax.legend(fontsize=8, ncols=2 if len(by_trial) > 6 else 1)
    return fig


def best_so_far(
    traces: Trace | Sequence[Trace],
    labels: Sequence[str] | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """Best metric found so far against time, one step line per trace, to compare schedulers.

    Each line steps at the improvements of ``Trace.best_so_far()`` and is extended flat to the
    trace's makespan, so a run that stopped improving early shows as a long flat tail rather than
    a line that simply ends. Labels default to the scheduler names.
    """
    runs = [traces] if isinstance(traces, Trace) else list(traces)
    if labels is None:
        labels = [_scheduler_name(t) or f"trace {i}" for i, t in enumerate(runs)]
    elif len(labels) != len(runs):
        raise ValueError(f"got {len(labels)} labels for {len(runs)} traces")

    fig = Figure(figsize=(7.0, 4.2), layout="constrained")
    ax = fig.add_subplot()
    for trace, label in zip(runs, labels, strict=True):
        steps = trace.best_so_far()
        ts = [t for t, _, _ in steps]
        values = [value for _, value, _ in steps]
        if steps and trace.makespan > ts[-1]:
            ts.append(trace.makespan)
            values.append(values[-1])
        ax.step(ts, values, where="post", linewidth=1.6, label=label)
    if runs:
        ax.set_xlabel(_time_label(runs[0]))
        ax.set_ylabel(f"best {runs[0].metric}")
    ax.set_xlim(left=0.0)
    ax.grid(alpha=0.3)
    ax.set_title("Best so far" if title is None else title)
    if runs:
        ax.legend(fontsize=8)
    return fig


def best_so_far_bands(
    panels: Mapping[str, Mapping[str, Sequence[Sequence[tuple[float, float]]]]],
    *,
    horizons: Mapping[str, float],
    ylabel: str = "best metric so far",
    log_x: bool = True,
    targets: Mapping[str, float] | None = None,
    title: str | None = None,
) -> Figure:
    """Median best-so-far over seeds, with the interquartile band, one line per contender.

    *panels*: panel title -> contender -> one run's improvement steps ``[(t, best), ...]`` per
    seed. Each run is evaluated on a common time grid up to the panel's *horizon* (a run with no
    result yet counts as unknown, drawn only once every seed has a value). Comparing searchers
    needs the spread, not one lucky seed: the band is where the middle half of the seeds are.
    *targets*: a dashed line per panel at the value a run must reach; the y axis then shows up
    to three times the target, where the contenders differ (the first seconds at chance level
    would flatten every difference).
    """
    columns = min(2, len(panels))
    rows = math.ceil(len(panels) / columns)
    fig = Figure(figsize=(5.0 * columns, 3.6 * rows), layout="constrained")
    axes = list(fig.subplots(rows, columns, squeeze=False).flat)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    for ax, (name, contenders) in zip(axes, panels.items(), strict=False):
        horizon = horizons[name]
        grid = np.geomspace(horizon / 1000, horizon, 300) if log_x else np.linspace(0, horizon, 300)
        for index, (contender, runs) in enumerate(contenders.items()):
            values = np.array([_steps_on(grid, steps) for steps in runs])
            known = ~np.isnan(values).any(axis=0)
            if not known.any():
                continue
            q1, median, q3 = np.quantile(values[:, known], [0.25, 0.5, 0.75], axis=0)
            color = colormaps["tab10"](index % 10)
            ax.plot(grid[known], median, color=color, linewidth=1.6, label=contender)
            ax.fill_between(grid[known], q1, q3, color=color, alpha=0.15, linewidth=0)
        if targets is not None and name in targets:
            ax.axhline(targets[name], color="0.3", linestyle="--", linewidth=0.9)
            low = min((line.get_ydata().min() for line in ax.get_lines()[:-1]), default=0.0)
            ax.set_ylim(min(low, targets[name]) * 0.95, 3 * targets[name])
        if log_x:
            ax.set_xscale("log")
        ax.set_xlabel("simulated time (s)")
        ax.set_ylabel(ylabel)
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    if title is not None:
        fig.suptitle(title)
    return fig


def _steps_on(grid: np.ndarray, steps: Sequence[tuple[float, float]]) -> np.ndarray:
    """A step function (value from each step's time on) sampled on ``grid``; NaN before it."""
    times = np.array([t for t, _ in steps], dtype=float)
    values = np.array([v for _, v in steps], dtype=float)
    where = np.searchsorted(times, grid, side="right") - 1
    return np.where(where >= 0, values[np.maximum(where, 0)], np.nan)


def idle_comparison(rows: Iterable[Mapping[str, Any]], *, title: str | None = None) -> Figure:
    """Mean idle fraction (error bars: std over seeds) against the number of workers.

    *rows* hold "scheduler", "n_workers", "idle_fraction" (one value per seed) and optionally
    "setting"; there is one subplot per setting and one line per scheduler, in the same colour in
    every subplot. The std is the population std (ddof=0), so a single seed gets a zero-length bar
    instead of NaN. Rows that repeat a (setting, scheduler, n_workers) pool their seeds.
    """
    pooled: dict[str, dict[str, dict[int, list[float]]]] = {}
    for row in rows:
        setting = str(row.get("setting") or "")
        fractions = row["idle_fraction"]
        values = [float(v) for v in np.atleast_1d(np.asarray(fractions, dtype=float))]
        if not values:
            raise ValueError(f"row {dict(row)!r} has no idle_fraction values")
        by_scheduler = pooled.setdefault(setting, {})
        by_workers = by_scheduler.setdefault(str(row["scheduler"]), {})
        by_workers.setdefault(int(row["n_workers"]), []).extend(values)
    if not pooled:
        raise ValueError("idle_comparison needs at least one row")

    # one colour per scheduler across all panels, in order of first appearance
    palette = listed_colors("tab10")
    names = dict.fromkeys(name for by_scheduler in pooled.values() for name in by_scheduler)
    color = {name: palette[i % len(palette)] for i, name in enumerate(names)}

    n_panels = len(pooled)
    fig = Figure(figsize=(4.6 * n_panels, 3.8), layout="constrained")
    axes = fig.subplots(1, n_panels, sharey=True, squeeze=False)[0]
    for ax, (setting, by_scheduler) in zip(axes, pooled.items(), strict=True):
        workers_seen: set[int] = set()
        for scheduler, by_workers in by_scheduler.items():
            workers = sorted(by_workers)
            workers_seen.update(workers)
            means = [float(np.mean(by_workers[n])) for n in workers]
            stds = [float(np.std(by_workers[n])) for n in workers]
            ax.errorbar(
                workers,
                means,
                yerr=stds,
                marker="o",
                capsize=3,
                color=color[scheduler],
                label=scheduler,
            )
        ax.set_xscale("log", base=2)
        ticks = sorted(workers_seen)
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticks(ticks, [str(n) for n in ticks])
        if len(ticks) == 1:
            ax.set_xlim(ticks[0] / 2, ticks[0] * 2)
        ax.set_xlabel("workers")
        if setting:
            ax.set_title(setting)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylim(0.0, 1.0)
    axes[0].yaxis.set_major_formatter(PercentFormatter(1.0))
    axes[0].set_ylabel("idle fraction (mean ± std over seeds)")
    fig.suptitle("Idle fraction vs number of workers" if title is None else title)
    return fig


def workers_comparison(
    runs: Iterable[Any],
    *,
    value: Any,
    ylabel: str,
    title: str | None = None,
    log_y: bool = True,
) -> Figure:
    """One measure of many runs against the number of workers: the median over seeds, with bars
    from the lower to the upper quartile; one panel per setting, one line per scheduler.

    *runs* are objects with ``setting``, ``scheduler`` and ``n_workers`` (e.g. the comparison
    studies' results); *value* maps a run to its number (None: no value, e.g. a target never
    reached; a cell needs half its seeds with a value to be drawn).
    """
    cells: dict[str, dict[str, dict[int, list[float | None]]]] = {}
    for run in runs:
        by_scheduler = cells.setdefault(str(run.setting), {})
        by_scheduler.setdefault(str(run.scheduler), {}).setdefault(int(run.n_workers), []).append(
            value(run)
        )
    if not cells:
        raise ValueError("workers_comparison needs at least one run")
    palette = listed_colors("tab10")
    names = dict.fromkeys(name for by in cells.values() for name in by)
    color = {name: palette[i % len(palette)] for i, name in enumerate(names)}
    fig = Figure(figsize=(4.6 * len(cells), 3.8), layout="constrained")
    axes = fig.subplots(1, len(cells), sharey=True, squeeze=False)[0]
    for ax, (setting, by_scheduler) in zip(axes, cells.items(), strict=True):
        ticks: set[int] = set()
        for scheduler, by_workers in by_scheduler.items():
            ticks.update(quartile_errorbar(ax, by_workers, color=color[scheduler], label=scheduler))
        ax.set_xscale("log", base=2)
        if log_y:
            ax.set_yscale("log")
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticks(sorted(ticks), [str(n) for n in sorted(ticks)])
        ax.set_xlabel("workers")
        ax.set_title(setting)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(ylabel)
    axes[0].legend(fontsize=7)
    if title is not None:
        fig.suptitle(title)
    return fig


def quartile_errorbar(
    ax: Any, samples: Mapping[Any, Sequence[float | None]], *, color: Any, label: str
) -> list[Any]:
    """Draw, at each x of *samples*, the median of its values with bars to the quartiles (None:
    never happened, counted as infinitely late); an x whose median is infinite is left out, and
    an infinite upper quartile draws no upper bar. Returns the x values drawn."""
    xs, mids, lows, highs = [], [], [], []
    for x in sorted(samples):
        values = sorted(math.inf if v is None else float(v) for v in samples[x])
        last = len(values) - 1
        mid = values[last // 2]
        if math.isinf(mid):
            continue
        low, high = values[last // 4], values[-(-3 * last // 4)]
        xs.append(x)
        mids.append(mid)
        lows.append(mid - low)
        highs.append(high - mid if math.isfinite(high) else 0.0)
    ax.errorbar(xs, mids, yerr=[lows, highs], marker="o", capsize=3, color=color, label=label)
    return xs


def save(
    fig: Figure, path_stem: str | os.PathLike[str], formats: Sequence[str] = ("png", "svg")
) -> list[Path]:
    """Write *fig* as path_stem.<format> for each format (PNG at 150 dpi) and return the paths.

    The suffix is appended rather than substituted, so a stem like ``runs/asha.w8`` keeps its dot.
    Files are reproducible: no creation date in the metadata and SVG ids salted by the file name,
    so a regenerated figure that did not change leaves the repository clean.
    """
    import matplotlib

    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        fmt = fmt.lower().lstrip(".")
        path = stem.with_name(f"{stem.name}.{fmt}")
        metadata = {"Date": None} if fmt in ("svg", "pdf") else None
        with matplotlib.rc_context({"svg.hashsalt": stem.name}):
            fig.savefig(
                path,
                format=fmt,
                dpi=150 if fmt == "png" else "figure",
                bbox_inches="tight",
                metadata=metadata,
            )
        written.append(path)
    return written
