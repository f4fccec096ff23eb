"""Node loss in the simulator: workers that die at a rate and come back; their jobs go through
the driver's retry policy, as on a real cluster (``ashasim.sim.faults.WorkerLoss``)."""

from __future__ import annotations

import copy
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ashasim.core import make_scheduler
from ashasim.events import JobEnded
from ashasim.run.resume import catch_up
from ashasim.sim import LearningCurves, simulate
from ashasim.sim.faults import WorkerLoss
from tests.invariants import check_trace
from tests.strategies import schedulers


def ends(trace, reason):
    return [e for e in trace.events if type(e) is JobEnded and e.reason == reason]


@settings(max_examples=30, deadline=None)
@given(
    scheduler=schedulers(max_trials=st.integers(5, 30)),
    mtbf=st.sampled_from([15.0, 60.0, 400.0]),
    downtime=st.sampled_from([0.0, 5.0, 40.0]),
    max_retries=st.integers(0, 3),
    n_workers=st.integers(1, 6),
    seed=st.integers(0, 20),
)
def test_lost_workers_jobs_are_retried_then_failed_and_the_journal_replays(
    scheduler, mtbf, downtime, max_retries, n_workers, seed
):
    """Deterministic under the seed; a trial is retried at most max_retries times and fails from
    a loss only once they have run out; the run ends with the scheduler done; and the journal
    replays through a fresh copy of the scheduler (journal order = its calls)."""
    fresh, twin = copy.deepcopy(scheduler), copy.deepcopy(scheduler)
    costs = LearningCurves(max_epochs=9, worker_loss=WorkerLoss(mtbf, downtime, max_retries))
    trace = simulate(scheduler, costs, n_workers, seed=seed)
    assert trace == simulate(twin, costs, n_workers, seed=seed)
    check_trace(trace, retrains=not scheduler.resumes_promoted)
    retried = Counter(e.trial_id for e in ends(trace, "retried"))
    assert max(retried.values(), default=0) <= max_retries
    for failed in ends(trace, "failed"):
        assert failed.error.startswith("lost: the simulated worker died")
        assert retried[failed.trial_id] == max_retries
    assert scheduler.done
    catch_up(fresh, trace.events, n_workers)


def test_a_loss_is_retried_from_the_last_report_on_the_next_free_worker():
    costs = LearningCurves(max_epochs=9, worker_loss=WorkerLoss(30.0, downtime=10.0, max_retries=5))
    scheduler = make_scheduler(
        "asha", costs.config_space, max_t=9, reduction_factor=3, max_trials=20, seed=1
    )
    trace = simulate(scheduler, costs, 4, seed=2)
    retried = ends(trace, "retried")
    assert retried and not ends(trace, "failed")
    segments = trace.segments
    for end in retried:  # the next job of that trial continues where the lost one stopped
        later = [s for s in segments if s.trial_id == end.trial_id and s.start >= end.t]
        assert later[0].resume_from == end.resource
    # the journal header says a loss model was on
    assert trace.info["workload"]["worker_loss"] == {
        "mtbf": 30.0,
        "downtime": 10.0,
        "max_retries": 5,
    }


def test_a_lost_worker_is_away_for_its_downtime():
    costs = LearningCurves(max_epochs=9, worker_loss=WorkerLoss(50.0, downtime=1e9))
    scheduler = make_scheduler("random", costs.config_space, max_t=9, max_trials=30, seed=1)
    trace = simulate(scheduler, costs, 3, max_time=2000.0, seed=4)
    lost = {e.worker: e.t for e in ends(trace, "failed")}
    assert lost  # never back: nothing starts on a lost worker afterwards
    for worker, at in lost.items():
        assert not [s for s in trace.segments if s.worker == worker and s.start > at]


@pytest.mark.parametrize(
    "bad", [{"mtbf": 0}, {"mtbf": 5, "downtime": -1}, {"mtbf": 5, "max_retries": -1}]
)
def test_worker_loss_is_checked(bad):
    with pytest.raises(ValueError, match="mtbf|downtime|max_retries"):
        WorkerLoss(**bad)
    with pytest.raises(ValueError, match="worker_loss"):
        LearningCurves(worker_loss=0.5)


@pytest.mark.parametrize("seed", range(4))
def test_a_retried_job_of_a_retraining_scheduler_continues_its_stretch(seed):
    """Synchronous SH that retrains promoted trials: a promotion starts from 0, but a job cut by
    a lost worker continues from its last report (its results stand), and the journal replays."""
    costs = LearningCurves(max_epochs=9, worker_loss=WorkerLoss(15.0, 0.0, 2))
    scheduler = make_scheduler(
        "sync-sh",
        costs.config_space,
        max_t=9,
        reduction_factor=3,
        max_trials=20,
        seed=seed,
        resume=False,
    )
    fresh = copy.deepcopy(scheduler)
    trace = simulate(scheduler, costs, 4, seed=seed)
    assert [s for s in trace.segments if s.reason == "retried" and s.resource > 0]
    check_trace(trace, retrains=True)
    catch_up(fresh, trace.events, 4)
