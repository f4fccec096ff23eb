"""What the page draws, derived from a run's ``Trace`` as plain JSON-able data.

Everything is computed here, once per change of the journal, so the browser only draws: the
Gantt bars with their hover texts and colours (the PNG chart's colours, ``ashasim.plot.colors``),
learning curves, best so far, idle fraction over time, the rung table and the failures. Sizes are
bounded whatever the run's length, so a run of 10^5 jobs stays responsive: past ``MAX_BARS`` jobs
the Gantt chart draws the latest ``MAX_BARS`` as bars and the time before them as a per-worker
busy-fraction strip (aggregated, as ``ashasim.plot.gantt`` thins its labels past 60 bars); past
``MAX_CURVE_POINTS`` reports the curves keep the trials trained longest.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ashasim.events import JobEnded, JobStarted, Segment, Trace
from ashasim.plot.colors import ConfigColors, label_function
from ashasim.plot.gantt import MAX_LABELS, SYNC_SCHEDULERS, rung_boundaries_of

__all__ = ["MAX_BARS", "MAX_CURVE_POINTS", "busy_integral", "run_view"]

MAX_BARS = 2000  # Plotly draws each bar as an SVG path: a few thousand keep zooming smooth
AGGREGATE_BINS = 300  # time bins of the busy-fraction strip that stands for older jobs
IDLE_BINS = 200
MAX_CURVE_POINTS = 5000  # SVG lines: more points make each redraw take seconds
MAX_FAILURE_ROWS = 100
FAILED_EDGE, RETRIED_EDGE, RUNNING_EDGE = "#d62728", "#ff7f0e", "#333333"


def run_view(trace: Trace) -> dict[str, Any]:
    """Every view of one run, as the page's JavaScript expects it."""
    segments = trace.segments
    color_of = ConfigColors(trace)  # one pass over the events, shared by the Gantt and curves
    summary = _summary(trace, segments)
    return {
        "summary": summary,
        "time_label": "wall-clock time (s)"
        if trace.info.get("clock") == "wallclock"
        else "simulated time (s)",
        "gantt": _gantt(trace, segments, color_of),
        "idle": _idle_over_time(trace, segments, summary["idle_fraction"]),
        "best": _best_so_far(trace),
        "curves": _curves(trace, color_of),
        "rungs": _rung_table(trace),
        "failures": _failures(trace),
    }


def _scheduler(trace: Trace) -> dict[str, Any]:
    scheduler = trace.info.get("scheduler")
    return scheduler if isinstance(scheduler, dict) else {}


def _summary(trace: Trace, segments: Sequence[Segment]) -> dict[str, Any]:
    summary = trace.summary()
    summary["scheduler"] = _scheduler(trace).get("name") or "?"
    summary["clock"] = trace.info.get("clock", "simulated")
    summary["events"] = len(trace)
    summary["running_jobs"] = sum(1 for s in segments if s.reason == "running")
    summary["retried_jobs"] = sum(1 for s in segments if s.reason == "retried")
    return _finite(summary)


