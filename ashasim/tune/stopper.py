"""Ray Tune's module path ``ray.tune.stopper``: the stoppers that end single trials.

``tune.run(stop=MaximumIterationStopper(10))`` and the others here end a trial as Ray Tune's do
(``ashasim.tune.stopping`` says where the check runs). Ray Tune asks one stopper in its driver
about every result of every trial; ashasim asks it in the worker that runs the trial, and gives
each job a fresh copy that has first been shown the trial's earlier results (from its
``result.json``). So a stopper that keeps state per trial, as all of these do, decides exactly as
Ray Tune's would, also for a trial paused at a rung and resumed on another worker. ``stop_all``
is asked in the driver, of a copy that sees every result (``ashasim.tune.stopping.StopAll``), so
``TimeoutStopper`` ends the run as in Ray Tune. A stopper whose per-trial answers depend on other
trials' results would see only its own trial's: ``ExperimentPlateauStopper`` is refused with its
reason (``ashasim.tune.refusals``).
"""

from __future__ import annotations

import datetime
import math
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

import numpy as np

from ashasim.checks import check_int, check_number
from ashasim.tune.refusals import refused_name
from ashasim.tune.stopping import Stopper

__all__ = [
    "CombinedStopper",
    "FunctionStopper",
    "MaximumIterationStopper",
    "NoopStopper",
    "Stopper",
    "TimeoutStopper",
    "TrialPlateauStopper",
]


class NoopStopper(Stopper):
    """Never stops a trial."""

    def __call__(self, trial_id: Any, result: dict[str, Any]) -> bool:
        return False


class FunctionStopper(Stopper):
    """A function ``(trial_id, result) -> bool`` as a stopper: True ends the trial."""

    def __init__(self, function: Callable[[Any, dict[str, Any]], bool]) -> None:
        if not callable(function):
            raise ValueError(
                f"function must be callable as (trial_id, result) -> bool: {function!r}"
            )
        self.function = function

    def __call__(self, trial_id: Any, result: dict[str, Any]) -> bool:
        return bool(self.function(trial_id, result))


class MaximumIterationStopper(Stopper):
    """Ends a trial at its ``max_iter``-th result (counted over all its jobs)."""

    def __init__(self, max_iter: int) -> None:
        self.max_iter = check_int("max_iter", max_iter, minimum=1)
        self.seen: defaultdict[Any, int] = defaultdict(int)

    def __call__(self, trial_id: Any, result: dict[str, Any]) -> bool:
        self.seen[trial_id] += 1
        return self.seen[trial_id] >= self.max_iter


class TrialPlateauStopper(Stopper):
    """Ends a trial once its ``metric`` has plateaued: after at least ``grace_period`` results,
    the (population) standard deviation of its last ``num_results`` values is below ``std``.
    With ``metric_threshold``, only a value past it may stop the trial: below it for
    ``mode="min"``, above it for ``mode="max"``. A result without the metric (or a non-number)
    counts as not plateaued; with a threshold it is an error, as in Ray Tune."""

    def __init__(
        self,
        metric: str,
        std: float = 0.01,
        num_results: int = 4,
        grace_period: int = 4,
        metric_threshold: float | None = None,
        mode: str | None = None,
    ) -> None:
        if not isinstance(metric, str):
            raise ValueError(f"metric must be a result name (a str), got {metric!r}")
        self.metric = metric
        self.std = check_number("std", std, minimum=0)
        self.num_results = check_int("num_results", num_results, minimum=1)
        self.grace_period = check_int("grace_period", grace_period, minimum=0)
        if metric_threshold is not None:
            check_number("metric_threshold", metric_threshold)
            if mode not in ("min", "max"):
                raise ValueError(f"mode must be 'min' or 'max' given a metric_threshold: {mode!r}")
        self.metric_threshold, self.mode = metric_threshold, mode
        self.seen: defaultdict[Any, int] = defaultdict(int)
        self.recent: dict[Any, deque[Any]] = {}

    def __call__(self, trial_id: Any, result: dict[str, Any]) -> bool:
        value = result.get(self.metric)
        recent = self.recent.setdefault(trial_id, deque(maxlen=self.num_results))
        recent.append(value)
        self.seen[trial_id] += 1
        if self.seen[trial_id] < self.grace_period or len(recent) < self.num_results:
            return False
        if self.metric_threshold is not None and not self._past_threshold(value):
            return False
        return _spread(recent) < self.std

    def _past_threshold(self, value: Any) -> bool:
        if not _is_number(value):  # (Ray Tune fails comparing it: a TypeError)
            raise ValueError(
                f"TrialPlateauStopper: a result's {self.metric!r} must be a number to compare "
                f"with metric_threshold={self.metric_threshold}, got {value!r}"
            )
        if self.mode == "min":
            return value <= self.metric_threshold
        return value >= self.metric_threshold


class TimeoutStopper(Stopper):
    """Ends the whole run once ``timeout`` seconds (a number or a ``datetime.timedelta``) have
    passed since its ``stop_all`` was first asked, i.e. since the run began; stops no trial on its
    own. A copy (a resumed run's) counts on from what was left."""

    def __init__(self, timeout: float | datetime.timedelta) -> None:
        if isinstance(timeout, datetime.timedelta):
            timeout = timeout.total_seconds()
        self.timeout = check_number("timeout", timeout, minimum=0)
        self.left = float(self.timeout)
        self.last_check: float | None = None

    def __call__(self, trial_id: Any, result: dict[str, Any]) -> bool:
        return False

    def stop_all(self) -> bool:
        now = time.monotonic()
        if self.last_check is not None:
            self.left -= now - self.last_check
        self.last_check = now
        return self.left <= 0

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "last_check": None}  # a copy counts from its own first check


class CombinedStopper(Stopper):
    """Ends a trial when any of its stoppers says so (asked in order, up to the first yes)."""

    def __init__(self, *stoppers: Stopper) -> None:
        for stopper in stoppers:
            if not isinstance(stopper, Stopper):
                raise ValueError(f"CombinedStopper takes tune.Stopper instances, got {stopper!r}")
        self.stoppers = stoppers

    def __call__(self, trial_id: Any, result: dict[str, Any]) -> bool:
        return any(stopper(trial_id, result) for stopper in self.stoppers)

    def stop_all(self) -> bool:
        return any(stopper.stop_all() for stopper in self.stoppers)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _spread(values: deque[Any]) -> float:
    """Population standard deviation (numpy's, as Ray Tune computes it, so that a value at the
    threshold rounds the same way); infinite when a value is missing or not a number."""
    if not all(_is_number(v) and math.isfinite(v) for v in values):
        return math.inf
    return float(np.std(list(values)))


def __getattr__(name: str) -> Any:
    return refused_name(__name__, name)
