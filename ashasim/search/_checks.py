"""Argument checks for searcher options: each ``ValueError`` names the option and its range."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["check_count", "check_number", "check_optional_count"]


def check_number(name: str, value: Any, ok: Callable[[float], bool], accepted: str) -> float:
    """``value`` as a float if it is a real number with ``ok(value)``; else name the range."""
    real = not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))
    if not real or not math.isfinite(value) or not ok(float(value)):
        raise ValueError(f"{name} must be a number {accepted}, got {value!r}")
    return float(value)


def check_count(name: str, value: Any, minimum: int) -> int:
    """``value`` as an int >= minimum; else name the range."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_optional_count(name: str, value: Any, minimum: int) -> int | None:
    """None (the searcher picks a default from the space), or an int >= minimum."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum} or None, got {value!r}")
    return int(value)
