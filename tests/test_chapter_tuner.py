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
    return Tuner(
        trial_backend=PythonBackend(tune_function=objective, config_space=SPACE),
        scheduler=scheduler,
        stop_criterion=StoppingCriterion(max_num_trials_started=trials),
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


@pytest.mark.parametrize(
    "criterion",
    [
        {"max_num_evaluations": 10},
        {"max_num_trials_completed": 3},
        {"max_cost": 1.0},
        {"min_metric_value": {"loss": 0.1}},
    ],
)
def test_syne_tunes_other_stopping_criteria_are_refused_by_name(criterion):
    (name,) = criterion
    with pytest.raises(ValueError, match=f"StoppingCriterion: {name} not supported") as error:
        StoppingCriterion(max_wallclock_time=10, **criterion)
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
