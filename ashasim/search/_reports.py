"""Every report as one data point (config row, resource, score): the multi-fidelity GP's data.

``Level`` keeps results per resource level for the models that look at one level; a model that
takes the resource as an input needs them all, in arrival order (so "the most recent" means the
same thing across levels). A trial that reports twice at the same resource (a restarted job)
keeps its first slot and its latest score, as in ``Level``.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["Reports"]


class Reports:
    """(row, resource, score) of every report, in growing numpy arrays; see the module docstring."""

    __slots__ = ("n", "n_trials", "resources", "rows", "scores", "seen", "slot", "top", "version")

    def __init__(self) -> None:
        self.rows = np.empty(64, dtype=np.intp)
        self.resources = np.empty(64, dtype=float)
        self.scores = np.empty(64, dtype=float)
        self.slot: dict[tuple[int, int], int] = {}
        self.n = 0
        self.n_trials = 0  # distinct trials (rows) that reported: what the refit schedule counts
        self.seen: set[int] = set()
        self.version = 0
        self.top = 1  # the highest resource reported: it sets the resource column's scale

    def add(self, row: int, resource: int, score: float) -> None:
        self.version += 1
        score = score if math.isfinite(score) else math.inf  # NaN/inf: the worst (see gp)
        slot = self.slot.get((row, resource))
        if slot is not None:
            self.scores[slot] = score
            return
        if self.n == len(self.rows):
            for name in ("rows", "resources", "scores"):
                setattr(self, name, np.resize(getattr(self, name), 2 * self.n))
        self.rows[self.n], self.resources[self.n], self.scores[self.n] = row, resource, score
        self.slot[(row, resource)] = self.n
        self.n += 1
        if row not in self.seen:
            self.seen.add(row)
            self.n_trials += 1
        self.top = max(self.top, resource)

    def data(self, configs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(encoded configs, resources, scores) of every report, in arrival order."""
        n = self.n
        return configs[self.rows[:n]], self.resources[:n].copy(), self.scores[:n].copy()

    def resource_column(self, resources: np.ndarray) -> np.ndarray:
        """Resources on [0, 1] by log(r) / log(top): rungs of a geometric ladder equally spaced,
        the highest resource seen at 1."""
        return np.log(np.asarray(resources, dtype=float)) / math.log(max(self.top, 2))

    @staticmethod
    def training_rows(scores: np.ndarray, at_level: np.ndarray, max_points: int) -> np.ndarray:
        """All reports, or at most ``max_points``: the best max_points // 4 at the model level
        (the incumbent's neighbourhood stays sharp where EI is judged), then the most recent
        reports of any level (where the search is now, and how curves rise with the resource)."""
        n = len(scores)
        if n <= max_points:
            return np.arange(n)
        level_slots = np.flatnonzero(at_level)
        best = level_slots[np.argsort(scores[level_slots], kind="stable")[: max_points // 4]]
        chosen = np.zeros(n, dtype=bool)
        chosen[best] = True
        recent = np.flatnonzero(~chosen)[-(max_points - len(best)) :]
        chosen[recent] = True
        return np.flatnonzero(chosen)