def _finite(value: Any) -> Any:
    """NaN and infinities as None: the page's JSON has no such numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def _hex(rgb: Sequence[float]) -> str:
    return "#" + "".join(f"{round(255 * channel):02x}" for channel in rgb[:3])


def _decision(segment: Segment, promoted: bool) -> str:
    if segment.reason == "milestone":
        return "promoted later" if promoted else "reached its milestone, not promoted (yet)"
    return {
        "stopped": "stopped",
        "failed": "failed",
        "retried": "worker died, retried",
        "cancelled": "cancelled at the budget",
        "returned": "ended by the objective",
        "running": "running",
    }.get(segment.reason, segment.reason)


def _gantt(trace: Trace, segments: Sequence[Segment], color_of: ConfigColors) -> dict[str, Any]:
    """Bars of the latest ``MAX_BARS`` jobs, and a busy-fraction strip of [0, until] for the jobs
    that started before them."""
    cut = max(0, len(segments) - MAX_BARS)
    until = segments[cut].start if cut else 0.0
    older = segments[:cut]  # in start order: these started by `until`
    # the older jobs still running at `until` (at most one per worker) are bars too, so no job's
    # time after `until` goes undrawn
    shown = [s for s in older if s.end > until] + list(segments[cut:])
    levels = list(_scheduler(trace).get("rung_levels") or [])
    promoted = trace.promoted
    configs = _configs(trace)
    names = label_function(trace, None)
    by_width = sorted(range(len(shown)), key=lambda i: shown[i].start - shown[i].end)
    widest = set(by_width[:MAX_LABELS])  # labels thinned as on the PNG chart
    bars: dict[str, list[Any]] = {
        key: [] for key in ("worker", "start", "end", "color", "edge", "label", "hover")
    }
    edges = {"failed": FAILED_EDGE, "retried": RETRIED_EDGE, "running": RUNNING_EDGE}
    for index, s in enumerate(shown):
        was_promoted = s.trial_id in promoted
        config = configs.get(s.trial_id, {})
        bars["worker"].append(s.worker)
        bars["start"].append(s.start)
        bars["end"].append(s.end)
        bars["color"].append(_hex(color_of(s.trial_id, was_promoted)))
        bars["edge"].append(edges.get(s.reason, "#ffffff"))
        bars["label"].append(names(s.trial_id, config)[0] if index in widest else "")
        rung = levels.index(s.milestone) if s.milestone in levels else "?"
        bars["hover"].append(
            f"trial {s.trial_id} on worker {s.worker}<br>"
            f"config {html.escape(json.dumps(config, default=str))}<br>"
            f"rung {rung}: {trace.info.get('resource_attr', 'resource')} "
            f"{s.resume_from} → {s.resource} (milestone {s.milestone})<br>"
            f"{s.start:.6g} s → {s.end:.6g} s<br>decision: {_decision(s, was_promoted)}"
        )
    boundaries: list[float] = []
    if _scheduler(trace).get("name") in SYNC_SCHEDULERS:
        boundaries = [t for t, _, _ in rung_boundaries_of(segments)]
    return {
        "n_workers": trace.n_workers,
        "jobs": len(segments),
        "bars": _finite(bars),
        "aggregate": _aggregate(trace.n_workers, older, until) if older else None,
        "boundaries": boundaries,
        "makespan": trace.makespan,
    }


def _configs(trace: Trace) -> dict[int, dict[str, Any]]:
    configs: dict[int, dict[str, Any]] = {}
    for event in trace.events:
        if type(event) is JobStarted:
            configs.setdefault(event.trial_id, event.config)
    return configs


def busy_integral(starts: np.ndarray, ends: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Worker-seconds spent in jobs [start, end) before each time in *at* (sorted or not).

    The number of running jobs is a step function (+1 at each start, -1 at each end); its
    integral is piecewise linear between those times, so it is evaluated exactly by ``np.interp``
    in O(n log n), whatever the number of jobs.
    """
    if len(starts) == 0:
        return np.zeros(len(at))
    times = np.concatenate([starts, ends])
    steps = np.concatenate([np.ones(len(starts)), -np.ones(len(ends))])
    order = np.argsort(times, kind="stable")
    times, running = times[order], np.cumsum(steps[order])
    area = np.concatenate([[0.0], np.cumsum(running[:-1] * np.diff(times))])
    return np.interp(at, times, area, left=0.0, right=area[-1])


def _aggregate(n_workers: int, older: Sequence[Segment], until: float) -> dict[str, Any]:
    """Per worker, the busy fraction of each of ``AGGREGATE_BINS`` bins of [0, until]."""
    edges = np.linspace(0.0, until, AGGREGATE_BINS + 1)
    width = until / AGGREGATE_BINS
    busy = np.zeros((n_workers, AGGREGATE_BINS))
    jobs = np.zeros((n_workers, AGGREGATE_BINS), dtype=int)
    by_worker: dict[int, list[Segment]] = {}
    for s in older:
        by_worker.setdefault(s.worker, []).append(s)
    for worker, lane in by_worker.items():
        starts = np.array([s.start for s in lane], dtype=float)
        ends = np.array([min(s.end, until) for s in lane], dtype=float)
        busy[worker] = np.diff(busy_integral(starts, ends, edges)) / width
        bins = np.clip((starts / width).astype(int), 0, AGGREGATE_BINS - 1)
        jobs[worker] = np.bincount(bins, minlength=AGGREGATE_BINS)
    return {
        "t0": width / 2,
        "dt": width,
        "busy": np.round(busy, 4).tolist(),
        "jobs": jobs.tolist(),
        "until": until,
    }


