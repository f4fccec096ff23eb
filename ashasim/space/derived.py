"""The domains Ray Tune users write (``ashasim.tune`` maps Ray's names and bounds onto these):
quantized ranges (``quniform``, ``qloguniform``, ``qrandint``), a normal (``randn``) and
``sample_from(fn)``, a value computed by a function of the values drawn so far, seeded like
everything else (see :class:`SampleFrom`)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from ashasim.checks import check_int, check_number, is_int, is_real
from ashasim.space.domains import Domain

__all__ = [
    "QLogUniform",
    "QRandInt",
    "QUniform",
    "RandN",
    "SampleFrom",
    "SampleFromError",
    "Spec",
    "qloguniform",
    "qrandint",
    "quniform",
    "randn",
    "sample_from",
]


def _decimals(q: float) -> int:
    """Decimal places that write ``q`` exactly as Python prints it (0.2 -> 1, 5e-05 -> 5)."""
    exponent = Decimal(repr(float(q))).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _multiples(lo: float, hi: float, q: float, kind: str) -> tuple[int, int]:
    """First and last k with k * q in [lo, hi] (a hair of tolerance for float bounds)."""
    first, last = math.ceil(lo / q - 1e-9), math.floor(hi / q + 1e-9)
    if first > last:
        raise ValueError(f"{kind}: no multiple of q={q!r} lies in [{lo!r}, {hi!r}]")
    return first, last


def _on_grid(value: Any, q: float, lo: float, hi: float) -> bool:
    ratio = value / q
    tolerance = 1e-9 * max(1.0, abs(hi), abs(lo))
    return lo - tolerance <= value <= hi + tolerance and abs(ratio - round(ratio)) <= 1e-6


@dataclass(frozen=True)
class QUniform(Domain):
    """Real value uniform on [lo, hi], rounded to the nearest multiple of q (kept in the range:
    the draw is rounded onto the multiples of q that lie in [lo, hi], so the two ends get half
    the weight of the others, as rounding a uniform draw gives)."""

    lo: float
    hi: float
    q: float
    kind = "quniform"

    def __post_init__(self) -> None:
        lo, hi = check_number("lo", self.lo), check_number("hi", self.hi)
        check_number("q", self.q, minimum=0, strict=True)
        if lo >= hi:
            raise ValueError(f"{self.kind}: lo must be < hi, got lo={lo!r}, hi={hi!r}")
        _multiples(lo, hi, self.q, self.kind)

    def quantize(self, value: float) -> float:
        """The multiple of q nearest ``value`` among those in [lo, hi], written cleanly."""
        first, last = _multiples(self.lo, self.hi, self.q, self.kind)
        k = min(max(round(value / self.q), first), last)
        return float(round(k * self.q, _decimals(self.q)))

    def _draw(self, rng: np.random.Generator) -> float:
        return self.lo + (self.hi - self.lo) * rng.random()

    def sample(self, rng: np.random.Generator) -> float:
        return self.quantize(self._draw(rng))

    def contains(self, value: Any) -> bool:
        return is_real(value) and _on_grid(value, self.q, self.lo, self.hi)

    def to_json(self) -> dict[str, Any]:
        return {self.kind: [self.lo, self.hi, self.q]}


@dataclass(frozen=True)
class QLogUniform(QUniform):
    """Real value log-uniform on [lo, hi] (0 < lo), rounded to the nearest multiple of q in it."""

    kind = "qloguniform"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.lo <= 0:
            raise ValueError(f"{self.kind}: lo must be > 0 on a log scale, got lo={self.lo!r}")

    def _draw(self, rng: np.random.Generator) -> float:
        log_lo = math.log(self.lo)
        return math.exp(log_lo + (math.log(self.hi) - log_lo) * rng.random())


@dataclass(frozen=True)
class QRandInt(Domain):
    """Integer multiple of q in lo..hi (both included), each equally likely; q = 1 is
    ``randint(lo, hi)``."""

    lo: int
    hi: int
    q: int
    kind = "qrandint"

    def __post_init__(self) -> None:
        lo, hi = check_int("lo", self.lo), check_int("hi", self.hi)
        check_int("q", self.q, minimum=1)
        if lo > hi:
            raise ValueError(f"{self.kind}: lo must be <= hi, got lo={lo}, hi={hi}")
        _multiples(lo, hi, self.q, self.kind)

    def sample(self, rng: np.random.Generator) -> int:
        first, last = _multiples(self.lo, self.hi, self.q, self.kind)
        return int(min(first + int(rng.random() * (last - first + 1)), last) * self.q)

    def contains(self, value: Any) -> bool:
        return bool(is_int(value) and self.lo <= value <= self.hi and value % self.q == 0)

    def to_json(self) -> dict[str, Any]:
        return {self.kind: [self.lo, self.hi, self.q]}


@dataclass(frozen=True)
class RandN(Domain):
    """Real value from a normal distribution with mean ``mean`` and standard deviation ``sd``."""

    mean: float
    sd: float
    kind = "randn"

    def __post_init__(self) -> None:
        check_number("mean", self.mean)
        check_number("sd", self.sd, minimum=0, strict=True)

    def sample(self, rng: np.random.Generator) -> float:
        return float(self.mean + self.sd * rng.standard_normal())

    def contains(self, value: Any) -> bool:
        return is_real(value)

    def to_json(self) -> dict[str, Any]:
        return {self.kind: [self.mean, self.sd]}


class SampleFromError(ValueError):
    """A ``sample_from`` function raised; the message names the parameter and the error."""


class _Values(dict):
    """A dict whose keys read as attributes too (``spec.config.lr``), as Ray Tune's spec does."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no value {name!r} drawn yet; drawn: {sorted(self)}") from None


