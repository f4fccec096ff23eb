"""Search-space domains and sampling.

A config space is a plain ``dict`` of name -> domain or constant, e.g. the chapter's::

    {"learning_rate": loguniform(1e-2, 1.0), "batch_size": randint(32, 256), "max_epochs": 10}

Every random draw takes an explicit ``numpy.random.Generator`` so that one seed fixes a whole run.
Domains check their bounds when they are built; :func:`check_space` adds the parameter's name to
the message so a bad space is reported where it was written, not deep inside a scheduler.

Beyond the chapter's domains, the ones Ray Tune users write (``ashasim.tune`` gives them Ray's
names and bound conventions): quantized ranges (``quniform``, ``qloguniform``, ``qrandint``), a
normal (``randn``) and ``sample_from(fn)``, a value computed by a function of the values drawn so
far. ``sample_from`` is seeded like everything else: see :class:`SampleFrom`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from ashasim.checks import check_int, check_number, is_int, is_real

__all__ = [
    "Choice",
    "Domain",
    "GridSearch",
    "LogRandInt",
    "LogUniform",
    "QLogUniform",
    "QRandInt",
    "QUniform",
    "RandInt",
    "RandN",
    "SampleFrom",
    "SampleFromError",
    "Spec",
    "Uniform",
    "check_config",
    "check_space",
    "choice",
    "grid_search",
    "lograndint",
    "loguniform",
    "qloguniform",
    "qrandint",
    "quniform",
    "randint",
    "randn",
    "sample",
    "sample_from",
    "space_from_json",
    "space_to_json",
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
        return is_int(value) and self.lo <= value <= self.hi

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
        return is_int(value) and self.lo <= value <= self.hi

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


# -- the domains Ray Tune users write (``ashasim.tune`` maps Ray's names and bounds onto these) --


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
        return is_int(value) and self.lo <= value <= self.hi and value % self.q == 0

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


class _Values(dict):  # type: ignore[type-arg]
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
