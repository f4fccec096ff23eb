"""The searcher protocol: which config a new trial gets (ARCHITECTURE §2b).

A scheduler decides *when* a trial runs and *for how long*; its searcher decides *which config*
a new trial gets. The scheduler owns one searcher and drives it with five calls:

* ``configure`` once, with the space, the mode and the scheduler's own generator (shared, so one
  seed fixes the whole run: configs, brackets and model proposals alike);
* ``suggest(trial_id)`` when it creates a trial: a config, or None once no new config will ever
  come (a grid is exhausted), which the scheduler treats as a spent trial budget;
* ``on_result`` for every report, ``on_failure`` when a trial crashes, ``on_end`` when a trial is
  stopped or completed.

Like the scheduler core, a searcher is pure: no clock, no I/O, no module-level randomness. It sees
only what is passed to it, so the same ``configure`` arguments and the same calls in the same order
give the same proposals.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ashasim.checks import MODES, RecordsArguments, check_choice
from ashasim.space import check_config, check_space

__all__ = ["Searcher"]


class Searcher(RecordsArguments):
    """Base class of all searchers: argument checks and the points to evaluate.

    Subclass it and override :meth:`suggest` (and the ``on_*`` hooks a model needs). After
    :meth:`configure`, a subclass finds the space in ``self.config_space``, the mode in
    ``self.mode`` and the generator to draw from in ``self.rng``; ``self._next_point()`` hands out
    the ``points_to_evaluate`` in order. ``_setup`` is called at the end of ``configure`` for
    what depends on the space.
    """

    _configured = False
    #: at most this many configs will ever come (None: no limit); set at ``configure`` by finite
    #: searchers (a grid), so the scheduler can bound its trial budget and a run ends by itself
    max_configs: int | None = None

    def configure(
        self,
        config_space: Mapping[str, Any],
        *,
        mode: str,
        rng: np.random.Generator,
        points_to_evaluate: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """Bind the searcher to one scheduler's space, mode and generator; call once.

        A second call raises: a searcher's state (pending trials, the grid's order, observations)
        belongs to one run, and two schedulers sharing it would see each other's trials.
        """
        if self._configured:
            raise ValueError(
                f"{type(self).__name__} is already configured: a searcher serves one scheduler, "
                "so give each scheduler its own searcher"
            )
        check_choice("mode", mode, MODES)
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng must be a numpy.random.Generator, got {rng!r}")
        config_space = check_space(config_space)
        points = list(points_to_evaluate)
        for index, point in enumerate(points):
            if not isinstance(point, Mapping):
                raise ValueError(f"points_to_evaluate[{index}] must be a dict, got {point!r}")
            check_config(config_space, point, what=f"points_to_evaluate[{index}]")
        self.config_space: dict[str, Any] = config_space
        self.mode = mode
        self.rng = rng
        self._points: deque[dict[str, Any]] = deque(dict(point) for point in points)
        self._setup()
        self._configured = True

    def suggest(self, trial_id: int) -> dict[str, Any] | None:
        """The config (domains sampled, constants copied) for new trial ``trial_id``.

        None means no new config will ever come; the scheduler then starts no more trials.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement suggest()")

    def on_result(self, trial_id: int, resource: int, metric: float) -> None:
        """A report of ``metric`` at ``resource`` (every report is forwarded)."""

    def on_failure(self, trial_id: int) -> None:
        """The trial crashed: no further results will come."""

    def on_end(self, trial_id: int) -> None:
        """The trial was stopped or completed: no further results will come."""

    def describe(self) -> dict[str, Any]:
        """Name and settings, JSON-able, for journals and summaries."""
        return {"name": type(self).__name__}

    # -- for subclasses -------------------------------------------------------------------------

    def _setup(self) -> None:
        """Prepare what depends on the space (called at the end of ``configure``)."""

    def _next_point(self) -> dict[str, Any] | None:
        """The next of ``points_to_evaluate`` (possibly partial), or None when none remain."""
        return self._points.popleft() if self._points else None

    def _require_configured(self) -> None:
        if not self._configured:
            raise ValueError(
                f"{type(self).__name__} is not configured: the scheduler that owns it calls "
                "configure(config_space, mode=..., rng=...) first"
            )
