"""What a job costs: ``cost="resume"`` against ``cost="restart"``, the job plan, decision points,
and the checks ``simulate`` makes before a run (levels, absurd budgets, progress lines)."""

import io
import sys
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ashasim.core import ASHA, Job, RandomSearch, SyncSH, make_scheduler
from ashasim.events import Reported
from ashasim.progress import Progress
from ashasim.sim import CostModelError, LearningCurves, Scripted, Tabular, simulate
from ashasim.sim import simulator as simulator_module
from ashasim.sim.costs import CostModel, EpochFn
from ashasim.space import uniform

SPACE = {"x": uniform(0, 1)}
# level k of every trial costs k seconds (so a sum of levels tells which levels were paid)
LEVEL_SECONDS = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]


def scripted(cost, **overheads):
    return Scripted(
        {t: LEVEL_SECONDS for t in range(40)},
        lambda trial_id, epoch: ((7 * trial_id) % 11) / 10 + 1 / epoch,
        cost=cost,
        **overheads,
    )


def test_the_job_plan_of_each_cost_model():
    fresh = Job(0, {}, 0, 3, decision_points=(1, 3))
    resumed = Job(0, {}, 3, 9, save_checkpoint=True, decision_points=(9,))
    last = Job(0, {}, 3, 9, save_checkpoint=False, decision_points=None)
    resume = scripted("resume", startup_seconds=1.0, restore_seconds=2.0, checkpoint_seconds=0.5)
    assert resume.job_plan(fresh) == (1.0, 0.5, range(1, 4))
    assert resume.job_plan(resumed) == (2.0, 0.5, range(4, 10))
    assert resume.job_plan(last) == (2.0, 0.0, range(4, 10))
    restart = scripted("restart", startup_seconds=1.0, restore_seconds=2.0, checkpoint_seconds=0.5)
    assert restart.job_plan(fresh) == (1.0, 0.0, (1, 3))
    assert restart.job_plan(resumed) == (1.0, 0.0, (9,))  # never a checkpoint: a fresh fit
    assert restart.job_plan(last) == (1.0, 0.0, range(4, 10))  # no decision points: every level
    assert "cost" not in resume.describe() and restart.describe()["cost"] == "restart"


@pytest.mark.parametrize("name", ["asha", "asha-stopping", "sync-sh", "random"])
def test_resume_and_restart_segment_times_exactly(name):
    """Resume: a job from j to k lasts levels j+1..k (here j+1 + ... + k seconds) and reports each.
    Restart: it lasts its decision levels alone (k seconds for a job that decides only at its
    milestone) and reports only those."""
    traces = {}
    for cost in ("resume", "restart"):
        scheduler = make_scheduler(
            name, SPACE, max_t=9, grace_period=1, reduction_factor=3, seed=4, max_trials=12
        )
        traces[cost] = simulate(scheduler, scripted(cost, startup_seconds=0.25), 3, seed=4)
    for segment in traces["resume"].segments:
        paid = sum(range(segment.resume_from + 1, segment.resource + 1))
        setup = 0.25 if segment.resume_from == 0 else 0.0
        assert segment.end - segment.start == pytest.approx(paid + setup)
    rungs = {1, 3}
    for segment in traces["restart"].segments:
        if name == "asha-stopping":
            points = [r for r in rungs if segment.resume_from < r < segment.resource]
            paid = sum(points) + segment.resource
        else:
            paid = segment.resource
        assert segment.end - segment.start == pytest.approx(paid + 0.25)  # startup every job
    restart_reports = [e for e in traces["restart"].events if type(e) is Reported]
    levels = {e.resource for e in restart_reports}
    assert levels <= ({9} if name == "random" else {1, 3, 9})
    resume_levels = {e.resource for e in traces["resume"].events if type(e) is Reported}
    assert resume_levels >= {2}  # every level is trained under resume


def test_restart_reports_the_same_metrics_at_the_same_levels():
    """The cost model changes what a job pays, not what a level's metric is."""
    metrics = {}
    for cost in ("resume", "restart"):
        scheduler = ASHA(SPACE, type="promotion", max_t=9, reduction_factor=3, seed=2)
        trace = simulate(scheduler, scripted(cost), 2, max_trials=15, seed=2)
        metrics[cost] = {(r.trial_id, r.resource): r.metric for r in trace.results}
    shared = set(metrics["resume"]) & set(metrics["restart"])
    assert shared and all(metrics["resume"][k] == metrics["restart"][k] for k in shared)


@settings(max_examples=30, deadline=None)
@given(trial=st.integers(0, 500), seed=st.integers(0, 20), level=st.integers(1, 10))
def test_learning_curves_restart_costs_the_epochs_from_scratch(trial, seed, level):
    config = {"learning_rate": 0.1, "batch_size": 64}
    resume = LearningCurves(time_jitter=0.3).epoch_fn(seed)
    restart = LearningCurves(time_jitter=0.3, cost="restart").epoch_fn(seed)
    seconds, metric = restart(trial, config, level)
    total = 0.0
    for epoch in range(1, level + 1):
        total += resume(trial, config, epoch)[0]
    assert seconds == total
    assert metric == resume(trial, config, level)[1]


