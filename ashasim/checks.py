"""Argument checks, written once: every public entry point validates its input with these.

Each check returns the value in its canonical type or raises ``ValueError`` whose message starts
with the parameter's name and states the accepted range, so the CLI can map it to the flag the
user typed and a user of the API sees at once what to change. ``bool`` is never accepted as a
number (``True`` is an ``int`` in Python, and ``max_trials=True`` is always a mistake).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping, Sequence
from typing import Any, TypeGuard

import numpy as np

__all__ = [
    "MAX_WORKERS",
    "MODES",
    "RecordsArguments",
    "check_choice",
    "check_flag",
    "check_fraction",
    "check_int",
    "check_name",
    "check_number",
    "check_optional_int",
    "check_report",
    "check_rung_levels",
    "check_text",
    "check_workers",
    "is_int",
    "is_real",
]


#: what a run optimizes: the metric's minimum or its maximum
MODES = ("min", "max")

#: the most workers a run may have: more would exhaust the machine before the first job (each
#: worker has a slot, a process or an actor), and no cluster this is meant for has more
MAX_WORKERS = 10_000


def is_int(value: Any) -> TypeGuard[int | np.integer]:
    """An integer that is not a bool (numpy integers count)."""
    return not isinstance(value, bool) and isinstance(value, (int, np.integer))


def is_real(value: Any) -> bool:
    """A finite real number that is not a bool (numpy scalars count)."""
    return (
        not isinstance(value, bool)
        and isinstance(value, (int, float, np.integer, np.floating))
        and math.isfinite(value)
    )


def check_int(name: str, value: Any, *, minimum: int | None = None) -> int:
    """``value`` as an int (>= minimum when given)."""
    wanted = "an integer" if minimum is None else f"an integer >= {minimum}"
    if not is_int(value):
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be {wanted}, got {value}")
    return int(value)


def check_optional_int(name: str, value: Any, *, minimum: int) -> int | None:
    """None, or ``value`` as an int >= minimum."""
    if value is None:
        return None
    if not is_int(value) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum} or None, got {value!r}")
    return int(value)


def check_number(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    strict: bool = False,
    maximum: float | None = None,
) -> float:
    """``value`` as a finite float, >= minimum (> minimum when ``strict``), <= maximum."""
    bounds = []
    if minimum is not None:
        bounds.append(f"{'>' if strict else '>='} {minimum:g}")
    if maximum is not None:
        bounds.append(f"<= {maximum:g}")
    wanted = "a finite number" + (" " + " and ".join(bounds) if bounds else "")
    if not is_real(value):
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    number = float(value)
    too_low = minimum is not None and (number <= minimum if strict else number < minimum)
    if too_low or (maximum is not None and number > maximum):
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    return number


def check_fraction(
    name: str, value: Any, *, open_low: bool = False, open_high: bool = False
) -> float:
    """A probability-like number in [0, 1] (ends excluded as asked)."""
    low, high = "(" if open_low else "[", ")" if open_high else "]"
    if (
        not is_real(value)
        or not 0 <= value <= 1
        or (open_low and value == 0)
        or (open_high and value == 1)
    ):
        raise ValueError(f"{name} must be a number in {low}0, 1{high}, got {value!r}")
    return float(value)


def check_choice(name: str, value: Any, options: Sequence[Any]) -> Any:
    """``value`` if it is one of ``options``."""
    if value not in options:
        accepted = ", ".join(repr(option) for option in options)
        raise ValueError(f"{name} must be one of {accepted}; got {value!r}")
    return value


def check_flag(name: str, value: Any) -> bool:
    """A real bool (not 1, not "yes")."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


def check_text(name: str, value: Any) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def check_workers(name: str, value: Any) -> int:
    """A worker count: an integer in 1..``MAX_WORKERS``."""
    if not is_int(value) or not 1 <= value <= MAX_WORKERS:
        raise ValueError(f"{name} must be an integer in 1..{MAX_WORKERS}, got {value!r}")
    return int(value)


