"""The chapter-facing façade: the Dive into Deep Learning chapter's (Syne Tune's) argument names.

``ashasim.ASHA(config_space, metric=..., mode=..., resource_attr=..., max_resource_attr=...,
grace_period=..., reduction_factor=..., points_to_evaluate=..., random_seed=..., type=...)`` maps
onto ``ashasim.core.ASHA``. As in Syne Tune, ``type`` defaults to ``"stopping"`` (the chapter's
code relies on that default, although its figures show the promotion type), and r_max comes from
the constant that ``max_resource_attr`` names in the config space (or from ``max_t``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ashasim.core import asha

__all__ = ["ASHA", "resolve_max_t"]


def resolve_max_t(
    config_space: Mapping[str, Any], max_t: int | None, max_resource_attr: str | None
) -> int:
    """r_max from ``max_t`` or from ``config_space[max_resource_attr]``; both given must agree."""
    if max_resource_attr is None:
        if max_t is None:
            raise ValueError(
                "give max_t, or max_resource_attr naming the constant in config_space that holds it"
            )
        return max_t
    if not isinstance(config_space, Mapping) or max_resource_attr not in config_space:
        names = sorted(config_space) if isinstance(config_space, Mapping) else []
        raise KeyError(
            f"max_resource_attr={max_resource_attr!r} is not in config_space (it has {names})"
        )
    value = config_space[max_resource_attr]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"max_resource_attr={max_resource_attr!r} must name an integer constant >= 1 in "
            f"config_space, found {value!r}"
        )
    if max_t is not None and max_t != value:
        raise ValueError(
            f"max_t={max_t} disagrees with config_space[{max_resource_attr!r}]={value}"
        )
    return value


class ASHA(asha.ASHA):
    """ASHA with Syne Tune's argument names; see ``ashasim.core.ASHA`` for the rules."""

    def __init__(
        self,
        config_space: Mapping[str, Any],
        metric: str,
        mode: str = "min",
        resource_attr: str = "epoch",
        max_resource_attr: str | None = None,
        max_t: int | None = None,
        grace_period: int = 1,
        reduction_factor: int = 3,
        points_to_evaluate: Iterable[Mapping[str, Any]] | None = None,
        random_seed: int = 0,
        type: str = "stopping",  # noqa: A002
        max_trials: int | None = None,
    ) -> None:
        super().__init__(
            config_space,
            type=type,
            max_t=resolve_max_t(config_space, max_t, max_resource_attr),
            grace_period=grace_period,
            reduction_factor=reduction_factor,
            mode=mode,
            metric=metric,
            resource_attr=resource_attr,
            points_to_evaluate=points_to_evaluate,
            max_trials=max_trials,
            seed=random_seed,
        )
        self.max_resource_attr = max_resource_attr
