"""The trials of a run, in Ray Tune's terms, read back from the journal and the trial directories.

Status of a trial, in Ray Tune's words: while the run goes (the status table), RUNNING (a job
open) or PAUSED (waiting at a rung); once it is over, TERMINATED (stopped by the scheduler, at
max_t, returned by itself, or cut by the time budget: Ray Tune's statuses, although
``resume=True`` can continue a cut run, which ``tune.json``'s ``finished`` tells), or ERROR (its
job failed). Results carry Ray Tune's ``done`` (True on the last result of a trial that ended by
itself; False on one cut by the time budget, as in Ray Tune) and ``config``.

Trials the time budget left unstarted are listed as Ray Tune lists them: TERMINATED, without
results (``tune.json``'s ``unstarted`` says how many Ray Tune would have created). ashasim draws
a config when its trial starts, so theirs is empty; ``tune.run`` says so in one line.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from numbers import Number
from pathlib import Path
from typing import Any, ClassVar

from ashasim.events import JobEnded, JobStarted, Trace
from ashasim.tune.checkpoints import Checkpoint, copy_name, latest_stored, materialize
from ashasim.tune.configs import (
    experiment_tag,
    flatten_result,
    recorded_names,
    trial_name,
    unflatten,
)
from ashasim.tune.results import read_results

__all__ = ["Trial", "load_trials"]


@dataclass
class Trial:
    """One trial: ``trial_id`` (ashasim's number), ``name`` (``str(trial)``; the directory's
    name unless ``trial_dirname_creator`` chose another), ``config`` (nested, as the trainable
    got it), ``status`` (one of the class's constants, as Ray Tune's), ``last_result``,
    ``logdir``, ``error``, ``num_failures`` (jobs that failed, retried ones included),
    ``metric_analysis``; ``trainable_name`` and ``done`` (the trial ended by itself, not cut by
    the time budget)."""

    PENDING: ClassVar[str] = "PENDING"
    RUNNING: ClassVar[str] = "RUNNING"
    PAUSED: ClassVar[str] = "PAUSED"
    TERMINATED: ClassVar[str] = "TERMINATED"
    ERROR: ClassVar[str] = "ERROR"

    trial_id: int
    name: str
    config: dict[str, Any]
    status: str
    logdir: str | None
    error: str | None = None
    experiment_dir: str = ""
    trainable_name: str = ""
    done: bool = False
    num_failures: int = 0
    _results: list[dict[str, Any]] | None = field(default=None, repr=False)
    _fallback: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def results(self) -> list[dict[str, Any]]:
        """Every report, in order (from result.json; from the journal if the trainable did not
        report through tune.report)."""
        if self._results is None:
            found = read_results(Path(self.logdir)) if self.logdir else []
            self._results = [self._as_ray(row) for row in found or self._fallback]
            if self._results and self.done:
                self._results[-1]["done"] = True
        return self._results

    def _as_ray(self, row: dict[str, Any]) -> dict[str, Any]:
        """A result with the keys Ray Tune's results have besides the reported ones."""
        row = dict(row)
        row["done"] = False
        row["config"] = self.config
        row["experiment_tag"] = self.experiment_tag
        folder = copy_name(row.get("training_iteration", 0))
        kept = self.logdir is not None and (Path(self.logdir) / folder).is_dir()
        row["checkpoint_dir_name"] = folder if kept else None
        row.setdefault("node_ip", None)
        return row

    def is_finished(self) -> bool:
        return self.status in (Trial.TERMINATED, Trial.ERROR)

    @property
    def metric_analysis(self) -> dict[str, dict[str, float]]:
        """Ray Tune's summary of every number the trial's results hold (nested keys joined with
        "/"; its bookkeeping keys left out): ``max``, ``min``, ``last``, ``avg`` (a running mean
        weighted by ``training_iteration``, as Ray Tune keeps it) and ``last-5-avg``,
        ``last-10-avg``."""
        analysis: dict[str, dict[str, float]] = {}
        history: dict[str, list[float]] = {}
        for result in self.results:
            step = result.get("training_iteration") or 1
            kept = {k: v for k, v in result.items() if k not in _NOT_METRICS}
            for key, value in flatten_result(kept).items():
                if isinstance(value, Number):
                    _update(analysis, history.setdefault(key, []), key, value, step)
        return analysis

    @property
    def experiment_tag(self) -> str:
        return experiment_tag(self.trial_id, self.config)

    @property
    def last_result(self) -> dict[str, Any]:
        return self.results[-1] if self.results else {}

    @property
    def local_path(self) -> str | None:
        return self.logdir

    path = local_path

    @property
    def checkpoint(self) -> Checkpoint | None:
        """The trial's newest checkpoint (ashasim keeps only the newest), as a directory."""
        found = latest_stored(Path(self.experiment_dir) / "checkpoints" / f"trial_{self.trial_id}")
        if found is None or self.logdir is None:
            return None
        return materialize(found[1], Path(self.logdir))

    def __str__(self) -> str:
        return self.name


