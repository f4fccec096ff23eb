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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below load on first access; these imports are for type checkers
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
    from ashasim.events import Trace, load_experiment
    from ashasim.experiment import Experiment
    from ashasim.frame import Faults, Stop
    from ashasim.run import Reporter, StoppingCriterion, Tuner
    from ashasim.run.configs import Checkpoints, Fake, Local, Ray
    from ashasim.search import GPSearcher, GridSearcher, KDESearcher, RandomSearcher
    from ashasim.sim import LearningCurves, Scripted, Tabular, simulate
    from ashasim.space import choice, grid_search, lograndint, loguniform, randint, uniform

__version__ = "0.1.0"

# name -> module that defines it. Every name is imported on first access, so `import ashasim` loads
# no third-party library at all: a console command stays interruptible (Ctrl-C in its first moments
# lands in ashasim's own code, not inside numpy's import) and `--help` answers at once.
_LAZY = {
    "ASHA": "ashasim.core",
    "BOHB": "ashasim.core",
    "AsyncBOHB": "ashasim.core",
    "AsyncHyperband": "ashasim.core",
    "Decision": "ashasim.core",
    "Job": "ashasim.core",
    "RandomSearch": "ashasim.core",
    "Scheduler": "ashasim.core",
    "SyncHyperband": "ashasim.core",
    "SyncSH": "ashasim.core",
    "choice": "ashasim.space",
    "grid_search": "ashasim.space",
    "lograndint": "ashasim.space",
    "loguniform": "ashasim.space",
    "randint": "ashasim.space",
    "uniform": "ashasim.space",
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
    "Checkpoints",
    "Decision",
    "Experiment",
    "Fake",
    "Faults",
    "GPSearcher",
    "GridSearcher",
    "Job",
    "KDESearcher",
    "LearningCurves",
    "Local",
    "RandomSearch",
    "RandomSearcher",
    "Ray",
    "Reporter",
    "Scheduler",
    "Scripted",
    "Stop",
    "StoppingCriterion",
    "SyncHyperband",
    "SyncSH",
    "Tabular",
    "Trace",
    "Tuner",
    "__version__",
    "choice",
    "grid_search",
    "load_experiment",
    "lograndint",
    "loguniform",
    "randint",
    "simulate",
    "uniform",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ashasim' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
