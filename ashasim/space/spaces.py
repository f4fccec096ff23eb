"""A config space (a dict of name -> domain or constant): checking it, drawing configs from it,
checking a given config against it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ashasim.space.derived import SampleFrom
from ashasim.space.domains import Domain, Uniform

__all__ = ["check_config", "check_space", "sample", "sampler"]


def check_space(space: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a config space and return it as a plain dict.

    Domains validate themselves when built; this catches what they cannot know: keys that are not
    strings, and the name to blame.
    """
    if not isinstance(space, Mapping):
        raise ValueError(
            f"config_space must be a dict of name -> domain or constant, got {space!r}"
        )
    checked: dict[str, Any] = {}
    for name, value in space.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"config_space keys must be non-empty strings, got {name!r}")
        checked[name] = value
    return checked


def sample(
    space: Mapping[str, Any],
    rng: np.random.Generator,
    *,
    given: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Draw one config: domains are sampled in key order, constants copied as they are.

    ``sample_from`` parameters are computed last, in key order, each seeing every value drawn
    before it (as in Ray Tune, where they may depend on any other parameter). *given*: values
    to use instead of drawing (a grid point); they are not drawn, so the generator is not used
    for them.
    """
    if given is None and not any(type(value) is SampleFrom for value in space.values()):
        return {
            name: value.sample(rng) if isinstance(value, Domain) else value
            for name, value in space.items()
        }
    config: dict[str, Any] = {}
    computed = []
    for name, value in space.items():
        if given is not None and name in given:
            config[name] = given[name]
        elif isinstance(value, SampleFrom):
            computed.append(name)
        else:
            config[name] = value.sample(rng) if isinstance(value, Domain) else value
    for name in computed:
        config[name] = space[name].sample(rng, config, name=name)
    return {name: config[name] for name in space}


def sampler(space: Mapping[str, Any]) -> Callable[[np.random.Generator], dict[str, Any]]:
    """``sample`` bound to one space, for a searcher that draws a config per trial: the same
    draws in the same order (the same configs, the same generator stream), with the space's
    reading done once instead of per config.

    A space with ``sample_from`` parameters gets ``sample`` itself (their order rule is in it).
    """
    if any(type(value) is SampleFrom for value in space.values()):
        return lambda rng: sample(space, rng)
    template = {name: None if isinstance(value, Domain) else value for name, value in space.items()}
    draws = tuple(
        (name, value.sample) for name, value in space.items() if isinstance(value, Domain)
    )
    domains = [value for value in space.values() if isinstance(value, Domain)]
    if len(domains) == 1 and type(domains[0]) is Uniform:  # the common case, inlined
        ((name, _),) = draws
        lo, width = domains[0].lo, domains[0].hi - domains[0].lo  # ``Uniform.sample``'s terms

        def one_uniform(rng: np.random.Generator) -> dict[str, Any]:
            config = template.copy()
            config[name] = lo + width * rng.random()
            return config

        return one_uniform
    if len(draws) == 1:  # a one-parameter space: no loop
        ((name, draw),) = draws

        def one(rng: np.random.Generator) -> dict[str, Any]:
            config = template.copy()
            config[name] = draw(rng)
            return config

        return one

    def many(rng: np.random.Generator) -> dict[str, Any]:
        config = template.copy()  # every key in the space's order; domains overwritten in place
        for key, sample_one in draws:
            config[key] = sample_one(rng)
        return config

    return many


def check_config(space: Mapping[str, Any], config: Mapping[str, Any], *, what: str) -> None:
    """Raise ``ValueError`` if ``config`` (e.g. a point to evaluate) does not fit ``space``."""
    for name, value in config.items():
        if name not in space:
            raise ValueError(f"{what}: {name!r} is not in the config space {sorted(space)}")
        domain = space[name]
        if isinstance(domain, Domain):
            if not domain.contains(value):
                raise ValueError(
                    f"{what}: {name}={value!r} is outside its domain {domain.to_json()}"
                )
        elif value != domain:
            raise ValueError(f"{what}: {name}={value!r} but the space fixes {name}={domain!r}")
