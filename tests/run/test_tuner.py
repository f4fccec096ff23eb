"""The real executor with real worker processes, on the CPU, with tiny objectives."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ashasim.core import ASHA, RandomSearch, SyncSH
from ashasim.events import load_experiment
from ashasim.run import ResumeError, StoppingCriterion, Tuner, checkpoint
from ashasim.sim import Scripted, simulate
from ashasim.space import uniform
from tests import invariants
from tests.run import objectives

pytestmark = pytest.mark.timeout(300)

SPACE = {"x": uniform(0.0, 1.0), "max_epochs": 4}
LADDER = {"max_t": 4, "grace_period": 1, "reduction_factor": 2, "metric": "loss"}


def tune(objective, scheduler, tmp_path, n_workers=2, space=SPACE, **kwargs):
    return Tuner(
        objective,
        space,
        scheduler,
        n_workers,
        devices="cpu",
        experiment_dir=tmp_path / "run",
        quiet=True,
        **kwargs,
    ).run()


def check_trace(trace, scheduler):
    """The simulator's trace invariants, on a real trace; and the scheduler is done."""
    invariants.check_trace(trace)
    assert scheduler.done


def test_one_worker_makes_the_decisions_the_simulator_makes(tmp_path):
    """With one worker the order of reports is fixed, so the real run and a simulated run with
    the same curves must make exactly the same jobs and decisions."""
    real_scheduler = ASHA(SPACE, type="promotion", max_trials=7, seed=3, **LADDER)
    real = tune(objectives.with_checkpoint, real_scheduler, tmp_path, n_workers=1)
    configs = {s.trial_id: s for s in real.segments}
    workload = Scripted({t: 1.0 for t in configs}, lambda t, e: objectives.curve(_x(real, t), e))
    simulated = simulate(ASHA(SPACE, type="promotion", max_trials=7, seed=3, **LADDER), workload, 1)
    assert [(s.trial_id, s.resume_from, s.resource) for s in real.segments] == [
        (s.trial_id, s.resume_from, s.resource) for s in simulated.segments
    ]
    assert [(r.trial_id, r.resource, r.metric) for r in real.results] == [
        (r.trial_id, r.resource, r.metric) for r in simulated.results
    ]
    check_trace(real, real_scheduler)


def _x(trace, trial_id):
    return next(r.config["x"] for r in trace.results if r.trial_id == trial_id)


