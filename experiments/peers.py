"""The peers the benchmarks measure ashasim against, on the same synthetic work, when installed.

Never a dependency of ashasim: each peer is imported when a benchmark asks for it, and a peer that
is not importable is skipped with a message (``PeerMissingError``). To run them all, install them
in a venv of their own next to ashasim's dependencies and run the benchmarks with it, e.g.::

    python -m venv /tmp/peers-venv
    /tmp/peers-venv/bin/pip install syne-tune huggingface_hub mfhpo-simulator optuna "ray[tune]" \\
        simpy scipy threadpoolctl cloudpickle
    PYTHONPATH=. /tmp/peers-venv/bin/python experiments/bench_core.py --peers
    PYTHONPATH=. /tmp/peers-venv/bin/python experiments/bench_sim.py --peers

The work (``work``): trial k's epochs take 0.5-1.5 s (a hash of k) and its metric is a
trial-dependent floor plus epoch**-0.5. Scheduler decisions (``bench_core.py``) go through the
same driver as ashasim's (32 workers finishing in a random order), each library wrapped in a thin
``suggest``/``report`` adapter; the simulators (``bench_sim.py``) run ASHA (eta 3, r_min 1) until
the given number of trials have finished.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
import warnings
from typing import Any

from ashasim.core import Decision, Job

__all__ = [
    "OptunaSuccessiveHalving",
    "PeerMissingError",
    "RayAsyncHyperBand",
    "mfhpo_trials_per_second",
    "syne_tune_trials_per_second",
    "work",
]


class PeerMissingError(Exception):
    """A peer that is not installed (or cannot run here); the message says which and why."""


def work(trial: int, epoch: int) -> tuple[float, float]:
    """(seconds, metric) of an epoch of trial ``trial``: the same numbers for every library."""
    h = (trial * 2654435761) % 1000
    return 0.5 + h / 1000.0, 0.1 + (h % 97) / 200.0 + epoch**-0.5


def _need(module: str, install: str) -> Any:
    try:
        return __import__(module, fromlist=["_"])
    except ImportError as error:
        raise PeerMissingError(f"{install} is not installed ({error})") from None


# -- scheduler decisions (bench_core.py) ----------------------------------------------------------


class RayAsyncHyperBand:
    """Ray Tune's ``AsyncHyperBandScheduler`` (stopping-type ASHA, one bracket) behind
    ashasim's ``suggest``/``report``: a trial added per suggestion, ``on_trial_result`` per
    report."""

    def __init__(self, *, max_t: int, grace_period: int, reduction_factor: int, trials: int):
        schedulers = _need("ray.tune.schedulers", 'Ray Tune ("ray[tune]")')
        experiment = _need("ray.tune.experiment", 'Ray Tune ("ray[tune]")')
        self._continue = schedulers.TrialScheduler.CONTINUE
        self.scheduler = schedulers.AsyncHyperBandScheduler(
            time_attr="epoch",
            metric="metric",
            mode="min",
            max_t=max_t,
            grace_period=grace_period,
            reduction_factor=reduction_factor,
            brackets=1,
        )
        self._trial_class = experiment.Trial
        self.max_t, self.max_trials, self.n_trials = max_t, trials, 0
        self.trials: dict[int, Any] = {}

    def suggest(self) -> Job | None:
        if self.n_trials >= self.max_trials:
            return None
        trial = self._trial_class("benchmark", trial_id=str(self.n_trials), stub=True)
        self.scheduler.on_trial_add(None, trial)
        self.trials[self.n_trials] = trial
        self.n_trials += 1
        return Job(self.n_trials - 1, {}, 0, self.max_t)

    def report(self, trial_id: int, resource: int, metric: float) -> Decision:
        result = {"epoch": resource, "metric": metric}
        action = self.scheduler.on_trial_result(None, self.trials[trial_id], result)
        return Decision.CONTINUE if action == self._continue else Decision.STOP


class OptunaSuccessiveHalving:
    """Optuna's ``SuccessiveHalvingPruner`` (asynchronous SH) behind ``suggest``/``report``: a
    trial asked per suggestion, ``report`` + ``should_prune`` per report, told when it ends."""

    def __init__(self, *, max_t: int, grace_period: int, reduction_factor: int, trials: int):
        optuna = _need("optuna", "Optuna")
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._pruned = optuna.trial.TrialState.PRUNED
        self.study = optuna.create_study(
            sampler=optuna.samplers.RandomSampler(seed=0),
            pruner=optuna.pruners.SuccessiveHalvingPruner(
                min_resource=grace_period,
                reduction_factor=reduction_factor,
                min_early_stopping_rate=0,
            ),
        )
        self.max_t, self.max_trials, self.n_trials = max_t, trials, 0
        self.trials: dict[int, Any] = {}

    def suggest(self) -> Job | None:
        if self.n_trials >= self.max_trials:
            return None
        self.trials[self.n_trials] = self.study.ask()
        self.n_trials += 1
        return Job(self.n_trials - 1, {}, 0, self.max_t)

    def report(self, trial_id: int, resource: int, metric: float) -> Decision:
        trial = self.trials[trial_id]
        trial.report(metric, resource)
        if trial.should_prune():
            self.study.tell(trial, state=self._pruned)
            del self.trials[trial_id]
            return Decision.STOP
        if resource == self.max_t:
            self.study.tell(trial, metric)
            del self.trials[trial_id]
        return Decision.CONTINUE


# -- simulators (bench_sim.py) --------------------------------------------------------------------


def syne_tune_trials_per_second(n_trials: int, n_workers: int, *, max_t: int) -> float:
    """Syne Tune's simulator backend (``UserBlackboxBackend`` over a blackbox computing ``work``,
    ``SimulatorCallback``) with its ASHA, until ``n_trials`` trials have finished; finished trials
    per CPU second."""
    np = _need("numpy", "numpy")
    syne_tune = _need("syne_tune", "Syne Tune (syne-tune, with huggingface_hub)")
    blackbox_module = _need("syne_tune.blackbox_repository.blackbox", "Syne Tune")
    backend_module = _need("syne_tune.blackbox_repository.simulated_tabular_backend", "Syne Tune")
    callback_module = _need("syne_tune.backend.simulator_backend.simulator_callback", "Syne Tune")
    baselines = _need("syne_tune.optimizer.baselines", "Syne Tune")
    config_space = _need("syne_tune.config_space", "Syne Tune")
    tuner_logger = _need("syne_tune.tuner_logger", "Syne Tune")
    epochs = np.arange(1, max_t + 1)
    # Syne Tune prints a line per trial start and end: silenced, so the terminal is not timed
    silent = {
        name: (lambda self, *args, **kwargs: None)
        for name in dir(tuner_logger.TunerLogger)
        if not name.startswith("_")
    }
    quiet_logger = type("QuietLogger", (tuner_logger.TunerLogger,), silent)()

    class Work(blackbox_module.Blackbox):
        def __init__(self) -> None:
            super().__init__(
                configuration_space={"trial": config_space.randint(0, 10**9)},
                fidelity_space={"epoch": config_space.randint(1, max_t)},
                objectives_names=["metric", "elapsed"],
            )

        def _objective_function(self, configuration, fidelity=None, seed=None):
            seconds, _ = work(configuration["trial"], 1)
            metrics = [work(configuration["trial"], int(e))[1] for e in epochs]
            table = np.stack([np.array(metrics), seconds * epochs], axis=1)
            if fidelity is None:
                return table
            return dict(zip(self.objectives_names, table[int(fidelity["epoch"]) - 1], strict=True))

        @property
        def fidelity_values(self):
            return epochs

    logging.disable(logging.WARNING)
    blackbox = Work()
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        os.environ["SYNETUNE_FOLDER"] = folder
        tuner = syne_tune.Tuner(
            trial_backend=backend_module.UserBlackboxBackend(
                blackbox=blackbox, elapsed_time_attr="elapsed"
            ),
            scheduler=baselines.ASHA(
                blackbox.configuration_space,
                metric="metric",
                time_attr="epoch",
                max_t=max_t,
                grace_period=1,
                reduction_factor=3,
                random_seed=0,
            ),
            stop_criterion=syne_tune.StoppingCriterion(max_num_trials_finished=n_trials - 1),
            n_workers=n_workers,
            sleep_time=0,
            callbacks=[callback_module.SimulatorCallback()],
            results_update_interval=1e9,
            print_update_interval=1e9,
            save_tuner=False,
            trial_backend_path=folder,
            output_logger=quiet_logger,
        )
        start = time.process_time()
        tuner.run()
        seconds = time.process_time() - start
    logging.disable(logging.NOTSET)
    return n_trials / seconds


def mfhpo_trials_per_second(n_trials: int, n_workers: int, *, max_t: int) -> float:
    """mfhpo-simulator (``ObjectiveFuncWrapper`` in ask-and-tell mode, continual fidelities).
    It has no scheduler of its own: ashasim's ASHA (promotion type) is its optimizer, one
    evaluation per job (it reports only a job's last epoch). Trials per CPU second."""
    simulator = _need("benchmark_simulator", "mfhpo-simulator")
    from ashasim.core import ASHA

    def objective(eval_config, fidels, seed, **_):
        seconds, metric = work(eval_config["trial"], fidels["epoch"])
        return {"loss": metric, "runtime": seconds * fidels["epoch"]}

    class Optimizer(simulator.AbstractAskTellOptimizer):
        def __init__(self) -> None:
            self.asha = ASHA(
                {"x": 0}, type="promotion", max_t=max_t, grace_period=1, reduction_factor=3
            )

        def ask(self):
            job = self.asha.suggest()
            return {"trial": job.trial_id}, {"epoch": job.milestone}, job.trial_id

        def tell(self, eval_config, results, *, fidels=None, config_id=None):
            self.asha.report(config_id, fidels["epoch"], results["loss"])

    # about 1.5 evaluations (jobs) per trial: ask for enough to start n_trials trials
    n_evals = int(1.55 * n_trials)
    optimizer = Optimizer()
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wrapper = simulator.ObjectiveFuncWrapper(
            objective,
            ask_and_tell=True,
            n_workers=n_workers,
            n_evals=n_evals,
            n_actual_evals_in_opt=n_evals + n_workers,
            fidel_keys=["epoch"],
            continual_max_fidel=max_t,
            obj_keys=["loss"],
            save_dir_name="bench",
            tmp_dir=folder,
        )
        start = time.process_time()
        wrapper.simulate(optimizer)
        seconds = time.process_time() - start
    return optimizer.asha.n_trials / seconds
