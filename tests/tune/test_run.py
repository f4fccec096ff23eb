"""``tune.run`` on the in-process FakeBackend: Ray Tune's arguments mean what they mean in Ray
Tune, and the run is ashasim's (journal, resume, trace)."""

from __future__ import annotations

import pickle
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from ashasim import tune
from ashasim.core import ASHA, AsyncHyperband, SyncHyperband
from ashasim.events import JobEnded, JobStarted
from ashasim.search import KDESearcher
from ashasim.tune import (
    ASHAScheduler,
    BayesOptSearch,
    CLIReporter,
    ConcurrencyLimiter,
    ExperimentAnalysis,
    HyperBandForBOHB,
    HyperBandScheduler,
    TuneBOHB,
    TuneError,
)
from tests.tune import trainables

SPACE = {"x": tune.uniform(0.0, 1.0)}


def run(tmp_path, trainable=trainables.quadratic, *, name="exp", epoch_seconds=1.0, **kwargs):
    kwargs.setdefault("config", SPACE)
    kwargs.setdefault("verbose", 0)
    kwargs.setdefault("num_cpus", 2)
    kwargs.setdefault("seed", 0)  # the same configs on every run of the suite
    return tune.run(
        trainable,
        name=name,
        storage_path=tmp_path,
        backend="fake",
        backend_options={"epoch_seconds": epoch_seconds},
        **kwargs,
    )


def asha(**options):
    return ASHAScheduler(metric="loss", mode="min", max_t=10, grace_period=1, **options)


def max_running(trace) -> int:
    running = peak = 0
    for event in trace.events:
        if type(event) is JobStarted:
            running += 1
            peak = max(peak, running)
        elif type(event) is JobEnded:
            running -= 1
    return peak


# -- trials and configs -------------------------------------------------------------------------


def test_num_samples_times_the_grid_and_a_seeded_sample_from(tmp_path):
    """grid_search: every value num_samples times; sample_from (numpy's global generator in a
    lambda) gives the same configs on every run with the same seed, others with another."""
    config = {
        "opt": tune.grid_search(["sgd", "adam", "rms"]),
        "l1": tune.sample_from(lambda _: 2 ** np.random.randint(2, 9)),
        "x": tune.uniform(0, 1),
    }

    def configs(name, seed):
        analysis = run(tmp_path, name=name, config=config, num_samples=2, seed=seed)
        return [t.config for t in analysis.trials]

    first, again, other = configs("a", 3), configs("b", 3), configs("c", 4)
    assert len(first) == 6
    assert Counter(c["opt"] for c in first) == {"sgd": 2, "adam": 2, "rms": 2}
    assert first == again
    assert [c["l1"] for c in first] != [c["l1"] for c in other]
    assert {c["l1"] for c in first} <= {4, 8, 16, 32, 64, 128, 256}


def test_the_trainable_gets_its_config_nested_and_runs_in_its_trial_directory(tmp_path):
    config = {"x": tune.uniform(0, 1), "model": {"width": tune.choice([8, 16]), "depth": 2}}
    analysis = run(
        tmp_path, trainables.nested, config=config, num_samples=3, metric="loss", mode="min"
    )
    for trial in analysis.trials:
        assert set(trial.config) == {"x", "model"}
        assert trial.config["model"]["depth"] == 2
        assert trial.last_result["dir"] == trial.logdir == str(tmp_path / "exp" / trial.name)
    frame = analysis.results_df
    assert {"config/x", "config/model/width", "config/model/depth"} <= set(frame.columns)


def test_files_a_trainable_writes_land_in_its_trial_directory(tmp_path, monkeypatch):
    """Even with the FakeBackend's workers taking turns in one process (two at once here), and
    the caller's working directory is back as it was."""
    monkeypatch.chdir(tmp_path)
    analysis = run(tmp_path, config=SPACE, num_samples=4, scheduler=asha(reduction_factor=2))
    assert Path.cwd() == tmp_path
    for trial in analysis.trials:
        with open(Path(trial.logdir) / "model.pth", "rb") as stream:
            model = pickle.load(stream)
        assert model["x"] == trial.config["x"]
        # written after each report: the report that ends the trial unwinds it before the write
        assert model["iteration"] == trial.last_result["training_iteration"] - 1
    assert not (tmp_path / "model.pth").exists()


