"""Standard synthetic multi-fidelity benchmarks as cost models: Branin, Currin, Hartmann-3/6.

The multi-fidelity versions of Kandasamy et al., "Multi-fidelity Bayesian Optimisation with
Continuous Approximations" (BOCA, ICML 2017), §5 and their appendix: a fidelity z in [0, 1]
perturbs the function (z = 1 is the true one) and sets the cost of an evaluation. No one here
tuned a searcher to them, which is why ``experiments/searchers.py`` compares searchers on them.

Levels. Level k of K (``max_epochs``) is fidelity z = k / K, so the top level is the true
function. The metric at level k is the function at (x, z_k) in minimisation form (Currin and
Hartmann, maximised in the paper, are negated), plus optional Gaussian noise (*noise*, sd).

Runtime model: the paper's cost lambda(z) (Branin 0.05 + z^6.5, the product z1^3 z2^2 z3^1.5
with every fidelity coordinate at z; Currin 0.1 + z^2; Hartmann 0.05 + 0.95 z^3), scaled so the
top level costs *full_seconds*. Under ``cost="resume"`` level k's own time is the increment
lambda(z_k) - lambda(z_{k-1}) (training continues; a trial run to the top pays lambda(1) in all);
under ``cost="restart"`` it is lambda(z_k) (each fidelity evaluated from scratch, as in BOCA).

``regret(config)``: the noise-free true function at z = 1 minus its optimum, the "true regret of
the incumbent" a comparison reports.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ashasim.checks import check_int, check_number
from ashasim.sim.costs import CostModel, EpochFn
from ashasim.sim.randomness import key_of, uniforms
from ashasim.space import uniform

__all__ = ["BENCHMARKS", "MultiFidelityFunction", "multi_fidelity"]

_HARTMANN_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_HARTMANN3_A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
_HARTMANN3_P = 1e-4 * np.array(
    [[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]]
)
_HARTMANN6_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
_HARTMANN6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)


def branin(x: np.ndarray, z: float) -> float:
    """BOCA's Branin: b, c and t move with the fidelity (by 0.01, 0.1 and 0.005 at z = 0, as in
    the authors' Dragonfly package); z = 1 is Branin (min 0.397887)."""
    x1, x2 = x
    b = 5.1 / (4 * math.pi**2) - 0.01 * (1 - z)
    c = 5 / math.pi - 0.1 * (1 - z)
    t = 1 / (8 * math.pi) + 0.005 * (1 - z)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def currin(x: np.ndarray, z: float) -> float:
    """BOCA's Currin exponential, negated: at z = 1 the rational factor alone (x2 then does not
    matter), lower fidelities damp it by 0.1 (1 - z) exp(-1 / (2 x2))."""
    x1, x2 = x
    damp = 1 - 0.1 * (1 - z) * (math.exp(-1 / (2 * x2)) if x2 > 0 else 0.0)
    ratio = (2300 * x1**3 + 1900 * x1**2 + 2092 * x1 + 60) / (
        100 * x1**3 + 500 * x1**2 + 4 * x1 + 20
    )
    return -damp * ratio


def _hartmann(a: np.ndarray, p: np.ndarray) -> Callable[[np.ndarray, float], float]:
    def hartmann(x: np.ndarray, z: float) -> float:
        """BOCA's Hartmann, negated: every alpha_i lowered by 0.1 (1 - z)."""
        alpha = _HARTMANN_ALPHA - 0.1 * (1 - z)
        return -float(alpha @ np.exp(-np.sum(a * (x - p) ** 2, axis=1)))

    return hartmann


# name -> (function, dimension, bounds of each input, optimum at z = 1, cost lambda(z)); the
# optima were found by L-BFGS-B from 200 random starts (they match the published 0.397887,
# -3.86278 and -3.32237)
BENCHMARKS: dict[str, tuple[Callable[[np.ndarray, float], float], int, Any, float, Any]] = {
    "branin": (branin, 2, [(-5.0, 10.0), (0.0, 15.0)], 0.397887358, lambda z: 0.05 + z**6.5),
    "currin": (currin, 2, [(0.0, 1.0)] * 2, -13.798722045, lambda z: 0.1 + z**2),
    "hartmann3": (
        _hartmann(_HARTMANN3_A, _HARTMANN3_P),
        3,
        [(0.0, 1.0)] * 3,
        -3.862779787,
        lambda z: 0.05 + 0.95 * z**3,
    ),
    "hartmann6": (
        _hartmann(_HARTMANN6_A, _HARTMANN6_P),
        6,
        [(0.0, 1.0)] * 6,
        -3.322368011,
        lambda z: 0.05 + 0.95 * z**3,
    ),
}


class MultiFidelityFunction(CostModel):
    """One of ``BENCHMARKS`` as a cost model (see the module docstring).

    *name*: branin, currin, hartmann3 or hartmann6. *max_epochs* (K, 27): levels 1..K are
    fidelities k / K. *full_seconds* (100): the cost of the top level. *noise* (0): sd of
    Gaussian noise on each metric, counter-based per (seed, trial, level). Space: ``x1``..``xd``
    uniform over the function's bounds.
    """

    def __init__(
        self,
        name: str,
        *,
        max_epochs: int = 27,
        full_seconds: float = 100.0,
        noise: float = 0.0,
        **model: Any,
    ) -> None:
        super().__init__(**model)
        if name not in BENCHMARKS:
            raise ValueError(f"name must be one of {sorted(BENCHMARKS)}, got {name!r}")
        self.name = name
        self.n_levels: int = check_int("max_epochs", max_epochs, minimum=1)
        self.max_epochs = self.n_levels
        self.full_seconds = check_number("full_seconds", full_seconds, minimum=0, strict=True)
        self.noise = check_number("noise", noise, minimum=0)
        self.function, d, bounds, self.optimum, self.cost_of = BENCHMARKS[name]
        self.names = [f"x{i + 1}" for i in range(d)]
        self.config_space = {
            n: uniform(lo, hi) for n, (lo, hi) in zip(self.names, bounds, strict=True)
        }

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "benchmark": self.name,
            "max_epochs": self.max_epochs,
            "full_seconds": self.full_seconds,
            "noise": self.noise,
        }

    def value(self, config: Mapping[str, Any], level: int) -> float:
        """The noise-free metric of ``config`` at ``level``."""
        x = np.array([float(config[n]) for n in self.names])
        return float(self.function(x, level / self.n_levels))

    def regret(self, config: Mapping[str, Any]) -> float:
        """The true function at the top fidelity minus its optimum (>= 0 up to rounding)."""
        return self.value(config, self.n_levels) - self.optimum

    def seconds(self, level: int) -> float:
        """Level ``level``'s own time under this model's ``cost`` (see the module docstring)."""
        top = self.cost_of(1.0)
        total = self.full_seconds * self.cost_of(level / self.n_levels) / top
        if self.cost == "restart" or level == 1:
            return total
        return total - self.full_seconds * self.cost_of((level - 1) / self.n_levels) / top

    def seconds_hint(self) -> float | None:
        return self.seconds(1)

    def epoch_fn(self, seed: int) -> EpochFn:
        def epoch(trial_id: int, config: dict, level: int) -> tuple[float, float]:
            metric = self.value(config, level)
            if self.noise:
                u1, u2 = uniforms(key_of(seed, trial_id), level)
                metric += self.noise * math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)
            return self.seconds(level), metric

        return epoch


def multi_fidelity(name: str, **options: Any) -> MultiFidelityFunction:
    """``MultiFidelityFunction(name, **options)``: the name the workload catalog uses."""
    return MultiFidelityFunction(name, **options)
