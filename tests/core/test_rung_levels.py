"""Explicit rung levels (``rung_levels=[...]``): rungs at chosen levels of a table instead of
r_min * eta**k, validated, and the same schedules as the ladder when they are the ladder."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ashasim.core import make_scheduler, rung_levels
from ashasim.sim import simulate
from ashasim.sim.catalog import make_workload
from ashasim.space import uniform

SPACE = {"x": uniform(0, 1)}
LADDERED = ["asha", "asha-stopping", "sync-sh", "sync-hyperband", "async-hyperband"]


@settings(max_examples=25, deadline=None)
@given(
    name=st.sampled_from(LADDERED),
    grace=st.integers(1, 3),
    eta=st.integers(2, 3),
    n_workers=st.integers(1, 4),
    seed=st.integers(0, 30),
)
def test_the_ladder_given_explicitly_makes_the_same_trace(name, grace, eta, n_workers, seed):
    workload = make_workload("synthetic", max_epochs=10)
    levels = list(rung_levels(grace, 10, eta)[:-1])
    traces = [
        simulate(
            make_scheduler(
                name, workload.config_space, max_t=10, seed=seed, reduction_factor=eta, **ladder
            ),
            workload,
            n_workers,
            max_time=200,
            seed=seed,
        )
        for ladder in ({"grace_period": grace}, {"rung_levels": levels})
    ]
    assert traces[0] == traces[1]


def test_jobs_pause_at_the_chosen_levels():
    workload = make_workload("d2l", max_epochs=20)
    scheduler = make_scheduler(
        "asha", workload.config_space, max_t=20, rung_levels=[2, 5, 11], reduction_factor=2
    )
    assert scheduler.rung_levels == (2, 5, 11, 20)
    assert scheduler.grace_period == 2
    assert scheduler.describe()["rung_levels"] == [2, 5, 11, 20]
    trace = simulate(scheduler, workload, 3, max_time=600)
    milestones = {s.milestone for s in trace.segments}
    assert milestones <= {2, 5, 11, 20} and {2, 5} <= milestones
    sync = make_scheduler("sync-sh", SPACE, max_t=20, rung_levels=[3, 20], reduction_factor=3)
    assert sync.rung_levels == (3, 20) and sync.n0 == 3


@pytest.mark.parametrize(
    ("levels", "options", "message"),
    [
        ([3, 2], {}, r"rung_levels must be strictly increasing .*; rung_levels\[1\] = 2 follows 3"),
        ([2, 2], {}, r"rung_levels\[1\] = 2 follows 2"),
        ([0, 4], {}, r"rung_levels\[0\] must be an integer in 1..10, got 0"),
        ([2, 11], {}, r"rung_levels\[1\] must be an integer in 1..10, got 11"),
        ([2.5], {}, r"rung_levels\[0\] must be an integer in 1..10, got 2.5"),
        ([True], {}, r"rung_levels\[0\] must be an integer"),
        (
            [10],
            {},
            r"rung_levels must be strictly increasing integers in 1..10, at least one below",
        ),
        ([], {}, r"rung_levels must be a non-empty list"),
        ("2,4", {}, r"rung_levels must be a non-empty list"),
        ([2, 4], {"grace_period": 1}, r"grace_period must be the first of rung_levels \(2\)"),
        ([2, 4], {"reduction_factor": 1}, r"reduction_factor must be an integer >= 2"),
    ],
)
@pytest.mark.parametrize("name", ["asha", "sync-sh", "async-hyperband", "sync-hyperband"])
def test_bad_rung_levels_are_refused_by_name(name, levels, options, message):
    with pytest.raises(ValueError, match=message):
        make_scheduler(name, SPACE, max_t=10, rung_levels=levels, **options)


def test_the_ladders_last_level_may_be_max_t():
    scheduler = make_scheduler("asha", SPACE, max_t=10, rung_levels=[2, 5, 10])
    assert scheduler.rung_levels == (2, 5, 10)


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(["random", *LADDERED, "bohb", "async-bohb"]),
    max_t=st.integers(2, 30),
    eta=st.integers(2, 4),
)
def test_the_protocol_carries_max_t_and_the_rung_levels_the_header_records(name, max_t, eta):
    """Drivers read ``max_t`` and ``rung_levels`` off the protocol; the journal header (from
    ``describe()``) records the same ladder, max_t last, strictly increasing."""
    from ashasim.core import Scheduler

    scheduler = make_scheduler(name, SPACE, max_t=max_t, reduction_factor=eta, seed=0)
    assert isinstance(scheduler, Scheduler)
    assert scheduler.max_t == max_t == scheduler.rung_levels[-1]
    levels = list(scheduler.rung_levels)
    assert levels == sorted(set(levels)) and levels[0] >= 1
    described = scheduler.describe()
    assert described["max_t"] == max_t
    if name != "random":
        assert described["rung_levels"] == levels
        assert levels == list(rung_levels(1, max_t, eta))
