"""Hyperband (Li et al., JMLR 2018) built from successive-halving brackets, both ways.

* ``SyncHyperband``: synchronous SH brackets s = s_max, ..., 0 in turn, bracket s starting
  ceil((s_max+1)/(s+1) * eta**s) trials at r_max * eta**-s (Algorithm 1), repeated.
* ``AsyncHyperband``: ASHA brackets side by side; each new trial joins a bracket drawn from the
  seeded generator with the weights synchronous Hyperband would give it (bracket s gets a share
  proportional to the trials it starts, eta**s / (s+1)), as Syne Tune's asynchronous Hyperband does.
* ``BOHB`` and ``AsyncBOHB``: the two with BOHB's KDE searcher choosing new configs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ashasim.core.asha import _AsyncSuccessiveHalving, check_brackets
from ashasim.core.rungs import hyperband_bracket, rung_levels
from ashasim.core.sync_sh import SyncSH

__all__ = ["BOHB", "AsyncBOHB", "AsyncHyperband", "SyncHyperband", "hyperband_brackets"]


def hyperband_brackets(
    grace_period: int, max_t: int, reduction_factor: int
) -> list[tuple[int, int]]:
    """(n_i, r_i) of every synchronous Hyperband bracket, most aggressive first (s = s_max .. 0).

    n_i trials start at resource r_i; s_max is the number of rungs above r_min.
    """
    levels = rung_levels(grace_period, max_t, reduction_factor)
    s_max = len(levels) - 1
    return [
        (hyperband_bracket(s, s_max, reduction_factor), levels[s_max - s])
        for s in range(s_max, -1, -1)
    ]


class SyncHyperband(SyncSH):
    """Synchronous Hyperband: SH brackets cycling from the most aggressive (s = s_max) to plain
    random search at r_max (s = 0). *brackets* keeps only the first (most aggressive) ones.
    Other options as in ``SyncSH`` (max_t, grace_period, reduction_factor, overlap, resume, ...),
    except n0, which Hyperband sets per bracket.
    """

    def __init__(
        self, config_space: Mapping[str, Any], *, brackets: int | None = None, **options: Any
    ) -> None:
        if "n0" in options:
            raise ValueError("SyncHyperband sets n0 per bracket (Li et al.); do not pass n0")
        super().__init__(config_space, **options)
        self.brackets = check_brackets(brackets, len(self.rung_levels))

    def _bracket_plan(self, index: int) -> tuple[int, int]:
        s_max = len(self.rung_levels) - 1
        s = s_max - index % self.brackets
        return s_max - s, hyperband_bracket(s, s_max, self.reduction_factor)


class AsyncHyperband(_AsyncSuccessiveHalving):
    """Asynchronous Hyperband: ASHA over *brackets* brackets (default: one per rung level).

    Bracket b judges its trials from rung level b upwards; b = 0 is plain ASHA. Each new trial's
    bracket is drawn with ``bracket_probabilities`` (Hyperband's weights). *type* as in ``ASHA``
    ("promotion" or "stopping"); *max_t*, *grace_period*, *reduction_factor* and the options of
    ``SchedulerBase`` as there. Promotions are searched across brackets from the highest rung
    level down, so no paused winner waits for its bracket to be drawn.
    """


class BOHB(SyncHyperband):
    """BOHB (Falkner, Klein & Hutter, ICML 2018): synchronous Hyperband whose new configs come
    from the KDE model (``ashasim.search.KDESearcher``) instead of uniform draws. Options as in
    ``SyncHyperband``; *searcher* defaults to "kde" (a ``KDESearcher`` instance may carry its own
    settings)."""

    def __init__(self, config_space: Mapping[str, Any], **options: Any) -> None:
        super().__init__(config_space, **{"searcher": "kde", **options})


class AsyncBOHB(AsyncHyperband):
    """Asynchronous BOHB: asynchronous Hyperband (ASHA brackets) with the KDE model choosing new
    configs, as Syne Tune's and Ray Tune's asynchronous BOHB variants do. Options as in
    ``AsyncHyperband``; *searcher* defaults to "kde"."""

    def __init__(self, config_space: Mapping[str, Any], **options: Any) -> None:
        super().__init__(config_space, **{"searcher": "kde", **options})
