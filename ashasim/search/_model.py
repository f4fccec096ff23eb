"""What the model-based searchers (KDE, GP) share: observations per resource level, pending
trials, the points to evaluate, and the rule that no proposal repeats a pending config.

Observations are kept per resource level (every report is one), as numpy arrays that grow by
doubling, so fitting a model on 10^4 results never walks Python lists. The *model level* is the
highest level a model can be fitted on (``_level_ready``: at least ``min_points`` results, or
the KDE's rule for both of its densities); it only moves up, because results are never
taken back. A failure removes the trial from the pending set and adds nothing: results it reported
before crashing were real measurements and stay; the crash itself carries no metric, so it is
dropped rather than guessed at.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ashasim.search._encoding import Encoding, table_space
from ashasim.search.base import Searcher
from ashasim.space import sample

__all__ = ["Level", "ModelSearcher"]

_RANDOM_RETRIES = 64  # random draws tried when the model's proposals are all pending


class Level:
    """Results at one resource level: history rows and scores (lower is better), arrival order.

    A trial that reports twice at the same level (a restarted job) keeps its first slot and its
    latest score. ``version`` changes with every result, so fitted models can be cached on it.
    """

    __slots__ = ("_ranked", "_ranked_at", "n", "rescored", "rows", "scores", "slot", "version")

    def __init__(self) -> None:
        self.rows = np.empty(16, dtype=np.intp)
        self.scores = np.empty(16, dtype=float)
        self.slot: dict[int, int] = {}
        self.n = 0
        self.version = 0
        self.rescored = 0  # results that replaced an earlier score
        self._ranked = np.empty(0, dtype=np.intp)
        self._ranked_at = (0, 0)  # (version, rescored) when _ranked was last brought up to date

    def add(self, row: int, score: float) -> None:
        self.version += 1
        slot = self.slot.get(row)
        if slot is not None:
            self.scores[slot] = score
            self.rescored += 1
            return
        if self.n == len(self.rows):
            self.rows = np.resize(self.rows, 2 * self.n)
            self.scores = np.resize(self.scores, 2 * self.n)
        self.rows[self.n], self.scores[self.n] = row, score
        self.slot[row] = self.n
        self.n += 1

    def ranked(self) -> np.ndarray:
        """Slots from best to worst score, ties in arrival order (as a stable sort gives).

        Kept up to date incrementally: k new results are sorted and merged in with one binary
        search and one insert, O(n + k log k), instead of re-sorting all n on every result (a
        full sort of 10^4 scores per suggest was a third of the KDE's cost). A rescored result
        forces a full sort.
        """
        if self._ranked_at == (self.version, self.rescored):
            return self._ranked
        known = len(self._ranked)
        if self._ranked_at[1] != self.rescored or self.n - known > known:
            self._ranked = np.argsort(self.scores[: self.n], kind="stable")
        else:
            new = np.arange(known, self.n)
            new = new[np.argsort(self.scores[new], kind="stable")]
            ranked_scores = self.scores[self._ranked]
            where = np.searchsorted(ranked_scores, self.scores[new], side="right")
            self._ranked = np.insert(self._ranked, where, new)
        self._ranked_at = (self.version, self.rescored)
        return self._ranked


class ModelSearcher(Searcher):
    """Shared bookkeeping; subclasses implement ``_propose`` (see its docstring).

    Over a table (``over_table``), the searcher proposes only the table's configs, each once:
    the model's coordinates are the table's config columns (``table_space``), the random draw is
    a random remaining row, and a model proposal scores every remaining row (``table_pool``) with
    its acquisition function instead of drawing candidates from the space.
    """

    min_points: int | None = None
    _table: tuple[list[dict[str, Any]], list[str]] | None = None

    def over_table(self, configs: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> Any:
        """Search only ``configs`` (a table's rows, as handed to trials), each at most once,
        modelling the values of ``columns``; returns the searcher. Call before ``configure``."""
        if self._configured:
            raise ValueError("over_table() must come before configure()")
        rows = [dict(config) for config in configs]
        if not rows:
            raise ValueError("over_table: configs must hold at least one config")
        missing = [c for c in columns if any(c not in row for row in rows)]
        if missing:
            raise ValueError(f"over_table: column(s) {missing} missing from some configs")
        self._table = (rows, list(columns))
        return self

    def _setup(self) -> None:
        if self._table is not None:
            if self._points:
                raise ValueError(
                    f"{type(self).__name__} over a table proposes the table's own rows; "
                    "points_to_evaluate is not supported there"
                )
            configs, columns = self._table
            self.encoding = Encoding(table_space(configs, columns), type(self).__name__)
            self._rows = np.array([self.encoding.encode(c) for c in configs], dtype=float)
            self._rows = self._rows.reshape(len(configs), self.encoding.d)
            self._left = np.ones(len(configs), dtype=bool)  # rows not yet handed out
            self._pool_index = np.empty(0, dtype=np.intp)
            self._picked = 0
            self.max_configs = len(configs)
        else:
            self.encoding = Encoding(self.config_space, type(self).__name__)
        self._min_points = self.min_points if self.min_points is not None else self.encoding.d + 1
        self._x = np.empty((64, self.encoding.d))  # encoded config of every suggested trial
        self._row: dict[int, int] = {}  # trial_id -> row of _x
        self._pending: dict[int, tuple[Any, ...]] = {}  # trial_id -> key, in suggestion order
        self._pending_keys: dict[tuple[Any, ...], int] = {}  # key -> number of pending trials
        self.levels: dict[int, Level] = {}
        self.model_level: int | None = None
        self.n_suggested = 0

    def _propose(self, level: Level, random_config: dict[str, Any]) -> dict[str, Any] | None:
        """A model-based config from the results at ``level``, or None to use ``random_config``.

        Called only when the space has a coordinate and ``level`` is ready (``_level_ready``).
        """
        raise NotImplementedError

    def _level_ready(self, level: Level) -> bool:
        """Whether a model can be fitted on ``level``: it holds at least min_points results."""
        return level.n >= self._min_points

    # -- the protocol ---------------------------------------------------------------------------

    def suggest(self, trial_id: int) -> dict[str, Any] | None:
        self._require_configured()
        if isinstance(trial_id, bool) or not isinstance(trial_id, (int, np.integer)):
            raise ValueError(f"trial_id must be an integer, got {trial_id!r}")
        if trial_id in self._row:
            raise ValueError(f"trial_id {trial_id} was already suggested; each trial gets one")
        if self._table is not None:
            return self._suggest_row(int(trial_id))
        # Drawn first and always, as RandomSearcher does: points do not shift the stream.
        config = sample(self.config_space, self.rng)
        point = self._next_point()
        if point is not None:
            config.update(point)
        elif self.encoding.d > 0:
            proposal = None
            if self.model_level is not None:
                proposal = self._propose(self.levels[self.model_level], config)
            config = self._not_pending(config if proposal is None else proposal)
        self._register(int(trial_id), config)
        return config

    def _suggest_row(self, trial_id: int) -> dict[str, Any] | None:
        """A remaining row of the table (see the class docstring), or None once all are used."""
        rows = self._table[0] if self._table is not None else []
        left = np.flatnonzero(self._left)
        if not len(left):
            return None
        index = int(left[min(int(self.rng.random() * len(left)), len(left) - 1)])  # drawn always
        model = self.encoding.d > 0 and self.model_level is not None
        if model and self._propose(self.levels[self.model_level], rows[index]) is not None:  # type: ignore[index]
            index = self._picked  # set by first_free: the row the model chose
        self._left[index] = False
        config = dict(rows[index])
        self._register(trial_id, config)
        return config

    def on_result(self, trial_id: int, resource: int, metric: float) -> None:
        row = self._row.get(trial_id)
        if row is None:
            raise ValueError(f"on_result: unknown trial_id {trial_id!r} (never suggested)")
        if isinstance(resource, bool) or not isinstance(resource, (int, np.integer)):
            raise ValueError(f"resource must be an integer, got {resource!r}")
        score = float(metric) if self.mode == "min" else -float(metric)
        level = self.levels.get(resource)
        if level is None:
            level = self.levels[int(resource)] = Level()
        level.add(row, score if math.isfinite(score) else math.inf)  # NaN/inf rank last
        self._release(trial_id)
        if (self.model_level is None or resource > self.model_level) and self._level_ready(level):
            self.model_level = int(resource)

    def on_failure(self, trial_id: int) -> None:
        self._release(trial_id)

    def on_end(self, trial_id: int) -> None:
        self._release(trial_id)

    # -- helpers for subclasses -----------------------------------------------------------------

    def pending_rows(self) -> np.ndarray:
        """Encoded configs of the pending trials (suggested, no result yet), in suggestion order."""
        rows = [self._row[t] for t in self._pending]
        return self._x[rows] if rows else np.empty((0, self.encoding.d))

    def table_pool(self) -> np.ndarray | None:
        """Over a table: the encoded rows not yet handed out (the candidates a proposal scores);
        otherwise None (candidates come from the space)."""
        if self._table is None:
            return None
        self._pool_index = np.flatnonzero(self._left)
        return self._rows[self._pool_index]

    def first_free(self, candidates: np.ndarray, order: np.ndarray) -> dict[str, Any] | None:
        """The config of the first candidate (taken in ``order``) that is not pending.

        Over a table the candidates are ``table_pool()``'s rows, none of them pending (each row
        is handed out once): the first in ``order`` wins.
        """
        if self._table is not None:
            self._picked = int(self._pool_index[order[0]])
            return self._table[0][self._picked]
        for index in order:
            config = self.encoding.decode(candidates[index])
            if self.encoding.key(config) not in self._pending_keys:
                return config
        return None

    def is_free(self, candidate: np.ndarray) -> bool:
        """Whether the config of an encoded candidate is not pending."""
        return self.encoding.key(self.encoding.decode(candidate)) not in self._pending_keys

    def level_data(self, level: Level) -> tuple[np.ndarray, np.ndarray]:
        """(encoded configs, scores) of a level's results, in arrival order."""
        return self._x[level.rows[: level.n]], level.scores[: level.n]

    def level_rows(self, level: Level, slots: np.ndarray) -> np.ndarray:
        """Encoded configs of the given result slots of a level."""
        return self._x[level.rows[slots]]

    # -- internals ------------------------------------------------------------------------------

    def _not_pending(self, config: dict[str, Any]) -> dict[str, Any]:
        """``config``, or a random one if it repeats a pending config; in a finite space whose
        random draws keep colliding, the first free config in enumeration order."""
        for _ in range(_RANDOM_RETRIES):
            if self.encoding.key(config) not in self._pending_keys:
                return config
            config = sample(self.config_space, self.rng)
        for candidate in self.encoding.all_configs():
            if self.encoding.key(candidate) not in self._pending_keys:
                return candidate
        return config  # every config of the space is pending: a repeat cannot be avoided

    def _register(self, trial_id: int, config: dict[str, Any]) -> None:
        row = self.n_suggested
        if row == len(self._x):
            self._x = np.resize(self._x, (2 * row, self.encoding.d))
        self._x[row] = self.encoding.encode(config)
        self._row[trial_id] = row
        key = self.encoding.key(config)
        self._pending[trial_id] = key
        self._pending_keys[key] = self._pending_keys.get(key, 0) + 1
        self.n_suggested += 1

    def _release(self, trial_id: int) -> None:
        key = self._pending.pop(trial_id, None)
        if key is None:
            return
        if self._pending_keys[key] == 1:
            del self._pending_keys[key]
        else:
            self._pending_keys[key] -= 1