def test_chapter_style_trainables_and_with_parameters(tmp_path):
    config = {"x": tune.uniform(0, 1), "max_epochs": 4}
    analysis = run(
        tmp_path,
        trainables.chapter_style,
        name="a",
        config=config,
        num_samples=2,
        metric="loss",
        mode="min",
    )
    assert [t.last_result["training_iteration"] for t in analysis.trials] == [4, 4]
    trainable = tune.with_parameters(trainables.with_data, data={"offset": 10.0})
    analysis = run(tmp_path, trainable, name="b", num_samples=2, metric="loss", mode="min")
    assert all(t.last_result["loss"] > 10 for t in analysis.trials)


# -- schedulers on a run -------------------------------------------------------------------------


def test_stopping_asha_stops_trials_and_the_rest_end_by_returning(tmp_path):
    """ASHA's default max_t is 100, the trainable reports 10 times: the trials ASHA does not stop
    return at 10 (TERMINATED in Ray Tune's words); no trial is an error."""
    analysis = run(tmp_path, num_samples=12, scheduler=ASHAScheduler(metric="loss", mode="min"))
    reasons = Counter(e.reason for e in analysis.trace.events if type(e) is JobEnded)
    assert set(reasons) == {"stopped", "returned"}
    assert {t.status for t in analysis.trials} == {"TERMINATED"}
    iterations = sorted(t.last_result["training_iteration"] for t in analysis.trials)
    assert iterations[0] in (1, 4) and iterations[-1] == 10


def test_promotion_asha_resumes_promoted_trials_from_their_checkpoint_directories(tmp_path):
    """type="promotion" pauses trials at rungs; a promoted trial gets its checkpoint directory
    back (Ray Tune 1.x checkpoint_dir argument): it never retrains an iteration, and its
    training_iteration goes on from the checkpoint."""
    scheduler = ASHAScheduler(
        metric="loss", mode="min", max_t=9, grace_period=1, reduction_factor=3, type="promotion"
    )
    analysis = run(tmp_path, trainables.with_checkpoint_dir, num_samples=9, scheduler=scheduler)
    promoted = [t for t in analysis.trials if t.last_result["training_iteration"] > 1]
    assert promoted
    for trial in analysis.trials:
        for result in trial.results:
            assert result["trained"] == result["training_iteration"] == result["step"]
    assert [e.resume_from for e in analysis.trace.events if type(e) is JobStarted].count(0) == 9
    best = analysis.get_best_trial("loss", "min")
    checkpoint = analysis.get_best_checkpoint(best)
    assert (Path(checkpoint) / "state.json").read_text() == (
        f'{{"step": {best.last_result["step"]}, "trained": {best.last_result["trained"]}}}'
    )


def test_ray2_checkpoints_and_synchronous_hyperband(tmp_path):
    """HyperBandScheduler pauses every trial at its rung barrier; with tune.get_checkpoint() and
    tune.report(checkpoint=...) the promoted ones continue where they paused."""
    scheduler = HyperBandScheduler(metric="loss", mode="min", max_t=9, reduction_factor=3)
    analysis = run(tmp_path, trainables.with_get_checkpoint, num_samples=12, scheduler=scheduler)
    assert analysis.trace.info["scheduler"]["name"] == "SyncHyperband"
    assert analysis.trace.info["scheduler"]["overlap"] == "always"
    assert any(e.resume_from > 0 for e in analysis.trace.events if type(e) is JobStarted)
    for trial in analysis.trials:
        assert [r["trained"] for r in trial.results] == [
            r["training_iteration"] for r in trial.results
        ]


def test_time_attr_names_a_reported_key(tmp_path):
    scheduler = ASHAScheduler(
        time_attr="epoch", metric="loss", mode="min", max_t=12, grace_period=2, reduction_factor=2
    )
    analysis = run(tmp_path, trainables.by_epoch, num_samples=6, scheduler=scheduler)
    levels = analysis.trace.info["scheduler"]["rung_levels"]
    assert levels == [2, 4, 8, 12]
    assert {r.resource for r in analysis.trace.results} <= {2, 4, 6, 8, 10, 12}
    assert max(t.last_result["training_iteration"] for t in analysis.trials) == 6


def test_stop_on_training_iteration_caps_max_t_and_fifo_runs_to_it(tmp_path):
    analysis = run(
        tmp_path,
        trainables.forever,
        num_samples=3,
        stop={"training_iteration": 4},
        metric="loss",
        mode="min",
    )
    assert [t.last_result["training_iteration"] for t in analysis.trials] == [4, 4, 4]
    assert analysis.trace.info["scheduler"]["name"] == "RandomSearch"


