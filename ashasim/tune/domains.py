"""Ray Tune's search-space functions, with Ray's argument names and bound conventions, built on
``ashasim.space``'s domains.

Bounds follow Ray Tune: ``randint(lower, upper)`` and ``lograndint(lower, upper)`` exclude
``upper`` (``ashasim.space.randint`` includes it, so the façade passes ``upper - 1``);
``qrandint(lower, upper, q)`` includes it. ``base`` of the log-scaled domains changes nothing: a
log-uniform distribution is the same in every base. ``sample_from`` is seeded by the run's seed
(see ``ashasim.space.SampleFrom``), so ``np.random`` in its function gives the same configs on
every run with the same seed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ashasim import space
from ashasim.checks import check_int, check_number

__all__ = [
    "choice",
    "grid_search",
    "lograndint",
    "loguniform",
    "qloguniform",
    "qrandint",
    "quniform",
    "randint",
    "randn",
    "sample_from",
    "uniform",
]


def _check_base(base: float) -> None:
    check_number("base", base, minimum=1, strict=True)


def uniform(lower: float, upper: float) -> space.Uniform:
    """A float uniform on [lower, upper)."""
    return space.uniform(lower, upper)


def quniform(lower: float, upper: float, q: float) -> space.QUniform:
    """A float uniform on [lower, upper], rounded to a multiple of q."""
    return space.quniform(lower, upper, q)


def loguniform(lower: float, upper: float, base: float = 10) -> space.LogUniform:
    """A float log-uniform on [lower, upper) (0 < lower); *base* does not change the draw."""
    _check_base(base)
    return space.loguniform(lower, upper)


def qloguniform(lower: float, upper: float, q: float, base: float = 10) -> space.QLogUniform:
    """A float log-uniform on [lower, upper], rounded to a multiple of q."""
    _check_base(base)
    return space.qloguniform(lower, upper, q)


def randint(lower: int, upper: int) -> space.RandInt:
    """An integer uniform on lower..upper - 1 (Ray Tune: *upper is excluded*)."""
    lower, upper = check_int("lower", lower), check_int("upper", upper)
    if upper <= lower:
        raise ValueError(
            f"randint: upper is excluded (as in Ray Tune), so upper must be > lower; got "
            f"lower={lower}, upper={upper}"
        )
    return space.randint(lower, upper - 1)


def qrandint(lower: int, upper: int, q: int = 1) -> space.QRandInt:
    """An integer multiple of q in lower..upper (Ray Tune: *upper is included*)."""
    return space.qrandint(lower, upper, q)


def lograndint(lower: int, upper: int, base: float = 10) -> space.LogRandInt:
    """An integer log-uniform on lower..upper - 1 (Ray Tune: *upper is excluded*; 1 <= lower)."""
    _check_base(base)
    lower, upper = check_int("lower", lower), check_int("upper", upper)
    if upper <= lower:
        raise ValueError(
            f"lograndint: upper is excluded (as in Ray Tune), so upper must be > lower; got "
            f"lower={lower}, upper={upper}"
        )
    return space.lograndint(lower, upper - 1)


def randn(mean: float = 0.0, sd: float = 1.0) -> space.RandN:
    """A float from Normal(mean, sd)."""
    return space.randn(mean, sd)


def choice(categories: Sequence[Any]) -> space.Choice:
    """One of *categories*, uniformly."""
    return space.choice(categories)


def grid_search(values: Sequence[Any]) -> space.GridSearch:
    """Every one of *values*, each in its own trials (num_samples times over)."""
    return space.grid_search(values)


def sample_from(func: Callable[[space.Spec], Any]) -> space.SampleFrom:
    """``func(spec)``, where ``spec.config`` holds the other parameters' values; seeded."""
    return space.sample_from(func)
