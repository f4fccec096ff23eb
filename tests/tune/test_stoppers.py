"""Ray Tune's ``ray.tune.stopper`` stoppers, ``tune.get_context()``, a Trial's summaries and
the factories ``tune.create_scheduler`` / ``tune.create_searcher``, as Ray Tune 2.60 behaves."""

from __future__ import annotations

import math
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ashasim import tune
from ashasim.events import JobEnded
from ashasim.tune import ASHAScheduler
from ashasim.tune.stopper import (
    CombinedStopper,
    FunctionStopper,
    MaximumIterationStopper,
    NoopStopper,
    TimeoutStopper,
    TrialPlateauStopper,
)
from tests.tune import trainables
from tests.tune.test_run import one_line, run


def iterations(analysis) -> list[int]:
    return sorted(t.last_result["training_iteration"] for t in analysis.trials)


# -- the stoppers, as functions of the results they are shown ----------------------------------


def decisions(stopper, losses, trial="t"):
    return [stopper(trial, {"loss": loss}) for loss in losses]


def test_maximum_iteration_counts_each_trials_results():
    stopper = MaximumIterationStopper(3)
    assert decisions(stopper, [5, 4, 3, 2]) == [False, False, True, True]
    assert decisions(stopper, [5, 4, 3], trial="other") == [False, False, True]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-10, 10), max_size=12),
    st.integers(1, 5),
    st.integers(0, 6),
    st.floats(0.0, 2.0),
)
def test_trial_plateau_stops_exactly_when_the_last_values_barely_move(
    losses, num_results, grace_period, std
):
    """After grace_period results, the population std of the last num_results values below
    std: stop; the stopper's memory is per trial."""
    stopper = TrialPlateauStopper(
        "loss", std=std, num_results=num_results, grace_period=grace_period
    )
    for count, said in enumerate(decisions(stopper, losses), start=1):
        window = losses[max(0, count - num_results) : count]
        mean = math.fsum(window) / len(window)
        spread = math.sqrt(math.fsum((v - mean) ** 2 for v in window) / len(window))
        if abs(spread - std) <= 1e-9:
            continue  # at the threshold itself the last bit of rounding decides
        expected = count >= grace_period and len(window) == num_results and spread < std
        assert said == expected


def test_trial_plateau_threshold_and_missing_metric():
    """With metric_threshold only a value past it (min: at or below) may stop the trial; a
    result without the metric never makes a plateau."""
    stopper = TrialPlateauStopper(
        "loss", num_results=2, grace_period=0, metric_threshold=1.0, mode="min"
    )
    assert decisions(stopper, [2.0, 2.0, 1.0, 1.0]) == [False, False, False, True]
    missing = TrialPlateauStopper("loss", num_results=2, grace_period=0)
    assert [missing("t", {"acc": 1}) for _ in range(3)] == [False] * 3
    assert not stopper("u", {"acc": 1})  # one result: before num_results, nothing compared
    with pytest.raises(ValueError, match="a result's 'loss' must be a number to compare") as error:
        stopper("u", {"acc": 1})
    one_line(error)
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'") as error:
        TrialPlateauStopper("loss", metric_threshold=1.0)
    one_line(error)


def test_combined_function_and_noop():
    combined = CombinedStopper(NoopStopper(), FunctionStopper(lambda t, r: r["loss"] < 1))
    assert decisions(combined, [3, 2, 0.5]) == [False, False, True]
    assert not combined.stop_all()
    with pytest.raises(ValueError, match="CombinedStopper takes tune.Stopper instances"):
        CombinedStopper(lambda t, r: True)


def test_experiment_plateau_is_refused_with_the_reason():
    with pytest.raises(ImportError, match="stops each trial from the results of all trials"):
        from ashasim.tune.stopper import ExperimentPlateauStopper  # noqa: F401


class AfterResults(tune.Stopper):
    """Ends the whole run once it has seen n results, of any trials (state across trials)."""

    def __init__(self, n):
        self.n, self.seen = n, 0

    def __call__(self, trial_id, result):
        self.seen += 1
        return False

    def stop_all(self):
        return self.seen >= self.n


def cut_by(analysis, name):
    return [e for e in analysis.trace.events if type(e) is JobEnded and e.reason == "cancelled"]


def test_stop_all_hears_every_result_of_every_trial_in_the_driver(tmp_path):
    """Ray Tune asks stop_all of its one stopper, which has seen every result: the run ends
    soon after the 6th result of all trials together (a copy beside each trial would never
    count 6: each trial here reports forever, but the run ends)."""
    analysis = run(tmp_path, trainables.forever, num_samples=3, stop=AfterResults(6))
    cut = cut_by(analysis, "AfterResults")
    assert cut and all("AfterResults.stop_all() returned True" in e.error for e in cut)
    assert 6 <= len(analysis.trace.results) < 40
    assert all(trial.status == "TERMINATED" for trial in analysis.trials)