def test_concurrency_limiter_caps_the_running_trials(tmp_path):
    search = ConcurrencyLimiter(tune.BasicVariantGenerator(), max_concurrent=2)
    analysis = run(
        tmp_path, name="limited", num_samples=8, search_alg=search, scheduler=asha(), num_cpus=8
    )
    assert analysis.trace.n_workers == 2
    assert max_running(analysis.trace) == 2
    unlimited = run(tmp_path, name="free", num_samples=8, scheduler=asha(), num_cpus=8)
    assert unlimited.trace.n_workers == 8


def test_model_based_searchers_by_their_ray_names(tmp_path):
    analysis = run(
        tmp_path,
        name="bohb",
        num_samples=10,
        search_alg=TuneBOHB(bohb_config={"min_points_in_model": 3, "top_n_percent": 30}),
        scheduler=HyperBandForBOHB(metric="loss", mode="min", max_t=9),
    )
    searcher = analysis.trace.info["scheduler"]["searcher"]
    assert searcher["name"] == "KDESearcher" and searcher["min_points"] == 3
    assert searcher["top_fraction"] == pytest.approx(0.3)
    assert searcher["num_samples"] == 64  # HpBandSter's default (ashasim's own KDE draws 24)
    analysis = run(
        tmp_path,
        name="bo",
        num_samples=8,
        search_alg=BayesOptSearch(random_search_steps=4, metric="loss", mode="min"),
        scheduler=ASHAScheduler(max_t=10),
    )
    searcher = analysis.trace.info["scheduler"]["searcher"]
    assert searcher["name"] == "GPSearcher" and searcher["random_search_steps"] == 4
    assert len(analysis.trials) == 8


# -- what tune.run builds -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scheduler", "kind", "settings"),
    [
        (asha(), ASHA, {"type": "stopping", "max_t": 10, "grace_period": 1, "reduction_factor": 4}),
        (asha(type="promotion"), ASHA, {"type": "promotion", "reduction_factor": 4}),
        (asha(brackets=2, reduction_factor=2), AsyncHyperband, {"type": "stopping"}),
        (HyperBandScheduler(metric="loss", mode="min", max_t=9), SyncHyperband, {"max_t": 9}),
    ],
)
def test_each_scheduler_maps_onto_its_ashasim_class(scheduler, kind, settings):
    from ashasim.search import VariantSearcher

    flat = {"x": tune.uniform(0, 1)}
    core = scheduler.build(
        flat, metric="loss", mode="min", max_trials=5, seed=0, searcher=VariantSearcher(5)
    )
    assert type(core) is kind
    described = core.describe()
    assert {k: described[k] for k in settings} == settings
    assert (core.metric, core.mode, core.resource_attr) == ("loss", "min", "training_iteration")
    if kind is AsyncHyperband:
        assert len(core.bracket_probabilities) == 2


def test_searcher_instances_of_ashasim_are_used_as_they_are(tmp_path):
    searcher = KDESearcher(min_points=2)
    analysis = run(tmp_path, num_samples=6, search_alg=searcher, scheduler=asha())
    assert analysis.trace.info["scheduler"]["searcher"]["min_points"] == 2


# -- errors a Ray Tune user makes: one clear line -------------------------------------------------


def one_line(error) -> str:
    text = str(error.value)
    assert "\n" not in text, text
    return text


def test_metric_and_mode_both_or_neither(tmp_path):
    with pytest.raises(
        ValueError, match="given to tune.run.. and to the AsyncHyperBandScheduler"
    ) as e:
        run(tmp_path, scheduler=asha(), metric="loss", mode="min")
    one_line(e)
    with pytest.raises(
        ValueError,
        match="AsyncHyperBandScheduler with BasicVariantGenerator needs a metric and a mode",
    ) as e:
        run(tmp_path, scheduler=ASHAScheduler())
    one_line(e)
    with pytest.raises(ValueError, match="give metric and mode together"):
        run(tmp_path, metric="loss")
    with pytest.raises(ValueError, match="optimizes"):
        run(tmp_path, scheduler=asha(), search_alg=BayesOptSearch(metric="acc", mode="max"))


def test_a_trainable_that_never_reports(tmp_path):
    with pytest.raises(TuneError, match="returned without calling tune.report") as e:
        run(tmp_path, trainables.never_reports, num_samples=2, scheduler=asha())
    one_line(e)


