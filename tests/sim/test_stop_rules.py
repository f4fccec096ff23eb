"""Stop rules on the journal (``ashasim.stop_rules``) in simulated runs: the run ends with the
result or trial end that meets the rule, running jobs cancelled with the reason."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ashasim import Experiment
from ashasim.core import make_scheduler
from ashasim.events import JobEnded, Reported
from ashasim.frame import Stop
from ashasim.sim import LearningCurves

COSTS = LearningCurves(max_epochs=9)
KINDS = ("asha", "asha-stopping", "sync-sh", "async-hyperband", "random")


def run(kind: str, stop: Stop, n_workers: int = 4, seed: int = 0):
    scheduler = make_scheduler(kind, COSTS.config_space, max_t=9, reduction_factor=3, seed=seed)
    return Experiment(scheduler, n_workers, stop=stop).simulate(COSTS, seed=seed)


def ended(trace, *reasons: str) -> list[JobEnded]:
    return [e for e in trace.events if type(e) is JobEnded and e.reason in reasons]


def completed(trace) -> set[int]:
    return {
        e.trial_id
        for e in ended(trace, "returned", "milestone")
        if e.reason == "returned" or e.resource >= 9
    }


def finished(trace) -> set[int]:
    return completed(trace) | {e.trial_id for e in ended(trace, "stopped", "failed")}


def check_stopped_at(trace, index: int, reason: str) -> None:
    """The event at *index* met the rule: after it come only job ends at its instant (its own
    job's, and the running jobs cancelled with the reason); no job starts."""
    met = trace.events[index]
    after = trace.events[index + 1 :]
    assert all(type(e) is JobEnded and e.t == met.t for e in after)
    assert all(e.error == reason for e in after if e.reason == "cancelled")
    assert trace.makespan == met.t


def index_of(trace, event) -> int:
    return max(i for i, e in enumerate(trace.events) if e == event)


@settings(max_examples=30, deadline=None)
@given(kind=st.sampled_from(KINDS), n=st.integers(1, 120), workers=st.integers(1, 8))
def test_the_run_ends_with_its_nth_result(kind, n, workers):
    trace = run(kind, Stop(results=n), workers)
    assert len(trace.results) == n
    nth = next(e for e in reversed(trace.events) if type(e) is Reported)
    check_stopped_at(trace, index_of(trace, nth), f"{n} results reported (Stop(results={n}))")


@settings(max_examples=20, deadline=None)
@given(kind=st.sampled_from(KINDS), n=st.integers(1, 8), seed=st.integers(0, 5))
def test_the_run_ends_with_its_nth_completed_or_finished_trial(kind, n, seed):
    trace = run(kind, Stop(completed=n), seed=seed)
    assert len(completed(trace)) == n
    nth = [e for e in ended(trace, "returned", "milestone") if e.resource >= 9][-1]
    check_stopped_at(trace, index_of(trace, nth), f"{n} trials completed (Stop(completed={n}))")
    trace = run(kind, Stop(finished=n), seed=seed)
    assert len(finished(trace)) == n


@pytest.mark.parametrize("kind", KINDS)
def test_a_metric_threshold_ends_the_run_at_the_first_result_past_it(kind):
    plain = run(kind, Stop(time=300))
    first = next(r for r in plain.results if r.metric < 0.3)
    stopped = run(kind, Stop(time=300, metric_below=0.3))
    assert stopped.results[-1] == first and all(r.metric >= 0.3 for r in stopped.results[:-1])
    assert stopped.makespan == first.t
    highest = max(r.metric for r in plain.results[:5])
    above = run(kind, Stop(time=300, metric_above=highest - 1e-9))
    assert above.results[-1].metric == highest and len(above.results) <= 5


def test_a_rule_changes_nothing_before_it_is_met():
    """Up to the result that meets it, a stopped run is the plain run, event for event."""
    plain = run("asha", Stop(time=500))
    stopped = run("asha", Stop(time=500, results=40))
    kept = [e for e in stopped.events if not (type(e) is JobEnded and e.reason == "cancelled")]
    assert plain.events[: len(kept)] == kept


def test_bad_rules_are_refused_naming_the_field():
    with pytest.raises(ValueError, match=r"Stop\(results=\.\.\.\) must be"):
        Stop(results=0)
    with pytest.raises(ValueError, match=r"Stop\(metric_below=\.\.\.\)"):
        Stop(time=1, metric_below=math.nan)
    scheduler = make_scheduler("asha", COSTS.config_space, max_t=9, reduction_factor=3)
    with pytest.raises(ValueError, match="otherwise the run never ends"):
        Experiment(scheduler, 2, stop=Stop(metric_below=0.1))