def test_two_workers_sync_sh_promotes_what_the_simulator_promotes(tmp_path):
    """Synchronous SH's promotions do not depend on the order reports arrive in: with two real
    workers it promotes the same trials, rung by rung, as the simulator."""
    scheduler = SyncSH(SPACE, n0=6, max_trials=6, seed=5, **LADDER)
    real = tune(objectives.with_checkpoint, scheduler, tmp_path)
    workload = Scripted({t: 1.0 for t in range(6)}, lambda t, e: objectives.curve(_x(real, t), e))
    simulated = simulate(SyncSH(SPACE, n0=6, max_trials=6, seed=5, **LADDER), workload, 2)

    def rungs(trace):
        return {
            level: sorted(s.trial_id for s in trace.segments if s.resource == level)
            for level in (1, 2, 4)
        }

    assert rungs(real) == rungs(simulated)
    # each rung holds the best floor(n/eta) of the rung below, by the metric the trials reported
    at = {(r.trial_id, r.resource): r.metric for r in real.results}
    for below, above in ((1, 2), (2, 4)):
        ranked = sorted(rungs(real)[below], key=lambda t: (at[(t, below)], t))
        assert rungs(real)[above] == sorted(ranked[: len(ranked) // 2])
    assert len(rungs(real)[2]) == 3 and len(rungs(real)[4]) == 1
    check_trace(real, scheduler)


def test_a_promoted_trial_resumes_from_its_checkpoint(tmp_path):
    """The objective's own counters prove it: a trial that reached epoch 4 trained 4 epochs in
    all, across jobs on possibly different workers (no retraining)."""
    scheduler = ASHA(SPACE, type="promotion", max_trials=8, seed=1, **LADDER)
    trace = tune(objectives.with_checkpoint, scheduler, tmp_path)
    promoted = {s.trial_id for s in trace.segments if s.resume_from > 0}
    assert promoted

    for trial_id in promoted:
        reached = max(s.resource for s in trace.segments if s.trial_id == trial_id)
        folder = tmp_path / "run" / "checkpoints" / f"trial_{trial_id}"
        # older checkpoints were pruned once the journal had a newer report; the one before
        # the milestone stays (a crash before the milestone's report is journaled resumes it)
        kept = sorted(p.name for p in folder.glob("*.pt"))
        assert kept == [f"resource_{reached - 1}.pt", f"resource_{reached}.pt"]
        state = checkpoint.read(folder / f"resource_{reached}.pt")
        assert state["epoch"] == reached
        assert state["trained"] == reached  # every epoch trained exactly once
    check_trace(trace, scheduler)


def test_without_checkpoints_a_promoted_trial_retrains_and_early_reports_are_ignored(tmp_path):
    scheduler = ASHA(SPACE, type="promotion", max_trials=6, seed=1, **LADDER)
    trace = tune(objectives.quadratic, scheduler, tmp_path)
    for segment in trace.segments:
        reports = [
            r.resource
            for r in trace.results
            if r.trial_id == segment.trial_id and segment.start <= r.t <= segment.end
        ]
        # the retrained epochs 1..resume_from never reach the scheduler or the journal
        assert reports == list(range(segment.resume_from + 1, segment.resource + 1))
    check_trace(trace, scheduler)


def test_a_trial_never_runs_on_two_workers_while_its_last_job_unwinds(tmp_path):
    """The milestone report pauses a trial at once, but its worker acknowledges only after the
    objective has unwound; a promotion of that trial must wait for it, not start beside it."""
    scheduler = ASHA(SPACE, type="promotion", max_trials=6, seed=1, **LADDER)
    trace = tune(objectives.slow_to_unwind, scheduler, tmp_path)
    assert any(s.resume_from > 0 for s in trace.segments)  # promotions happened
    check_trace(trace, scheduler)


def test_an_exception_in_the_objective_fails_the_trial_and_the_run_goes_on(tmp_path):
    scheduler = RandomSearch(SPACE, max_trials=4, max_t=4, metric="loss")
    trace = tune(objectives.crashes_on_trial, scheduler, tmp_path)
    failed = [s for s in trace.segments if s.reason == "failed"]
    assert [(s.trial_id, s.resource) for s in failed] == [(1, 1)]
    ended = [e for e in trace.events if type(e).__name__ == "JobEnded" and e.trial_id == 1]
    assert "RuntimeError: boom in trial 1" in ended[0].error
    assert sorted(s.trial_id for s in trace.segments if s.reason == "milestone") == [0, 2, 3]
    assert scheduler.done


@pytest.mark.slow
def test_a_killed_worker_fails_its_trial_and_is_replaced(tmp_path):
    """Trial 1 SIGKILLs its own worker mid-trial: the trial fails, a fresh worker takes over."""
    scheduler = RandomSearch(SPACE, max_trials=8, max_t=4, metric="loss")
    start = time.monotonic()
    trace = tune(objectives.dies_on_trial, scheduler, tmp_path)
    failed = [e for e in trace.events if type(e).__name__ == "JobEnded" and e.reason == "failed"]
    assert [(e.trial_id, e.resource) for e in failed] == [(1, 1)]
    assert "killed by SIGKILL" in failed[0].error
    assert sorted(s.trial_id for s in trace.segments if s.reason == "milestone") == [
        0,
        *range(2, 8),
    ]
    # the dead worker's lane gets jobs again after a replacement started
    worker = next(s.worker for s in trace.segments if s.trial_id == 1)
    assert any(s.worker == worker and s.start > failed[0].t for s in trace.segments)
    assert time.monotonic() - start < 120


def test_a_worker_that_dies_after_its_milestone_report_keeps_the_result(tmp_path):
    """The milestone report is given to the scheduler when the worker lets go of the trial; a
    death at that point still counts the result (the trial paused, and can be promoted)."""
    # The trial with the lowest x is best at every rung, so ASHA takes it to max_t.
    probe = ASHA(SPACE, type="promotion", max_trials=6, seed=1, **LADDER)
    configs = [probe.suggest().config["x"] for _ in range(6)]
    best = configs.index(min(configs))
    space = {**SPACE, "bad_trial": best}
    scheduler = ASHA(space, type="promotion", max_trials=6, seed=1, **LADDER)
    trace = tune(objectives.dies_after_its_milestone, scheduler, tmp_path, space=space)
    jobs = [s for s in trace.segments if s.trial_id == best]
    assert [s.resource for s in jobs] == [1, 2, 4]  # promoted twice, each time after a death
    assert all(s.reason == "milestone" for s in jobs)
    assert [r.resource for r in trace.results if r.trial_id == best] == [1, 2, 3, 4]
    check_trace(trace, scheduler)


def test_nan_and_missing_metrics_fail_the_trial_with_a_clear_error(tmp_path):
    scheduler = RandomSearch(SPACE, max_trials=3, max_t=4, metric="loss")
    trace = tune(objectives.bad_metric, scheduler, tmp_path)
    errors = {
        e.trial_id: e.error
        for e in trace.events
        if type(e).__name__ == "JobEnded" and e.reason == "failed"
    }
    assert "loss = nan at epoch=1 is not a finite number" in errors[0]
    assert "has no 'loss', the metric the scheduler optimizes" in errors[1]
    assert 2 not in errors
    assert scheduler.done


def test_an_objective_that_returns_before_its_milestone_fails(tmp_path):
    """Every trial fails that way, so the run itself fails (after its journal is complete)."""
    from ashasim.run import RunError

    scheduler = RandomSearch(SPACE, max_trials=2, max_t=4, metric="loss")
    with pytest.raises(RunError, match="every trial failed \\(2 of 2\\)"):
        tune(objectives.returns_early, scheduler, tmp_path)
    trace = load_experiment(tmp_path / "run")
    errors = [e.error for e in trace.events if type(e).__name__ == "JobEnded"]
    assert len(errors) == 2
    assert all("returned after epoch=1, before the job's milestone 4" in e for e in errors)


@pytest.mark.slow
def test_time_budget_cancels_running_jobs(tmp_path):
    space = {"x": uniform(0.0, 1.0), "max_epochs": 1000, "sleep": 0.05}
    scheduler = RandomSearch(space, max_t=1000, metric="loss")
    stop = StoppingCriterion(max_wallclock_time=8.0)
    trace = tune(objectives.quadratic, scheduler, tmp_path, space=space, stop=stop)
    assert trace.makespan == pytest.approx(8.0, abs=0.6)
    assert {s.reason for s in trace.segments} == {"cancelled"}
    assert len(trace.results) > 10


DRIVER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {root!r})
    from ashasim.core import ASHA
    from ashasim.run import Tuner, StoppingCriterion
    from ashasim.space import uniform
    from tests.run import objectives
    space = {{"x": uniform(0.0, 1.0), "max_epochs": 4}}
    scheduler = ASHA(space, type="promotion", max_t=4, grace_period=1, reduction_factor=2,
                     metric="loss", max_trials=12, seed=2)
    Tuner(objectives.with_checkpoint_slow, space, scheduler, 2, devices="cpu",
          experiment_dir={run!r}, quiet=True).run()
    """
)


def _start_driver(tmp_path: Path) -> subprocess.Popen:
    script = tmp_path / "driver.py"
    script.write_text(DRIVER.format(root=str(Path.cwd()), run=str(tmp_path / "run")))
    return subprocess.Popen([sys.executable, str(script)], start_new_session=True)


def _wait_for_reports(journal: Path, count: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if journal.exists() and journal.read_text().count('"reported"') >= count:
            return
        time.sleep(0.1)
    raise AssertionError("the driver made too few reports")


@pytest.mark.slow
def test_driver_killed_mid_run_then_resumed_loses_and_repeats_nothing(tmp_path):
    """SIGKILL the driver (workers lose their pipe and exit), then Tuner.resume(dir): every
    result journaled before the crash is kept, none is made twice, the run completes."""
    driver = _start_driver(tmp_path)
    journal = tmp_path / "run" / "journal.jsonl"
    _wait_for_reports(journal, 6)
    driver.send_signal(signal.SIGKILL)
    driver.wait(timeout=30)
    before = load_experiment(tmp_path / "run")
    kept = [(r.trial_id, r.resource, r.metric) for r in before.results]
    trace = Tuner.resume(tmp_path / "run", quiet=True)
    after = [(r.trial_id, r.resource, r.metric) for r in trace.results]
    assert after[: len(kept)] == kept
    assert len({(t, r) for t, r, _ in after}) == len(after)  # nothing twice
    assert len({r.trial_id for r in trace.results}) == 12
    assert load_experiment(tmp_path / "run") == trace
    # jobs cut by the crash continued from their last report
    cut = [s for s in trace.segments if s.reason == "cancelled"]
    for segment in cut:
        assert any(
            s.trial_id == segment.trial_id
            and s.resume_from == segment.resource
            and s.start >= segment.end
            for s in trace.segments
        )


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_the_run_can_resume(tmp_path):
    driver = _start_driver(tmp_path)
    journal = tmp_path / "run" / "journal.jsonl"
    _wait_for_reports(journal, 4)
    driver.send_signal(signal.SIGINT)
    assert driver.wait(timeout=60) != 0
    lines = journal.read_text().splitlines()
    assert all(json.loads(line) for line in lines)  # nothing torn
    trace = load_experiment(tmp_path / "run")
    assert all(s.reason != "running" for s in trace.segments)  # every job closed
    resumed = Tuner.resume(tmp_path / "run", quiet=True)
    assert len({r.trial_id for r in resumed.results}) == 12


def test_resume_refuses_a_directory_without_a_run(tmp_path):
    with pytest.raises(ResumeError, match="holds no resumable run"):
        Tuner.resume(tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_workers": 0}, "n_workers must be an integer in 1..10000"),
        ({"devices": "tpu"}, "devices must be 'auto', 'cpu' or a list"),
        ({"devices": ["cuda:x"]}, "neither 'cpu' nor 'cuda:<index>'"),
        (
            {"devices": ["cuda:0"], "n_workers": 3, "workers_per_device": 2},
            "does not fit on 1 device",
        ),
        ({"backend": "dask"}, "backend must be one of 'local', 'ray', 'fake'; got 'dask'"),
        ({"stop": StoppingCriterion()}, "otherwise the run never ends"),
        ({"objective": 3}, "objective must be a function"),
        ({"config_space": {"y": 1}}, "config_space differs from the scheduler's"),
    ],
)
def test_bad_tuner_arguments(tmp_path, kwargs, message):
    args = {
        "objective": objectives.quadratic,
        "config_space": SPACE,
        "scheduler": RandomSearch(SPACE, max_t=4, metric="loss"),
        "n_workers": 2,
        "experiment_dir": tmp_path,
        **kwargs,
    }
    with pytest.raises(ValueError, match=message):
        Tuner(**args)


def test_stopping_criterion_validation():
    with pytest.raises(ValueError, match="max_wallclock_time must be a finite number"):
        StoppingCriterion(max_wallclock_time=-1)
    with pytest.raises(ValueError, match="max_trials must be an integer >= 1"):
        StoppingCriterion(max_trials=0)


def test_a_systematic_error_stops_the_run_instead_of_burning_trials(tmp_path):
    """Every job fails at once (say the data is missing): after max_failures in a row the run
    stops with the last error, rather than failing thousands of trials."""
    from ashasim.run import RunError

    scheduler = RandomSearch(SPACE, max_t=4, metric="loss")
    tuner = Tuner(
        objectives.always_fails,
        SPACE,
        scheduler,
        2,
        devices="cpu",
        quiet=True,
        experiment_dir=tmp_path / "run",
        stop=StoppingCriterion(max_wallclock_time=120),
        max_failures=5,
    )
    with pytest.raises(
        RunError, match="5 jobs failed in a row(.|\n)*FileNotFoundError: no data here"
    ):
        tuner.run()
    trace = load_experiment(tmp_path / "run")
    reasons = [s.reason for s in trace.segments]
    assert reasons.count("failed") in (5, 6)  # the other worker's job may fail alongside
    assert set(reasons) <= {"failed", "cancelled"}  # nothing left open in the journal
    assert len(reasons) <= 7


def test_a_real_run_replays_in_the_simulator(tmp_path):
    """Recording -> replay: replay.csv holds every observed (config, epoch) with its seconds and
    metric; as a Tabular workload it replays with other settings (8 workers, synchronous SH)."""
    from ashasim.core import SyncSH
    from ashasim.run import tabular_rows
    from ashasim.sim import Tabular

    scheduler = ASHA(SPACE, type="promotion", max_trials=10, seed=4, **LADDER)
    trace = tune(objectives.with_checkpoint, scheduler, tmp_path)
    rows = tabular_rows(trace)
    assert len(rows) == len(trace.results)  # one row per observed (config, epoch)
    by_key = {(row["x"], row["epoch"]): row for row in rows}
    for result in trace.results:
        row = by_key[(result.config["x"], result.resource)]
        assert row["metric"] == result.metric
        assert row["seconds"] >= 0
    table = Tabular(tmp_path / "run" / "replay.csv", missing="hold")
    assert len(table.configs) == 10
    replay = simulate(
        SyncSH(table.config_space, max_t=4, grace_period=1, reduction_factor=2, max_trials=16),
        table,
        8,
    )
    recorded = {(row["x"], row["epoch"]): row["metric"] for row in rows}
    for result in replay.results:
        x = table.configs[result.config["config_id"]]["x"]
        last_seen = max(e for (cx, e) in recorded if cx == x and e <= result.resource)
        assert result.metric == recorded[(x, last_seen)]
