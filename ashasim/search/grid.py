"""Grid search: the Cartesian product of per-parameter values, in a seeded random order, each
config once; ``suggest`` returns None once the grid is exhausted (the scheduler then starts no
more trials)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ashasim.checks import check_int
from ashasim.search.base import Searcher
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
    Uniform,
)

__all__ = ["MAX_GRID_SIZE", "GridSearcher", "grid_values"]

MAX_GRID_SIZE = 10**6  # the shuffled order is one permutation of this many indices


def _distinct(values: Any) -> list[Any]:
    kept: list[Any] = []
    for value in values:
        if not any(value == seen for seen in kept):
            kept.append(value)
    return kept


def grid_values(name: str, domain: Any, num: int | None) -> list[Any]:
    """The values parameter ``name`` takes on the grid.

    ``choice`` and ``grid_search``: every option (values equal under == count once). Real ranges
    need ``num``: ``num`` points from lo to hi, both included, evenly spaced (``uniform``) or
    evenly spaced in log space (``loguniform``); ``num`` = 1 takes the (geometric) midpoint; a
    range too narrow for ``num`` distinct floats gives fewer.
    Integer ranges: ``num`` points spaced the same way and rounded, duplicates dropped (so fewer
    than ``num`` when the range is short); without ``num``, every integer in the range (every
    multiple of q for ``qrandint``, and ``num`` of those evenly spread). ``quniform`` and
    ``qloguniform`` need ``num`` like real ranges; their points are rounded to multiples of q.
    ``randn`` (unbounded) and ``sample_from`` cannot be enumerated.
    Constants: themselves.
    """
    if not isinstance(domain, Domain):
        if num is not None:
            raise ValueError(f"num[{name!r}]: {name!r} is a constant; only ranges take a count")
        return [domain]
    if isinstance(domain, (Choice, GridSearch)):
        if num is not None:
            raise ValueError(
                f"num[{name!r}]: {name!r} is a {domain.kind}, whose options are the grid; "
                "only numeric ranges take a count"
            )
        return _distinct(domain.options if isinstance(domain, Choice) else domain.values)
    if isinstance(domain, (Uniform, LogUniform)):
        if num is None:
            raise ValueError(
                f"config_space parameter {name!r} is a continuous {domain.kind} range: "
                f"give GridSearcher(num={{{name!r}: <number of grid values, >= 1>}})"
            )
        log = isinstance(domain, LogUniform)
        return sorted({float(v) for v in _spaced(domain.lo, domain.hi, num, log)})
    if isinstance(domain, (RandInt, LogRandInt)):
        if num is None:
            return list(range(domain.lo, domain.hi + 1))
        log = isinstance(domain, LogRandInt)
        values = np.clip(np.round(_spaced(domain.lo, domain.hi, num, log)), domain.lo, domain.hi)
        return sorted({int(v) for v in values})
    if isinstance(domain, QRandInt):
        every = list(range(-(-domain.lo // domain.q) * domain.q, domain.hi + 1, domain.q))
        if num is None:
            return every
        picks = np.round(_spaced(0, len(every) - 1, num, False)) if len(every) > 1 else [0]
        return sorted({every[int(i)] for i in picks})
    if isinstance(domain, QUniform):  # qloguniform too: num points spaced, then rounded to q
        if num is None:
            raise ValueError(
                f"config_space parameter {name!r} is a {domain.kind} range: give "
                f"GridSearcher(num={{{name!r}: <number of grid values, >= 1>}})"
            )
        log = isinstance(domain, QLogUniform)
        return sorted({domain.quantize(v) for v in _spaced(domain.lo, domain.hi, num, log)})
    raise ValueError(
        f"config_space parameter {name!r}: GridSearcher cannot enumerate a "
        f"{type(domain).__name__} domain"
    )


def _spaced(lo: float, hi: float, num: int, log: bool) -> np.ndarray:
    if num == 1:
        return np.array([math.sqrt(lo * hi) if log else (lo + hi) / 2])
    values = np.geomspace(lo, hi, num) if log else np.linspace(lo, hi, num)
    return np.clip(values, lo, hi)


class GridSearcher(Searcher):
    """Every config of the grid exactly once, in an order shuffled by the scheduler's generator.

    *num*: grid values per numeric parameter, e.g. ``GridSearcher(num={"lr": 5})`` (see
    :func:`grid_values` for the spacing). A continuous range without a count raises, naming the
    parameter. The order is one permutation drawn at ``configure``, so a seed fixes it, and
    shuffling means a run cut short has still spread over the grid instead of sweeping one corner.

    *configs*: the grid as an explicit list of configs instead of a product (e.g. the rows of a
    learning-curve table, ``Tabular.searcher()``): each is handed out once, as given (keys the
    space does not name included), in the same seeded shuffled order.

    ``points_to_evaluate`` come first, in order. A point is completed (its missing keys filled in)
    from the first unused grid point, in the shuffled order, that agrees with it on every key it
    gives; that grid point is then used up, so it is not proposed again. A point with a value off
    the grid uses up nothing; its missing keys come from the next unused grid point.
    """

    def __init__(
        self,
        num: Mapping[str, int] | None = None,
        *,
        configs: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        if num is None:
            num = {}
        if not isinstance(num, Mapping):
            raise ValueError(f"num must be a dict of parameter name -> count, got {num!r}")
        self.num = {str(name): check_int(f"num[{name!r}]", n, minimum=1) for name, n in num.items()}
        self.configs: list[dict[str, Any]] | None = None
        if configs is not None:
            if self.num:
                raise ValueError("give num (a product grid) or configs (a list), not both")
            if isinstance(configs, (str, bytes, Mapping)) or not isinstance(configs, Sequence):
                raise ValueError(f"configs must be a list of config dicts, got {configs!r}")
            if not configs or not all(isinstance(c, Mapping) for c in configs):
                raise ValueError("configs must be a non-empty list of config dicts")
            self.configs = [dict(config) for config in configs]

    def describe(self) -> dict[str, Any]:
        if self.configs is not None:
            return {"name": type(self).__name__, "configs": len(self.configs)}
        return {"name": type(self).__name__, "num": dict(self.num)}

    def _setup(self) -> None:
        if self.configs is not None:  # an explicit list: no axes, no size limit
            self.size = len(self.configs)
            self._order = self.rng.permutation(self.size)
            self._used: set[int] = set()
            self._next = 0
            self.max_configs = self.size + len(self._points)
            return
        unknown = sorted(set(self.num) - set(self.config_space))
        if unknown:
            space = sorted(self.config_space)
            raise ValueError(f"num names {unknown}, which are not in the config space {space}")
        self._names = list(self.config_space)
        self._axes = [
            grid_values(name, domain, self.num.get(name))
            for name, domain in self.config_space.items()
        ]
        sizes = [len(axis) for axis in self._axes]
        self.size = math.prod(sizes)
        if self.size > MAX_GRID_SIZE:
            shown = dict(zip(self._names, sizes, strict=True))
            raise ValueError(
                f"the grid has {self.size} points (values per parameter: {shown}); at most "
                f"{MAX_GRID_SIZE}: give smaller counts in num"
            )
        self._strides = [math.prod(sizes[i + 1 :]) for i in range(len(sizes))]
        self._order = self.rng.permutation(self.size)
        self._used = set()
        self._next = 0  # every index in _order before this one is used
        self.max_configs = self.size + len(self._points)  # off-grid points use up nothing

    def suggest(self, trial_id: int) -> dict[str, Any] | None:
        self._require_configured()
        point = self._next_point()
        if point is not None:
            return self._complete(point)
        while self._next < self.size:
            index = int(self._order[self._next])
            self._next += 1
            if index not in self._used:
                self._used.add(index)
                return self._config(index)
        return None

    @property
    def remaining(self) -> int:
        """Grid configs not proposed yet."""
        return self.size - len(self._used)

    def _config(self, index: int) -> dict[str, Any]:
        if self.configs is not None:
            return dict(self.configs[index])
        return {
            name: axis[(index // stride) % len(axis)]
            for name, axis, stride in zip(self._names, self._axes, self._strides, strict=True)
        }

    def _agrees(self, point: dict[str, Any]) -> Any:
        """A test of grid indices: the config there agrees with the point on every key it gives;
        None when no grid config can (a value off the grid)."""
        if self.configs is not None:
            configs = self.configs
            return lambda index: all(
                key in configs[index] and configs[index][key] == value
                for key, value in point.items()
            )
        wanted: dict[int, int] = {}  # axis -> position of the point's value on it
        for axis_index, (name, axis) in enumerate(zip(self._names, self._axes, strict=True)):
            if name in point:
                where = [i for i, value in enumerate(axis) if value == point[name]]
                if not where:
                    return None
                wanted[axis_index] = where[0]
        strides, axes = self._strides, self._axes
        return lambda index: all(
            (index // strides[a]) % len(axes[a]) == v for a, v in wanted.items()
        )

    def _complete(self, point: dict[str, Any]) -> dict[str, Any]:
        agrees = self._agrees(point)
        filler = None
        if agrees is not None:
            for position in range(self._next, self.size):
                index = int(self._order[position])
                if index not in self._used and agrees(index):
                    self._used.add(index)
                    filler = index
                    break
        if filler is None:  # off the grid, or its slice is used up: borrow, use up nothing
            unused = (int(i) for i in self._order[self._next :] if int(i) not in self._used)
            filler = next(unused, int(self._order[0]))
        config = self._config(filler)
        config.update(point)
        return config