def test_a_tables_seconds_are_each_levels_own_under_restart():
    rows = [
        {"m": m, "epoch": e, "seconds": 10.0 * e + m, "metric": 1 / (e + m)}
        for m in range(4)
        for e in (1, 2, 3, 4)
    ]
    table = Tabular(rows, cost="restart")
    scheduler = SyncSH(
        table.config_space,
        max_t=4,
        grace_period=1,
        reduction_factor=2,
        n0=4,
        searcher=table.searcher(),
        overlap="none",
    )
    trace = simulate(scheduler, table, 2)
    for segment in trace.segments:
        config = {e.trial_id: e.config for e in trace.events if hasattr(e, "config")}
        m = config[segment.trial_id]["m"]
        assert segment.end - segment.start == 10.0 * segment.resource + m


def test_decision_points_of_each_scheduler():
    promotion = ASHA(SPACE, type="promotion", max_t=27, reduction_factor=3)
    job = promotion.suggest()
    assert (job.resume_from, job.milestone, job.decision_points) == (0, 1, (1,))
    stopping = ASHA(SPACE, type="stopping", max_t=27, reduction_factor=3)
    assert stopping.suggest().decision_points == (1, 3, 9, 27)
    explicit = ASHA(SPACE, type="stopping", max_t=20, rung_levels=[2, 5, 11])
    assert explicit.suggest().decision_points == (2, 5, 11, 20)
    assert RandomSearch(SPACE, max_t=7).suggest().decision_points == (7,)
    assert SyncSH(SPACE, max_t=9, reduction_factor=3).suggest().decision_points == (1,)
    job = Job(1, {}, 0, 3)
    assert job.decision_points is None and job == Job(1, {}, 0, 3, decision_points=(3,))


class Steps(CostModel):
    """Every level costs 1 ms: fast enough for a budget to imply millions of trials."""

    def epoch_fn(self, seed: int) -> EpochFn:
        return lambda trial_id, config, epoch: (0.001, 1.0 / epoch)

    def seconds_hint(self):
        return 0.001


def test_a_budget_of_absurdly_many_trials_is_warned_about(monkeypatch):
    def refuse(self, max_time):
        raise RuntimeError("the run started")

    monkeypatch.setattr(simulator_module._Clock, "run", refuse)
    scheduler = ASHA(SPACE, type="promotion", max_t=3, reduction_factor=3)
    expected = r"max_time=20000 s on 64 workers with jobs of ~0.001 s"
    with (
        pytest.warns(UserWarning, match=expected),
        pytest.raises(RuntimeError, match="the run started"),  # warned before the run
    ):
        simulate(scheduler, Steps(), 64, max_time=20_000)
    monkeypatch.undo()
    bounded = ASHA(SPACE, type="promotion", max_t=3, reduction_factor=3, max_trials=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        simulate(bounded, Steps(), 64, max_time=20_000)  # a trial budget: nothing to warn about
        simulate(ASHA(SPACE, type="promotion", max_t=3), Steps(), 2, max_time=1.0)


def test_max_t_beyond_the_workload_is_refused_before_the_run():
    scheduler = ASHA(LearningCurves().config_space, type="promotion", max_t=81)
    with pytest.raises(CostModelError, match=r"max_t=81 .* \(max_epochs=10\)"):
        simulate(scheduler, LearningCurves(), 2, max_time=10)


def test_progress_lines_when_stderr_is_not_a_terminal(monkeypatch):
    """No terminal: plain lines, the first only after an interval, one per interval at most."""
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    monkeypatch.setattr(simulator_module, "PROGRESS_LINE_SECONDS", 0.0)
    scheduler = ASHA(SPACE, type="promotion", max_t=9, reduction_factor=3)
    simulate(scheduler, scripted("resume"), 2, max_trials=30, progress=True)
    lines = stream.getvalue().splitlines()
    assert lines and all(line.startswith("simulate [") and "trials=" in line for line in lines)
    assert "\r" not in stream.getvalue()
    quiet = io.StringIO()
    monkeypatch.setattr(sys, "stderr", quiet)
    monkeypatch.setattr(simulator_module, "PROGRESS_LINE_SECONDS", 3600.0)
    simulate(
        ASHA(SPACE, type="promotion", max_t=9), scripted("resume"), 2, max_trials=30, progress=True
    )
    assert quiet.getvalue() == ""  # a short run prints nothing before the first interval


def test_progress_waits_one_interval_before_its_first_line():
    stream = io.StringIO()
    waiting = Progress("x", lines=True, interval=3600.0, wait_first=True, stream=stream)
    waiting.update(0.5, "half")
    assert stream.getvalue() == ""
    eager = Progress("x", lines=True, interval=3600.0, stream=stream)
    eager.update(0.5, "half")
    assert stream.getvalue() == "x [############............]  50% half\n"
