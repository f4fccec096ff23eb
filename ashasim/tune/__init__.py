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
searchers and executor (``ashasim.tune.schedulers``, ``ashasim.tune.search``, ...). Ray Tune
names it deliberately does not provide raise an ImportError that says why.
"""

from __future__ import annotations

from typing import Any

from ashasim.tune.analysis import ExperimentAnalysis, Trial
from ashasim.tune.checkpoints import Checkpoint
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
    "TuneError",
    "checkpoint_dir",
    "choice",
    "get_checkpoint",
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
    "uniform",
    "with_parameters",
]

# Ray Tune names left out on purpose, and why (also in the README's "Coming from Ray Tune").
NOT_PROVIDED = {
    "Tuner": "Ray Tune 2's Tuner/TuneConfig/RunConfig API; use tune.run (classic API)",
    "TuneConfig": "Ray Tune 2's Tuner API; use tune.run",
    "RunConfig": "Ray Tune 2's Tuner API; use tune.run",
    "Trainable": "class trainables; write a function trainable that calls tune.report",
    "register_trainable": "trainables by name; pass the function to tune.run",
    "PopulationBasedTraining": "PBT mutates configs of running trials; ashasim's schedulers "
    "never change a trial's config",
    "PB2": "PBT family (see PopulationBasedTraining)",
    "MedianStoppingRule": "not an ashasim scheduler; ASHAScheduler stops trials early",
    "HyperOptSearch": "an external library's searcher; ashasim has TuneBOHB (KDE, TPE-like) "
    "and BayesOptSearch (GP)",
    "OptunaSearch": "an external library's searcher; use TuneBOHB or BayesOptSearch",
    "AxSearch": "an external library's searcher; use BayesOptSearch",
    "SkOptSearch": "an external library's searcher; use BayesOptSearch",
    "NevergradSearch": "an external library's searcher; use TuneBOHB or BayesOptSearch",
    "HEBOSearch": "an external library's searcher; use BayesOptSearch",
    "ZOOptSearch": "an external library's searcher; use TuneBOHB or BayesOptSearch",
    "Repeater": "repeating a config for noisy objectives is not supported",
    "qlograndint": "not provided; use lograndint or qrandint",
    "qrandn": "not provided; use randn or quniform",
    "PlacementGroupFactory": "placement groups; resources_per_trial takes {'cpu': c, 'gpu': g}",
}


def __getattr__(name: str) -> Any:
    reason = NOT_PROVIDED.get(name)
    if reason is None:
        raise AttributeError(f"module 'ashasim.tune' has no attribute {name!r}")
    # ImportError, so that `from ashasim.tune import X` shows the reason
    raise ImportError(f"ashasim.tune does not provide {name}: {reason}")
