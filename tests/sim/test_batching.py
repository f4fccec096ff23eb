"""Batched epochs and the tie order (ashasim.sim.simulator, ashasim.tie_order.tie_key).

The SimPy clock trains a job's epochs between two decision points in one timeout; the reports in
between wait in a heap and are delivered, in the tie order, before the next event. The property:
a run gives the very same events whether its epochs are batched or each is its own event, for
every scheduler, overhead, fault model and time limit.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ashasim.core import Decision, RandomSearch, make_scheduler
from ashasim.driver import Driver, RunError
from ashasim.events import Reported, Trace
from ashasim.frame import Stop
from ashasim.sim import Scripted, simulate
from ashasim.sim.costs import CostModel, EpochFn
from ashasim.sim.faults import WorkerLoss
from ashasim.sim.simulator import _Clock
from ashasim.space import uniform
from ashasim.stop_rules import StopRules

SPACE = {"x": uniform(0.0, 1.0)}
SCHEDULERS = [
    ("asha", {}),
    ("asha-stopping", {}),
    ("asha-stopping", {"searcher": "kde"}),  # a searcher that learns from every report
    ("sync-sh", {"overlap": "top-rung"}),
    ("sync-sh", {"overlap": "always", "resume": False}),
    ("sync-hyperband", {"overlap": "always"}),
    ("async-hyperband", {}),
    ("random", {}),
]


class Table(CostModel):
    """Epoch seconds and metrics from drawn tables: repeats make ties in time and in rank."""

    def __init__(self, seconds: list[float], metrics: list[float], **overheads) -> None:
        super().__init__(**overheads)
        self.seconds, self.metrics = seconds, metrics

    def epoch_fn(self, seed: int) -> EpochFn:
        seconds, metrics = self.seconds, self.metrics
        return lambda t, c, e: (
            seconds[(5 * t + e + seed) % len(seconds)],
            metrics[(7 * t + 3 * e) % len(metrics)],
        )


def events(scheduler, costs, n_workers, max_time, seed, *, batch: bool, stop=None) -> list:
    trace = Trace({"n_workers": n_workers})
    rules = None if stop is None else StopRules.attach(stop, trace, scheduler.max_t)
    loss = costs.worker_loss
    driver = Driver(scheduler, trace, n_workers, max_retries=loss.max_retries if loss else 0)
    clock = _Clock(driver, costs, seed, False, batch=batch)
    if rules is not None:
        rules.on_met = clock.stop_now
    clock.run(max_time)
    return trace.events


@settings(max_examples=400, deadline=None)
@given(
    choice=st.sampled_from(SCHEDULERS),
    eta=st.sampled_from([2, 3]),
    max_t=st.sampled_from([4, 9, 27]),
    n_workers=st.integers(1, 6),
    max_trials=st.integers(1, 30),
    seed=st.integers(0, 20),
    seconds=st.lists(st.sampled_from([0.25, 0.5, 1.0, 1.5, 3.25]), min_size=1, max_size=7),
    metrics=st.lists(st.sampled_from([0.1, 0.2, 0.3, 0.5, 0.8]), min_size=1, max_size=9),
    max_time=st.one_of(st.none(), st.sampled_from([2.0, 7.5, 20.0])),
    cost=st.sampled_from(["resume", "restart"]),
    overhead=st.sampled_from([0.0, 0.5, 1.0]),
    drop_probability=st.sampled_from([0.0, 0.0, 0.3]),
    mtbf=st.one_of(st.none(), st.sampled_from([3.0, 10.0])),
    rule=st.one_of(
        st.none(),
        st.builds(Stop, results=st.integers(1, 40)),
        st.builds(Stop, completed=st.integers(1, 4)),
        st.builds(Stop, finished=st.integers(1, 6)),
        st.builds(Stop, metric_below=st.sampled_from([0.15, 0.25])),
    ),
)
def test_batched_epochs_make_the_same_events_as_one_event_per_epoch(
    choice,
    eta,
    max_t,
    n_workers,
    max_trials,
    seed,
    seconds,
    metrics,
    max_time,
    cost,
    overhead,
    drop_probability,
    mtbf,
    rule,
):
    """... also when a stop rule ends the run: at the event that met it, batched or not."""
    name, options = choice
    loss = None if mtbf is None else WorkerLoss(mtbf=mtbf, downtime=1.0, max_retries=1)
    costs = Table(
        seconds,
        metrics,
        cost=cost,
        startup_seconds=overhead,
        checkpoint_seconds=overhead / 2,
        restore_seconds=overhead / 4,
        drop_probability=drop_probability,
        worker_loss=loss,
    )
    if loss is not None and max_time is None:
        max_time = 30.0  # a worker that keeps dying keeps the clock going

    def run(batch: bool) -> list:
        scheduler = make_scheduler(
            name,
            SPACE,
            max_t=max_t,
            grace_period=1,
            reduction_factor=eta,
            seed=seed,
            max_trials=max_trials,
            **options,
        )
        return events(scheduler, costs, n_workers, max_time, seed, batch=batch, stop=rule)

    assert run(batch=True) == run(batch=False)


@pytest.mark.parametrize("batch", [True, False])
def test_ties_break_by_worker_index_not_by_when_the_event_was_made(batch):
    """Worker 1's epoch ending at t=3 is scheduled (at t=0.5) before worker 0's (at t=1); the
    tie order still hands worker 0's report over first, and the dispatch comes after both."""
    costs = Scripted({0: [1.0, 2.0], 1: [0.5, 2.5], 2: 1.0, 3: 1.0}, lambda t, e: 0.1 * t)
    trace = Trace({"n_workers": 2})
    driver = Driver(RandomSearch({"x": 0}, max_t=2, max_trials=4, seed=0), trace, 2)
    _Clock(driver, costs, 0, False, batch=batch).run(None)
    at_three = [(type(e).__name__, e.worker) for e in trace.events if e.t == 3.0]
    assert at_three == [
        ("Reported", 0),
        ("JobEnded", 0),
        ("Reported", 1),
        ("JobEnded", 1),
        ("JobStarted", 0),
        ("JobStarted", 1),
    ]


def test_batches_leave_no_report_out_and_keep_each_reports_own_time():
    """A 9-epoch job with decisions only at its milestone: one wait, nine reports, each at the
    end of its own epoch."""
    costs = Scripted({0: [1.0, 2.0, 0.5, 1.0, 1.0, 1.0, 3.0, 1.0, 1.0]}, lambda t, e: 1.0 / e)
    trace = simulate(RandomSearch({"x": 0}, max_t=9, max_trials=1, seed=0), costs, 1)
    reports = [(e.t, e.resource) for e in trace.events if isinstance(e, Reported)]
    assert reports == [
        (1.0, 1),
        (3.0, 2),
        (3.5, 3),
        (4.5, 4),
        (5.5, 5),
        (6.5, 6),
        (9.5, 7),
        (10.5, 8),
        (11.5, 9),
    ]


class StopsEarly(RandomSearch):
    """Says its jobs decide only at their milestone, then stops a trial at its first epoch."""

    def report(self, trial_id: int, resource: int, metric: float) -> Decision:
        super().report(trial_id, resource, metric)
        return Decision.STOP if resource == 1 else Decision.CONTINUE


def test_a_stop_between_decision_points_is_an_error_not_a_silent_overrun():
    costs = Scripted({0: 1.0}, lambda t, e: 0.5)
    with pytest.raises(RunError, match="not one of its job's decision_points"):
        simulate(StopsEarly({"x": 0}, max_t=3, max_trials=1, seed=0), costs, 1)
