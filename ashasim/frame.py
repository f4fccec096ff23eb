"""The frame of a run, whichever clock runs it: what to run, on how many workers, until when,
where to write, and how to treat faults (ARCHITECTURE §6).

A run used to be framed separately by the SimPy clock (``simulate(max_time=, max_trials=)``) and
the real executor (``Tuner(stop=StoppingCriterion(...))``), each with its own checks, run header
and directory. Both clocks now take a ``Frame``: the checks run once, at construction, so a bad
value is one ``ValueError`` naming the parameter before anything is written; the trial budget,
the journal's path, the header's common fields and the result files are the frame's, not each
clock's. ``ashasim.experiment.Experiment`` is a ``Frame`` with the two clocks attached; this
module is the data part, so the clocks can import it without importing each other.

Every field is a plain value (numbers, strings, booleans, a path), so a frame's settings can be
written as JSON (``Frame.settings``), apart from the scheduler, which describes itself.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ashasim.checks import (
    check_flag,
    check_int,
    check_number,
    check_optional_int,
    check_workers,
)
from ashasim.contract import check_scheduler, run_header
from ashasim.core.jobs import Scheduler
from ashasim.events import JOURNAL, Trace

__all__ = ["Faults", "Frame", "Stop", "check_directory"]


@dataclass(frozen=True)
class Stop:
    """When a run stops, whichever comes first: after *time* seconds (simulated, or wall-clock
    in a real run), once *trials* trials have started, once *results* results have been reported,
    once *completed* trials have completed (trained to max_t, or returned by themselves), once
    *finished* trials have finished (completed, stopped by the scheduler, or failed), or at the
    first result of the scheduler's metric below *metric_below* or above *metric_above*. Jobs
    still running then are cancelled. The run also ends when the scheduler is done; a time, a
    trial, result or trial-end count, or the scheduler must bound it (a threshold may never be
    met). The counts and thresholds are watched on the journal as it is written
    (``ashasim.stop_rules``), so a resumed run counts what it did before.
    """

    time: float | None = None
    trials: int | None = None
    results: int | None = None
    completed: int | None = None
    finished: int | None = None
    metric_below: float | None = None
    metric_above: float | None = None

    def __post_init__(self) -> None:
        if self.time is not None:
            check_number("Stop(time=...)", self.time, minimum=0, strict=True)
        for name in ("trials", "results", "completed", "finished"):
            check_optional_int(f"Stop({name}=...)", getattr(self, name), minimum=1)
        for name in ("metric_below", "metric_above"):
            if getattr(self, name) is not None:
                check_number(f"Stop({name}=...)", getattr(self, name))

    @property
    def bounded(self) -> bool:
        """Whether the stop alone ends the run (a threshold may never be met)."""
        counts = (self.time, self.trials, self.results, self.completed, self.finished)
        return any(count is not None for count in counts)

    @property
    def watches_journal(self) -> bool:
        """Whether a rule needs the journal's events counted (``ashasim.stop_rules``)."""
        rules = (self.results, self.completed, self.finished, self.metric_below, self.metric_above)
        return any(rule is not None for rule in rules)


@dataclass(frozen=True)
class Faults:
    """How a run treats faults.

    *max_failures*: give up (``RunError``) after this many jobs in a row failed without one good
    report in between: a systematic error (missing data, a bug in the objective) would otherwise
    burn through thousands of trials; None never gives up. *max_retries*: times a trial is
    retried, from its last report, after its worker died (node lost, OOM kill, preemption): not a
    failure; the scheduler hears of one only when the retries have run out. *retry_on_error*:
    retry exceptions raised by the objective too. *trial_timeout*: seconds a job may run before it
    fails and its worker is replaced (a hung objective); None: no limit. *max_failed_trials*: give
    up once more than this many trials failed in all (Syne Tune's ``Tuner(max_failures=...)``);
    None: no such limit.
    """

    max_failures: int | None = 10
    max_retries: int = 0
    retry_on_error: bool = False
    trial_timeout: float | None = None
    max_failed_trials: int | None = None

    def __post_init__(self) -> None:
        check_optional_int("max_failures", self.max_failures, minimum=1)
        check_int("max_retries", self.max_retries, minimum=0)
        check_flag("retry_on_error", self.retry_on_error)
        if self.trial_timeout is not None:
            check_number("trial_timeout", self.trial_timeout, minimum=0, strict=True)
        check_optional_int("max_failed_trials", self.max_failed_trials, minimum=0)


