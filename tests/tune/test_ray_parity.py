"""Each behaviour of issue 18, as Ray Tune 2.60 behaves (its results recorded in comments), or
the one-line refusal that says what to use instead."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from ashasim import tune
from ashasim.events import JobEnded, load_experiment
from ashasim.tune import HyperBandForBOHB, HyperBandScheduler, TuneError
from ashasim.tune.arguments import REFUSED_ARGUMENTS
from tests.tune import trainables
from tests.tune.test_run import one_line, run


def iterations(analysis) -> list[int]:
    return sorted(t.last_result["training_iteration"] for t in analysis.trials)


# -- 1. HyperBand and BOHB with fewer trials than a bracket -------------------------------------


def test_hyperband_with_fewer_trials_than_a_bracket_trains_the_best_to_max_t(tmp_path, capsys):
    """Ray Tune 2.60: HyperBandScheduler(max_t=9), 4 samples -> [9, 9, 9, 9] (its first bracket
    runs 3 trials straight to max_t). ashasim runs Li et al.'s most aggressive bracket first and
    says so once; its best trial still reaches max_t."""
    scheduler = HyperBandScheduler(metric="loss", mode="min", max_t=9)
    analysis = run(
        tmp_path, trainables.forever, num_samples=4, scheduler=scheduler, verbose=1, seed=2
    )
    assert iterations(analysis) == [1, 3, 3, 9]
    best = analysis.get_best_trial("loss", "min", "last")
    assert best.last_result["training_iteration"] == 9
    printed = capsys.readouterr().out
    assert printed.count("runs Li et al.'s brackets most aggressive first") == 1
    assert "9 trials from 1, 5 trials from 3, 3 trials from 9" in printed


def test_one_sample_of_hyperband_trains_to_max_t(tmp_path):
    """The Ray Tune notes' HyperBand snippet: one sample, max_t 20 -> 20 iterations (was 1)."""
    scheduler = HyperBandScheduler(metric="loss", mode="min", max_t=20)
    analysis = run(tmp_path, trainables.forever, num_samples=1, scheduler=scheduler)
    assert iterations(analysis) == [20]


def test_bohb_with_fewer_trials_than_a_bracket_matches_ray(tmp_path, capsys):
    """Ray Tune 2.60's BOHB (largest bracket first), max_t 9, 6 samples: [1, 1, 1, 3, 3, 9]."""
    scheduler = HyperBandForBOHB(metric="loss", mode="min", max_t=9)
    analysis = run(
        tmp_path,
        trainables.forever,
        num_samples=6,
        scheduler=scheduler,
        search_alg=tune.TuneBOHB(),
        verbose=1,
    )
    assert iterations(analysis) == [1, 1, 1, 3, 3, 9]
    assert "most aggressive first" not in capsys.readouterr().out  # nothing differs from Ray


# -- 2. checkpoints ------------------------------------------------------------------------------


def test_get_best_checkpoint_is_the_one_saved_with_the_best_result(tmp_path):
    """Losses 3, 1, 2: Ray Tune returns the second checkpoint (the newest is the third)."""
    analysis = run(tmp_path, trainables.losses_3_1_2, config={}, metric="loss", mode="min")
    trial = analysis.trials[0]
    best = analysis.get_best_checkpoint(trial, metric="loss", mode="min")
    assert Path(best.path, "loss").read_text() == "1.0"
    assert Path(analysis.get_best_checkpoint(trial, "loss", "max").path, "loss").read_text() == (
        "3.0"
    )
    assert Path(analysis.best_checkpoint.path, "loss").read_text() == "1.0"
    assert Path(analysis.get_last_checkpoint(trial).path, "loss").read_text() == "2.0"


@pytest.mark.parametrize(
    ("score_attr", "kept"), [("min-loss", ["1.0"]), ("loss", ["3.0"]), (None, ["2.0"])]
)
def test_keep_checkpoints_num_keeps_the_best_n(tmp_path, score_attr, kept):
    """keep_checkpoints_num=1: the best by checkpoint_score_attr ("min-" prefix: lower is
    better), or the newest without one; the others are deleted."""
    analysis = run(
        tmp_path,
        trainables.losses_3_1_2,
        config={},
        metric="loss",
        mode="min",
        keep_checkpoints_num=1,
        checkpoint_score_attr=score_attr,
    )
    folders = sorted(Path(analysis.trials[0].logdir).glob("checkpoint_*"))
    assert [Path(f, "loss").read_text() for f in folders] == kept


# -- 3. stop -------------------------------------------------------------------------------------


def ended(analysis) -> list[str]:
    trace = load_experiment(analysis.experiment_path)
    return [e.reason for e in trace.events if type(e) is JobEnded]


def test_stop_dict_ends_a_trial_at_the_first_result_meeting_the_threshold(tmp_path):
    """Ray Tune: stop={"mean_accuracy": 0.9} ends each trial at its first result >= 0.9."""
    config = {"rate": tune.grid_search([0.1, 0.5])}
    analysis = run(tmp_path, trainables.accuracy_climbs, config=config, stop={"mean_accuracy": 0.9})
    by_rate = {t.config["rate"]: t for t in analysis.trials}
    assert by_rate[0.1].last_result["training_iteration"] == 9
    assert by_rate[0.5].last_result["training_iteration"] == 2
    assert all(t.status == "TERMINATED" and t.last_result["done"] for t in analysis.trials)
    assert [r["done"] for r in by_rate[0.1].results].count(True) == 1
    assert ended(analysis) == ["returned", "returned"]  # the scheduler heard the trial end