def check_name(name: str, value: Any) -> str:
    """A run's name: one path component (it becomes a directory under ``runs/`` or a storage
    path), so that no name can put a run outside them (``../x``, ``/tmp/x``, ``a/b``)."""
    separators = {"/", "\\", "\0"}
    if (
        not isinstance(value, str)
        or value in ("", ".", "..")
        or any(character in value for character in separators)
    ):
        raise ValueError(
            f"{name} must be a single folder name (no '/', '\\', not '.' or '..'), got {value!r}"
        )
    return value


def check_rung_levels(name: str, value: Any, *, maximum: int) -> tuple[int, ...]:
    """Explicit rung levels: integers >= 1, strictly increasing, at least one below ``maximum``
    (max_t) and none above it."""
    wanted = f"strictly increasing integers in 1..{maximum}, at least one below {maximum}"
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or not value:
        raise ValueError(f"{name} must be a non-empty list of {wanted}, got {value!r}")
    levels: list[int] = []
    for index, level in enumerate(value):
        if not is_int(level) or not 1 <= level <= maximum:
            raise ValueError(f"{name}[{index}] must be an integer in 1..{maximum}, got {level!r}")
        if levels and level <= levels[-1]:
            raise ValueError(
                f"{name} must be {wanted}; {name}[{index}] = {level} follows {levels[-1]}"
            )
        levels.append(int(level))
    if levels[0] >= maximum:
        raise ValueError(f"{name} must be {wanted}, got {list(value)!r}")
    return tuple(levels)


def check_report(
    values: Mapping[str, Any], resource_attr: str, metric: str, *, allow_nan: bool = False
) -> tuple[int, float]:
    """``(resource, metric)`` of a report as an objective makes it (``{resource_attr: ...,
    metric: ..., ...}``), or a ValueError saying what is wrong with it.

    Checked where the report enters the driver, so a bad one fails its job with a message that
    names the key, rather than corrupting a rung. A whole float resource (``epoch=3.0``) counts
    as the integer. *allow_nan*: a NaN or infinite metric is a result (the schedulers rank it
    last), as Ray Tune takes it, instead of an error.
    """
    resource = values.get(resource_attr)
    value = values.get(metric)
    if isinstance(resource, float) and resource.is_integer():
        resource = int(resource)
    if isinstance(resource, bool) or not isinstance(resource, int):
        raise ValueError(
            f"report({_show(values)}) must include {resource_attr}=<integer>, "
            f"the resource the scheduler counts"
        )
    if metric not in values:
        raise ValueError(
            f"report({_show(values)}) has no {metric!r}, the metric the scheduler optimizes"
        )
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not (allow_nan or math.isfinite(value))
    ):
        raise ValueError(
            f"{metric} = {value!r} at {resource_attr}={resource} is not a finite number"
        )
    return resource, float(value)


#: names other libraries and the papers give the core's arguments
_KNOWN_AS = {
    "eta": "reduction_factor",
    "min_t": "grace_period",
    "r_min": "grace_period",
    "r_max": "max_t",
    "num_samples": "max_trials",
    "random_seed": "seed",
}


def check_known_arguments(owner: type, unknown: Mapping[str, Any]) -> None:
    """TypeError, in one line, for keyword arguments *owner*'s constructors (along its MRO) do not
    take: naming them, the name ashasim uses where another library's was given, and what it
    takes. Python's own message would name whichever base class received them."""
    if not unknown:
        return
    accepted: set[str] = set()
    for cls in owner.__mro__:
        init = cls.__dict__.get("__init__")
        if init is not None:
            parameters = inspect.signature(init).parameters.values()
            accepted.update(p.name for p in parameters if p.kind is p.KEYWORD_ONLY)
    names = []
    for name in sorted(unknown):
        hint = _KNOWN_AS.get(name)
        names.append(f"{name} (did you mean {hint}?)" if hint in accepted else name)
    raise TypeError(
        f"{owner.__name__}(): unknown argument {', '.join(names)}; it takes "
        f"{', '.join(sorted(accepted))}"
    )


def _show(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in values.items())


class RecordsArguments:
    """Keeps the arguments an instance was constructed with (``_init_arguments``), so that a run
    directory can save it as the constructor call that rebuilds it (``ashasim.run.codec``)
    rather than as a pickle; schedulers and searchers derive from it."""

    _init_arguments: tuple[tuple[Any, ...], dict[str, Any]]

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        instance = super().__new__(cls)
        instance._init_arguments = (args, dict(kwargs))
        return instance