@dataclass(frozen=True)
class Frame:
    """*scheduler* on *n_workers* workers until *stop*, journaled in *directory* (None: not
    journaled), with *faults* handled as it says. *durable*: fsync the journal after every event
    (a machine crash then loses nothing the driver acted on). *outputs*: write results.csv,
    summary.json and replay.csv into *directory* when the run ends.

    Checked at construction: the scheduler has the protocol's members, the counts are counts,
    and the run is bounded (a time limit, a trial budget, or a scheduler that ends by itself).
    """

    scheduler: Scheduler
    n_workers: int
    stop: Stop = field(kw_only=True)
    directory: Path | None = field(default=None, kw_only=True)
    faults: Faults = field(default_factory=Faults, kw_only=True)
    durable: bool = field(default=False, kw_only=True)
    outputs: bool = field(default=True, kw_only=True)

    def __post_init__(self) -> None:
        check_scheduler(self.scheduler)
        check_workers("n_workers", self.n_workers)
        _check_type("stop", self.stop, Stop, "Stop(time=..., trials=...)")
        _check_type("faults", self.faults, Faults, "Faults(max_failures=..., max_retries=...)")
        check_flag("durable", self.durable)
        check_flag("outputs", self.outputs)
        if self.directory is not None:
            if not isinstance(self.directory, (str, os.PathLike)) or not str(self.directory):
                raise ValueError(f"directory must be a path or None, got {self.directory!r}")
            object.__setattr__(self, "directory", Path(self.directory))
            check_directory("directory", self.directory)
        if not self.stop.bounded and self.scheduler.max_trials is None:
            raise ValueError(
                "stop: give Stop(time=...), Stop(trials=...) or a count (results=, completed=, "
                "finished=; simulate: max_time or max_trials), or a scheduler with max_trials: "
                "otherwise the run never ends (a metric threshold may never be met)"
            )

    def replace(self, **changes: Any) -> Frame:
        """A copy with *changes*, checked again as a new frame is."""
        return dataclasses.replace(self, **changes)

    # -- what both clocks do the same way -------------------------------------------------------

    def limit_trials(self) -> None:
        """Lower the scheduler's trial budget to ``stop.trials`` (never raises it)."""
        if self.stop.trials is not None:
            self.scheduler.limit_trials(self.stop.trials)

    @property
    def journal(self) -> Path | None:
        """Where the journal goes: ``directory/journal.jsonl`` (None: kept in memory only)."""
        return None if self.directory is None else self.directory / JOURNAL

    def header(self, clock: str, fields: dict[str, Any]) -> dict[str, Any]:
        """The journal's first line: the fields every run has, then the clock's own *fields*."""
        return run_header(self.scheduler, self.n_workers, clock, fields)

    def write_outputs(self, trace: Trace) -> list[Path]:
        """results.csv, summary.json and replay.csv in the run directory, when asked for."""
        if not self.outputs or self.directory is None:
            return []
        from ashasim.outputs import write_run_outputs

        return write_run_outputs(trace, self.directory)

    def settings(self) -> dict[str, Any]:
        """The frame as JSON-able data (the scheduler by its ``describe()``)."""
        return {
            "scheduler": self.scheduler.describe(),
            "n_workers": self.n_workers,
            "stop": dataclasses.asdict(self.stop),
            "directory": None if self.directory is None else str(self.directory),
            "faults": dataclasses.asdict(self.faults),
            "durable": self.durable,
            "outputs": self.outputs,
        }


def check_directory(name: str, directory: Path) -> None:
    """A run directory that can be one: not an existing file, not below one (``mkdir`` would
    fail only once the run starts, with a traceback)."""
    for place in (directory, *directory.parents):
        if place.exists() or place.is_symlink():
            if not place.is_dir():
                what = "is" if place == directory else f"is below {place}, which is"
                raise ValueError(f"{name} {directory} {what} a file, not a directory")
            return


def _check_type(name: str, value: Any, kind: type, example: str) -> None:
    if not isinstance(value, kind):
        raise ValueError(f"{name} must be {example}, got {value!r}")
