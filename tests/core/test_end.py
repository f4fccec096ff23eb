"""``Scheduler.end``: a trial whose objective returned before its milestone is over, not failed.

The scheduler lets go of it as after a failure (nothing waits for it, it is never suggested
again), but the trial is stopped rather than failed and its searcher hears ``on_end``.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ashasim.core import TrialState, make_scheduler
from ashasim.core.factory import COMBINATIONS, SCHEDULER_NAMES
from ashasim.space import uniform
from tests.core.test_searcher_wiring import Recorder

SPACE = {"x": uniform(0, 1)}
NAMES = [n for n in SCHEDULER_NAMES if n not in COMBINATIONS]


def _run(name: str, seed: int, leave: str, victim: int) -> tuple[list, object]:
    """Suggest jobs, ending (*leave*) the *victim*-th job's trial halfway through its first
    report stretch, and finishing every other job at its milestone; the jobs suggested."""
    searcher = Recorder()
    scheduler = make_scheduler(
        name, SPACE, max_t=9, reduction_factor=3, max_trials=12, seed=seed, searcher=searcher
    )
    jobs, n = [], 0
    while (job := scheduler.suggest()) is not None:
        jobs.append((job.trial_id, job.resume_from, job.milestone))
        if n == victim:
            getattr(scheduler, leave)(job.trial_id)
        else:
            scheduler.report(job.trial_id, job.milestone, job.config["x"])
        n += 1
    return jobs, scheduler


@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(NAMES), seed=st.integers(0, 20), victim=st.integers(0, 6))
def test_end_releases_the_trial_as_a_failure_does_but_leaves_it_stopped(name, seed, victim):
    ended_jobs, ended = _run(name, seed, "end", victim)
    failed_jobs, failed = _run(name, seed, "fail", victim)
    assert ended_jobs == failed_jobs  # nothing waits for it, whichever way it left
    assert ended.done and failed.done
    trial_id = ended_jobs[victim][0]
    assert ended._trials[trial_id].state is TrialState.STOPPED
    assert failed._trials[trial_id].state is TrialState.FAILED
    assert ("end", trial_id) in ended.searcher.calls
    assert ("failure", trial_id) not in ended.searcher.calls
    assert trial_id not in [t for t, *_ in ended_jobs[victim + 1 :]]  # never suggested again


def test_only_a_running_trial_can_end():
    scheduler = make_scheduler("asha", SPACE, max_t=9, max_trials=2, seed=0)
    job = scheduler.suggest()
    scheduler.report(job.trial_id, job.milestone, 0.5)  # paused at its first rung
    with pytest.raises(ValueError, match=f"cannot end trial {job.trial_id}: it is paused"):
        scheduler.end(job.trial_id)
    with pytest.raises(KeyError, match="unknown trial_id 7"):
        scheduler.end(7)