# what Ray Tune leaves out of metric_analysis (its DEBUG_METRICS)
_NOT_METRICS = frozenset(
    ("trial_id", "experiment_id", "date", "timestamp", "pid", "hostname", "node_ip", "config")
)


def _update(
    analysis: dict[str, dict[str, float]], seen: list[float], key: str, value: Any, step: int
) -> None:
    """One result's *value* of *key* into ``Trial.metric_analysis`` (*seen*: its earlier ones)."""
    seen.append(value)
    entry = analysis.get(key)
    if entry is None:
        entry = analysis[key] = {"max": value, "min": value, "avg": value}
    else:
        entry["max"], entry["min"] = max(value, entry["max"]), min(value, entry["min"])
        entry["avg"] = (value + (step - 1) * entry["avg"]) / step
    entry["last"] = value
    for n in (5, 10):
        window = seen[-n:]
        entry[f"last-{n}-avg"] = sum(window) / len(window)


def load_trials(
    directory: Path, trace: Trace, meta: dict[str, Any], *, live: bool = False
) -> list[Trial]:
    """The trials of a run from its journal's events and trial directories (module docstring);
    *live*: the run still goes (RUNNING and PAUSED trials)."""
    prefix = meta.get("prefix")
    max_t = (trace.info.get("scheduler") or {}).get("max_t")
    cut = not live and meta.get("finished") is False
    configs: dict[int, dict[str, Any]] = {}
    last: dict[int, Any] = {}
    failures: Counter[int] = Counter()
    for event in trace.events:
        if type(event) is JobStarted:
            configs.setdefault(event.trial_id, event.config)
            last[event.trial_id] = event
        elif type(event) is JobEnded:
            last[event.trial_id] = event
            if event.reason in ("failed", "retried"):
                failures[event.trial_id] += 1
    fallback = _journal_results(trace)
    names = {int(k): tuple(v) for k, v in (meta.get("trial_names") or {}).items()}
    names = names or recorded_names(directory)
    trials = []
    for trial_id in sorted(configs):
        status, error, done = _status(last[trial_id], max_t, live, cut)
        default = trial_name(prefix, trial_id) if prefix else f"trial_{trial_id:05d}"
        name, dirname = names.get(trial_id, (default, default))
        trials.append(
            Trial(
                trial_id,
                name,
                unflatten(configs[trial_id]),
                status,
                str(directory / dirname) if prefix else None,
                error,
                experiment_dir=str(directory),
                trainable_name=prefix or "",
                done=done,
                num_failures=failures[trial_id],
                _fallback=fallback.get(trial_id, []),
            )
        )
    if not live:
        first = max(configs, default=-1) + 1
        for trial_id in range(first, first + int(meta.get("unstarted", 0))):
            name = trial_name(prefix, trial_id) if prefix else f"trial_{trial_id:05d}"
            trials.append(Trial(trial_id, name, {}, "TERMINATED", None, None, str(directory)))
    return trials


def _journal_results(trace: Trace) -> dict[int, list[dict[str, Any]]]:
    """Each trial's results as the journal has them (for a trainable without tune.report)."""
    resource_attr = trace.info.get("resource_attr", "training_iteration")
    fallback: dict[int, list[dict[str, Any]]] = {}
    for count, row in enumerate(trace.results):
        rows = fallback.setdefault(row.trial_id, [])
        rows.append(
            {
                trace.metric: row.metric,
                resource_attr: row.resource,
                "training_iteration": len(rows) + 1,
                "time_total_s": row.t,
                "trial_id": row.trial_id,
                "report": count,
            }
        )
    return fallback


def _status(event: Any, max_t: int | None, live: bool, cut: bool) -> tuple[str, str | None, bool]:
    """Ray Tune's status of a trial whose last event is *event*, its error, and whether it
    ended by itself (Ray Tune's ``done``)."""
    if type(event) is JobStarted:
        return ("RUNNING" if live else "TERMINATED"), None, False
    reason = event.reason
    if reason == "failed":
        return "ERROR", event.error, False
    if reason in ("stopped", "returned") or (max_t is not None and event.resource >= max_t):
        return "TERMINATED", None, True
    return ("PAUSED" if live else "TERMINATED"), None, not live and not cut
