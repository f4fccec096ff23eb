"""Syne Tune's Tuner, StoppingCriterion, PythonBackend and load_experiment arguments on the
chapter façade: the same meaning as in Syne Tune 0.14, or a one-line refusal."""

from __future__ import annotations

import re

import pytest

from ashasim.chapter import (
    ASHA,
    PythonBackend,
    Reporter,
    StoppingCriterion,
    Tuner,
    load_experiment,
    uniform,
)
from ashasim.driver import RunError
from ashasim.events import JobEnded

SPACE = {"x": uniform(0, 1), "epochs": 3}


def fails(x, epochs):
    raise RuntimeError("this objective always fails")


def trains(x, epochs):
    report = Reporter()
    for epoch in range(1, epochs + 1):
        report(epoch=epoch, loss=x / epoch)


def tuner(tmp_path, objective=trains, trials=6, **options):
    scheduler = ASHA(SPACE, metric="loss", max_resource_attr="epochs", random_seed=0)
    options.setdefault("experiment_dir", tmp_path / "run")
    options.setdefault("stop_criterion", StoppingCriterion(max_num_trials_started=trials))
    return Tuner(
        trial_backend=PythonBackend(tune_function=objective, config_space=SPACE),
        scheduler=scheduler,
        n_workers=1,
        backend="fake",
        quiet=True,
        **options,
    )


def failed_jobs(directory) -> int:
    trace = load_experiment(directory).trace
    return sum(type(e) is JobEnded and e.reason == "failed" for e in trace.events)


@pytest.mark.parametrize(("max_failures", "failed"), [(None, 2), (0, 1), (3, 4)])
def test_max_failures_stops_the_run_once_more_trials_failed_as_in_syne_tune(
    tmp_path, max_failures, failed
):
    """Syne Tune's Tuner(max_failures=1) (its default) ends the run at the second failed trial:
    more failures than it allows. ashasim's own limit counts failures in a row (10)."""
    options = {} if max_failures is None else {"max_failures": max_failures}
    run = tuner(tmp_path, fails, trials=10, **options)
    with pytest.raises(RunError, match=f"{failed} trials failed, more than max_failed_trials="):
        run.run()
    assert failed_jobs(tmp_path / "run") == failed


def test_tuner_name_is_suffixed_with_the_time_unless_told_not_to(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # runs/<name> is made here
    named = tuner(tmp_path, tuner_name="my-exp", experiment_dir=None)
    assert re.fullmatch(r"my-exp-\d{4}(-\d\d){5}-\d{3}", named.name)
    exact = tuner(tmp_path, tuner_name="exact", suffix_tuner_name=False, experiment_dir=None)
    assert exact.name == "exact"
    exact.run()
    assert len(load_experiment("exact").results) > 0


def test_polling_periods_change_nothing_and_are_taken(tmp_path):
    """sleep_time and results_update_interval pace Syne Tune's polling loop; ashasim reacts to
    each message and journals each result at once, so the run is the same."""
    plain = tuner(tmp_path / "a").run()
    paced = tuner(tmp_path / "b", sleep_time=0.1, results_update_interval=60).run()
    assert [r[1:] for r in plain.results] == [r[1:] for r in paced.results]


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ({"asynchronous_scheduling": False}, "asynchronous_scheduling: only True is supported"),
        ({"callbacks": [object()]}, "callbacks: only None is supported"),
        ({"save_tuner": False}, "save_tuner: only True is supported"),
        ({"wait_trial_completion_when_stopping": True}, "only False is supported"),
        ({"tuner_name": "a", "name": "b"}, "give tuner_name (Syne Tune's) or name (ashasim's)"),
        ({"max_failures": -1}, "max_failures"),
    ],
)
def test_a_tuner_argument_ashasim_cannot_honour_is_refused_in_one_line(tmp_path, options, said):
    with pytest.raises(ValueError, match=re.escape(said)) as error:
        tuner(tmp_path, **options)
    assert "\n" not in str(error.value)


def finished_trials(trace, *reasons: str) -> set[int]:
    return {
        e.trial_id
        for e in trace.events
        if type(e) is JobEnded
        and (e.reason in reasons or (e.reason == "milestone" and e.resource >= SPACE["epochs"]))
    }


@pytest.mark.parametrize(
    ("criterion", "counted"),
    [
        ({"max_num_evaluations": 12}, lambda trace: len(trace.results)),
        ({"max_num_trials_completed": 2}, lambda trace: len(finished_trials(trace, "returned"))),
        (
            {"max_num_trials_finished": 3},
            lambda trace: len(finished_trials(trace, "returned", "stopped", "failed")),
        ),
    ],
)
def test_syne_tunes_counts_stop_the_run_once_more_than_n(tmp_path, criterion, counted):
    """Syne Tune stops once *more* than N results (trials completed, finished) are in: N + 1,
    running jobs cancelled with the reason; the plain run would have gone on."""
    (n,) = criterion.values()
    plain = tuner(tmp_path / "plain", trials=12).run()
    stop = StoppingCriterion(max_num_trials_started=12, **criterion)
    stopped = tuner(tmp_path / "stopped", trials=12, stop_criterion=stop).run()
    assert counted(stopped) == n + 1 < counted(plain)
    cancelled = [e for e in stopped.events if type(e) is JobEnded and e.reason == "cancelled"]
    assert all("Stop(" in e.error for e in cancelled)


def test_a_metric_threshold_stops_the_run_at_the_first_result_past_it(tmp_path):
    plain = tuner(tmp_path / "plain", trials=12).run()
    first = next(r for r in plain.results if r.metric < 0.05)
    stop = StoppingCriterion(max_num_trials_started=12, min_metric_value={"loss": 0.05})
    stopped = tuner(tmp_path / "stopped", trials=12, stop_criterion=stop).run()
    assert stopped.results[-1].metric == first.metric
    assert all(r.metric >= 0.05 for r in stopped.results[:-1])


@pytest.mark.parametrize(
    ("criterion", "said"),
    [
        ({"max_cost": 1.0}, "StoppingCriterion: max_cost not supported"),
        ({"max_metric_value": {"accuracy": 0.9}}, "watches the scheduler's metric 'loss' only"),
        ({"max_num_evaluations": -1}, "max_num_evaluations must be"),
        ({"min_metric_value": 0.1}, "min_metric_value must be a dict"),
    ],
)
def test_a_criterion_ashasim_cannot_watch_is_refused_in_one_line(tmp_path, criterion, said):
    with pytest.raises(ValueError, match=re.escape(said)) as error:
        tuner(tmp_path, stop_criterion=StoppingCriterion(max_wallclock_time=10, **criterion))
    assert "\n" not in str(error.value)


def test_backend_and_load_experiment_take_syne_tunes_arguments(tmp_path, monkeypatch):
    PythonBackend(trains, SPACE, rotate_gpus=True, delete_checkpoints=False)
    with pytest.raises(ValueError, match="delete_checkpoints: only False is supported"):
        PythonBackend(trains, SPACE, delete_checkpoints=True)
    tuner(tmp_path, experiment_dir=tmp_path / "elsewhere" / "kept").run()
    monkeypatch.chdir(tmp_path)  # not where the run is: local_path finds it
    found = load_experiment("kept", local_path=tmp_path / "elsewhere")
    assert len(found.results) > 0
    with pytest.raises(ValueError, match="load_tuner: only False is supported"):
        load_experiment("kept", load_tuner=True, local_path=tmp_path / "elsewhere")
