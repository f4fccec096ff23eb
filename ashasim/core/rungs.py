"""Rung ladder math, the sorted rung store, and the promotion and stopping rules.

Theory of operation
-------------------
A *rung* is a resource level r_k = r_min * eta**k (k = 0, 1, ...) below r_max; r_max itself is the
final milestone. Every rule in ashasim compares a trial with the other results *of the same rung*,
and only by rank, so everything here works on a normalized *score*: lower is better, the mode is
folded in once (``score``), and NaN/inf rank last. Ties break by trial_id (older wins).

Each rung keeps two sorted lists of ``(score, trial_id)`` keys:

* ``results``: every result recorded at the rung, and
* ``candidates``: the results whose trial is paused at this rung and was not promoted from it.

The paper's rule (Li et al., Algorithm 2, ``get_job``) promotes a candidate iff it is among the top
floor(n/eta) of the rung. The best candidate is the only one worth checking: if it is not in the
top floor(n/eta), no candidate is. So one promotion check costs a lookup of ``candidates[0]`` and a
binary search for its rank in ``results``: O(log n), not a scan of the rung.
"""

from __future__ import annotations

import math

from sortedcontainers import SortedList

__all__ = [
    "Rung",
    "continues_at_rung",
    "hyperband_bracket",
    "promotion_quota",
    "rung_levels",
    "score",
]

Key = tuple[float, int]


def rung_levels(grace_period: int, max_t: int, reduction_factor: int) -> tuple[int, ...]:
    """Resource levels r_min * eta**k below max_t, then max_t itself (the final milestone).

    >>> rung_levels(1, 10, 2)
    (1, 2, 4, 8, 10)
    >>> rung_levels(1, 81, 3)
    (1, 3, 9, 27, 81)
    """
    levels = []
    level = grace_period
    while level < max_t:
        levels.append(level)
        level *= reduction_factor
    levels.append(max_t)
    return tuple(levels)


def score(metric: float, mode: str) -> float:
    """Normalize a metric so that lower is better; NaN and +-inf rank after every finite value."""
    value = metric if mode == "min" else -metric
    return value if math.isfinite(value) else math.inf


def promotion_quota(n_results: int, reduction_factor: int) -> int:
    """How many of a rung's n results the promotion rule admits: floor(n / eta) (Li et al.)."""
    return n_results // reduction_factor


def continues_at_rung(rank: int, n_results: int, reduction_factor: int) -> bool:
    """The stopping rule: a trial of 0-based ``rank`` among ``n_results`` (itself included) goes on
    iff it is in the top 1/eta so far, i.e. fewer than n/eta results beat it (rank < n/eta).

    Small-sample policy, stated: with n < eta results only the best so far continues, and the
    first trial to reach a rung always continues (there is nothing to compare it with).
    """
    return rank * reduction_factor < n_results


def hyperband_bracket(s: int, s_max: int, reduction_factor: int) -> int:
    """Trials that synchronous Hyperband starts in bracket s: ceil((s_max+1)/(s+1) * eta**s).

    Li et al. (2018), Algorithm 1; bracket s has s rungs above its first one. Integer arithmetic
    avoids the float rounding of the formula written with a division.
    """
    numerator = (s_max + 1) * reduction_factor**s
    return -(-numerator // (s + 1))


class Rung:
    """One rung: the results recorded at ``level``, sorted, and the paused trials it may promote."""

    __slots__ = (
        "_candidates",
        "_keys",
        "_promotable",
        "_results",
        "_stale",
        "level",
        "reduction_factor",
    )

    def __init__(self, level: int, reduction_factor: int) -> None:
        self.level = level
        self.reduction_factor = reduction_factor
        self._results: SortedList = SortedList()
        self._candidates: SortedList = SortedList()
        self._keys: dict[int, Key] = {}
        self._promotable: int | None = None  # cached answer, valid until the rung changes
        self._stale = True

    def __len__(self) -> int:
        return len(self._results)

    def __contains__(self, trial_id: int) -> bool:
        return trial_id in self._keys

    def add(self, trial_id: int, trial_score: float, *, candidate: bool) -> int:
        """Record a result; return its 0-based rank in the rung (ties: lower trial_id first)."""
        if trial_id in self._keys:
            raise ValueError(f"trial {trial_id} already has a result at rung level {self.level}")
        key = (trial_score, trial_id)
        self._keys[trial_id] = key
        self._stale = True
        self._results.add(key)
        if candidate:
            self._candidates.add(key)
        return self._results.bisect_left(key)

    def rank(self, trial_id: int) -> int:
        """0-based rank of the trial's result among the rung's results."""
        return self._results.bisect_left(self._keys[trial_id])

    def promotable(self) -> int | None:
        """The paper's rule: the best candidate if it is in the top floor(n/eta), else None.

        Cached: the answer only changes when a result is added or a candidate withdrawn, and
        ASHA asks every rung on every suggestion, far more often than rungs change.
        """
        if self._stale:
            self._stale = False
            self._promotable = None
            if self._candidates:
                key = self._candidates[0]
                quota = promotion_quota(len(self._results), self.reduction_factor)
                if self._results.bisect_left(key) < quota:
                    self._promotable = key[1]
        return self._promotable

    def withdraw(self, trial_id: int) -> None:
        """Take a trial out of the candidates (promoted, or failed); its result still counts."""
        key = self._keys.get(trial_id)
        if key is not None and key in self._candidates:
            self._candidates.remove(key)
            self._stale = True

    def top(self, count: int) -> list[int]:
        """Trial ids of the ``count`` best results, best first."""
        return [trial_id for _, trial_id in self._results[:count]]

    def trial_ids(self) -> list[int]:
        """All trial ids with a result here, best first."""
        return [trial_id for _, trial_id in self._results]