def test_timeout_stopper_ends_the_run_as_time_budget_s_does(tmp_path):
    start = time.monotonic()
    analysis = run(tmp_path, trainables.forever, num_samples=2, stop=TimeoutStopper(0.5))
    assert 0.5 <= time.monotonic() - start < 30
    assert cut_by(analysis, "TimeoutStopper")
    combined = CombinedStopper(MaximumIterationStopper(1000), TimeoutStopper(0.2))
    assert cut_by(run(tmp_path, trainables.forever, name="both", stop=combined), "Timeout")


# -- a stopper's state per trial survives a pause at a rung, as in Ray Tune's driver ------------


@pytest.mark.parametrize("trainable", [trainables.forever, trainables.with_checkpoint_dir])
def test_a_trial_resumed_at_a_rung_is_stopped_where_rays_driver_stops_it(tmp_path, trainable):
    """Promotion-type ASHA pauses trials at 1 and 3 and resumes the best (from a checkpoint,
    or retrained from the start). Ray Tune's one stopper in the driver counts every result of
    the trial, so MaximumIterationStopper(5) ends it at iteration 5; a fresh copy in the
    resumed job that had not been shown the trial's earlier results would end it at 8."""
    scheduler = ASHAScheduler(
        metric="loss", mode="min", max_t=9, grace_period=1, reduction_factor=3, type="promotion"
    )
    analysis = run(
        tmp_path,
        trainable,
        num_samples=9,
        scheduler=scheduler,
        stop=MaximumIterationStopper(5),
    )
    assert max(iterations(analysis)) == 5
    stopped = [t for t in analysis.trials if t.last_result["training_iteration"] == 5]
    assert stopped and all(t.last_result["done"] for t in stopped)
    for trial in stopped:  # each result once, the retrained ones not again
        assert [r["training_iteration"] for r in trial.results] == [1, 2, 3, 4, 5]


# -- tune.get_context() and the factories ---------------------------------------------------------


def test_get_context_answers_as_the_plain_functions(tmp_path):
    analysis = run(tmp_path, trainables.reports_its_context, name="ctx", num_samples=2)
    assert all(t.last_result["same"] for t in analysis.trials)
    assert {t.last_result["experiment"] for t in analysis.trials} == {"ctx"}
    assert tune.get_context().get_trial_id() is None  # outside a run, as tune.get_trial_id()
    with pytest.raises(AttributeError, match="get_world_rank is not provided"):
        tune.get_context().get_world_rank()


def test_create_scheduler_and_searcher_take_rays_names():
    asha = tune.create_scheduler("Async_HyperBand", metric="loss", mode="min", max_t=9)
    assert isinstance(asha, tune.AsyncHyperBandScheduler) and asha.max_t == 9
    assert isinstance(tune.create_scheduler("hb_bohb"), tune.HyperBandForBOHB)
    assert isinstance(tune.create_searcher("random"), tune.BasicVariantGenerator)
    assert isinstance(tune.create_searcher("bohb"), tune.TuneBOHB)


@pytest.mark.parametrize(
    ("factory", "name", "said"),
    [
        (tune.create_scheduler, "pbt", "PBT mutates configs of running trials"),
        (tune.create_scheduler, "asha", "scheduler must be one of ['async_hyperband'"),
        (tune.create_searcher, "hyperopt", "an external library's searcher"),
    ],
)
def test_create_refuses_what_ashasim_refuses_in_one_line(factory, name, said):
    with pytest.raises(ValueError, match=re.escape(said)) as error:
        factory(name)
    one_line(error)


# -- Trial's status constants, is_finished, num_failures and metric_analysis ------------------


def test_a_trials_metric_analysis_summarises_its_results_as_ray_does(tmp_path):
    """quadratic reports loss = x + 1/i for i = 1..10: max at 1, min and last at 10, the mean
    of all, of the last 5 and of the last 10 (Ray Tune 2.60's numbers for the same results were
    compared key by key when this was written: equal)."""
    analysis = run(tmp_path, trainables.quadratic, num_samples=2)
    for trial in analysis.trials:
        x, losses = (
            trial.config["x"],
            [trainables.curve(trial.config["x"], i) for i in range(1, 11)],
        )
        loss = trial.metric_analysis["loss"]
        assert loss["max"] == losses[0] == x + 1 and loss["min"] == loss["last"] == losses[-1]
        assert loss["avg"] == pytest.approx(sum(losses) / 10)
        assert loss["last-5-avg"] == pytest.approx(sum(losses[-5:]) / 5)
        assert loss["last-10-avg"] == pytest.approx(sum(losses) / 10)
        assert trial.metric_analysis["training_iteration"]["last"] == 10
        assert "timestamp" not in trial.metric_analysis and "pid" not in trial.metric_analysis
        assert trial.status == tune.Trial.TERMINATED and trial.is_finished()
        assert trial.num_failures == 0


def test_num_failures_counts_the_retried_failures(tmp_path):
    trainables.FAILED_ONCE.clear()
    analysis = run(tmp_path, trainables.fails_once, name="retried", num_samples=2, max_failures=1)
    assert [t.num_failures for t in analysis.trials] == [1, 1]
    assert all(t.status == tune.Trial.TERMINATED for t in analysis.trials)
