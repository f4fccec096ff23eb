"""The chapter's code, with only its imports changed, on a tiny CPU objective."""

import pytest

from ashasim.chapter import (
    ASHA,
    PythonBackend,
    Reporter,
    StoppingCriterion,
    Tuner,
    load_experiment,
    loguniform,
    randint,
)

pytestmark = pytest.mark.timeout(300)


def objective(learning_rate, batch_size, max_epochs):
    """Shaped like the chapter's: train epoch by epoch, report the validation error."""
    report = Reporter()
    for epoch in range(1, max_epochs + 1):
        validation_error = abs(learning_rate - 0.1) + 10.0 / batch_size + 0.5 / epoch
        report(epoch=epoch, validation_error=float(validation_error))


def test_the_chapters_code_runs_unchanged(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # runs/<name> is created here
    min_number_of_epochs = 2
    max_number_of_epochs = 6
    eta = 2
    config_space = {
        "learning_rate": loguniform(1e-2, 1),
        "batch_size": randint(32, 256),
        "max_epochs": max_number_of_epochs,
    }
    initial_config = {"learning_rate": 0.1, "batch_size": 128}
    scheduler = ASHA(
        config_space,
        metric="validation_error",
        mode="min",
        points_to_evaluate=[initial_config],
        max_resource_attr="max_epochs",
        resource_attr="epoch",
        grace_period=min_number_of_epochs,
        reduction_factor=eta,
    )
    trial_backend = PythonBackend(tune_function=objective, config_space=config_space)
    stop_criterion = StoppingCriterion(max_wallclock_time=12, max_num_trials_started=10)
    tuner = Tuner(
        trial_backend=trial_backend,
        scheduler=scheduler,
        stop_criterion=stop_criterion,
        n_workers=2,
        print_update_interval=5,
        devices="cpu",
    )
    tuner.run()

    e = load_experiment(tuner.name)
    results = e.results
    assert list(results.columns[:2]) == ["trial_id", "st_tuner_time"]
    assert {"validation_error", "epoch", "learning_rate", "batch_size", "max_epochs"} <= set(
        results.columns
    )
    assert results.trial_id.nunique() >= 2
    first = results[results.trial_id == 0]
    assert (first.learning_rate == 0.1).all()  # points_to_evaluate came first
    # the stopping type (the chapter's default) stops trials at rung 2 or 4, or runs them to 6
    last_epochs = results.groupby("trial_id").epoch.max()
    assert set(last_epochs) <= {2, 4, 6}
    figure = e.plot()
    assert figure.axes[0].get_lines()
    # the chapter's learning-curve plot, from the same DataFrame
    for trial_id in results.trial_id.unique():
        df = results[results["trial_id"] == trial_id]
        assert df["st_tuner_time"].is_monotonic_increasing
    assert "tune" in capsys.readouterr().out  # print_update_interval prints status lines