def _nested(config: Mapping[str, Any]) -> _Values:
    """Flat "a/b" keys (how ``ashasim.tune`` flattens nested configs) as nested values."""
    root = _Values()
    for key, value in config.items():
        *path, last = key.split("/")
        node = root
        for part in path:
            node = node.setdefault(part, _Values())
        node[last] = value
    return root


class Spec:
    """What a ``sample_from`` function receives: ``spec.config`` holds the values drawn so far
    (read as ``spec.config.lr`` or ``spec.config["lr"]``; nested configs nest)."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = _nested(config)

    def __getitem__(self, key: str) -> Any:
        if key == "config":
            return self.config
        raise KeyError(key)


@dataclass(frozen=True, eq=False)
class SampleFrom(Domain):
    """A value computed by ``fn(spec)`` (Ray Tune's ``sample_from``), e.g.
    ``sample_from(lambda spec: 2 ** np.random.randint(2, 9))``.

    Seeded: functions usually draw from numpy's or Python's global generators, which ashasim
    never uses. So each call draws one 32-bit seed from the run's generator, seeds
    ``numpy.random`` and ``random`` with it, calls ``fn``, and restores both generators'
    previous states. A run's seed therefore fixes these values too (the same configs on every
    run), and the user's own global random state is left as it was. Only those two global
    generators are seeded (not torch's, for instance).

    The value can be anything, so ``contains`` accepts anything; a model-based searcher cannot
    model it (it says so when configured), and it has no JSON form.
    """

    fn: Callable[[Spec], Any]
    kind = "sample_from"

    def __post_init__(self) -> None:
        if not callable(self.fn):
            raise ValueError(f"sample_from: fn must be a function of the spec, got {self.fn!r}")

    def sample(
        self,
        rng: np.random.Generator,
        config: Mapping[str, Any] | None = None,
        *,
        name: str = "?",
    ) -> Any:
        seed = int(rng.integers(2**32))
        numpy_state, python_state = np.random.get_state(), random.getstate()
        np.random.seed(seed)
        random.seed(seed)
        try:
            return self.fn(Spec(config or {}))
        except Exception as error:
            raise SampleFromError(
                f"sample_from for {name!r}: the function raised {type(error).__name__}: {error}"
            ) from error
        finally:
            np.random.set_state(numpy_state)
            random.setstate(python_state)

    def contains(self, value: Any) -> bool:
        return True

    def to_json(self) -> dict[str, Any]:
        raise ValueError("sample_from holds a Python function: it has no JSON form")


def quniform(lo: float, hi: float, q: float) -> QUniform:
    """Real value uniform on [lo, hi], rounded to a multiple of q."""
    return QUniform(lo, hi, q)


def qloguniform(lo: float, hi: float, q: float) -> QLogUniform:
    """Real value log-uniform on [lo, hi] (0 < lo), rounded to a multiple of q."""
    return QLogUniform(lo, hi, q)


def qrandint(lo: int, hi: int, q: int = 1) -> QRandInt:
    """Integer multiple of q in lo..hi, both included, uniformly."""
    return QRandInt(lo, hi, q)


def randn(mean: float = 0.0, sd: float = 1.0) -> RandN:
    """Real value from Normal(mean, sd)."""
    return RandN(mean, sd)


def sample_from(fn: Callable[[Spec], Any]) -> SampleFrom:
    """A value computed by ``fn(spec)``, seeded by the run (see :class:`SampleFrom`)."""
    return SampleFrom(fn)