def test_a_metric_no_report_contains(tmp_path):
    with pytest.raises(
        TuneError, match=r"tune.report\(\) got no 'loss'.*reported \['mean_loss'"
    ) as e:
        run(tmp_path, trainables.wrong_metric, num_samples=12, scheduler=asha())
    one_line(e)


def test_a_sample_from_that_raises_stops_before_anything_runs(tmp_path):
    config = {"x": tune.sample_from(lambda spec: spec.config.y)}
    with pytest.raises(ValueError, match="sample_from for 'x'.*no value 'y'") as e:
        run(tmp_path, config=config, scheduler=asha())
    one_line(e)
    assert not (tmp_path / "exp").exists()


def test_more_gpus_than_exist(tmp_path):
    with pytest.raises(
        ValueError, match=r"asks for 2 GPU\(s\) per trial, but there is no GPU"
    ) as e:
        run(tmp_path, resources_per_trial={"cpu": 1, "gpu": 2}, num_gpus=0, scheduler=asha())
    one_line(e)


def test_model_searchers_refuse_sample_from_and_grid_search_by_name(tmp_path):
    config = {
        "lr": tune.sample_from(lambda _: 10 ** (-10 * np.random.rand())),
        "m": tune.uniform(0.1, 0.9),
    }
    search = ConcurrencyLimiter(BayesOptSearch(random_search_steps=4), max_concurrent=2)
    with pytest.raises(
        ValueError,
        match="config parameter 'lr': ConcurrencyLimiter.BayesOptSearch. cannot model tune.sample_from",
    ) as e:
        run(tmp_path, config=config, search_alg=search, scheduler=asha())
    one_line(e)
    with pytest.raises(ValueError, match="TuneBOHB cannot use tune.grid_search"):
        run(
            tmp_path,
            config={"x": tune.grid_search([1, 2])},
            search_alg=TuneBOHB(),
            scheduler=asha(),
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"search_alg": object()},
            "search_alg object is not supported; available: BasicVariantGenerator",
        ),
        ({"search_alg": "hyperopt"}, "give an object"),
        ({"scheduler": object()}, "scheduler object is not supported; available: FIFOScheduler"),
        (
            {"stop": "loss"},
            "stop must be a dict of result thresholds, a function .trial_id, result. -> bool",
        ),
        ({"stop": {"loss": "low"}}, r"stop\['loss'\] must be a number"),
        ({"fail_fast": "raise"}, "fail_fast='raise' is not supported"),
        ({"keep_checkpoints_num": 0}, "keep_checkpoints_num must be an integer >= 1"),
        ({"max_failures": -1}, "max_failures=-1 .retry a failed trial for ever. is not supported"),
        ({"max_failures": 1.5}, "max_failures must be an integer"),
        ({"resources_per_trial": {"cpu": 1, "memory": 10}}, r"\['memory'\] not supported"),
        ({"num_samples": -1}, "num_samples=-1 .no limit. needs time_budget_s"),
        ({"config": {"a/b": 1}}, "keys must be non-empty strings without '/'"),
        (
            {"config": {"layers": [tune.choice([1, 2])]}},
            "a list holding tune domains is not supported",
        ),
        (
            {"config": {"data": object()}},
            r"config\['data'\]: cannot write .* pass other objects with tune.with_parameters",
        ),
    ],
)
def test_unsupported_arguments_say_what_is_available(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message) as e:
        run(tmp_path, **kwargs)
    one_line(e)


def test_scheduler_arguments_are_checked_when_built():
    with pytest.raises(
        ValueError, match="grace_period must be <= max_t: got grace_period=5, max_t=3"
    ):
        ASHAScheduler(max_t=3, grace_period=5)
    with pytest.raises(ValueError, match="reduction_factor must be an integer >= 2 in ashasim"):
        ASHAScheduler(reduction_factor=2.5)
    with pytest.raises(ValueError, match="stop_last_trials=False is not supported"):
        HyperBandScheduler(stop_last_trials=False)
    with pytest.raises(ValueError, match="mode must be one of 'min', 'max'"):
        ASHAScheduler(mode="minimize")


def test_names_left_out_say_why():
    with pytest.raises(ImportError, match="does not provide PopulationBasedTraining: PBT mutates"):
        from ashasim.tune import PopulationBasedTraining  # noqa: F401
    with pytest.raises(AttributeError):
        _ = tune.no_such_thing


# -- reporting, analysis, resume ----------------------------------------------------------------


