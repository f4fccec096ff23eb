"""Gantt chart of a run: which worker ran which trial when, and where workers sat idle.

The point of the chart is to make the cost of synchronization visible: synchronous SH leaves
workers idle at every rung barrier, ASHA keeps them busy. So idle time is drawn explicitly (grey
hatched bars), and for synchronous schedulers the barriers themselves are marked.

All job bars go into one ``PolyCollection`` (plus one for failed jobs and one for idle time) rather
than one ``barh`` call per job, so a run of 10,000 jobs builds in a fraction of a second and
renders to PNG in about one; beyond ``MAX_HATCHED`` idle bars the idle time is plain grey, since
hatching thousands of slivers is slow and invisible anyway.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ashasim.events import JobStarted, Segment, Trace
from ashasim.plot.colors import ConfigColors, label_function, lighten, trial_color

__all__ = ["gantt"]

SYNC_SCHEDULERS = frozenset({"SyncSH", "SyncHyperband"})
MAX_LABELS = 60  # beyond this many bars, "Trial-k" labels only clutter the chart
BAR_HEIGHT = 0.8
LABEL_FONTSIZE = 7.0
IDLE_FACE = "#ececec"
IDLE_EDGE = "#b4b4b4"
FAILED_EDGE = "#d62728"
RETRIED_EDGE = "#ff7f0e"  # a job cut by its worker's death and run again (``max_retries``)
MAX_LANE_TICKS = 32
MAX_HATCHED = 2000  # hatching thousands of idle slivers triples the render time and shows nothing

# gids, so tests and callers can find the artists without guessing from their style
JOBS_GID = "ashasim-jobs"
FAILED_GID = "ashasim-failed-jobs"
RETRIED_GID = "ashasim-retried-jobs"
IDLE_GID = "ashasim-idle"
BOUNDARY_GID = "ashasim-rung-boundary"

LONG_RUN_BARRIERS = 40  # beyond this many barrier lines, draw them thin and light


def _scheduler_name(trace: Trace) -> str | None:
    scheduler = trace.info.get("scheduler")
    if isinstance(scheduler, dict) and scheduler.get("name"):
        return str(scheduler["name"])
    return None


def _time_label(trace: Trace) -> str:
    """Say which clock the times come from: simulated seconds and wall-clock ones do not compare."""
    return "wall-clock time (s)" if trace.info.get("clock") == "wallclock" else "simulated time (s)"


def _luminance(rgb: Sequence[float]) -> float:
    r, g, b = rgb[:3]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _rectangles(starts: np.ndarray, ends: np.ndarray, lanes: np.ndarray) -> np.ndarray:
    """(n, 4, 2) corners of bars centred on their lanes, for one PolyCollection (which takes the
    array whole, though matplotlib's stubs ask for a sequence of polygons)."""
    low, high = lanes - BAR_HEIGHT / 2, lanes + BAR_HEIGHT / 2
    xs = np.stack([starts, starts, ends, ends], axis=1)
    ys = np.stack([low, high, high, low], axis=1)
    return np.stack([xs, ys], axis=2)


def rung_boundaries_of(segments: Sequence[Segment]) -> list[tuple[float, int, int]]:
    """(time, bracket, milestone) of every barrier that opened in a synchronous run.

    A bracket's rung at milestone L (other than its first) can only start once the previous rung
    finished, so the earliest start of a job with that bracket and milestone is when the barrier
    opened.
    """
    first_start: dict[tuple[int, int], float] = {}
    for s in segments:
        key = (s.bracket, s.milestone)
        if key not in first_start or s.start < first_start[key]:
            first_start[key] = s.start
    lowest: dict[int, int] = {}
    for bracket, milestone in first_start:
        lowest[bracket] = min(milestone, lowest.get(bracket, milestone))
    return sorted(
        (t, bracket, milestone)
        for (bracket, milestone), t in first_start.items()
        if milestone != lowest[bracket]
    )


def _rung_index(milestone: int, levels: Sequence[int]) -> int:
    return levels.index(milestone) if milestone in levels else len(levels)


def gantt(
    trace: Trace,
    *,
    title: str | None = None,
    show_idle: bool = True,
    rung_boundaries: bool | Literal["auto"] = "auto",
    max_labels: int = MAX_LABELS,
    label: str | Sequence[str] | Callable[[int, dict], str] | None = None,
) -> Figure:
    """One lane per worker (Worker-0 on top), one bar per job, idle time and barriers explicit.

    Bars take their config's colour (``ashasim.plot.colors``: distinct for any number of
    configs), the dark shade for trials that were later promoted, the light one for the others;
    failed jobs are hatched and outlined red. ``rung_boundaries="auto"`` draws dashed lines where
    the barriers of a synchronous scheduler (SyncSH, SyncHyperband) opened (thin and light on long
    runs); ``True`` forces them for any trace, ``False`` turns them off.

    Labels: *label* names a bar (None: the config's names when the run has them, e.g. a table's
    hyperparameters, else "Trial-k"; "trial"; a config key or keys; or a callable (trial_id,
    config) -> text). Each bar gets the longest form of its name that fits inside it; with more
    than *max_labels* bars only the *max_labels* widest are labelled.
    """
    n_workers = trace.n_workers
    segments = trace.segments
    makespan = trace.makespan
    x_max = makespan if makespan > 0 else 1.0
    name = _scheduler_name(trace)

    height = min(16.0, max(2.2, 0.45 * n_workers + 1.4))
    fig = Figure(figsize=(10.0, height), layout="constrained")
    ax = fig.add_subplot()

    if show_idle:
        _draw_idle(ax, trace)

    promoted = trace.promoted
    color_of = ConfigColors(trace)
    colors = [color_of(s.trial_id, s.trial_id in promoted) for s in segments]
    _draw_jobs(ax, segments, colors)

    if segments and max_labels > 0:
        names = label_function(trace, label)
        _label_bars(ax, fig, trace, segments, colors, x_max, names, max_labels)

    show_boundaries = (
        name in SYNC_SCHEDULERS if rung_boundaries == "auto" else bool(rung_boundaries)
    )
    if show_boundaries:
        _draw_boundaries(ax, fig, trace, segments, x_max)

    _draw_axes(ax, trace, x_max)
    if title is None:
        title = f"{name or 'Run'}: {n_workers} workers, idle {trace.idle_fraction:.0%}"
    ax.set_title(title, pad=14 if show_boundaries else 6)  # room for the rung labels
    _legend(ax, segments, promoted, show_idle and trace.idle_time > 0, color_of)
    return fig


def _draw_idle(ax: Any, trace: Trace) -> None:
    """Each worker's idle intervals as grey rectangles under the bars (hatched while few)."""
    gaps = [(w, a, b) for w in range(trace.n_workers) for a, b in trace.idle_intervals(w)]
    if not gaps:
        return
    lanes, starts, ends = (np.asarray(column, dtype=float) for column in zip(*gaps, strict=True))
    idle = PolyCollection(
        _rectangles(starts, ends, lanes),  # type: ignore[arg-type]  # stubs: a Sequence
        facecolors=IDLE_FACE,
        edgecolors=IDLE_EDGE,
        linewidths=0.0,
        hatch="///" if len(gaps) <= MAX_HATCHED else None,
        label="idle",
        gid=IDLE_GID,
        zorder=1,
    )
    ax.add_collection(idle, autolim=False)


# how each group of bars is drawn: ordinary jobs, failed ones, retried ones
_JOB_STYLES: dict[str | None, tuple[str, dict[str, Any]]] = {
    None: (JOBS_GID, {"edgecolors": "white", "linewidths": 0.5}),
    "failed": (FAILED_GID, {"edgecolors": FAILED_EDGE, "linewidths": 1.2, "hatch": "xx"}),
    "retried": (RETRIED_GID, {"edgecolors": RETRIED_EDGE, "linewidths": 1.2, "hatch": ".."}),
}


def _draw_jobs(ax: Any, segments: Sequence[Any], colors: Sequence[Any]) -> None:
    """One bar per job in its config's colour, one collection per group (ordinary, failed,
    retried), so an SVG names each group and the failed ones are drawn over the others."""
    for kind, (gid, style) in _JOB_STYLES.items():
        chosen = [
            i
            for i, s in enumerate(segments)
            if (s.reason if s.reason in _JOB_STYLES else None) == kind
        ]
        if not chosen:
            continue
        starts = np.array([segments[i].start for i in chosen], dtype=float)
        ends = np.array([segments[i].end for i in chosen], dtype=float)
        lanes = np.array([segments[i].worker for i in chosen], dtype=float)
        bars = PolyCollection(
            _rectangles(starts, ends, lanes),  # type: ignore[arg-type]  # stubs: a Sequence
            facecolors=[colors[i] for i in chosen],
            gid=gid,
            zorder=2,
            **style,
        )
        ax.add_collection(bars, autolim=False)


def _draw_axes(ax: Any, trace: Trace, x_max: float) -> None:
    """Time along x, one lane per worker with Worker-0 on top, no frame but the time axis."""
    n_workers = trace.n_workers
    ax.set_xlim(0.0, x_max)
    ax.set_ylim(n_workers - 0.5, -0.5)  # inverted: Worker-0 on top
    step = max(1, math.ceil(n_workers / MAX_LANE_TICKS))
    ticks = list(range(0, n_workers, step))
    ax.set_yticks(ticks, [f"Worker-{w}" for w in ticks])
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel(_time_label(trace))
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)


