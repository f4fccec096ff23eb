"""Ray Tune's classic API on ashasim: ``from ashasim import tune`` runs Ray-Tune-shaped code.

Change only the imports::

    from ashasim import tune
    from ashasim.tune import ASHAScheduler, CLIReporter

    config = {"lr": tune.loguniform(1e-4, 1e-1), "batch_size": tune.choice([2, 4, 8, 16])}
    scheduler = ASHAScheduler(metric="loss", mode="min", max_t=10, grace_period=1)
    analysis = tune.run(train, config=config, num_samples=10, scheduler=scheduler)
    analysis.get_best_trial("loss", "min", "last").config

and the run is ashasim's: on local worker processes by default (``backend="ray"`` for Ray
actors), journaled, resumable (``resume=True``), with the Gantt chart and idle time of the real
run (``analysis.trace``), and with what Ray Tune lacks: the paper's promotion-type ASHA
(``ASHAScheduler(type="promotion")``) and synchronous Hyperband with an overlap policy.

This package only translates Ray Tune's names, arguments and defaults onto ashasim's core,
searchers and executor (``ashasim.tune.schedulers``, ``ashasim.tune.search``, ...).

The rule: every argument, name and module path of Ray Tune's classic ``tune.run`` API (1.x, and
the parts 2.x kept) either behaves as Ray Tune does, or is refused at the call with one line
that names it, says it is not supported, and what to use instead (``ashasim.tune.refusals``,
``ashasim.tune.arguments``). Nothing is accepted and ignored; where ashasim decides otherwise on
purpose (HyperBand's bracket order), the run says so in one line at its start.
"""

from __future__ import annotations

from typing import Any

from ashasim.tune import stopper  # tune.stopper.MaximumIterationStopper, as in Ray Tune
from ashasim.tune.analysis import ExperimentAnalysis, Trial
from ashasim.tune.callbacks import Callback
from ashasim.tune.checkpoints import Checkpoint
from ashasim.tune.context import TuneContext, get_context
from ashasim.tune.domains import (
    choice,
    grid_search,
    lograndint,
    loguniform,
    qloguniform,
    qrandint,
    quniform,
    randint,
    randn,
    sample_from,
    uniform,
)
from ashasim.tune.errors import TuneError
from ashasim.tune.factories import create_scheduler, create_searcher
from ashasim.tune.refusals import refused_name
from ashasim.tune.reporter import CLIReporter, JupyterNotebookReporter, ProgressReporter
from ashasim.tune.runner import run, with_parameters
from ashasim.tune.schedulers import (
    ASHAScheduler,
    AsyncHyperBandScheduler,
    FIFOScheduler,
    HyperBandForBOHB,
    HyperBandScheduler,
)
from ashasim.tune.search import (
    BasicVariantGenerator,
    BayesOptSearch,
    ConcurrencyLimiter,
    TuneBOHB,
)
from ashasim.tune.session import (
    checkpoint_dir,
    get_checkpoint,
    get_trial_dir,
    get_trial_id,
    get_trial_name,
    report,
)
from ashasim.tune.stopping import Stopper

__all__ = [
    "ASHAScheduler",
    "AsyncHyperBandScheduler",
    "BasicVariantGenerator",
    "BayesOptSearch",
    "CLIReporter",
    "Callback",
    "Checkpoint",
    "ConcurrencyLimiter",
    "ExperimentAnalysis",
    "FIFOScheduler",
    "HyperBandForBOHB",
    "HyperBandScheduler",
    "JupyterNotebookReporter",
    "ProgressReporter",
    "Stopper",
    "Trial",
    "TuneBOHB",
    "TuneContext",
    "TuneError",
    "checkpoint_dir",
    "choice",
    "create_scheduler",
    "create_searcher",
    "get_checkpoint",
    "get_context",
    "get_trial_dir",
    "get_trial_id",
    "get_trial_name",
    "grid_search",
    "lograndint",
    "loguniform",
    "qloguniform",
    "qrandint",
    "quniform",
    "randint",
    "randn",
    "report",
    "run",
    "sample_from",
    "stopper",
    "uniform",
    "with_parameters",
]


def __getattr__(name: str) -> Any:
    # ImportError, so that `from ashasim.tune import X` shows the reason
    return refused_name("ashasim.tune", name)
