"""Ray Tune's trial schedulers, with Ray's argument names and defaults, mapped onto ashasim's core.

A façade scheduler only keeps its arguments (checked at once, as Ray Tune checks them) until
``tune.run`` knows the config space, the metric, the searcher and the number of trials; then
``build`` makes the ashasim scheduler that does the work. Nothing here decides anything.

=================================  ===========================================================
Ray Tune                           ashasim
=================================  ===========================================================
``FIFOScheduler()``                ``RandomSearch``: every trial runs until it returns (or
                                   ``stop``'s limit)
``AsyncHyperBandScheduler`` /      ``ASHA(type="stopping")`` (``brackets=1``) or
``ASHAScheduler``                  ``AsyncHyperband(type="stopping", brackets=...)``;
                                   ``type="promotion"`` gives the paper's promotion ASHA
``HyperBandScheduler``             ``SyncHyperband`` (synchronous, pausing), ``overlap``
``HyperBandForBOHB``               the same; with ``TuneBOHB`` it is ashasim's BOHB
=================================  ===========================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ashasim.checks import MODES, check_choice, check_int, check_number, check_text
from ashasim.core import ASHA, AsyncHyperband, RandomSearch, SyncHyperband
from ashasim.core.asha import ASHA_TYPES
from ashasim.core.base import SchedulerBase
from ashasim.core.defaults import OVERLAPS
from ashasim.core.hyperband import hyperband_brackets
from ashasim.search import Searcher
from ashasim.tune.refusals import refused_name

__all__ = [
    "ASHAScheduler",
    "AsyncHyperBandScheduler",
    "FIFOScheduler",
    "HyperBandForBOHB",
    "HyperBandScheduler",
    "TrialScheduler",
]

#: the float keys Ray Tune adds to every result: not integer resources
_CLOCK_KEYS = ("time_total_s", "time_this_iter_s", "time_since_restore", "timestamp")

#: max_t of a scheduler with no limit of its own (FIFO): trials end when their trainable returns
UNLIMITED_T = 2**31 - 1


def _check_mode(mode: str | None) -> str | None:
    return None if mode is None else check_choice("mode", mode, MODES)


def _check_reduction_factor(value: Any) -> int:
    """An integer eta >= 2 (Ray Tune takes floats; rungs of integer resources need an integer)."""
    number = check_number("reduction_factor", value, minimum=2)
    if not float(number).is_integer():
        raise ValueError(
            f"reduction_factor must be an integer >= 2 in ashasim (rung levels are integer "
            f"resources), got {value!r}"
        )
    return int(number)


def _check_stop_last_trials(value: Any) -> None:
    if value is not True:
        raise ValueError(
            "stop_last_trials=False is not supported: an ashasim trial ends at max_t (raise "
            "max_t to let trials run longer)"
        )


class TrialScheduler:
    """What every façade scheduler has: Ray Tune's ``time_attr``, ``metric`` and ``mode``."""

    #: Ray Tune's name of the scheduler, for the status table
    ray_name = "TrialScheduler"

    def __init__(
        self,
        time_attr: str = "training_iteration",
        metric: str | None = None,
        mode: str | None = None,
    ) -> None:
        self.time_attr = check_text("time_attr", time_attr)
        if time_attr in _CLOCK_KEYS:
            raise ValueError(
                f"time_attr={time_attr!r} is not supported: ashasim's rungs are integer "
                f"resources; use 'training_iteration' or an integer key every report holds "
                f"(e.g. 'epoch'), and time_budget_s for a limit in seconds"
            )
        self.metric = None if metric is None else check_text("metric", metric)
        self.mode = _check_mode(mode)

    def build(
        self,
        config_space: Mapping[str, Any],
        *,
        metric: str,
        mode: str,
        max_trials: int | None,
        seed: int,
        searcher: Searcher,
        points_to_evaluate: Sequence[Mapping[str, Any]] = (),
        stop_t: int | None = None,
    ) -> SchedulerBase:
        """The ashasim scheduler for a run; *stop_t*: ``stop``'s limit on ``time_attr``."""
        common = {
            "mode": mode,
            "metric": metric,
            "resource_attr": self.time_attr,
            "max_trials": max_trials,
            "seed": seed,
            "searcher": searcher,
            "points_to_evaluate": list(points_to_evaluate),
        }
        return self._build(config_space, stop_t, common)

    def _build(
        self, config_space: Mapping[str, Any], stop_t: int | None, common: dict[str, Any]
    ) -> SchedulerBase:
        raise NotImplementedError

    def describe(self) -> str:
        return self.ray_name

    def notice(self) -> str | None:
        """One line printed once at the start where this scheduler deliberately decides
        otherwise than Ray Tune's; None where it does not."""
        return None