def _text_inches(text: str, fontsize: float) -> float:
    """Rough width of a label, to decide without a renderer whether it fits."""
    return 0.62 * fontsize * len(text) / 72 + 0.06


def _seconds_per_inch(fig: Figure, x_max: float) -> float:
    return x_max / (fig.get_figwidth() * 0.8)  # the axes take about 80% of the figure width


def _label_bars(
    ax: Any,
    fig: Figure,
    trace: Trace,
    segments: Sequence[Segment],
    colors: Sequence[Any],
    x_max: float,
    names: Callable[[int, dict], list[str]],
    max_labels: int,
) -> None:
    """Inside each bar, the longest of its names that fits; past *max_labels* bars, only the
    widest bars are labelled (thinned rather than dropped)."""
    seconds_per_inch = _seconds_per_inch(fig, x_max)
    configs: dict[int, dict] = {}
    for event in trace.events:
        if type(event) is JobStarted:
            configs.setdefault(event.trial_id, event.config)
    order = sorted(range(len(segments)), key=lambda i: segments[i].start - segments[i].end)
    placed = 0
    for i in order:
        if placed >= max_labels:
            break
        segment, color = segments[i], colors[i]
        inches = (segment.end - segment.start) / seconds_per_inch
        fitting = [
            t
            for t in names(segment.trial_id, configs.get(segment.trial_id, {}))
            if _text_inches(t, LABEL_FONTSIZE) <= inches
        ]
        if not fitting:
            continue
        text = fitting[0]
        placed += 1
        ax.text(
            (segment.start + segment.end) / 2,
            segment.worker,
            text,
            ha="center",
            va="center",
            fontsize=LABEL_FONTSIZE,
            color="white" if _luminance(color) < 0.45 else "black",
            clip_on=True,
            zorder=3,
        )


