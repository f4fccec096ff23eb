"""Rung ladder math, the sorted rung store, and the promotion and stopping rules.

Theory of operation
-------------------
A *rung* is a resource level r_k = r_min * eta**k (k = 0, 1, ...) below r_max; r_max itself is the
final milestone. Every rule in ashasim compares a trial with the other results *of the same rung*,
and only by rank, so everything here works on a normalized *score*: lower is better, the mode is
folded in once (``score``), and NaN/inf rank last. Ties break by trial_id (older wins).

Each rung splits its results at the promotion quota q = floor(n/eta): the q best in one heap
(worst on top), the rest in another (best on top), and keeps the paused trials it may promote
(*candidates*) in a third heap. Every question the rules ask is a comparison with a heap's top:

* the promotion rule (Li et al., Algorithm 2, ``get_job``) promotes a candidate iff it is among the
  top floor(n/eta) of the rung; the best candidate is the only one worth checking, and it is in the
  top q iff it is no worse than the worst of the q best;
* the stopping rule continues a new result iff fewer than n/eta results beat it, i.e. iff it is
  among the ceil(n/eta) best: the q best, or the best of the rest when eta does not divide n.

An insert moves at most one key between the heaps, so a decision costs O(log n) in ``heapq``'s C
code (a bisect into a sorted list pays an O(n) move per insert instead, and a pure-Python sorted
container several microseconds). Ranks and sorted listings are for inspection and cost O(n log n).
"""

from __future__ import annotations

import math
from heapq import heappop, heappush

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
    """One rung: the results recorded at ``level``, split at the promotion quota, and the paused
    trials it may promote (see the module docstring)."""

    __slots__ = (
        "_best",
        "_candidate_ids",
        "_candidates",
        "_keys",
        "_promotable",
        "_rest",
        "_stale",
        "level",
        "reduction_factor",
    )

    def __init__(self, level: int, reduction_factor: int) -> None:
        self.level = level
        self.reduction_factor = reduction_factor
        self._best: list[Key] = []  # the floor(n/eta) best, negated: the worst of them on top
        self._rest: list[Key] = []  # the others: the best of them on top
        self._candidates: list[Key] = []  # may hold withdrawn keys (dropped when they surface)
        self._candidate_ids: set[int] = set()
        self._keys: dict[int, Key] = {}
        self._promotable: int | None = None  # cached answer, valid until the rung changes
        self._stale = True

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, trial_id: int) -> bool:
        return trial_id in self._keys

    def add(self, trial_id: int, trial_score: float, *, candidate: bool) -> bool:
        """Record a result; return the stopping rule's verdict on it: True iff it is in the top
        1/eta of the rung so far (rank < n/eta, ties by trial_id: ``continues_at_rung``)."""
        keys = self._keys
        if trial_id in keys:
            raise ValueError(f"trial {trial_id} already has a result at rung level {self.level}")
        key = (trial_score, trial_id)
        keys[trial_id] = key
        self._stale = True
        best, rest = self._best, self._rest
        if best and (-trial_score, -trial_id) > best[0]:  # better than the worst of the best
            heappush(best, (-trial_score, -trial_id))
        else:
            heappush(rest, key)
        quota = len(keys) // self.reduction_factor
        if len(best) > quota:
            score_, tid = heappop(best)
            heappush(rest, (-score_, -tid))
        elif len(best) < quota:
            score_, tid = heappop(rest)
            heappush(best, (-score_, -tid))
        if candidate:
            heappush(self._candidates, key)
            self._candidate_ids.add(trial_id)
        if best and (-trial_score, -trial_id) >= best[0]:
            return True  # among the floor(n/eta) best
        # among the ceil(n/eta) best: the best of the rest, when eta does not divide n
        return len(keys) % self.reduction_factor != 0 and rest[0] == key

    def rank(self, trial_id: int) -> int:
        """0-based rank of the trial's result among the rung's results (O(n); for inspection)."""
        key = self._keys[trial_id]
        return sum(1 for other in self._keys.values() if other < key)

    def promotable(self) -> int | None:
        """The paper's rule: the best candidate if it is in the top floor(n/eta), else None.

        Cached: the answer only changes when a result is added or a candidate withdrawn, and
        ASHA asks every rung on every suggestion, far more often than rungs change.
        """
        if self._stale:
            self._stale = False
            self._promotable = None
            candidates, ids = self._candidates, self._candidate_ids
            while candidates and candidates[0][1] not in ids:
                heappop(candidates)  # withdrawn since it was pushed
            if candidates and self._best:
                score_, tid = candidates[0]
                if (-score_, -tid) >= self._best[0]:
                    self._promotable = tid
        return self._promotable

    def withdraw(self, trial_id: int) -> None:
        """Take a trial out of the candidates (promoted, or failed); its result still counts."""
        if trial_id in self._candidate_ids:
            self._candidate_ids.discard(trial_id)
            self._stale = True

    def top(self, count: int) -> list[int]:
        """Trial ids of the ``count`` best results, best first."""
        return [trial_id for _, trial_id in sorted(self._keys.values())[:count]]

    def trial_ids(self) -> list[int]:
        """All trial ids with a result here, best first."""
        return [trial_id for _, trial_id in sorted(self._keys.values())]
