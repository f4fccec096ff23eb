"""Drive a searcher through a drawn list of calls, as a scheduler would, and check configs."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ashasim import space
from ashasim.search import Searcher


def assert_in_space(config_space: Mapping[str, Any], config: Mapping[str, Any]) -> None:
    """Keys in the space's order; each value inside its domain with the domain's type."""
    assert list(config) == list(config_space), (config, config_space)
    for name, domain in config_space.items():
        value = config[name]
        if isinstance(domain, (space.Uniform, space.LogUniform)):
            assert type(value) is float and domain.lo <= value <= domain.hi, (name, value)
        elif isinstance(domain, (space.RandInt, space.LogRandInt)):
            assert type(value) is int and domain.lo <= value <= domain.hi, (name, value)
        elif isinstance(domain, (space.Choice, space.GridSearch)):
            assert domain.contains(value), (name, value)
        else:
            assert type(value) is type(domain) and value == domain, (name, value)


def capacity(config_space: Mapping[str, Any]) -> float:
    """How many distinct configs the space holds (inf with a real range)."""
    size = 1.0
    for domain in config_space.values():
        if isinstance(domain, (space.Uniform, space.LogUniform)):
            return math.inf
        if isinstance(domain, (space.RandInt, space.LogRandInt)):
            size *= domain.hi - domain.lo + 1
        elif isinstance(domain, space.Choice):
            size *= len(set(domain.options))
        elif isinstance(domain, space.GridSearch):
            size *= len(set(domain.values))
    return size


@dataclass
class Log:
    """What a searcher proposed, and what was pending (suggested, no result yet) at the time."""

    configs: list[dict[str, Any] | None] = field(default_factory=list)
    pending_then: list[list[dict[str, Any]]] = field(default_factory=list)


def play(
    searcher: Searcher,
    config_space: Mapping[str, Any],
    calls: list[tuple[str, int, int, float]],
    *,
    seed: int,
    mode: str = "min",
    points: tuple[Mapping[str, Any], ...] = (),
) -> Log:
    """Map drawn calls onto legal ones: results, failures and ends go to active trials only."""
    searcher.configure(
        config_space, mode=mode, rng=np.random.default_rng(seed), points_to_evaluate=points
    )
    log = Log()
    active: list[int] = []  # trials that may still report
    pending: dict[int, dict[str, Any]] = {}
    next_id = 0
    for what, which, level, metric in calls:
        if what == "suggest" or not active:
            config = searcher.suggest(next_id)
            log.configs.append(config)
            log.pending_then.append(list(pending.values()))
            if config is not None:
                assert_in_space(config_space, config)
                active.append(next_id)
                pending[next_id] = config
                next_id += 1
            continue
        trial_id = active[which % len(active)]
        if what == "result":
            searcher.on_result(trial_id, level, metric)
            pending.pop(trial_id, None)
        else:
            (searcher.on_failure if what == "fail" else searcher.on_end)(trial_id)
            active.remove(trial_id)
            pending.pop(trial_id, None)
    return log