def test_the_status_table_is_printed_and_verbose_0_is_silent(tmp_path, capsys):
    reporter = CLIReporter(
        metric_columns=["loss", "accuracy", "training_iteration"], max_report_frequency=0
    )
    run(
        tmp_path,
        name="loud",
        num_samples=4,
        scheduler=asha(),
        progress_reporter=reporter,
        verbose=3,
    )
    out = capsys.readouterr().out
    final = out[out.rindex("== Status == (final)") :]
    assert "Number of trials: 4/4 (4 TERMINATED)" in final
    header = next(line for line in final.splitlines() if line.startswith("| Trial name"))
    assert [c.strip() for c in header.strip("|").split("|")] == [
        "Trial name",
        "status",
        "x",
        "loss",
        "accuracy",
        "iter",
    ]
    assert all(f"quadratic_0000{k}" in final for k in range(4))
    assert out.count("| Trial name") > 1  # tables while the run went, too (verbose=3)
    run(tmp_path, name="v1", num_samples=4, scheduler=asha(), progress_reporter=reporter, verbose=1)
    out = capsys.readouterr().out  # Ray Tune's verbose=1: statuses without the table of trials
    assert "Number of trials: 4/4 (4 TERMINATED)" in out and "| Trial name" not in out
    run(tmp_path, name="v2", num_samples=4, scheduler=asha(), progress_reporter=reporter, verbose=2)
    out = capsys.readouterr().out  # verbose=2: the final status has the table
    assert out.count("| Trial name") == 1 and "(final)\n" in out
    run(tmp_path, name="quiet", num_samples=4, scheduler=asha(), verbose=0)
    assert capsys.readouterr().out == ""


def test_errored_trials_are_listed_and_raise_at_the_end(tmp_path, capsys):
    with pytest.raises(TuneError, match="2 of 2 trials failed") as e:
        run(tmp_path, trainables.never_reports, num_samples=2, scheduler=asha(), verbose=1)
    assert str(tmp_path / "exp") in one_line(e)
    out = capsys.readouterr().out
    assert "Number of errored trials: 2" in out
    analysis = ExperimentAnalysis(tmp_path / "exp")
    assert [t.status for t in analysis.trials] == ["ERROR", "ERROR"]
    analysis = run(
        tmp_path,
        trainables.never_reports,
        name="b",
        num_samples=2,
        scheduler=asha(),
        raise_on_failed_trial=False,
    )
    assert "returned without calling tune.report" in analysis.trials[0].error


def test_the_analysis_loads_again_from_its_directory(tmp_path):
    analysis = run(tmp_path, num_samples=6, scheduler=asha(reduction_factor=2))
    again = ExperimentAnalysis(str(tmp_path / "exp"))
    assert [t.config for t in again.trials] == [t.config for t in analysis.trials]
    assert again.best_config == analysis.best_config == analysis.get_best_config("loss", "min")
    assert again.best_result == analysis.best_trial.last_result
    assert again.trace.summary() == analysis.trace.summary()
    frames = again.trial_dataframes
    assert set(frames) == {t.logdir for t in again.trials}
    frame = frames[again.best_logdir]
    assert list(frame["training_iteration"]) == list(range(1, len(frame) + 1))
    assert {"time_total_s", "timestamp", "time_this_iter_s", "loss", "accuracy"} <= set(
        frame.columns
    )
    assert frame["time_total_s"].is_monotonic_increasing


def test_scopes_of_the_best_trial(tmp_path):
    """ "last" ranks by the last result, "all" by the best result ever, "avg" by the mean."""
    analysis = run(tmp_path, num_samples=8, scheduler=asha(reduction_factor=2))
    losses = {t.trial_id: [r["loss"] for r in t.results] for t in analysis.trials}
    for scope, value in (
        ("last", lambda v: v[-1]),
        ("all", min),
        ("avg", np.mean),
        ("last-5-avg", lambda v: np.mean(v[-5:])),
    ):
        best = analysis.get_best_trial("loss", "min", scope)
        assert value(losses[best.trial_id]) == min(value(v) for v in losses.values())
    worst = analysis.get_best_trial("loss", "max", "last")
    assert worst.last_result["loss"] == max(v[-1] for v in losses.values())
    with pytest.raises(ValueError, match="scope must be one of"):
        analysis.get_best_trial("loss", "min", "best")
    assert analysis.get_best_trial("no_such_metric", "min") is None


def test_fifo_without_a_metric_runs_and_asks_for_one_to_pick_the_best(tmp_path):
    analysis = run(tmp_path, num_samples=3)
    assert len(analysis.trials) == 3
    with pytest.raises(ValueError, match="best_config needs a metric and a mode"):
        _ = analysis.best_config
    assert analysis.get_best_config("accuracy", "max") == max(
        (t.config for t in analysis.trials), key=lambda c: 1 - c["x"]
    )