class FIFOScheduler(TrialScheduler):
    """Ray Tune's FIFOScheduler: no early stopping; each trial runs until its trainable returns
    (or reaches ``stop``'s limit). ashasim: ``RandomSearch`` whose max_t is that limit."""

    ray_name = "FIFOScheduler"

    def __init__(self) -> None:
        super().__init__()

    def _build(
        self, config_space: Mapping[str, Any], stop_t: int | None, common: dict[str, Any]
    ) -> SchedulerBase:
        return RandomSearch(config_space, max_t=stop_t or UNLIMITED_T, **common)


class AsyncHyperBandScheduler(TrialScheduler):
    """Ray Tune's ASHA (``ASHAScheduler`` is the same class), Ray's arguments and defaults.

    *time_attr* ("training_iteration"): the resource; the count of ``tune.report`` calls, or a
    key every report holds, e.g. "epoch". *max_t* (100), *grace_period* (1), *reduction_factor*
    (4) and *brackets* (1) as in Ray Tune. *type* (ashasim's addition): "stopping" (default,
    Ray Tune's kind: trials run towards max_t and are stopped at rungs) or "promotion" (the
    paper's ASHA: trials pause at each rung and the best paused trial is promoted when a worker
    is free). ``stop_last_trials`` must stay True.

    Same stream of results, different decisions, where Ray Tune and ashasim differ:

    * Ray Tune stops a trial at a rung when its result is worse than the (1 - 1/eta) percentile
      (linearly interpolated) of the results *recorded before it* at that rung. ashasim's
      stopping ASHA ranks: a trial continues iff fewer than n/eta of the rung's n results (its
      own included) beat it. Both let the first arrival at a rung go on; they differ on small
      rungs (with eta = 2, the second arrival goes on under Ray Tune when it ties the first;
      under ashasim the older trial wins the tie) and wherever the interpolated percentile falls
      between two results.
    * Several brackets: Ray Tune draws a new trial's bracket from a softmax; ashasim from
      Hyperband's weights (see ``ashasim.core.AsyncHyperband``).
    * ``grace_period == max_t`` (allowed by Ray Tune, where it stops nothing) runs as FIFO; so
      does a ``stop`` limit at or below grace_period.
    """

    ray_name = "AsyncHyperBandScheduler"

    def __init__(
        self,
        time_attr: str = "training_iteration",
        metric: str | None = None,
        mode: str | None = None,
        max_t: int = 100,
        grace_period: int = 1,
        reduction_factor: float = 4,
        brackets: int = 1,
        stop_last_trials: bool = True,
        *,
        type: str = "stopping",  # noqa: A002 - the name the chapter's ASHA uses
    ) -> None:
        super().__init__(time_attr, metric, mode)
        self.max_t = check_int("max_t", max_t, minimum=1)
        self.grace_period = check_int("grace_period", grace_period, minimum=1)
        if self.grace_period > self.max_t:
            raise ValueError(
                f"grace_period must be <= max_t: got grace_period={grace_period}, max_t={max_t}"
            )
        self.reduction_factor = _check_reduction_factor(reduction_factor)
        self.brackets = check_int("brackets", brackets, minimum=1)
        _check_stop_last_trials(stop_last_trials)
        self.type = check_choice("type", type, ASHA_TYPES)

    def _build(
        self, config_space: Mapping[str, Any], stop_t: int | None, common: dict[str, Any]
    ) -> SchedulerBase:
        max_t = self.max_t if stop_t is None else min(self.max_t, stop_t)
        if self.grace_period >= max_t:  # no rung below the end: nothing to stop or promote
            return RandomSearch(config_space, max_t=max_t, **common)
        ladder = {
            "type": self.type,
            "max_t": max_t,
            "grace_period": self.grace_period,
            "reduction_factor": self.reduction_factor,
        }
        if self.brackets == 1:
            return ASHA(config_space, **ladder, **common)
        return AsyncHyperband(config_space, brackets=self.brackets, **ladder, **common)

    def describe(self) -> str:
        return (
            f"AsyncHyperBand ({self.type}): max_t={self.max_t}, grace_period="
            f"{self.grace_period}, reduction_factor={self.reduction_factor}"
            + (f", brackets={self.brackets}" if self.brackets > 1 else "")
        )


