"""The domains a value is drawn from: real and integer ranges (linear or log scale), a choice,
and grid values. Each checks its bounds when built and draws with an explicit generator."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ashasim.checks import check_int, check_number, is_int, is_real

__all__ = [
    "Choice",
    "Domain",
    "GridSearch",
    "LogRandInt",
    "LogUniform",
    "RandInt",
    "Uniform",
    "choice",
    "grid_search",
    "lograndint",
    "loguniform",
    "randint",
    "uniform",
]


class Domain:
    """Base of all domains: something a value can be drawn from."""

    kind: str = ""

    def sample(self, rng: np.random.Generator) -> Any:
        raise NotImplementedError

    def contains(self, value: Any) -> bool:
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class Uniform(Domain):
    """Real value, uniform on [lo, hi)."""

    lo: float
    hi: float
    kind = "uniform"

    def __post_init__(self) -> None:
        lo, hi = check_number("lo", self.lo), check_number("hi", self.hi)
        if lo >= hi:
            raise ValueError(f"{self.kind}: lo must be < hi, got lo={lo!r}, hi={hi!r}")

    def sample(self, rng: np.random.Generator) -> float:
        return self.lo + (self.hi - self.lo) * rng.random()

    def contains(self, value: Any) -> bool:
        return is_real(value) and self.lo <= value <= self.hi

    def to_json(self) -> dict[str, Any]:
        return {self.kind: [self.lo, self.hi]}


@dataclass(frozen=True)
class LogUniform(Domain):
    """Real value whose logarithm is uniform on [log lo, log hi); needs 0 < lo < hi."""

    lo: float
    hi: float
    kind = "loguniform"

    def __post_init__(self) -> None:
        lo, hi = check_number("lo", self.lo), check_number("hi", self.hi)
        if lo <= 0:
            raise ValueError(f"{self.kind}: lo must be > 0 on a log scale, got lo={lo!r}")
        if lo >= hi:
            raise ValueError(f"{self.kind}: lo must be < hi, got lo={lo!r}, hi={hi!r}")

    def sample(self, rng: np.random.Generator) -> float:
        log_lo = math.log(self.lo)
        value = math.exp(log_lo + (math.log(self.hi) - log_lo) * rng.random())
        return min(max(value, self.lo), self.hi)  # exp(log(x)) may round just outside

    def contains(self, value: Any) -> bool:
        return is_real(value) and self.lo <= value <= self.hi

    def to_json(self) -> dict[str, Any]:
        return {self.kind: [self.lo, self.hi]}


@dataclass(frozen=True)
class RandInt(Domain):
    """Integer, uniform on lo..hi, both bounds included (as in Syne Tune and the chapter)."""

    lo: int
    hi: int
    kind = "randint"

    def __post_init__(self) -> None:
        lo, hi = check_int("lo", self.lo), check_int("hi", self.hi)
        if lo > hi:
            raise ValueError(f"{self.kind}: lo must be <= hi, got lo={lo}, hi={hi}")

    def sample(self, rng: np.random.Generator) -> int:
        # One uniform draw per value (Generator.integers costs several times more per call).
        return min(self.lo + int(rng.random() * (self.hi - self.lo + 1)), self.hi)

    def contains(self, value: Any) -> bool:
        return bool(is_int(value) and self.lo <= value <= self.hi)

    def to_json(self) -> dict[str, Any]:
        return {self.kind: [self.lo, self.hi]}


@dataclass(frozen=True)
class LogRandInt(Domain):
    """Integer in lo..hi (inclusive) drawn log-uniformly; needs 1 <= lo <= hi."""

    lo: int
    hi: int
    kind = "lograndint"

    def __post_init__(self) -> None:
        lo, hi = check_int("lo", self.lo), check_int("hi", self.hi)
        if lo < 1:
            raise ValueError(f"{self.kind}: lo must be >= 1 on a log scale, got lo={lo}")
        if lo > hi:
            raise ValueError(f"{self.kind}: lo must be <= hi, got lo={lo}, hi={hi}")

    def sample(self, rng: np.random.Generator) -> int:
        # Draw on [lo - 0.5, hi + 0.5) in log space and round, so both ends get their share.
        low, high = math.log(self.lo - 0.5 if self.lo > 1 else 1.0), math.log(self.hi + 0.5)
        value = round(math.exp(low + (high - low) * rng.random()))
        return int(min(max(value, self.lo), self.hi))

    def contains(self, value: Any) -> bool:
        return bool(is_int(value) and self.lo <= value <= self.hi)

    def to_json(self) -> dict[str, Any]:
        return {self.kind: [self.lo, self.hi]}


@dataclass(frozen=True)
class Choice(Domain):
    """One of a fixed, non-empty list of values, each equally likely."""

    options: tuple[Any, ...]
    kind = "choice"

    def __post_init__(self) -> None:
        if len(self.options) == 0:
            raise ValueError("choice: options must not be empty")

    def sample(self, rng: np.random.Generator) -> Any:
        return self.options[min(int(rng.random() * len(self.options)), len(self.options) - 1)]

    def contains(self, value: Any) -> bool:
        return value in self.options

    def to_json(self) -> dict[str, Any]:
        return {self.kind: list(self.options)}


def uniform(lo: float, hi: float) -> Uniform:
    """Real value uniform on [lo, hi)."""
    return Uniform(lo, hi)


def loguniform(lo: float, hi: float) -> LogUniform:
    """Real value log-uniform on [lo, hi); 0 < lo < hi."""
    return LogUniform(lo, hi)


def randint(lo: int, hi: int) -> RandInt:
    """Integer uniform on lo..hi, both included."""
    return RandInt(lo, hi)


def lograndint(lo: int, hi: int) -> LogRandInt:
    """Integer log-uniform on lo..hi, both included; 1 <= lo."""
    return LogRandInt(lo, hi)


def choice(options: Sequence[Any]) -> Choice:
    """One of ``options``, uniformly."""
    if isinstance(options, (str, bytes)) or not isinstance(options, Sequence):
        raise ValueError(f"choice: options must be a list of values, got {options!r}")
    return Choice(tuple(options))


@dataclass(frozen=True)
class GridSearch(Domain):
    """Values to try one by one (Ray Tune's ``grid_search``): a grid searcher enumerates them all,
    other searchers treat them as a choice (a random searcher draws one uniformly).

    Kept apart from :class:`Choice` so that a space says which parameters the user wants swept,
    and so that JSON keeps the distinction (``{"grid_search": [...]}``).
    """

    values: tuple[Any, ...]
    kind = "grid_search"

    def __post_init__(self) -> None:
        if len(self.values) == 0:
            raise ValueError("grid_search: values must not be empty")

    def sample(self, rng: np.random.Generator) -> Any:
        # One uniform draw, exactly as Choice draws: the two consume the generator alike.
        return self.values[min(int(rng.random() * len(self.values)), len(self.values) - 1)]

    def contains(self, value: Any) -> bool:
        return value in self.values

    def to_json(self) -> dict[str, Any]:
        return {self.kind: list(self.values)}


def grid_search(values: Sequence[Any]) -> GridSearch:
    """Every one of ``values`` under a grid searcher; one of them, uniformly, under the others."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise ValueError(f"grid_search: values must be a list of values, got {values!r}")
    return GridSearch(tuple(values))
