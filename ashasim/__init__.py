"""ashasim: understand and run successive-halving hyperparameter search.

One scheduler core (random search, synchronous SH / Hyperband, ASHA, asynchronous Hyperband) with
searchers that choose the configs (random, grid, BOHB's KDE, Gaussian-process BO), a SimPy clock
that replays cost-modeled trials on N simulated workers, a real executor for PyTorch, and plots of
what happened. Heavy modules (simpy, matplotlib, torch) load on first use.

The names here are ashasim's own. Code written for other libraries runs through the façades,
which keep those libraries' names and defaults: ``ashasim.chapter`` (the D2L chapter's Syne Tune
code) and ``ashasim.tune`` (Ray Tune's).
"""

from __future__ import annotations

import importlib
from typing import Any

from ashasim.core import (
    ASHA,
    BOHB,
    AsyncBOHB,
    AsyncHyperband,
    Decision,
    Job,
    RandomSearch,
    Scheduler,
    SyncHyperband,
    SyncSH,
)
from ashasim.space import choice, grid_search, lograndint, loguniform, randint, uniform

__version__ = "0.1.0"

# name -> module that defines it; imported on first access so `import ashasim` stays light.
_LAZY = {
    "Experiment": "ashasim.experiment",
    "Stop": "ashasim.frame",
    "Faults": "ashasim.frame",
    "Local": "ashasim.run.configs",
    "Ray": "ashasim.run.configs",
    "Fake": "ashasim.run.configs",
    "Checkpoints": "ashasim.run.configs",
    "Trace": "ashasim.events",
    "load_experiment": "ashasim.events",
    "Reporter": "ashasim.run",
    "StoppingCriterion": "ashasim.run",
    "Tuner": "ashasim.run",
    "simulate": "ashasim.sim",
    "Scripted": "ashasim.sim",
    "LearningCurves": "ashasim.sim",
    "Tabular": "ashasim.sim",
    "RandomSearcher": "ashasim.search",
    "GridSearcher": "ashasim.search",
    "KDESearcher": "ashasim.search",
    "GPSearcher": "ashasim.search",
}

__all__ = [
    "ASHA",
    "BOHB",
    "AsyncBOHB",
    "AsyncHyperband",
    "Decision",
    "Job",
    "RandomSearch",
    "Scheduler",
    "SyncHyperband",
    "SyncSH",
    "__version__",
    "choice",
    "grid_search",
    "lograndint",
    "loguniform",
    "randint",
    "uniform",
    *sorted(_LAZY),
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ashasim' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
