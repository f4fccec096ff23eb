"""The sync-vs-async measures, checked by hand on the chapter's two schedules (whose every event
is asserted in test_chapter_story.py) and on a story built to make ASHA promote wrongly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ashasim.core import ASHA
from ashasim.sim import LearningCurves, Scripted, simulate
from ashasim.space import uniform
from ashasim.studies import chapter_story
from ashasim.studies.measures import (
    count_at_top,
    first_at_top,
    promotion_waits,
    unfinished_share,
    wrong_promotions,
)
from tests.strategies import schedulers


@pytest.fixture(scope="module")
def story():
    return {"sync": chapter_story.sync_schedule(), "async": chapter_story.async_schedule()}


def test_the_first_trial_at_r_max(story):
    # Trial-0 finishes rung 2 (epoch 4) at 11.5 s synchronously, at 8.0 s asynchronously
    assert first_at_top(story["sync"]) == 11.5
    assert first_at_top(story["async"]) == 8.0
    assert count_at_top(story["sync"]) == [(11.5, 1)]
    assert count_at_top(story["async"]) == [(8.0, 1)]


def test_promotion_waits(story):
    # sync: Trial-0 waits for the straggler (1.0 -> 4.5) and for Trial-3 (6.5 -> 7.5);
    # Trial-3 waits 2.7 -> 4.5
    assert sorted(promotion_waits(story["sync"])) == pytest.approx([1.0, 1.8, 3.5])
    # async: Trial-0 goes on at once (1.0 -> 1.2) but waits at rung 1 (2.2 -> 6.0) for a free
    # worker and a promotion slot; Trial-3 (3.7 -> 4.5); Trial-1 joins the top late (1.2 -> 7.1)
    assert sorted(promotion_waits(story["async"])) == pytest.approx([0.2, 0.8, 3.8, 5.9])


def test_unfinished_share(story):
    # sync: Trial-4 of the next bracket (1 s of 17.2 busy seconds) never reaches the top
    assert unfinished_share(story["sync"]) == pytest.approx(1.0 / 17.2)
    assert unfinished_share(story["async"]) == 0.0


def test_no_wrong_promotion_in_the_chapter_story(story):
    assert wrong_promotions(story["sync"]) == (0, 3)  # 0 and 3 from rung 1, 0 from rung 2
    assert wrong_promotions(story["async"]) == (0, 4)  # 0, 3, 1 from rung 1, 0 from rung 2


def test_an_early_promotion_that_later_results_push_out_counts_as_wrong():
    """One worker, eta = 2: Trial-0 (0.5) beats Trial-1 (0.6) and is promoted; Trial-2 (0.1)
    and Trial-3 (0.2) then fill the rung's top half, which SH would have promoted instead."""
    costs = Scripted(
        {t: 1.0 for t in range(4)}, {0: [0.5, 0.4], 1: [0.6, 0.5], 2: [0.1, 0.1], 3: [0.2, 0.1]}
    )
    space = {"x": uniform(0.0, 1.0)}
    trace = simulate(
        ASHA(space, type="promotion", max_t=2, grace_period=1, reduction_factor=2, max_trials=4),
        costs,
        1,
    )
    assert sorted({s.trial_id for s in trace.segments if s.resume_from == 1}) == [0, 2, 3]
    assert wrong_promotions(trace) == (1, 3)


@settings(max_examples=30, deadline=None)
@given(scheduler=schedulers(max_trials=st.integers(4, 40)), n_workers=st.integers(1, 6))
def test_synchronous_sh_never_promotes_wrongly(scheduler, n_workers):
    """By construction: SH promotes exactly the top floor(n/eta) of each complete rung."""
    from ashasim.core import SyncSH

    trace = simulate(scheduler, LearningCurves(max_epochs=9), n_workers)
    wrong, total = wrong_promotions(trace)
    if isinstance(scheduler, SyncSH):
        assert wrong == 0
    assert 0 <= wrong <= total
    waits = promotion_waits(trace)
    assert all(wait >= 0 for wait in waits)
    steps = count_at_top(trace)
    assert [n for _, n in steps] == list(range(1, len(steps) + 1))
    assert (first_at_top(trace) is None) == (not steps)