ASHAScheduler = AsyncHyperBandScheduler


class HyperBandScheduler(TrialScheduler):
    """Ray Tune's synchronous HyperBand (trials pause at rungs, a rung's best go on together):
    ashasim's ``SyncHyperband`` with grace_period 1 and resume from checkpoints.

    *max_t* (81), *reduction_factor* (3) as in Ray Tune. *overlap* (ashasim's addition, default
    "always"): when a free worker may open the next bracket; Ray Tune runs the trials of several
    brackets at once, which is "always"; "none" is textbook synchronous SH, "top-rung" the
    chapter's figure (see ``ashasim.core.SyncSH``).

    Differences: bracket sizes follow Li et al.'s Algorithm 1 (ceil((s_max+1)/(s+1) eta^s)
    trials at max_t eta^-s), most aggressive bracket first, where Ray Tune starts with the least
    aggressive one (trials straight to max_t); the run says so in one line at its start
    (``notice``). As in Ray Tune, a bracket with fewer trials than planned (``num_samples``
    smaller than the bracket) still trains its best trials to max_t: it promotes the planned
    quota of those it has (``SyncSH(planned_quota=True)``). A trial that cannot checkpoint
    retrains from scratch when it resumes (its reports up to the pause are not counted twice).
    """

    ray_name = "HyperBandScheduler"

    def __init__(
        self,
        time_attr: str = "training_iteration",
        metric: str | None = None,
        mode: str | None = None,
        max_t: int = 81,
        reduction_factor: float = 3,
        stop_last_trials: bool = True,
        *,
        overlap: str = "always",
    ) -> None:
        super().__init__(time_attr, metric, mode)
        self.max_t = check_int("max_t", max_t, minimum=1)
        self.reduction_factor = _check_reduction_factor(reduction_factor)
        _check_stop_last_trials(stop_last_trials)
        self.overlap = check_choice("overlap", overlap, OVERLAPS)

    def _build(
        self, config_space: Mapping[str, Any], stop_t: int | None, common: dict[str, Any]
    ) -> SchedulerBase:
        max_t = self.max_t if stop_t is None else min(self.max_t, stop_t)
        if max_t <= 1:
            return RandomSearch(config_space, max_t=max_t, **common)
        return SyncHyperband(
            config_space,
            max_t=max_t,
            grace_period=1,
            reduction_factor=self.reduction_factor,
            overlap=self.overlap,
            resume=True,
            planned_quota=True,  # Ray Tune's: a bracket short of trials still reaches max_t
            **common,
        )

    def brackets(self) -> list[tuple[int, int]]:
        """(trials, first resource) of each bracket, in the order ashasim runs them."""
        if self.max_t <= 1:
            return [(1, self.max_t)]
        return hyperband_brackets(1, self.max_t, self.reduction_factor)

    def describe(self) -> str:
        return (
            f"{self.ray_name}: max_t={self.max_t}, reduction_factor={self.reduction_factor}, "
            f"{len(self.brackets())} brackets, overlap={self.overlap}"
        )

    def notice(self) -> str | None:
        plan = ", ".join(f"{n} trials from {r}" for n, r in self.brackets())
        return (
            f"Note: {self.ray_name} runs Li et al.'s brackets most aggressive first ({plan} "
            f"{self.time_attr}); Ray Tune starts with the least aggressive one"
        )


class HyperBandForBOHB(HyperBandScheduler):
    """Ray Tune's HyperBand for BOHB: the same synchronous Hyperband; paired with ``TuneBOHB``
    (the KDE searcher) it is ashasim's BOHB (Falkner et al. 2018). Ray Tune's BOHB runs the
    largest bracket first too, so nothing differs there to announce."""

    ray_name = "HyperBandForBOHB"

    def notice(self) -> str | None:
        return None


def __getattr__(name: str) -> Any:
    # Ray Tune names this package refuses (PopulationBasedTraining, HyperOptSearch, ...)
    return refused_name(__name__, name)