def test_a_run_cut_by_its_time_budget_resumes_to_the_uninterrupted_result(tmp_path):
    """time_budget_s cuts the run (trials TERMINATED, as Ray Tune says; a resume continues them); resume=True with a
    longer budget ends it, with the very results of a run that was never cut."""
    options = {"num_samples": 8, "scheduler": asha(reduction_factor=2, type="promotion"), "seed": 5}
    full = run(tmp_path, trainables.with_checkpoint_dir, name="full", **options)
    cut = run(tmp_path, trainables.with_checkpoint_dir, name="cut", time_budget_s=12, **options)
    assert {t.status for t in cut.trials} == {"TERMINATED"}  # Ray Tune's status after the run
    assert not cut.meta["finished"]  # yet resumable
    resumed = run(
        tmp_path,
        trainables.with_checkpoint_dir,
        name="cut",
        resume=True,
        time_budget_s=1000,
        **options,
    )
    assert resumed.meta["finished"]
    assert [(r.trial_id, r.resource, r.metric) for r in resumed.trace.results] == [
        (r.trial_id, r.resource, r.metric) for r in full.trace.results
    ]
    assert [t.status for t in resumed.trials] == [t.status for t in full.trials]
    again = run(tmp_path, name="full", verbose=1, **options)  # Ray Tune runs new trials
    assert Path(again.experiment_path) == tmp_path / "full_2"
    assert len(again.trials) == len(full.trials)
    with pytest.raises(ValueError, match="holds no run to resume"):
        run(tmp_path, name="never", resume=True, **options)


def test_unlimited_samples_until_the_time_budget(tmp_path):
    analysis = run(tmp_path, num_samples=-1, time_budget_s=30, scheduler=asha(reduction_factor=2))
    assert len(analysis.trials) > 5
    assert analysis.trace.makespan == pytest.approx(30)


def test_the_analysis_tables_and_checkpoints(tmp_path):
    scheduler = ASHAScheduler(
        metric="loss", mode="min", max_t=9, grace_period=1, reduction_factor=3
    )
    analysis = run(tmp_path, trainables.with_checkpoint_dir, num_samples=6, scheduler=scheduler)
    best = analysis.best_trial
    per_trial = analysis.dataframe("loss", "min")
    assert len(per_trial) == 6
    for trial in analysis.trials:
        row = per_trial[per_trial["trial_id"] == trial.trial_id].iloc[0]
        assert row["loss"] == min(r["loss"] for r in trial.results)
        assert row["logdir"] == trial.logdir
    last = analysis.dataframe()
    assert list(last["loss"]) == [t.last_result["loss"] for t in analysis.trials]
    assert list(analysis.best_dataframe["loss"]) == [r["loss"] for r in best.results]
    assert analysis.best_result_df.index.tolist() == [best.trial_id]
    assert analysis.results == {t.trial_id: t.last_result for t in analysis.trials}
    assert analysis.get_all_configs() == {t.trial_id: t.config for t in analysis.trials}
    path = analysis.get_best_checkpoint(best, return_path=True)
    assert path == analysis.best_checkpoint.path == str(Path(best.logdir) / "checkpoint_000009")
    assert (Path(path) / "state.json").exists()
    assert analysis.get_last_checkpoint(best) == analysis.best_checkpoint


def test_max_failures_retries_a_failed_trial_from_its_last_report(tmp_path):
    """Ray Tune's max_failures: a trial whose trainable raises is run again from its last
    report, and its results are complete; without it the trial fails."""
    trainables.FAILED_ONCE.clear()
    analysis = run(tmp_path, trainables.fails_once, name="retried", num_samples=3, max_failures=1)
    assert all(trial.status == "TERMINATED" for trial in analysis.trials)
    reported = Counter((r.trial_id, r.resource) for r in analysis.trace.results)
    assert reported == Counter((t, i) for t in range(3) for i in range(1, 6))  # once each
    ended = Counter(e.reason for e in analysis.trace.events if type(e) is JobEnded)
    assert ended["retried"] == 3 and ended["failed"] == 0
    trainables.FAILED_ONCE.clear()
    with pytest.raises(tune.TuneError, match="3 of 3 trials failed"):
        run(tmp_path, trainables.fails_once, name="failed", num_samples=3)