def test_stop_function_and_stopper(tmp_path):
    def after_four(trial_id, result):
        return result["training_iteration"] >= 4

    class Plateau(tune.Stopper):
        def __call__(self, trial_id, result):
            return result["mean_accuracy"] >= 0.5

    first = run(tmp_path, trainables.accuracy_climbs, name="f", config={}, stop=after_four)
    assert iterations(first) == [4]
    second = run(tmp_path, trainables.accuracy_climbs, name="s", config={}, stop=Plateau())
    assert iterations(second) == [5]


def test_a_stopper_as_ray_documents_it_and_its_stop_all_ends_the_run(tmp_path):
    """Ray Tune's Stopper docstring example (a deadline in stop_all, no trial stopped by
    __call__): the whole run ends at the deadline, every trial TERMINATED, the running jobs cut
    with the reason; a stop_all that stays False changes nothing."""

    class TimeStopper(tune.Stopper):
        def __init__(self, deadline):
            self._start = time.time()
            self._deadline = deadline

        def __call__(self, trial_id, result):
            return False

        def stop_all(self):
            return time.time() - self._start > self._deadline

    fine = run(tmp_path, trainables.accuracy_climbs, name="ok", config={}, stop=TimeStopper(600))
    assert iterations(fine) == [10]
    ended = run(tmp_path, trainables.forever, name="all", stop=TimeStopper(0.3), num_samples=2)
    assert all(trial.status == "TERMINATED" for trial in ended.trials)
    cut = [e for e in ended.trace.events if type(e) is JobEnded and e.reason == "cancelled"]
    assert cut and all("TimeStopper.stop_all() returned True" in e.error for e in cut)
    with pytest.raises(ValueError, match="nested ones joined with '/'"):
        run(tmp_path, stop={"val": {"loss": 1}})


# -- 4. seeds ------------------------------------------------------------------------------------


def test_no_seed_draws_a_fresh_one_which_reproduces_the_run(tmp_path, capsys):
    """Ray Tune draws new configs on every run; ashasim prints and keeps the seed it drew."""
    first = run(tmp_path, name="a", num_samples=3, seed=None, verbose=1)
    second = run(tmp_path, name="b", num_samples=3, seed=None)
    assert first.meta["seed"] != second.meta["seed"]
    assert [t.config for t in first.trials] != [t.config for t in second.trials]
    assert f"seed {first.meta['seed']}" in capsys.readouterr().out
    again = run(tmp_path, name="c", num_samples=3, seed=first.meta["seed"])
    assert [t.config for t in again.trials] == [t.config for t in first.trials]


def test_a_seeded_run_writes_the_same_journal_bytes(tmp_path):
    """Every event byte for byte (the header's settings digest covers the run's own path, and
    the lines' checksums are chained from the header's: they are left out)."""
    journals = []
    for folder in ("x", "y"):
        analysis = run(tmp_path / folder, num_samples=4, seed=7)
        journal = (Path(analysis.experiment_path) / "journal.jsonl").read_bytes()
        journals.append(re.sub(rb', "crc": "[0-9a-f]{8}"', b"", journal.split(b"\n", 1)[1]))
    assert b'"event": "reported"' in journals[0]
    assert journals[0] == journals[1]


# -- 5, 6. arguments, names and trainables -------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REFUSED_ARGUMENTS))
def test_each_refused_argument_is_one_line_naming_it(tmp_path, name):
    with pytest.raises(ValueError, match=f"tune.run\\(\\): {name} is not supported: ") as e:
        run(tmp_path, **{name: "something"})
    one_line(e)


def test_rays_defaults_of_refused_arguments_are_accepted(tmp_path):
    analysis = run(
        tmp_path,
        log_to_file=False,
        checkpoint_freq=0,
        checkpoint_at_end=False,
        callbacks=[],
        reuse_actors=True,
        export_formats=[],
        metric="loss",
        mode="min",
    )
    assert analysis.best_trial is not None


def test_an_argument_ray_does_not_take_is_a_type_error(tmp_path):
    with pytest.raises(TypeError, match="unexpected keyword argument 'max_epochs'"):
        run(tmp_path, max_epochs=3)


def test_a_trainable_that_returns_or_yields_its_results(tmp_path):
    """Ray Tune reports a returned dict (and a yielded number as "_metric")."""
    returned = run(tmp_path, trainables.returns_its_result, name="r", metric="loss", mode="min")
    trial = returned.trials[0]
    assert [r["loss"] for r in trial.results] == [2.0, 1.5, trainables.curve(trial.config["x"], 3)]
    yielded = run(tmp_path, trainables.yields_numbers, name="y")
    assert [r["_metric"] for r in yielded.trials[0].results] == [
        yielded.trials[0].config["x"] + i for i in (1, 2, 3)
    ]


