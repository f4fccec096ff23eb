"""Random search: every config an independent draw from the space (the default searcher)."""

from __future__ import annotations

from typing import Any

from ashasim.search.base import Searcher
from ashasim.space.spaces import sampler

__all__ = ["RandomSearcher"]


class RandomSearcher(Searcher):
    """Draw each config from the space; the ``points_to_evaluate`` come first, in order.

    This is exactly what the schedulers did before searchers existed, draw for draw: one
    ``space.sample(config_space, rng)`` per trial, then the next point's keys written over it. The
    sample is drawn even when a point is given, so the generator's stream (and every later config
    and bracket draw of the scheduler sharing it) does not depend on the points. Seeded traces
    therefore stay byte-identical whether or not a scheduler goes through this class.
    """

    def _setup(self) -> None:
        self._draw = sampler(self.config_space)  # ``space.sample``, the space read once

    def suggest(self, trial_id: int) -> dict[str, Any]:
        try:
            config = self._draw(self.rng)
        except AttributeError:
            self._require_configured()
            raise
        if self._points:
            config.update(self._points.popleft())
        return config
