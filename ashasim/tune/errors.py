"""``TuneError``: what the Ray Tune façade raises when a run cannot do what was asked."""

from __future__ import annotations

__all__ = ["TuneError"]


class TuneError(Exception):
    """A run (or a trainable inside it) cannot go on; the message says why in one line, in the
    words of the Ray Tune code that caused it (``tune.report``, ``resources_per_trial``, ...)."""