def test_time_budget_as_a_timedelta(tmp_path):
    import datetime

    analysis = run(
        tmp_path,
        num_samples=-1,
        time_budget_s=datetime.timedelta(seconds=20),
        metric="loss",
        mode="min",
    )
    assert analysis.trace.makespan == pytest.approx(20)


# -- 7. fail_fast ----------------------------------------------------------------------------------


def test_fail_fast_stops_at_the_first_error_in_one_line(tmp_path):
    with pytest.raises(TuneError) as e:
        run(tmp_path, trainables.always_fails, num_samples=4, fail_fast=True)
    text = one_line(e)
    assert text.startswith("fail_fast=True: the run stopped at the first failed trial")
    assert "always_fails_0000" in text
    assert "RuntimeError: the data loader broke" in text
    assert text.count("the data loader broke") == 1
    assert "max_failures" not in text


# -- 8. the analysis -----------------------------------------------------------------------------


def test_results_have_rays_keys_and_columns(tmp_path):
    analysis = run(
        tmp_path,
        trainables.losses_3_1_2,
        config={"x": tune.uniform(0, 1)},
        num_samples=2,
        metric="loss",
        mode="min",
    )
    frame = analysis.results_df
    for column in ("done", "experiment_tag", "node_ip", "checkpoint_dir_name", "config/x"):
        assert column in frame.columns, column
    assert frame["done"].tolist() == [True, True]
    assert frame["checkpoint_dir_name"].tolist() == ["checkpoint_000003"] * 2
    trial = analysis.trials[1]
    assert frame.loc[1, "experiment_tag"] == f"1_x={trial.config['x']:.4g}"
    assert [r["done"] for r in trial.results] == [False, False, True]
    assert analysis.best_result["config"] == analysis.best_config
    assert analysis.best_result["done"] is True
    assert analysis.get_all_configs() == {0: analysis.trials[0].config, 1: trial.config}


def test_time_attr_of_seconds_is_refused_at_the_call():
    with pytest.raises(ValueError, match="time_attr='time_total_s' is not supported") as e:
        tune.ASHAScheduler(time_attr="time_total_s", metric="loss", mode="min")
    one_line(e)


def test_a_cli_reporter_without_columns_infers_them(tmp_path, capsys):
    """Ray Tune's CLIReporter() shows the metrics the trials report (up to infer_limit)."""
    run(
        tmp_path,
        trainables.quadratic,
        verbose=3,
        progress_reporter=tune.CLIReporter(print_intermediate_tables=False, max_report_frequency=0),
    )
    out = capsys.readouterr().out
    assert out.count("== Status ==") > 1  # statuses while the run goes, without their tables
    assert out.count("| Trial name") == 1  # the final table only
    header = next(line for line in out.splitlines() if line.startswith("| Trial name"))
    assert "loss" in header and "accuracy" in header and "iter" in header


# -- callbacks -----------------------------------------------------------------------------------


class Recorder(tune.Callback):
    def __init__(self):
        self.calls = []

    def setup(self, stop=None, num_samples=None, **info):
        self.calls.append(("setup", num_samples, info["total_num_samples"]))

    def on_trial_start(self, iteration, trials, trial, **info):
        self.calls.append(("start", trial.trial_id))

    def on_trial_result(self, iteration, trials, trial, result, **info):
        assert trial in trials
        self.calls.append(("result", trial.trial_id, result["training_iteration"], result["loss"]))

    def on_trial_complete(self, iteration, trials, trial, **info):
        self.calls.append(("complete", trial.trial_id))

    def on_trial_error(self, iteration, trials, trial, **info):
        self.calls.append(("error", trial.trial_id))

    def on_experiment_end(self, trials, **info):
        self.calls.append(("end", len(trials)))


def test_callbacks_hear_every_start_result_and_end_in_order(tmp_path):
    recorder = Recorder()
    analysis = run(
        tmp_path,
        num_samples=6,
        scheduler=tune.ASHAScheduler(metric="loss", mode="min", max_t=10, reduction_factor=2),
        callbacks=[recorder],
    )
    calls = recorder.calls
    assert calls[0] == ("setup", 6, 6) and calls[-1] == ("end", 6)
    for trial in analysis.trials:
        mine = [c for c in calls if c[0] != "setup" and c[0] != "end" and c[1] == trial.trial_id]
        expected = [(r["training_iteration"], r["loss"]) for r in trial.results]
        assert mine[0] == ("start", trial.trial_id)
        assert [c[2:] for c in mine[1:-1]] == expected
        assert mine[-1] == ("complete", trial.trial_id)


def test_callbacks_hear_errors_and_are_checked(tmp_path):
    recorder = Recorder()
    run(
        tmp_path,
        trainables.always_fails,
        num_samples=2,
        callbacks=[recorder],
        raise_on_failed_trial=False,
    )
    assert sorted(c for c in recorder.calls if c[0] == "error") == [("error", 0), ("error", 1)]
    with pytest.raises(ValueError, match="callbacks: .* is not a tune.Callback"):
        run(tmp_path, callbacks=[print])
