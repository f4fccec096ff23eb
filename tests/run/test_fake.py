"""FakeBackend: the executor's logic in one process on a virtual clock (failures, deaths, budgets,
progress), in milliseconds."""

from __future__ import annotations

import pytest

from ashasim.core import ASHA, RandomSearch
from ashasim.run import Reporter, RunError, StoppingCriterion, Tuner, current_job
from ashasim.run.backend import WorkerSlot
from ashasim.run.context import JobSpec
from ashasim.run.fake import FakeBackend
from ashasim.run.messages import Died, Ready, Report, RunJob, Started, Stopped
from ashasim.run.worker import dumps_objective
from ashasim.space import uniform
from tests.invariants import check_trace

SPACE = {"x": uniform(0.0, 1.0), "max_epochs": 4}
LADDER = {"max_t": 4, "grace_period": 1, "reduction_factor": 2, "metric": "loss"}


def steady(x: float, max_epochs: int) -> None:
    report = Reporter()
    for epoch in range(current_job().resume_from + 1, max_epochs + 1):
        report(epoch=epoch, loss=x / epoch)


def crashes_in_trial_2(x: float, max_epochs: int) -> None:
    report = Reporter()
    for epoch in range(current_job().resume_from + 1, max_epochs + 1):
        if current_job().trial_id == 2 and epoch == 2:
            raise RuntimeError("boom in trial 2")
        report(epoch=epoch, loss=x / epoch)


def test_epochs_take_the_virtual_seconds_they_are_given(fake_tuner):
    scheduler = RandomSearch(SPACE, max_trials=3, **{k: LADDER[k] for k in ("max_t", "metric")})
    trace = fake_tuner(
        steady, scheduler, backend_options={"epoch_seconds": lambda t, c, e: 1.5 * e}
    ).run()
    first = [r.t for r in trace.results if r.trial_id == 0]
    assert first == [1.5, 4.5, 9.0, 15.0]  # 1.5, +3, +4.5, +6
    assert trace.makespan == 30.0  # trials 0 and 1 at once, then trial 2 alone: 15 + 15
    check_trace(trace)


def test_a_crashing_trial_fails_and_the_run_goes_on(fake_tuner):
    scheduler = ASHA(SPACE, type="promotion", max_trials=6, seed=1, **LADDER)
    trace = fake_tuner(crashes_in_trial_2, scheduler).run()
    failed = [s for s in trace.segments if s.reason == "failed"]
    assert [s.trial_id for s in failed] == [2]
    assert "boom in trial 2" in next(
        e.error for e in trace.events if type(e).__name__ == "JobEnded" and e.reason == "failed"
    )
    assert scheduler.done and len(trace.trial_ids) == 6
    check_trace(trace)


def test_the_time_budget_cancels_jobs_at_the_deadline(fake_tuner, tmp_path):
    scheduler = RandomSearch(SPACE, **{k: LADDER[k] for k in ("max_t", "metric")})
    trace = fake_tuner(steady, scheduler, stop=StoppingCriterion(max_wallclock_time=6.5)).run()
    assert trace.makespan == 6.5
    cancelled = [s for s in trace.segments if s.reason == "cancelled"]
    assert [(s.worker, s.resource, s.end) for s in cancelled] == [(0, 2, 6.5), (1, 2, 6.5)]
    resumed = Tuner.resume(
        tmp_path / "run", allow_pickle=True, stop=StoppingCriterion(max_trials=3), quiet=True
    )
    assert {(r.trial_id, r.resource) for r in resumed.results} >= {(0, 4), (1, 4), (2, 4)}


def test_a_systematic_error_stops_the_run_after_max_failures(fake_tuner):
    def broken(x, max_epochs):
        raise FileNotFoundError("no data here")

    scheduler = RandomSearch(SPACE, **{k: LADDER[k] for k in ("max_t", "metric")})
    tuner = fake_tuner(broken, scheduler, max_failures=4, stop=StoppingCriterion(max_trials=50))
    with pytest.raises(RunError, match="4 jobs failed in a row(.|\n)*no data here"):
        tuner.run()


def test_progress_lines_show_the_run_as_it_goes(fake_tuner, capsys):
    scheduler = ASHA(SPACE, type="promotion", max_trials=8, seed=3, **LADDER)
    fake_tuner(steady, scheduler, quiet=False, print_every=1e-9).run()
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("tune")]
    assert lines and "trials" in lines[-1] and "best loss" in lines[-1]


def test_a_killed_worker_dies_mid_epoch_and_says_so():
    backend = FakeBackend(epoch_seconds=2.0)
    backend.start(WorkerSlot(0, "fake", None), dumps_objective(steady))
    assert backend.wait(1.0) == [(0, Ready())]
    spec = JobSpec(0, {"x": 0.5, "max_epochs": 4}, 0, 4, None)
    backend.send(0, RunJob(spec))
    assert backend.wait(1.0) == [(0, Started(0))]  # the objective starts at this instant
    assert backend.quiescent()  # its report comes at t = 2, not at this instant
    [(worker, report)] = backend.wait(10.0)
    assert (worker, type(report), backend.clock()) == (0, Report, 2.0)
    backend.send(0, "stop")
    assert backend.wait(10.0) == [(0, Stopped(0))]
    backend.send(0, RunJob(spec))
    backend.die(0)
    assert backend.wait(10.0) == [(0, Died("killed"))]
    assert backend.wait(100.0) == [] and backend.clock() == 100.0
    backend.close()


def test_a_bad_epoch_seconds_is_refused():
    with pytest.raises(ValueError, match="epoch_seconds must be a finite number >= 0"):
        FakeBackend(epoch_seconds=-1)


def test_messages_to_workers_it_does_not_know_are_dropped():
    backend = FakeBackend()
    backend.kill(3)
    backend.send(3, "continue")
    assert backend.wait(1.0) == [] and backend.clock() == 1.0
    backend.close()
