"""What the first pass on the Ray Tune façade left: CLIReporter's total_samples, Ray Tune's
trial name creators, and the trials a time budget leaves unstarted. Each expectation was
recorded from Ray Tune 2.60 (``ray[tune]``) running the same script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ashasim import tune
from ashasim.tune import BayesOptSearch, CLIReporter, TuneError
from ashasim.tune.configs import NAMES_DIR
from ashasim.tune.naming import RESERVED, TrialNaming
from ashasim.tune.trials import Trial
from tests.tune import trainables
from tests.tune.test_run import asha, run

# -- CLIReporter(total_samples=) ----------------------------------------------------------------


def trial(trial_id: int, status: str = "TERMINATED") -> Trial:
    return Trial(trial_id, f"t_{trial_id}", {"x": 0.5}, status, None)


@pytest.mark.parametrize(
    ("total", "line"),
    [
        (None, "Number of trials: 2 (1 RUNNING, 1 TERMINATED)"),
        (7, "Number of trials: 2/7 (1 RUNNING, 1 TERMINATED)"),
        (2**63 - 1, "Number of trials: 2/infinite (1 RUNNING, 1 TERMINATED)"),
    ],
)
def test_total_samples_sizes_the_trial_count_as_rays(total, line):
    reporter = CLIReporter(total_samples=total)
    text = reporter.table(
        [trial(0, "RUNNING"), trial(1)], metric=None, mode=None, varying=["x"], header="", elapsed=1
    )
    assert line in text.splitlines()


def test_total_samples_is_checked():
    with pytest.raises(ValueError, match="total_samples must be an integer >= 0"):
        CLIReporter(total_samples=-3)


def test_tune_run_sets_the_reporters_total_as_ray_does(tmp_path, capsys):
    reporter = CLIReporter(total_samples=99)  # Ray Tune's setup() replaces it
    run(tmp_path, num_samples=3, progress_reporter=reporter, verbose=1, name="a")
    assert "Number of trials: 3/3 (3 TERMINATED)" in capsys.readouterr().out
    run(tmp_path, num_samples=-1, time_budget_s=8, progress_reporter=reporter, verbose=1)
    assert "/infinite (" in capsys.readouterr().out


# -- trial_name_creator, trial_dirname_creator --------------------------------------------------


def test_creators_name_trials_and_their_directories(tmp_path):
    calls = tmp_path / "calls"  # the creator runs in the worker that starts the trial

    def named(t):
        with open(calls, "a") as stream:
            stream.write(f"{t.trial_id}\n")
        return f"{t.trainable_name}-{t.trial_id}-x={t.config['x']:.2f}"

    analysis = run(
        tmp_path,
        trainables.with_checkpoint_dir,
        num_samples=6,
        scheduler=asha(reduction_factor=2, type="promotion"),  # trials pause and resume
        trial_name_creator=named,
        trial_dirname_creator=lambda t: f"dir_{t.trial_id}",
    )
    assert sorted(map(int, calls.read_text().split())) == list(range(6))  # once per trial
    assert analysis.trace.results  # promotions happened: several jobs per trial
    for t in analysis.trials:
        assert str(t) == t.name == f"with_checkpoint_dir-{t.trial_id}-x={t.config['x']:.2f}"
        assert t.logdir == str(tmp_path / "exp" / f"dir_{t.trial_id}")
        assert (Path(t.logdir) / "result.json").exists()
        assert t.results[-1]["training_iteration"] >= 1
    meta = json.loads((tmp_path / "exp" / "tune.json").read_text())
    assert meta["trial_names"]["3"] == [analysis.trials[3].name, "dir_3"]
    assert tune.ExperimentAnalysis(tmp_path / "exp").trials[3].name == analysis.trials[3].name


def test_only_a_name_creator_keeps_rays_directories(tmp_path):
    analysis = run(tmp_path, num_samples=2, trial_name_creator=lambda t: f"n{t.trial_id}")
    assert [t.name for t in analysis.trials] == ["n0", "n1"]
    assert [Path(t.logdir).name for t in analysis.trials] == ["quadratic_00000", "quadratic_00001"]


def test_a_resume_reads_the_names_back_instead_of_calling_again(tmp_path):
    """Every job of a trial after its first (promotions, and the resume, which runs what the
    first call saved, creators included) reads the recorded names."""
    calls = tmp_path / "calls"

    def named(t):
        with open(calls, "a") as stream:
            stream.write(f"{t.trial_id}\n")
        return f"first_{t.trial_id}"

    options = {"num_samples": 8, "scheduler": asha(reduction_factor=2, type="promotion")}
    cut = run(
        tmp_path,
        trainables.with_checkpoint_dir,
        time_budget_s=3,
        trial_dirname_creator=named,
        **options,
    )
    before = {t.trial_id: t.logdir for t in cut.trials if t.logdir}
    assert before and len(before) < 8
    resumed = run(  # the same script run again, as Ray Tune resumes: same arguments
        tmp_path,
        trainables.with_checkpoint_dir,
        resume=True,
        time_budget_s=1000,
        trial_dirname_creator=named,
        **options,
    )
    assert {t.trial_id: t.logdir for t in resumed.trials if t.trial_id in before} == before
    assert [Path(t.logdir).name for t in resumed.trials] == [f"first_{k}" for k in range(8)]
    assert sorted(map(int, calls.read_text().split())) == list(range(8))  # once each


@pytest.mark.parametrize("dirname", ["../escape", "a/b", "..", ".", "/tmp/abs"])
def test_a_directory_name_that_is_not_one_path_component_fails_in_one_line(tmp_path, dirname):
    with pytest.raises(TuneError, match="must be one path component") as error:
        run(tmp_path, num_samples=1, trial_dirname_creator=lambda t: dirname)
    assert "\n" not in str(error.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp"]  # nothing escaped


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("trial_dirname_creator", "trial_dirname_creator gave 'same' for trial 1 as well as"),
        ("trial_name_creator", "trial_name_creator gave 'same' for trial 1 as well as"),
    ],
)
def test_a_name_two_trials_get_is_refused_in_one_line(tmp_path, option, message):
    with pytest.raises(TuneError, match=message) as error:
        run(tmp_path, num_samples=2, num_cpus=1, **{option: lambda t: "same"})
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("dirname", ["journal.jsonl", "summary.json", "checkpoints"])
def test_a_directory_name_the_run_uses_itself_is_refused(tmp_path, dirname):
    with pytest.raises(
        TuneError, match=f"'{dirname}' for trial 0, the name of one of the run's own files"
    ):
        run(tmp_path, num_samples=1, trial_dirname_creator=lambda t: dirname)


def test_creators_are_checked_at_the_call(tmp_path):
    with pytest.raises(TypeError, match="trial_name_creator must be a function of the trial"):
        run(tmp_path, trial_name_creator="name")
    with pytest.raises(TuneError, match="must return a non-empty one-line str, got 3"):
        run(tmp_path, trial_dirname_creator=lambda t: 3)


@given(st.text(min_size=1, max_size=12) | st.sampled_from(sorted(RESERVED)))
def test_a_trial_directory_never_leaves_the_experiment_directory(tmp_path_factory, dirname):
    root = tmp_path_factory.mktemp("root")
    naming = TrialNaming("p", dirname_creator=lambda t: dirname)
    one_component = dirname not in (".", "..") and not any(c in dirname for c in "/\\\0")
    if not one_component or not dirname.strip() or "\n" in dirname or dirname in RESERVED:
        with pytest.raises(TuneError, match="trial_dirname_creator"):
            naming.names(root, 0, {"x": 1})
        return
    name, made = naming.names(root, 0, {"x": 1})
    assert name == "p_00000"
    assert (root / made).resolve().parent == root.resolve()
    assert naming.names(root, 0, {"x": 1}) == (name, made)  # read back, not made again
    assert (root / NAMES_DIR / "0.json").exists()


# -- trials a time budget leaves unstarted ------------------------------------------------------
# Ray Tune 2.60, FIFO, num_samples=6, 2 CPUs, each trial 100 reports, time_budget_s cutting the
# first two trials: 6 trials, all TERMINATED; the first two with results ending done=False, four
# without results; get_all_configs has 6 entries. With max_concurrent_trials=2: 2 trials only.


def budgeted(tmp_path, **options):
    return run(
        tmp_path,
        trainables.forever,
        num_samples=6,
        time_budget_s=5,
        stop={"training_iteration": 100},
        **options,
    )


def test_unstarted_trials_are_listed_terminated_as_ray_lists_them(tmp_path, capsys):
    analysis = budgeted(tmp_path, verbose=1, metric="loss", mode="min")
    assert [t.status for t in analysis.trials] == ["TERMINATED"] * 6
    started, unstarted = analysis.trials[:2], analysis.trials[2:]
    assert all(t.results and t.last_result["done"] is False for t in started)
    assert [t.results for t in unstarted] == [[]] * 4
    assert [t.name for t in unstarted] == [f"forever_0000{k}" for k in range(2, 6)]
    frame = analysis.results_df
    assert len(frame) == 6 and frame["done"].tolist()[:2] == [False, False]
    assert frame["config/x"].isna().tolist() == [False, False, True, True, True, True]
    assert len(analysis.get_all_configs()) == 6
    assert analysis.best_trial in started
    out = capsys.readouterr().out
    assert "time_budget_s ended the run with 4 trials not started" in out
    assert "Number of trials: 6/6 (6 TERMINATED)" in out


def test_a_concurrency_limit_creates_no_trial_beyond_it(tmp_path):
    assert len(budgeted(tmp_path, max_concurrent_trials=2).trials) == 2


def test_a_model_based_searcher_has_one_pending_trial(tmp_path):
    analysis = budgeted(tmp_path, search_alg=BayesOptSearch(), metric="loss", mode="min")
    assert len(analysis.trials) == 3


def test_a_finished_run_lists_no_unstarted_trials(tmp_path):
    analysis = run(tmp_path, num_samples=3, time_budget_s=1000)
    assert len(analysis.trials) == 3
    assert all(t.last_result["done"] for t in analysis.trials)


# -- verbose=2/3, JupyterNotebookReporter(overwrite=), BayesOptSearch(verbose=) ----------------


def test_verbose_2_prints_a_line_per_result_and_3_the_whole_result(tmp_path, capsys):
    run(tmp_path, trainables.losses_3_1_2, name="v2", verbose=2, metric="loss", mode="min")
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Trial ")]
    # Ray Tune 2.60 (classic output): "Trial <name> reported loss=3.00 with parameters={...}."
    assert lines[0].startswith("Trial losses_3_1_2_00000 reported loss=3.00 with parameters={")
    assert lines[-1].endswith(" This trial completed.")
    assert "loss=2.00" in lines[-1]  # the last result, printed although within 5 s
    run(tmp_path, trainables.losses_3_1_2, name="v3", verbose=3, metric="loss", mode="min")
    out = capsys.readouterr().out
    assert "Result for losses_3_1_2_00000:\n  checkpoint_dir_name: " in out  # keys sorted
    assert "\n  done: true\n" in out and "\n  loss: 2.0\n" in out
    assert "\n  config" not in out  # left out, as Ray Tune's pretty_print does
    assert out.count("Trial losses_3_1_2_00000 completed.") == 1
    run(tmp_path, trainables.losses_3_1_2, name="v1", verbose=1, metric="loss", mode="min")
    assert "Result for" not in capsys.readouterr().out


def test_the_notebook_reporter_prints_outside_a_notebook(capsys):
    from ashasim.tune import JupyterNotebookReporter

    reporter = JupyterNotebookReporter(overwrite=False, metric_columns=["loss"])
    assert reporter.overwrite is False and reporter.metric_columns == {"loss": "loss"}
    reporter.report("table")
    assert capsys.readouterr().out == "table\n"


def test_bayesopt_verbose_is_refused_in_one_line():
    with pytest.raises(ValueError, match="BayesOptSearch: verbose not supported"):
        BayesOptSearch(verbose=2)


def test_bayesopt_duplicate_precision_is_taken_at_its_default_and_refused_otherwise():
    """Ray 2.60's BayesOptSearch(repeat_float_precision=5) tunes its duplicate check, which the
    GP does not have: the default is accepted (Ray code passes it), another value refused."""
    BayesOptSearch(repeat_float_precision=5)
    with pytest.raises(ValueError, match="BayesOptSearch: repeat_float_precision not supported"):
        BayesOptSearch(repeat_float_precision=3)


def test_metric_given_to_the_reporter_and_to_tune_run_is_refused_as_ray_does(tmp_path):
    reporter = CLIReporter(metric="loss", mode="min")
    with pytest.raises(ValueError, match="metric/mode were given to tune.run\\(\\) and to the pr"):
        run(tmp_path, progress_reporter=reporter, metric="loss", mode="min")
    analysis = run(tmp_path, name="ok", progress_reporter=reporter, num_samples=2)
    assert len(analysis.trials) == 2
