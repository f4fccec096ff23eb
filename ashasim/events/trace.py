"""A run as a list of events, and every view derived from them (ARCHITECTURE §3).

``Trace`` holds the events of one run in time order (and writes each to the journal as it is
recorded, when it has one). The results table, Gantt segments, idle intervals, best-so-far and
summary are all computed from the events, so they cannot disagree with them.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from ashasim._gc import cyclic_gc_paused
from ashasim.checks import is_int
from ashasim.events import results_table
from ashasim.events.journal import JOURNAL, JournalWriter, read_journal
from ashasim.events.records import (
    FORMAT_VERSION,
    Event,
    JobStarted,
    Reported,
    encode,
    json_default,
)
from ashasim.events.segments import Segment, build_segments

__all__ = ["Result", "Segment", "Trace", "load_experiment"]

_new = tuple.__new__  # builds a NamedTuple without its Python-level __new__ (once per row)


class Result(NamedTuple):
    """One row of the results table: one report."""

    t: float
    worker: int
    trial_id: int
    config: dict[str, Any]
    resource: int
    metric: float


class Trace:
    """Events of one run, in memory and (optionally) in a journal; views derived on demand.

    *info* describes the run; it must hold ``n_workers`` and may hold ``metric``, ``mode``,
    ``resource_attr``, ``scheduler`` (its settings) and anything JSON-able. *journal* is a path
    (``journal.jsonl``) to write the header and every event to, flushed per event (*append*: to
    one that exists; *durable*: fsync-ed per event). *events*: events the run already has (a
    journal read back).
    """

    def __init__(
        self,
        info: dict[str, Any],
        *,
        journal: str | os.PathLike[str] | None = None,
        append: bool = False,
        events: Iterable[Event] = (),
        durable: bool = False,
    ) -> None:
        n_workers = info.get("n_workers")
        if not is_int(n_workers) or n_workers < 1:
            raise ValueError(f"info['n_workers'] must be an integer >= 1, got {n_workers!r}")
        # Through JSON once, so the in-memory info equals what load_experiment reads back.
        merged = {"version": FORMAT_VERSION, "metric": "metric", "mode": "min", **info}
        self.info: dict[str, Any] = json.loads(json.dumps(merged, default=json_default))
        self.events: list[Event] = list(events)  # e.g. a journal read back, to append to
        self._last_t = self.events[-1].t if self.events else -math.inf
        self._views: dict[str, Any] = {}
        self.path: Path | None = None if journal is None else Path(journal)
        self._journal: JournalWriter | None = None
        if self.path is not None:
            self._journal = JournalWriter(self.path, self.info, append=append, durable=durable)

    # -- writing --------------------------------------------------------------------------------

    def record(self, event: Event) -> None:
        """Append an event; write it to the journal (one unbuffered write) when there is one.

        Events must come in time order: every view (makespan, idle time) relies on it.
        """
        t = event[0]  # .t: a tuple index is cheaper than the NamedTuple property (once per event)
        if t < self._last_t:
            raise ValueError(f"events must be recorded in time order: t={t} after t={self._last_t}")
        self._last_t = t
        self.events.append(event)
        if self._views:
            self._views.clear()
        if self._journal is not None:
            self._journal.write(event)

    def observe(self, observer: Callable[[Event], None]) -> None:
        """Call *observer* with every event recorded from now on, once it is recorded (a run's
        stopping rules count results as they are journaled: ``ashasim.stop_rules``). Only this
        trace's recorder is rebound, so a trace nobody observes pays nothing per event; a
        ``Driver`` keeps the recorder it was made with, so observe before making one."""
        plain = self.record

        def record(event: Event) -> None:
            plain(event)
            observer(event)

        self.record = record  # type: ignore[method-assign]

    def close(self) -> None:
        """The run is over: close the journal and drop the observers (an observer holds the
        plain recorder, so the trace would be in a reference cycle, freed only by the cycle
        collector's next full pass)."""
        self.__dict__.pop("record", None)  # (``observe`` rebinds it on the instance)
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def __enter__(self) -> Trace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- simple facts ---------------------------------------------------------------------------

    @property
    def n_workers(self) -> int:
        return int(self.info["n_workers"])

    @property
    def mode(self) -> str:
        return str(self.info["mode"])

    @property
    def metric(self) -> str:
        return str(self.info["metric"])

    @property
    def fidelity(self) -> tuple[str, list[Any]] | None:
        """(name, value of each level 1..L) when the run's levels are not epochs (a table of
        training-set sizes, ...: the header's "fidelity"), else None."""
        fidelity = self.info.get("fidelity")
        if not isinstance(fidelity, dict):
            return None
        return str(fidelity.get("name")), list(fidelity.get("values") or [])

    def fidelity_of(self, resource: int) -> Any:
        """The real fidelity value of a level (the level itself when levels are epochs)."""
        fidelity = self.fidelity
        if fidelity is None or not 1 <= resource <= len(fidelity[1]):
            return resource
        return fidelity[1][resource - 1]

    @property
    def makespan(self) -> float:
        """Time of the last event (0 for an empty trace)."""
        return self.events[-1].t if self.events else 0.0

    def __len__(self) -> int:
        return len(self.events)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Trace):
            return NotImplemented
        return self.info == other.info and _same_events(self.events, other.events)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        scheduler = self.info.get("scheduler")
        name = scheduler.get("name", "?") if isinstance(scheduler, dict) else "?"
        return (
            f"Trace({name}, {self.n_workers} workers, {len(self.trial_ids)} trials, "
            f"{len(self.results)} reports, makespan {self.makespan:.1f}s)"
        )

    # -- derived views --------------------------------------------------------------------------

    def _view(self, name: str, build: Any) -> Any:
        if name not in self._views:
            with cyclic_gc_paused():  # a view is 10^5-10^6 tuples and no cycle: see ashasim._gc
                self._views[name] = build()
        return self._views[name]

    @property
    def segments(self) -> list[Segment]:
        """One segment per job, in start order; jobs still open end at the makespan."""
        return self._view("segments", lambda: build_segments(self.events, self.makespan))

    def _segments_by_worker(self) -> dict[int, list[Segment]]:
        def build() -> dict[int, list[Segment]]:
            lanes: dict[int, list[Segment]] = {}
            for segment in self.segments:
                lanes.setdefault(segment.worker, []).append(segment)
            return {worker: sorted(jobs, key=_by_start) for worker, jobs in lanes.items()}

        return self._view("by_worker", build)

    def busy_time(self, worker: int | None = None) -> float:
        """Seconds spent in jobs, by one worker or all of them."""
        return sum(s.end - s.start for s in self.segments if worker is None or s.worker == worker)

    def idle_intervals(self, worker: int) -> list[tuple[float, float]]:
        """Gaps in [0, makespan] when ``worker`` ran no job."""
        if not 0 <= worker < self.n_workers:
            raise ValueError(f"worker must be in 0..{self.n_workers - 1}, got {worker}")
        gaps, cursor = [], 0.0
        for segment in self._segments_by_worker().get(worker, []):
            if segment.start > cursor:
                gaps.append((cursor, segment.start))
            cursor = max(cursor, segment.end)
        if self.makespan > cursor:
            gaps.append((cursor, self.makespan))
        return gaps

    @property
    def idle_time(self) -> float:
        """Worker-seconds without a job: the idle intervals of every worker, summed (so it is
        never negative; busy + idle = workers x makespan up to rounding)."""
        return sum(b - a for w in range(self.n_workers) for a, b in self.idle_intervals(w))

    @property
    def idle_fraction(self) -> float:
        """idle / (workers x makespan); 0 for an empty trace."""
        total = self.n_workers * self.makespan
        return self.idle_time / total if total > 0 else 0.0

    @property
    def failed_jobs(self) -> int:
        """Jobs that ended ``failed`` (a retried job is not one)."""
        return sum(1 for segment in self.segments if segment.reason == "failed")

    @property
    def results(self) -> list[Result]:
        """One row per report, in time order, with the trial's config."""
        return self._view("results", self._build_results)

    def _build_results(self) -> list[Result]:
        configs: dict[int, dict[str, Any]] = {}
        rows: list[Result] = []
        append = rows.append
        for event in self.events:
            if (
                type(event) is Reported
            ):  # (t, worker, trial_id, resource, metric, ...): once per report
                t, worker, trial_id, resource, metric = event[:5]
                append(_new(Result, (t, worker, trial_id, configs[trial_id], resource, metric)))
            elif type(event) is JobStarted:
                configs[event.trial_id] = event.config
        return rows

    @property
    def trial_ids(self) -> list[int]:
        """Every trial that started a job, in order of first start."""
        return list(dict.fromkeys(e.trial_id for e in self.events if type(e) is JobStarted))

    @property
    def promoted(self) -> set[int]:
        """Trials that got more than one job (promoted, in any scheduler)."""
        counts: dict[int, int] = {}
        for event in self.events:
            if type(event) is JobStarted:
                counts[event.trial_id] = counts.get(event.trial_id, 0) + 1
        return {trial_id for trial_id, count in counts.items() if count > 1}

    def best_so_far(self) -> list[tuple[float, float, int]]:
        """(t, best metric so far, trial_id) at every improvement; NaN/inf never count as best."""
        return [(row.t, row.metric, row.trial_id) for row in self._improvements]

    @property
    def best(self) -> Result | None:
        """The report with the best finite metric (earliest on ties), or None."""
        improvements = self._improvements
        return improvements[-1] if improvements else None

    @property
    def _improvements(self) -> list[Result]:
        """The reports that improved on every finite metric before them, in time order (the
        last is the best; a later tie is not an improvement)."""
        return self._view("improvements", self._find_improvements)

    def _find_improvements(self) -> list[Result]:
        sign, isfinite = (1.0 if self.mode == "min" else -1.0), math.isfinite
        rows: list[Result] = []
        best = math.inf
        for row in self.results:
            value = sign * row[5]  # (.metric: a tuple index is cheaper, once per report)
            if value < best and isfinite(value):
                best = value
                rows.append(row)
        return rows

    def time_to_reach(self, target: float) -> float | None:
        """First time the best metric so far is at least as good as ``target``, else None."""
        for t, value, _ in self.best_so_far():
            if (value <= target) if self.mode == "min" else (value >= target):
                return t
        return None

    def summary(self) -> dict[str, Any]:
        """The one-screen numbers: trials, makespan, idle fraction, best metric, time to best."""
        best = self.best
        summary = {
            "trials": len(self.trial_ids),
            "jobs": len(self.segments),
            "reports": len(self.results),
            "n_workers": self.n_workers,
            "makespan": self.makespan,
            "idle_fraction": self.idle_fraction,
            "metric": self.metric,
            "mode": self.mode,
            "best_metric": None if best is None else best.metric,
            "best_trial": None if best is None else best.trial_id,
            "best_resource": None if best is None else best.resource,
            "time_to_best": None if best is None else best.t,
            "failed_jobs": self.failed_jobs,
        }
        fidelity = self.fidelity
        if fidelity is not None:  # levels are not epochs: the best result's real fidelity too
            summary["fidelity"] = fidelity[0]
            summary["best_fidelity"] = None if best is None else self.fidelity_of(best.resource)
        return summary

    # -- export (ashasim.events.results_table) ----------------------------------------------------

    def result_rows(self) -> Iterator[dict[str, Any]]:
        """Results as flat dicts: t, worker, trial_id, resource, [fidelity,] metric, config keys."""
        return results_table.rows(self)

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write the results table as CSV (one row per report)."""
        return results_table.to_csv(self, path)

    def to_pandas(self) -> Any:
        """The results table as a pandas DataFrame (needs pandas)."""
        return results_table.to_pandas(self)


def _by_start(segment: Segment) -> tuple[float, int]:
    return segment.start, segment.trial_id


def _same_events(left: Iterable[Event], right: Iterable[Event]) -> bool:
    """Event lists are equal, NaN metrics included (NaN != NaN in plain tuple comparison)."""
    left, right = list(left), list(right)
    return len(left) == len(right) and all(
        a == b or encode(a) == encode(b) for a, b in zip(left, right, strict=True)
    )


def load_experiment(directory: str | os.PathLike[str]) -> Trace:
    """Rebuild the Trace of a run from its directory (or directly from a journal file)."""
    path = Path(directory)
    journal = path / JOURNAL if path.is_dir() else path
    if not journal.exists():
        raise FileNotFoundError(f"no journal at {journal} (expected {JOURNAL} in the directory)")
    header, events = read_journal(journal)
    return Trace(header, events=events)
