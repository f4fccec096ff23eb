"""Ray Tune's basic variant generation: a sweep over the ``grid_search`` parameters, repeated,
with every other parameter drawn at random for each trial."""

from __future__ import annotations

import math
from typing import Any

from ashasim.checks import check_optional_int
from ashasim.search.base import Searcher
from ashasim.space import GridSearch, sample

__all__ = ["VariantSearcher"]


class VariantSearcher(Searcher):
    """Every combination of the ``grid_search`` values, ``repeat`` times over; the other domains
    (``sample_from`` included) are drawn from the scheduler's generator for each trial.

    What Ray Tune's ``BasicVariantGenerator`` does with ``num_samples``: trial i gets grid point
    ``i mod G`` (G = the grid's size; the last grid parameter varies fastest), so the run has
    ``repeat * G`` trials and then no more configs (``suggest`` returns None; *repeat* None:
    the sweep goes on for ever, Ray Tune's ``num_samples=-1``). Without any
    ``grid_search`` parameter, G = 1: ``repeat`` random configs. Unlike ``GridSearcher``, the
    order is not shuffled (Ray's is not) and real ranges are sampled, not gridded.

    ``points_to_evaluate`` come first and count towards the ``repeat * G`` trials (so the sweep's
    last combinations are the ones left out); each is completed (its missing keys, grid ones
    included) by a random draw.
    """

    def __init__(self, repeat: int | None = 1) -> None:
        self.repeat = check_optional_int("repeat", repeat, minimum=1)

    def describe(self) -> dict[str, Any]:
        return {"name": type(self).__name__, "repeat": self.repeat}

    def _setup(self) -> None:
        space = self.config_space
        self._axes = {n: d.values for n, d in space.items() if isinstance(d, GridSearch)}
        self.size = math.prod(len(values) for values in self._axes.values())
        self.max_configs = None if self.repeat is None else self.size * self.repeat
        self._count = 0  # configs handed out, points included
        self._swept = 0  # grid points handed out

    def grid_point(self, index: int) -> dict[str, Any]:
        """The ``index``-th combination of the grid values (the last parameter fastest)."""
        point: dict[str, Any] = {}
        for name, values in reversed(self._axes.items()):
            index, position = divmod(index, len(values))
            point[name] = values[position]
        return {name: point[name] for name in self._axes}

    def suggest(self, trial_id: int) -> dict[str, Any] | None:
        self._require_configured()
        if self.max_configs is not None and self._count >= self.max_configs:
            return None
        given = self._next_point()
        if given is None:
            given = self.grid_point(self._swept % self.size)
            self._swept += 1
        self._count += 1
        return sample(self.config_space, self.rng, given=given)
