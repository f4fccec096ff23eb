"""Rung ladder math and the sorted rung store, against brute force."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ashasim.core.rungs import (
    Rung,
    continues_at_rung,
    promotion_quota,
    rung_levels,
    score,
)
from tests.strategies import finite, ladders, metric_values


@given(ladders(max_rungs=5))
def test_levels_are_rmin_eta_powers_below_rmax_then_rmax(ladder):
    levels = rung_levels(ladder.grace_period, ladder.max_t, ladder.eta)
    assert levels[-1] == ladder.max_t
    assert all(level < ladder.max_t for level in levels[:-1])
    assert list(levels[:-1]) == [
        ladder.grace_period * ladder.eta**k for k in range(len(levels) - 1)
    ]
    assert ladder.grace_period * ladder.eta ** (len(levels) - 1) >= ladder.max_t


def test_levels_examples():
    assert rung_levels(1, 81, 3) == (1, 3, 9, 27, 81)
    assert rung_levels(2, 10, 2) == (2, 4, 8, 10)  # the chapter's LeNet setting
    assert rung_levels(1, 4, 2) == (1, 2, 4)  # the chapter's schematic figures


@given(st.one_of(finite, st.sampled_from([math.nan, math.inf, -math.inf])))
def test_score_folds_mode_and_ranks_non_finite_last(value):
    for mode in ("min", "max"):
        s = score(value, mode)
        if math.isfinite(value):
            assert s == (value if mode == "min" else -value)
        else:
            assert s == math.inf
    assert score(value, "min") == score(-value, "max") or not math.isfinite(value)


def test_quota_and_small_sample_policy():
    assert [promotion_quota(n, 3) for n in range(7)] == [0, 0, 0, 1, 1, 1, 2]
    # The first arrival always continues; with n < eta results only the best does.
    assert continues_at_rung(0, 1, 3)
    assert continues_at_rung(0, 2, 3) and not continues_at_rung(1, 2, 3)
    assert continues_at_rung(1, 3, 2) and not continues_at_rung(2, 3, 2)


@given(metric_values, st.integers(2, 4), st.data())
def test_rung_promotable_matches_brute_force(values, eta, data):
    """promotable() is the best non-withdrawn result iff it is in the top floor(n/eta); add()
    answers the stopping rule (rank < n/eta) for the new result; rank() is its sorted position."""
    rung = Rung(level=1, reduction_factor=eta)
    results: dict[int, float] = {}
    withdrawn: set[int] = set()
    for trial_id, value in enumerate(values):
        continues = rung.add(trial_id, score(value, "min"), candidate=True)
        results[trial_id] = score(value, "min")
        ranked = sorted((s, t) for t, s in results.items())
        rank = ranked.index((results[trial_id], trial_id))
        assert continues == continues_at_rung(rank, len(ranked), eta)
        assert all(rung.rank(t) == ranked.index((s, t)) for t, s in results.items())
        if data.draw(st.booleans()) and results:
            victim = data.draw(st.sampled_from(sorted(results)))
            rung.withdraw(victim)
            withdrawn.add(victim)
        top = [t for _, t in ranked[: len(ranked) // eta]]
        expected = next((t for t in top if t not in withdrawn), None)
        assert rung.promotable() == expected
        assert len(rung) == len(results)
        assert rung.trial_ids() == [t for _, t in ranked]


def test_rung_rejects_a_second_result_for_a_trial():
    rung = Rung(level=2, reduction_factor=2)
    rung.add(0, 0.5, candidate=True)
    with pytest.raises(ValueError, match="trial 0 already has a result at rung level 2"):
        rung.add(0, 0.1, candidate=True)


@given(st.lists(st.sampled_from([0.1, 0.2, 0.3, math.inf]), max_size=60), st.integers(2, 4))
def test_the_stopping_verdict_matches_brute_force_with_ties(values, eta):
    """Many equal scores: ranks break ties by trial_id, in the heaps as in a sorted list."""
    rung = Rung(level=1, reduction_factor=eta)
    for trial_id, value in enumerate(values):
        continues = rung.add(trial_id, value, candidate=False)
        ranked = sorted((v, t) for t, v in enumerate(values[: trial_id + 1]))
        assert continues == continues_at_rung(ranked.index((value, trial_id)), len(ranked), eta)
    assert rung.trial_ids() == [t for _, t in sorted((v, t) for t, v in enumerate(values))]


def test_ties_break_by_trial_id():
    rung = Rung(level=1, reduction_factor=2)
    rung.add(5, 0.3, candidate=True)
    rung.add(2, 0.3, candidate=True)
    assert rung.top(2) == [2, 5]
    assert rung.promotable() == 2
