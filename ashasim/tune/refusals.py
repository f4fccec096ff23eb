"""The Ray Tune names and module paths the façade refuses, each with its reason and what to use
instead (docs/guides/coming-from-ray-tune.md lists the same; a test compares the two).

A refused name raises ImportError, so that ``from ashasim.tune import X`` (or ``from
ashasim.tune.schedulers import X``) shows the reason; a refused module path
(``ashasim.tune.search.hyperopt``) is a module that raises it when imported.
"""

from __future__ import annotations

from typing import NoReturn

__all__ = ["NOT_PROVIDED", "REFUSED_MODULES", "refuse_module", "refused_name"]

_EXTERNAL = "an external library's searcher, not provided"

#: Ray Tune names left out on purpose, and why
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
    "with_resources": "use tune.run(resources_per_trial={'cpu': c, 'gpu': g})",
    "CheckpointConfig": "Ray Tune 2's Tuner API; use tune.run(keep_checkpoints_num=..., "
    "checkpoint_score_attr=...)",
    "FailureConfig": "Ray Tune 2's Tuner API; use tune.run(max_failures=..., fail_fast=...)",
    "SyncConfig": "syncing to cloud storage is not provided; runs write to storage_path",
    "ResumeConfig": "Ray Tune 2's Tuner API; use tune.run(resume=True)",
    "Result": "Ray Tune 2's Tuner results; tune.run returns an ExperimentAnalysis",
    "ResultGrid": "Ray Tune 2's Tuner results; tune.run returns an ExperimentAnalysis",
    "Experiment": "experiment specs; call tune.run with the trainable",
    "run_experiments": "experiment specs; call tune.run with the trainable",
    "register_env": "RLlib environments are not provided",
    "ExperimentPlateauStopper": "it stops each trial from the results of all trials, which a "
    "stopper beside each trial cannot see; use time_budget_s or num_samples",
}

#: Ray Tune module paths (under ashasim.tune) left out on purpose, and why
REFUSED_MODULES = {
    "search.hyperopt": f"{_EXTERNAL}; use ashasim.tune.search.bohb (TuneBOHB, TPE-like KDE)",
    "search.optuna": f"{_EXTERNAL}; use ashasim.tune.search.bohb or .bayesopt",
    "search.ax": f"{_EXTERNAL}; use ashasim.tune.search.bayesopt",
    "search.skopt": f"{_EXTERNAL}; use ashasim.tune.search.bayesopt",
    "search.nevergrad": f"{_EXTERNAL}; use ashasim.tune.search.bohb or .bayesopt",
    "search.hebo": f"{_EXTERNAL}; use ashasim.tune.search.bayesopt",
    "search.zoopt": f"{_EXTERNAL}; use ashasim.tune.search.bohb or .bayesopt",
    "schedulers.pbt": NOT_PROVIDED["PopulationBasedTraining"],
    "schedulers.pb2": NOT_PROVIDED["PB2"],
    "schedulers.median_stopping_rule": NOT_PROVIDED["MedianStoppingRule"],
}


def refused_name(module: str, name: str) -> NoReturn:
    """A module's ``__getattr__``: the reason for a refused name, else AttributeError."""
    reason = NOT_PROVIDED.get(name)
    if reason is None:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    raise ImportError(f"{module} does not provide {name}: {reason}")


def refuse_module(module: str) -> NoReturn:
    """Raised by a refused module path when it is imported."""
    reason = REFUSED_MODULES[module.removeprefix("ashasim.tune.")]
    raise ImportError(f"{module} is not provided: {reason}")
