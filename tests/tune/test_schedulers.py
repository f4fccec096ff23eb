"""The façade's schedulers keep Ray Tune's names, argument order and defaults, and decide what
ashasim's core decides: the same seed and stream of results give the same decisions."""

from __future__ import annotations

import inspect

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ashasim import tune
from ashasim.core import ASHA
from ashasim.events import JobEnded, JobStarted, Reported
from ashasim.space import randint
from ashasim.tune import (
    ASHAScheduler,
    AsyncHyperBandScheduler,
    FIFOScheduler,
    HyperBandForBOHB,
    HyperBandScheduler,
)
from tests.strategies import finite_metric_values, ladders

# Ray Tune's documented signatures (ray.tune.schedulers), in order
RAY_SIGNATURES = {
    AsyncHyperBandScheduler: {
        "time_attr": "training_iteration",
        "metric": None,
        "mode": None,
        "max_t": 100,
        "grace_period": 1,
        "reduction_factor": 4,
        "brackets": 1,
        "stop_last_trials": True,
    },
    HyperBandScheduler: {
        "time_attr": "training_iteration",
        "metric": None,
        "mode": None,
        "max_t": 81,
        "reduction_factor": 3,
        "stop_last_trials": True,
    },
}


@pytest.mark.parametrize("cls", list(RAY_SIGNATURES))
def test_arguments_defaults_and_order_are_ray_tunes(cls):
    """Positional calls and defaults mean what they mean in Ray Tune; ashasim's additions
    (type, overlap) are keyword-only."""
    parameters = inspect.signature(cls.__init__).parameters
    positional = {
        name: p.default
        for name, p in parameters.items()
        if name != "self" and p.kind is p.POSITIONAL_OR_KEYWORD
    }
    assert positional == RAY_SIGNATURES[cls]
    assert list(positional) == list(RAY_SIGNATURES[cls])
    extra = [n for n, p in parameters.items() if p.kind is p.KEYWORD_ONLY]
    assert extra == (["type"] if cls is AsyncHyperBandScheduler else ["overlap"])


def test_the_names_users_import():
    assert ASHAScheduler is AsyncHyperBandScheduler
    assert issubclass(HyperBandForBOHB, HyperBandScheduler)
    assert tune.schedulers.FIFOScheduler is FIFOScheduler
    scheduler = ASHAScheduler("epoch", "loss", "min", 9, 2, 3)  # Ray Tune's positional order
    assert (scheduler.time_attr, scheduler.metric, scheduler.mode) == ("epoch", "loss", "min")
    assert (scheduler.max_t, scheduler.grace_period, scheduler.reduction_factor) == (9, 2, 3)
    assert scheduler.type == "stopping"


def test_grace_period_equal_to_max_t_runs_as_fifo():
    from ashasim.core import RandomSearch
    from ashasim.search import VariantSearcher

    core = ASHAScheduler(max_t=4, grace_period=4).build(
        {"x": tune.uniform(0, 1)},
        metric="m",
        mode="min",
        max_trials=2,
        seed=0,
        searcher=VariantSearcher(2),
    )
    assert type(core) is RandomSearch and core.max_t == 4


@settings(max_examples=25, deadline=None)
@given(
    ladder=ladders(),
    num_samples=st.integers(1, 12),
    n_workers=st.integers(1, 4),
    seed=st.integers(0, 2**16),
    iterations=st.integers(1, 30),
    values=finite_metric_values,
    durations=st.lists(st.integers(1, 4), min_size=1, max_size=8),
    mode=st.sampled_from(["min", "max"]),
)
def test_tune_run_decides_as_the_core_stopping_asha(
    tmp_path_factory, ladder, num_samples, n_workers, seed, iterations, values, durations, mode
):
    """tune.run(..., scheduler=ASHAScheduler(...)) on any interleaving of workers (epoch times
    drawn) makes, call for call, the decisions of ashasim.core.ASHA(type="stopping") with the
    mapped arguments (tune.randint(0, 1000) is randint(0, 999); time_attr the resource; the
    run's seed), replayed on the run's own stream of results. Trainables shorter than max_t
    end by returning, which the core hears as fail()."""

    def trainable(config):
        for i in range(1, iterations + 1):
            tune.report(loss=values[(7 * config["k"] + 3 * i) % len(values)])

    analysis = tune.run(
        trainable,
        config={"k": tune.randint(0, 1000)},
        num_samples=num_samples,
        scheduler=ASHAScheduler(
            metric="loss",
            mode=mode,
            max_t=ladder.max_t,
            grace_period=ladder.grace_period,
            reduction_factor=ladder.eta,
        ),
        seed=seed,
        storage_path=tmp_path_factory.mktemp("runs"),
        name="property",
        backend="fake",
        backend_options={"epoch_seconds": lambda t, c, e: durations[(t + e) % len(durations)]},
        num_cpus=n_workers,
        verbose=0,
    )
    core = ASHA(
        {"k": randint(0, 999)},
        type="stopping",
        max_t=ladder.max_t,
        grace_period=ladder.grace_period,
        reduction_factor=ladder.eta,
        mode=mode,
        metric="loss",
        resource_attr="training_iteration",
        max_trials=num_samples,
        seed=seed,
    )
    for event in analysis.trace.events:
        if type(event) is JobStarted:
            job = core.suggest()
            assert (job.trial_id, job.config, job.resume_from, job.milestone) == (
                event.trial_id,
                event.config,
                event.resume_from,
                event.milestone,
            )
        elif type(event) is Reported:
            assert core.report(event.trial_id, event.resource, event.metric).value == event.decision
        elif type(event) is JobEnded and event.reason in ("returned", "failed"):
            core.fail(event.trial_id)
    assert core.done
    assert len(analysis.trials) == num_samples
