"""A space as JSON (the CLI's ``--space SPACE.json``): ``{"lr": {"loguniform": [1e-3, 1]}}``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ashasim.space.derived import qloguniform, qrandint, quniform, randn
from ashasim.space.domains import (
    Domain,
    choice,
    grid_search,
    lograndint,
    loguniform,
    randint,
    uniform,
)
from ashasim.space.spaces import check_space

__all__ = ["space_from_json", "space_to_json"]


# JSON name -> (factory, number of arguments); choice and grid_search take a list of options
_FACTORIES: dict[str, tuple[Callable[..., Domain], int]] = {
    "uniform": (lambda lo, hi: uniform(lo, hi), 2),
    "loguniform": (lambda lo, hi: loguniform(lo, hi), 2),
    "randint": (lambda lo, hi: randint(lo, hi), 2),
    "lograndint": (lambda lo, hi: lograndint(lo, hi), 2),
    "quniform": (lambda lo, hi, q: quniform(lo, hi, q), 3),
    "qloguniform": (lambda lo, hi, q: qloguniform(lo, hi, q), 3),
    "qrandint": (lambda lo, hi, q: qrandint(lo, hi, q), 3),
    "randn": (lambda mean, sd: randn(mean, sd), 2),
}
_ARGUMENTS = {2: "[lo, hi]", 3: "[lo, hi, q]"}


def space_from_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """Build a space from JSON, e.g. ``{"lr": {"loguniform": [1e-3, 1]}, "epochs": 10}``.

    A value that is a one-key dict naming a domain becomes that domain; anything else is a constant.
    """
    if not isinstance(data, Mapping):
        raise ValueError("space JSON must be an object of name -> domain or constant")
    space: dict[str, Any] = {}
    for name, value in data.items():
        if isinstance(value, Mapping) and len(value) == 1:
            ((kind, args),) = value.items()
            try:
                if kind == "choice":
                    space[name] = choice(args)
                elif kind == "grid_search":
                    space[name] = grid_search(args)
                elif kind in _FACTORIES:
                    factory, arity = _FACTORIES[kind]
                    if not isinstance(args, list) or len(args) != arity:
                        wanted = "[mean, sd]" if kind == "randn" else _ARGUMENTS[arity]
                        raise ValueError(f"{kind} takes {wanted}, got {args!r}")
                    space[name] = factory(*args)
                else:
                    hint = " (a Python function cannot be JSON)" if kind == "sample_from" else ""
                    raise ValueError(
                        f"unknown domain {kind!r}{hint}; "
                        f"accepted: {sorted([*_FACTORIES, 'choice', 'grid_search'])}"
                    )
            except ValueError as error:
                raise ValueError(f"space parameter {name!r}: {error}") from None
        else:
            space[name] = value
    return check_space(space)


def space_to_json(space: Mapping[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`space_from_json`."""
    return {
        name: value.to_json() if isinstance(value, Domain) else value
        for name, value in space.items()
    }