def _draw_boundaries(
    ax: Any, fig: Figure, trace: Trace, segments: Sequence[Segment], x_max: float
) -> None:
    """Dashed lines where barriers opened, labelled with the rung they let start.

    A label is skipped when it would overlap the previous one: the lines matter, the labels only
    help to read them.
    """
    boundaries = rung_boundaries_of(segments)
    scheduler = trace.info.get("scheduler")
    levels = list(scheduler.get("rung_levels") or []) if isinstance(scheduler, dict) else []
    if not levels:
        levels = sorted({s.milestone for s in segments})
    several = len({bracket for _, bracket, _ in boundaries}) > 1
    seconds_per_inch = _seconds_per_inch(fig, x_max)
    # A long run has hundreds of barriers: thin, light lines keep the bars readable beneath them.
    long_run = len(boundaries) > LONG_RUN_BARRIERS
    style = {"linewidth": 0.5, "alpha": 0.4} if long_run else {"linewidth": 0.9, "alpha": 1.0}
    free_from = -math.inf  # inches: where the previous label ends
    for t, bracket, milestone in boundaries:
        ax.axvline(t, color="0.25", linestyle="--", zorder=4, gid=BOUNDARY_GID, **style)
        rung = _rung_index(milestone, levels)
        text = f" b{bracket} rung {rung}" if several else f" rung {rung}"
        at = t / seconds_per_inch
        if at < free_from:
            continue
        free_from = at + _text_inches(text, 7.0)
        ax.text(
            t,
            1.0,
            text,
            transform=ax.get_xaxis_transform(),
            ha="left",
            va="bottom",
            fontsize=7,
            color="0.35",
            clip_on=False,
        )


def _legend(
    ax: Any,
    segments: Sequence[Segment],
    promoted: set[int],
    idle: bool,
    color_of: ConfigColors,
) -> None:
    """Shades, failures and idle time (a legend of configs would not fit; labels name them).
    Past ten configs the shades are shown in grey: no one hue stands for the others."""
    trials = {s.trial_id for s in segments}
    dark, light = trial_color(0, True), trial_color(0, False)
    if color_of.n_configs > 10:
        dark, light = (0.35, 0.35, 0.35), lighten((0.35, 0.35, 0.35))
    handles = []
    if trials & promoted:
        handles.append(Patch(facecolor=dark, label="promoted later"))
    if trials - promoted:
        handles.append(Patch(facecolor=light, label="not promoted"))
    if any(s.reason == "failed" for s in segments):
        handles.append(Patch(facecolor=light, edgecolor=FAILED_EDGE, hatch="xx", label="failed"))
    if any(s.reason == "retried" for s in segments):
        handles.append(
            Patch(facecolor=light, edgecolor=RETRIED_EDGE, hatch="..", label="worker died, retried")
        )
    if idle:
        handles.append(Patch(facecolor=IDLE_FACE, edgecolor=IDLE_EDGE, hatch="///", label="idle"))
    if handles:
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            borderaxespad=0.0,
            fontsize=8,
            frameon=False,
        )