def _idle_over_time(
    trace: Trace, segments: Sequence[Segment], overall: float | None
) -> dict[str, Any]:
    """Idle fraction of the whole cluster in each of ``IDLE_BINS`` bins of [0, makespan]."""
    makespan = trace.makespan
    if makespan <= 0:
        return {"t": [], "idle": [], "overall": None}
    edges = np.linspace(0.0, makespan, IDLE_BINS + 1)
    starts = np.array([s.start for s in segments], dtype=float)
    ends = np.array([s.end for s in segments], dtype=float)
    busy = np.diff(busy_integral(starts, ends, edges))
    idle = 1.0 - busy / (trace.n_workers * (makespan / IDLE_BINS))
    return {
        "t": ((edges[:-1] + edges[1:]) / 2).tolist(),
        "idle": np.round(np.clip(idle, 0.0, 1.0), 4).tolist(),
        "overall": overall,
    }


def _best_so_far(trace: Trace) -> dict[str, Any]:
    steps = trace.best_so_far()
    t = [step[0] for step in steps]
    metric = [step[1] for step in steps]
    if steps and trace.makespan > t[-1]:  # the line goes on to now
        t.append(trace.makespan)
        metric.append(metric[-1])
    return {"t": t, "metric": metric, "trial": [step[2] for step in steps], "name": trace.metric}


def _curves(trace: Trace, color_of: ConfigColors) -> dict[str, Any]:
    """Each trial's reports (against time and resource), longest-trained trials first."""
    by_trial: dict[int, list[Any]] = {}
    for row in trace.results:
        by_trial.setdefault(row.trial_id, []).append(row)
    order = sorted(by_trial, key=lambda k: (-by_trial[k][-1].resource, k))
    promoted = trace.promoted
    out: dict[str, list[Any]] = {key: [] for key in ("t", "resource", "metric", "hover", "color")}
    shown = 0
    for trial_id in order:
        rows = by_trial[trial_id]
        if shown and len(out["t"]) + len(rows) > MAX_CURVE_POINTS:
            break
        shown += 1
        color = _hex(color_of(trial_id, trial_id in promoted))
        for row in rows:
            out["t"].append(row.t)
            out["resource"].append(trace.fidelity_of(row.resource))
            out["metric"].append(row.metric)
            out["hover"].append(f"trial {trial_id}, {row.resource}: {row.metric:.4g}")
            out["color"].append(color)
        for key in out:  # a gap between trials: one trace draws every curve
            out[key].append(None)
    fidelity = trace.fidelity
    resource_name = fidelity[0] if fidelity else trace.info.get("resource_attr", "resource")
    return {
        **_finite(out),
        "trials": len(by_trial),
        "trials_shown": shown,
        "metric_name": trace.metric,
        "resource_name": resource_name,
    }


def _rung_table(trace: Trace) -> list[dict[str, Any]]:
    """Per rung: trials that reported there, how many went on, the best, and the cut-off.

    The cut-off is the worst result still in the rung's top 1/η (η: the scheduler's
    reduction_factor), the value a new result must beat to be promotable now.
    """
    scheduler = _scheduler(trace)
    levels = [int(level) for level in scheduler.get("rung_levels") or []]
    if not levels:
        levels = sorted({row.resource for row in trace.results})
    eta = scheduler.get("reduction_factor")
    at_level: dict[int, dict[int, float]] = {level: {} for level in levels}
    reached: dict[int, int] = {}
    for row in trace.results:
        reached[row.trial_id] = max(reached.get(row.trial_id, 0), row.resource)
        if row.resource in at_level:
            at_level[row.resource].setdefault(row.trial_id, row.metric)
    sign = 1.0 if trace.mode == "min" else -1.0
    table = []
    for rung, level in enumerate(levels):
        results = at_level[level]
        ranked = sorted((v for v in results.values() if not math.isnan(v)), key=lambda v: sign * v)
        keep = len(ranked) // int(eta) if isinstance(eta, int) and eta >= 1 else 0
        top = rung == len(levels) - 1
        table.append(
            {
                "rung": rung,
                "level": trace.fidelity_of(level),
                "trials": len(results),
                "went_on": sum(1 for trial in results if reached[trial] > level),
                "best": ranked[0] if ranked else None,
                "cutoff": ranked[keep - 1] if keep and not top else None,
            }
        )
    return _finite(table)


def _failures(trace: Trace) -> dict[str, Any]:
    ended = [e for e in trace.events if type(e) is JobEnded and e.reason in ("failed", "retried")]
    rows = [
        {
            "t": e.t,
            "worker": e.worker,
            "trial": e.trial_id,
            "resource": e.resource,
            "reason": e.reason,
            "error": e.error or "",
        }
        for e in reversed(ended[-MAX_FAILURE_ROWS:])
    ]
    return {
        "failed": sum(1 for e in ended if e.reason == "failed"),
        "retried": sum(1 for e in ended if e.reason == "retried"),
        "rows": rows,
    }
