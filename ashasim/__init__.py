"""ashasim: understand and run successive-halving hyperparameter search.

One scheduler core (random search, synchronous SH / Hyperband, ASHA, asynchronous Hyperband), a
SimPy clock that replays cost-modeled trials on N simulated workers, a real executor for PyTorch,
and plots of what happened. Heavy modules (simpy, matplotlib, torch) load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from ashasim.chapter import ASHA, PythonBackend, Tuner, load_experiment
from ashasim.core import (
    AsyncHyperband,
    Decision,
    Job,
    RandomSearch,
    Scheduler,
    SyncHyperband,
    SyncSH,
)
from ashasim.space import choice, lograndint, loguniform, randint, uniform

__version__ = "0.1.0"

# name -> module that defines it; imported on first access so `import ashasim` stays light.
_LAZY = {
    "Trace": "ashasim.events",
    "Reporter": "ashasim.run",
    "StoppingCriterion": "ashasim.run",
    "simulate": "ashasim.sim",
    "Scripted": "ashasim.sim",
    "LearningCurves": "ashasim.sim",
    "Tabular": "ashasim.sim",
}

__all__ = [
    "ASHA",
    "AsyncHyperband",
    "Decision",
    "Job",
    "PythonBackend",
    "RandomSearch",
    "Scheduler",
    "SyncHyperband",
    "SyncSH",
    "Tuner",
    "__version__",
    "choice",
    "load_experiment",
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
