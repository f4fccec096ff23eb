"""Ray Tune's ``stop``: when a trial ends because of what it reported.

``tune.run(stop=...)`` takes what Ray Tune takes, with Ray Tune's meaning:

* a dict ``{key: value}``: a trial ends at its first result whose ``key`` (nested keys joined
  with "/") is ``>= value``; a key a result lacks is ignored for that result. The scheduler's
  ``time_attr`` key also caps the scheduler's max_t (a trial cannot be promoted past it);
* a function ``(trial_id, result) -> bool``: the trial ends at the first result it is True for;
* a ``tune.Stopper`` (Ray Tune's own are in ``ashasim.tune.stopper``): its
  ``__call__(trial_id, result)`` likewise. Its ``stop_all()``, if it defines one, is asked in the
  driver, by a copy of the stopper that is shown every result of every trial (as Ray Tune's one
  stopper is), after each step of the run's loop: True ends the run there, the running trials cut
  as by ``time_budget_s`` (``StopAll``).

The check runs in the trial's worker, right after the report is journaled: the trainable is
unwound as if it had returned, so the driver journals the job as ``returned`` and the scheduler
hears that the trial ended; the result that met the criterion is written with ``done: true`` in
the trial's ``result.json``, as Ray Tune marks a trial's last result. A Stopper therefore runs
in the worker (Ray Tune: in the driver), as a fresh copy for each job that has first been shown
the trial's earlier results (``TrialStop.for_trial``): its state per trial is Ray Tune's, also
for a trial resumed on another worker. Results a job retrains without a checkpoint (at or below
the point it resumes from) are not new and not checked again. A result that
meets the criterion at the milestone of a pausing scheduler's rung (HyperBand, promotion ASHA)
pauses the trial there as usual; if it is promoted, it ends at its next result.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from ashasim.checks import RecordsArguments, check_int
from ashasim.tune.configs import flatten_result

__all__ = ["StopAll", "Stopper", "TrialStop", "compile_stop"]


class Stopper:
    """Ray Tune's ``tune.Stopper``: subclass it and define ``__call__(trial_id, result)``,
    True to end that trial; ``stop_all`` must return False (module docstring)."""

    def __call__(self, trial_id: Any, result: dict[str, Any]) -> bool:
        raise NotImplementedError(f"{type(self).__name__} must define __call__(trial_id, result)")

    def stop_all(self) -> bool:
        return False


class TrialStop(RecordsArguments):
    """What ends a trial: thresholds on result keys and/or a test; travels with the trainable."""

    def __init__(
        self, thresholds: Mapping[str, Any], test: Callable[[Any, dict[str, Any]], Any] | None
    ) -> None:
        self.thresholds = dict(thresholds)
        self.test = test

    def for_trial(self, trial_id: Any, earlier: list[dict[str, Any]]) -> TrialStop:
        """This check for one job of a trial: a Stopper is copied and first shown the trial's
        *earlier* results (flattened), so that its state per trial is what Ray Tune's, which
        sees every result in the driver, would hold now (``ashasim.tune.stopper``)."""
        if not isinstance(self.test, Stopper):
            return self
        stopper = copy.deepcopy(self.test)
        for result in earlier:
            stopper(trial_id, result)
        return TrialStop(self.thresholds, stopper)

    def reason(self, trial_id: Any, result: dict[str, Any]) -> str | None:
        """Why *result* ends its trial, or None; *result* is flattened ("a/b" keys)."""
        for key, limit in self.thresholds.items():
            value = result.get(key)
            if value is not None and value >= limit:
                return f"stop: {key}={value} >= {limit}"
        if self.test is None:
            return None
        if self.test(trial_id, result):
            return f"stop: {getattr(self.test, '__name__', type(self.test).__name__)} said so"
        return None


class StopAll:
    """The driver's copy of a Stopper that defines ``stop_all``: shown every result of every
    trial, as Ray Tune's one stopper is, and asked whether the whole run ends."""

    def __init__(self, stopper: Stopper) -> None:
        self.stopper = copy.deepcopy(stopper)
        self.reason: str | None = None

    @staticmethod
    def of(stop: TrialStop | None) -> StopAll | None:
        """The driver's copy for *stop*, or None when its test cannot end the run."""
        test = None if stop is None else stop.test
        if isinstance(test, Stopper) and type(test).stop_all is not Stopper.stop_all:
            return StopAll(test)
        return None

    def result(self, trial_id: Any, result: dict[str, Any]) -> None:
        self.stopper(trial_id, flatten_result(result))

    def check(self) -> str | None:
        """Why the run must end now (once stop_all has said True), else None."""
        if self.reason is None and self.stopper.stop_all():
            self.reason = f"stop: {type(self.stopper).__name__}.stop_all() returned True"
        return self.reason


def compile_stop(stop: Any, time_attr: str) -> tuple[TrialStop | None, int | None]:
    """``stop`` as (the per-result check, the cap on max_t); one line naming what is wrong."""
    if stop is None:
        return None, None
    if isinstance(stop, Mapping):
        return _compile_dict(stop, time_attr)
    if callable(stop):
        return TrialStop({}, stop), None
    raise ValueError(
        f"stop must be a dict of result thresholds, a function (trial_id, result) -> bool or "
        f"a tune.Stopper, got {stop!r}"
    )


def _compile_dict(stop: Mapping[Any, Any], time_attr: str) -> tuple[TrialStop | None, int | None]:
    thresholds: dict[str, Any] = {}
    for key, value in stop.items():
        if not isinstance(key, str) or isinstance(value, Mapping):
            raise ValueError(
                f"stop: {key!r}: keys are result names (nested ones joined with '/', as in "
                f"Ray Tune), values numbers"
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"stop[{key!r}] must be a number, got {value!r}")
        thresholds[key] = value
    cap = None
    if time_attr in thresholds:
        cap = check_int(f"stop[{time_attr!r}]", thresholds.pop(time_attr), minimum=1)
    return (TrialStop(thresholds, None) if thresholds else None), cap
