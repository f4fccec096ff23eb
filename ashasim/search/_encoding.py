"""One numeric encoding of a config space, shared by the model-based searchers.

Every non-constant parameter becomes one coordinate:

* real domains (``uniform``, ``loguniform``) map onto [0, 1], log-scaled ones in log space, so a
  model's distances mean the same thing as the sampler's uniform draws;
* integer domains (``randint``, ``lograndint``) are ordinal: the same [0, 1] scale (log for
  ``lograndint``), with each integer at one point, so a model sees 3 as nearer to 4 than to 9;
  ``snap`` moves a continuous value onto the nearest integer's point;
* categorical domains (``choice``, ``grid_search``) are the code 0..c-1 of the option; values equal
  under ``==`` share one code. The GP turns codes into one-hot columns (``onehot``).
* quantized domains: ``quniform`` and ``qloguniform`` are real coordinates whose decoded (and
  snapped) values are rounded to their multiples of q; ``qrandint`` is ordinal over its multiples
  of q (the k-th multiple sits where integer k would); ``randn`` maps through the normal CDF, so
  its coordinate is uniform on [0, 1] under the prior, like every other coordinate's.
* ``sample_from`` cannot be encoded (its values come from a function): a model refuses the space
  when it is configured, naming the parameter.

Constants, and domains that admit a single value (``randint(3, 3)``, ``choice([1])``), have no
coordinate: a model ignores them and ``decode`` copies them. ``key`` gives every config a hashable
identity over its coordinates, which is how the searchers recognise a pending config.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ashasim.space import (
    Choice,
    Domain,
    GridSearch,
    LogRandInt,
    LogUniform,
    QLogUniform,
    QRandInt,
    QUniform,
    RandInt,
    RandN,
    Uniform,
)

__all__ = ["CAT", "INT", "REAL", "Encoding", "Param", "table_space"]

REAL, INT, CAT = 0, 1, 2
SUPPORTED = (
    "uniform, loguniform, quniform, qloguniform, randint, qrandint, lograndint, randn, choice, "
    "grid_search and constants"
)
_TAIL = 1e-6  # randn's coordinate stays in [_TAIL, 1 - _TAIL]: values within ~4.75 sd


@dataclass(frozen=True)
class Param:
    """One coordinate: its kind, the [0, 1] map (real and integer) or the options (categorical)."""

    name: str
    kind: int
    log: bool = False
    lo: float = 0.0  # bounds of the value (integers: as ints)
    hi: float = 1.0
    low: float = 0.0  # bounds of the scale mapped onto [0, 1] (log space when ``log``)
    high: float = 1.0
    options: tuple[Any, ...] = ()
    domain: Any = None  # quniform / qloguniform (rounds values), qrandint (k -> k * q), randn

    def encode(self, value: Any) -> float:
        if self.kind == CAT:
            return float(_index(self.options, value))
        if isinstance(self.domain, RandN):
            from scipy.special import ndtr  # on first use: `import ashasim` loads no scipy

            u = float(ndtr((value - self.domain.mean) / self.domain.sd))
            return min(max(u, _TAIL), 1.0 - _TAIL)
        if isinstance(self.domain, QRandInt):
            value = value // self.domain.q  # ordinal over the multiples: k
        scaled = math.log(value) if self.log else float(value)
        if self.kind == INT and not self.log:
            scaled += 0.5  # an integer sits at the centre of its unit cell
        return min(max((scaled - self.low) / (self.high - self.low), 0.0), 1.0)

    def decode(self, x: float) -> Any:
        if self.kind == CAT:
            return self.options[min(max(round(x), 0), len(self.options) - 1)]
        if isinstance(self.domain, RandN):
            u = min(max(x, _TAIL), 1.0 - _TAIL)
            from scipy.special import ndtri  # on first use: `import ashasim` loads no scipy

            return float(self.domain.mean + self.domain.sd * ndtri(u))
        scaled = self.low + min(max(x, 0.0), 1.0) * (self.high - self.low)
        if self.kind == REAL:
            value = math.exp(scaled) if self.log else scaled
            value = float(min(max(value, self.lo), self.hi))
            return self.domain.quantize(value) if isinstance(self.domain, QUniform) else value
        value = round(math.exp(scaled)) if self.log else math.floor(scaled)
        value = int(min(max(value, self.lo), self.hi))
        return value * self.domain.q if isinstance(self.domain, QRandInt) else value


def _index(options: tuple[Any, ...], value: Any) -> int:
    for index, option in enumerate(options):
        if option == value:
            return index
    raise ValueError(f"{value!r} is not one of {list(options)}")


def _distinct(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """Values in order, dropping any equal to an earlier one (works for unhashable values too)."""
    kept: list[Any] = []
    for value in values:
        if not any(value == seen for seen in kept):
            kept.append(value)
    return tuple(kept)


def _param(name: str, domain: Any, who: str) -> Param | None:
    """The coordinate of one space entry, or None when it admits a single value."""
    if isinstance(domain, (Choice, GridSearch)):
        options = _distinct(domain.options if isinstance(domain, Choice) else domain.values)
        return Param(name, CAT, options=options) if len(options) > 1 else None
    if isinstance(domain, QUniform):  # qloguniform too
        lo, hi = domain.lo, domain.hi
        if len({domain.quantize(lo), domain.quantize(hi)}) == 1:
            return None
        if isinstance(domain, QLogUniform):
            return Param(name, REAL, True, lo, hi, math.log(lo), math.log(hi), domain=domain)
        return Param(name, REAL, False, lo, hi, lo, hi, domain=domain)
    if isinstance(domain, QRandInt):
        first, last = -(-domain.lo // domain.q), domain.hi // domain.q  # multiples k * q in range
        if first == last:
            return None
        return Param(name, INT, False, first, last, first, last + 1, domain=domain)
    if isinstance(domain, RandN):
        return Param(name, REAL, False, -math.inf, math.inf, 0.0, 1.0, domain=domain)
    if isinstance(domain, Uniform):
        return Param(name, REAL, False, domain.lo, domain.hi, domain.lo, domain.hi)
    if isinstance(domain, LogUniform):
        lo, hi = domain.lo, domain.hi
        return Param(name, REAL, True, lo, hi, math.log(lo), math.log(hi))
    if isinstance(domain, RandInt):
        if domain.lo == domain.hi:
            return None
        return Param(name, INT, False, domain.lo, domain.hi, domain.lo, domain.hi + 1)
    if isinstance(domain, LogRandInt):
        if domain.lo == domain.hi:
            return None
        # The sampler's log scale: [lo - 0.5, hi + 0.5) (from 1 when lo = 1).
        low = math.log(domain.lo - 0.5 if domain.lo > 1 else 1.0)
        return Param(name, INT, True, domain.lo, domain.hi, low, math.log(domain.hi + 0.5))
    raise ValueError(
        f"config_space parameter {name!r}: {who} cannot model a {type(domain).__name__} domain; "
        f"it supports {SUPPORTED}"
    )


class Encoding:
    """The coordinates of a space (see the module docstring)."""

    def __init__(self, space: Mapping[str, Any], who: str) -> None:
        self.names = list(space)
        self.params: list[Param] = []
        self.fixed: dict[str, Any] = {}
        for name, value in space.items():
            param = _param(name, value, who) if isinstance(value, Domain) else None
            if param is not None:
                self.params.append(param)
            elif isinstance(value, Domain):  # a domain with one value
                self.fixed[name] = value.sample(np.random.default_rng(0))
            else:
                self.fixed[name] = value
        self.d = len(self.params)
        kinds = np.array([p.kind for p in self.params], dtype=int)
        self.cont = np.flatnonzero(kinds != CAT)  # real and integer coordinates
        self.ints = np.flatnonzero(kinds == INT)
        self.cat = np.flatnonzero(kinds == CAT)
        self.quantized = [j for j, p in enumerate(self.params) if isinstance(p.domain, QUniform)]
        self.n_options = np.array([len(self.params[j].options) for j in self.cat], dtype=int)
        self.finite = all(p.kind != REAL for p in self.params)

    def encode(self, config: Mapping[str, Any]) -> np.ndarray:
        return np.array([p.encode(config[p.name]) for p in self.params], dtype=float)

    def decode(self, x: np.ndarray) -> dict[str, Any]:
        """The config at coordinates ``x``, keys in the space's order."""
        values = {p.name: p.decode(float(v)) for p, v in zip(self.params, x, strict=True)}
        return {name: values[name] if name in values else self.fixed[name] for name in self.names}

    def key(self, config: Mapping[str, Any]) -> tuple[Any, ...]:
        """A hashable identity over the coordinates (categoricals by code, so any option works)."""
        return tuple(
            _index(p.options, config[p.name]) if p.kind == CAT else config[p.name]
            for p in self.params
        )

    def snap(self, x: np.ndarray) -> np.ndarray:
        """Coordinates moved onto values a config can take: clipped, integers and codes rounded.

        Models score the snapped points, i.e. the configs that would really be run.
        """
        x = x.copy()
        x[:, self.cont] = np.clip(x[:, self.cont], 0.0, 1.0)
        for j in self.quantized:  # onto the coordinates of their multiples of q
            p = self.params[j]
            x[:, j] = [p.encode(p.decode(float(v))) for v in x[:, j]]
        for j in self.ints.tolist():
            p = self.params[j]
            scaled = p.low + x[:, j] * (p.high - p.low)
            if p.log:
                values = np.clip(np.round(np.exp(scaled)), p.lo, p.hi)
                x[:, j] = (np.log(values) - p.low) / (p.high - p.low)
            else:
                values = np.clip(np.floor(scaled), p.lo, p.hi)
                x[:, j] = (values + 0.5 - p.low) / (p.high - p.low)
        if len(self.cat):
            x[:, self.cat] = np.clip(np.round(x[:, self.cat]), 0, self.n_options - 1)
        return x

    def uniform(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws uniform over the coordinates (the prior of every domain), snapped."""
        x = rng.random((n, self.d))
        if len(self.cat):
            x[:, self.cat] = np.minimum(
                np.floor(x[:, self.cat] * self.n_options), self.n_options - 1
            )
        return self.snap(x)

    def onehot(self, x: np.ndarray) -> np.ndarray:
        """Continuous coordinates as they are, then one column per option of each categorical."""
        columns = [x[:, self.cont]]
        for j, c in zip(self.cat, self.n_options, strict=True):
            columns.append((x[:, j : j + 1] == np.arange(c)).astype(float))
        return np.hstack(columns) if columns else np.empty((len(x), 0))

    def all_configs(self) -> Iterator[dict[str, Any]]:
        """Every config of a finite space (no real coordinate), lazily; empty otherwise."""
        if not self.finite:
            return
        axes = [
            range(len(p.options)) if p.kind == CAT else range(int(p.lo), int(p.hi) + 1)
            for p in self.params
        ]
        for combo in itertools.product(*axes):
            values = {
                p.name: p.options[v]
                if p.kind == CAT
                else (v * p.domain.q if isinstance(p.domain, QRandInt) else v)
                for p, v in zip(self.params, combo, strict=True)
            }
            yield {
                name: values[name] if name in values else self.fixed[name] for name in self.names
            }


def table_space(configs: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> dict[str, Any]:
    """A space whose encoding models a table's config columns, from the values they hold.

    Numbers are numbers: a column of integers becomes ``randint`` over its range (ordinal), of
    other numbers ``uniform``; positive ones spanning a factor of 100 or more are log-scaled
    (``lograndint`` / ``loguniform``), as learning rates and widths are searched. Anything else
    (strings, booleans, a mix) is a categorical over the distinct values, in order of appearance.
    A column with a single value is a constant: the model ignores it.
    """
    space: dict[str, Any] = {}
    for column in columns:
        values = _distinct(tuple(config[column] for config in configs))
        numeric = all(type(v) in (int, float) and math.isfinite(v) for v in values)
        if len(values) == 1:
            space[column] = values[0]
        elif not numeric:
            space[column] = Choice(tuple(values))
        else:
            lo, hi = min(values), max(values)
            log = lo > 0 and hi >= 100 * lo
            if all(type(v) is int for v in values):
                space[column] = LogRandInt(lo, hi) if log and lo >= 1 else RandInt(lo, hi)
            else:
                real = LogUniform if log else Uniform
                space[column] = real(float(lo), float(hi))
    return space
