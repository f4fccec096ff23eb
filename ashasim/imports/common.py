"""What every reader shares: a trial's stretches on a worker, and the ``Trace`` built from them.

A reader turns a library's records into ``Stretch`` es, one per uninterrupted run of a trial (a
trial that was paused and resumed has several), with every report at the library's own time stamp
(seconds since the epoch). ``build_trace`` then lays them on worker lanes and emits the three
journal events the way a run of ashasim would have: ``JobStarted`` at the stretch's start, one
``Reported`` per report, ``JobEnded`` at its end. ``t`` is seconds since the run began (where the
source records that, else since the earliest start), so a report's time stamp is
``info["imported"]["t0"] + t``.

Lanes. Where the source names the process that ran each stretch, and those names never run two
stretches at once, each name is a lane (numbered by first start). Otherwise the lanes are inferred
by one stated, deterministic rule, *earliest free lane*: stretches in order of start (ties: end,
then trial id), each on the lane that has been free the longest (ties: the lowest lane), a new
lane when none is free. The header says which, and the Gantt chart's title says "lanes inferred".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ashasim.events import REASONS, Event, JobEnded, JobStarted, Reported, Trace

__all__ = [
    "LANE_RULE",
    "Imported",
    "SourceError",
    "Stretch",
    "build_trace",
]

LANE_RULE = (
    "earliest free lane: stretches in order of start, each on the lane free the longest "
    "(ties: the lowest lane)"
)


class SourceError(ValueError):
    """A source that cannot be imported: one line naming the file and what is missing."""


@dataclass
class Stretch:
    """One uninterrupted run of one trial. Times are the library's (seconds since the epoch);
    *reports* are (time, resource, metric) in order; *reason* is one of ``REASONS``; *worker*
    names the process that ran it where the source recorded one."""

    trial_id: int
    config: dict[str, Any]
    start: float
    end: float
    reports: list[tuple[float, int, float]] = field(default_factory=list)
    reason: str = "milestone"
    error: str | None = None
    worker: str | None = None


@dataclass
class Imported:
    """A run read from another library: its trace, and what the source did not record."""

    trace: Trace
    library: str
    source: str
    missing: list[str]
    lanes_inferred: bool

    def describe(self) -> str:
        """Two or more lines for the command line: what was read and what was not recorded."""
        lanes = "inferred (" + LANE_RULE + ")" if self.lanes_inferred else "as recorded"
        lines = [f"imported the {self.library} run at {self.source}; worker lanes {lanes}"]
        lines += [f"  not recorded: {item}" for item in self.missing]
        return "\n".join(lines)


def _check(stretches: Sequence[Stretch], source: str) -> None:
    if not stretches:
        raise SourceError(f"{source}: no trial ran (nothing to import)")
    for stretch in stretches:
        if stretch.reason not in REASONS:
            raise SourceError(f"{source}: trial {stretch.trial_id} ended as {stretch.reason!r}")
        times = [stretch.start, *(t for t, _, _ in stretch.reports), stretch.end]
        if not all(math.isfinite(t) for t in times) or times != sorted(times):
            raise SourceError(
                f"{source}: trial {stretch.trial_id}'s times are not in order "
                f"(start {stretch.start}, reports, end {stretch.end})"
            )


def _recorded_lanes(stretches: Sequence[Stretch]) -> list[int] | None:
    """Lane of each stretch by its recorded process, or None when that does not make lanes
    (a stretch without one, or one process running two stretches at once)."""
    if any(s.worker is None for s in stretches):
        return None
    order = _order(stretches)
    lane_of: dict[str, int] = {}
    free_at: dict[str, float] = {}
    for index in order:
        stretch = stretches[index]
        name = str(stretch.worker)
        if free_at.get(name, -math.inf) > stretch.start:
            return None
        lane_of.setdefault(name, len(lane_of))
        free_at[name] = stretch.end
    return [lane_of[str(s.worker)] for s in stretches]


def infer_lanes(stretches: Sequence[Stretch]) -> list[int]:
    """Lane of each stretch by the earliest-free-lane rule (see the module docstring)."""
    order = _order(stretches)
    free_at: list[float] = []  # lane -> when its last stretch ended
    lanes = [0] * len(stretches)
    for index in order:
        stretch = stretches[index]
        free = [lane for lane, end in enumerate(free_at) if end <= stretch.start]
        if free:
            lane = min(free, key=lambda lane: (free_at[lane], lane))
        else:
            lane = len(free_at)
            free_at.append(0.0)
        free_at[lane] = stretch.end
        lanes[index] = lane
    return lanes


def _order(stretches: Sequence[Stretch]) -> list[int]:
    """Stretch indices in the order lanes are given out: by start, ties by end, then trial id."""
    return sorted(
        range(len(stretches)),
        key=lambda i: (stretches[i].start, stretches[i].end, stretches[i].trial_id),
    )


def _events(stretches: Sequence[Stretch], lanes: Sequence[int], t0: float) -> list[Event]:
    """Each stretch's events, merged in time order; on a tie, a lane's stretches in the order
    the lanes were given out (so a job of no length ends before the next one starts)."""
    keyed: list[tuple[float, int, int, Event]] = []
    for rank, index in enumerate(_order(stretches)):
        stretch, lane = stretches[index], lanes[index]
        resumed_from = stretch.reports[0][1] - 1 if stretch.reports else 0
        last = stretch.reports[-1][1] if stretch.reports else resumed_from
        reports = [
            Reported(t - t0, lane, stretch.trial_id, resource, metric, "continue")
            for t, resource, metric in stretch.reports
        ]
        if reports and stretch.reason == "stopped":  # the scheduler's word on the last report
            reports[-1] = reports[-1]._replace(decision="stop")
        events: list[Event] = [
            JobStarted(
                stretch.start - t0, lane, stretch.trial_id, stretch.config, resumed_from, last
            ),
            *reports,
            JobEnded(stretch.end - t0, lane, stretch.trial_id, last, stretch.reason, stretch.error),
        ]
        keyed += [(event.t, lane, rank, event) for event in events]
    keyed.sort(key=lambda item: item[:3])  # stable: a stretch's own events keep their order
    return [item[3] for item in keyed]


def build_trace(
    stretches: Sequence[Stretch],
    *,
    library: str,
    source: str,
    metric: str,
    mode: str,
    missing: Sequence[str] = (),
    n_workers: int | None = None,
    started: float | None = None,
    details: dict[str, Any] | None = None,
) -> Imported:
    """The trace of *stretches* (see the module docstring); *n_workers*: the run's worker count
    where the source recorded it (at least as many lanes as stretches ever ran at once);
    *started*: when the run began, where recorded (else its first stretch's start), so the wait
    for the first trial shows as idle time."""
    _check(stretches, source)
    lanes = _recorded_lanes(stretches)
    inferred = lanes is None
    missing = list(missing)
    if lanes is None:
        lanes = infer_lanes(stretches)
        missing.append("which worker ran each stretch (lanes inferred: earliest free lane)")
    t0 = min(s.start for s in stretches)
    if started is not None and started < t0:
        t0 = started
    top = max((r for s in stretches for _, r, _ in s.reports), default=1)
    title = f"{library}, lanes inferred" if inferred else library
    info = {
        "n_workers": max(max(lanes) + 1, n_workers or 1),
        "metric": metric,
        "mode": mode,
        "resource_attr": "epoch",
        "clock": "wallclock",
        # The run's own rung levels are not known from its records: r_max is the highest
        # resource any trial reported, which is what the measures need.
        "scheduler": {"name": title, "rung_levels": [top]},
        "imported": {
            "library": library,
            "source": source,
            "t0": t0,
            "lanes": LANE_RULE if inferred else "recorded",
            "missing": list(missing),
            **(details or {}),
        },
    }
    trace = Trace(info)
    for event in _events(stretches, lanes, t0):
        trace.record(event)
    return Imported(trace, library, source, missing, inferred)
