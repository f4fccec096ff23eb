"""Synchronous SH and Hyperband: barriers, exact promotions, overlap modes, failures, sizes."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ashasim import space
from ashasim.core import RandomSearch, SyncHyperband, SyncSH, hyperband_brackets
from tests.core.models import SyncModel
from tests.driver import jobs, play
from tests.strategies import ladders, metric_stream, metric_values, spaces

SPACE = {"lr": space.loguniform(1e-3, 1.0), "max_epochs": 4}


@st.composite
def sync_runs(draw):
    ladder = draw(ladders())
    cls = draw(st.sampled_from([SyncSH, SyncHyperband]))
    extra = {} if cls is SyncHyperband else {"n0": draw(st.none() | st.integers(1, 12))}
    return cls(
        draw(spaces),
        max_t=ladder.max_t,
        grace_period=ladder.grace_period,
        reduction_factor=ladder.eta,
        overlap=draw(st.sampled_from(["none", "top-rung", "always"])),
        resume=draw(st.booleans()),
        planned_quota=draw(st.booleans()),
        mode=draw(st.sampled_from(["min", "max"])),
        max_trials=draw(st.integers(1, 40)),
        seed=draw(st.integers(0, 100)),
        **extra,
    )


@given(
    sync_runs(), st.integers(1, 6), metric_values, st.randoms(use_true_random=False), st.booleans()
)
def test_barriers_and_exact_promotions(scheduler, n_workers, values, rnd, lazy):
    """No job of rung k+1 before every rung-k job of its bracket reported; the promoted set is
    exactly the top floor(n_k/eta), best first; overlap rules hold; the run ends done."""
    log = play(
        scheduler,
        n_workers=n_workers,
        metric=metric_stream(values),
        rnd=rnd,
        max_reports=5000,
        extra_suggests=True,
        lazy=lazy,
    )
    model = SyncModel(scheduler)
    model.replay(log)
    model.check_exact_promotions()
    assert log[-1] == ("idle", True)


@given(sync_runs(), st.integers(1, 6), metric_values, st.randoms(use_true_random=False))
def test_failures_never_block_a_barrier(scheduler, n_workers, values, rnd):
    log = play(
        scheduler,
        n_workers=n_workers,
        metric=metric_stream(values),
        rnd=rnd,
        fail_prob=0.1,
        max_reports=5000,
    )
    SyncModel(scheduler).replay(log)
    assert log[-1] == ("idle", True)
    failed = {e[2] for e in log if e[0] == "fail"}
    started_after = [j.trial_id for e, j in ((e, e[2]) for e in log if e[0] == "job")]
    for t in failed:  # never suggested again after its failure
        fail_at = next(i for i, e in enumerate(log) if e[0] == "fail" and e[2] == t)
        assert all(e[2].trial_id != t for e in log[fail_at:] if e[0] == "job")
    assert started_after


@pytest.mark.parametrize(
    ("r_min", "eta", "s_max"), [(1, 3, 4), (1, 2, 3), (2, 2, 3), (1, 4, 2), (3, 3, 2)]
)
def test_hyperband_bracket_sizes_match_li_et_al(r_min, eta, s_max):
    """n = ceil((s_max+1)/(s+1) * eta**s), r = R * eta**-s (Li et al. 2018, Algorithm 1)."""
    max_t = r_min * eta**s_max
    expected = [
        (int(-(-Fraction(s_max + 1, s + 1) * eta**s // 1)), int(Fraction(max_t, eta**s)))
        for s in range(s_max, -1, -1)
    ]
    assert hyperband_brackets(r_min, max_t, eta) == expected


def test_hyperband_paper_table_r81_eta3():
    assert hyperband_brackets(1, 81, 3) == [(81, 1), (34, 3), (15, 9), (8, 27), (5, 81)]


@pytest.mark.parametrize(("r_min", "max_t", "eta"), [(1, 27, 3), (1, 8, 2), (2, 10, 2)])
def test_sync_hyperband_runs_the_brackets_it_plans(r_min, max_t, eta):
    """One full Hyperband cycle: bracket s starts n_s trials at r_s and keeps floor(n_s/eta**i)."""
    plan = hyperband_brackets(r_min, max_t, eta)
    scheduler = SyncHyperband(
        SPACE,
        max_t=max_t,
        grace_period=r_min,
        reduction_factor=eta,
        max_trials=sum(n for n, _ in plan),
    )
    log = play(
        scheduler,
        n_workers=7,
        metric=lambda t, r: (t * 37 % 11) - r,
        rnd=__import__("random").Random(0),
        max_reports=10**5,
    )
    assert log[-1] == ("idle", True)
    per_bracket: dict[int, dict[int, int]] = {}
    for job in jobs(log):
        rungs = per_bracket.setdefault(scheduler.trial_bracket(job.trial_id), {})
        rungs[job.milestone] = rungs.get(job.milestone, 0) + 1
    levels = scheduler.rung_levels
    for b, (n, r) in enumerate(plan):
        start = levels.index(r)
        assert per_bracket[b] == {
            level: n // eta**i for i, level in enumerate(levels[start:]) if n // eta**i > 0
        }


def test_chapter_story_sync_barrier():
    """Two workers, n0 = 4, eta = 2: Worker-1 waits for the straggler Trial-2 at rung 0."""
    s = SyncSH(SPACE, max_t=4, grace_period=1, reduction_factor=2, overlap="top-rung")
    assert [s.suggest().trial_id for _ in range(2)] == [0, 1]
    s.report(0, 1, 0.1)
    assert s.suggest().trial_id == 2  # the straggler
    s.report(1, 1, 0.6)
    assert s.suggest().trial_id == 3
    s.report(3, 1, 0.3)
    assert s.suggest() is None  # barrier: Trial-2 has not reported
    s.report(2, 1, 0.9)
    promoted = [s.suggest(), s.suggest()]
    assert [(j.trial_id, j.resume_from, j.milestone) for j in promoted] == [(0, 1, 2), (3, 1, 2)]
    s.report(0, 2, 0.05)
    assert s.suggest() is None  # barrier at rung 1: Trial-3 still training
    s.report(3, 2, 0.2)
    top = s.suggest()
    assert (top.trial_id, top.resume_from, top.milestone) == (0, 2, 4)
    # The top rung is under way: with overlap="top-rung" the idle worker opens the next round.
    assert s.suggest().trial_id == 4
    assert SyncSH(SPACE, max_t=4, grace_period=1, reduction_factor=2, resume=False).n0 == 4


def test_overlap_none_waits_for_the_whole_bracket():
    s = SyncSH(SPACE, max_t=2, grace_period=1, reduction_factor=2, overlap="none")
    a, b = s.suggest(), s.suggest()
    s.report(a.trial_id, 1, 0.1)
    s.report(b.trial_id, 1, 0.2)
    top = s.suggest()
    assert s.suggest() is None  # pure synchronous: the free worker waits
    s.report(top.trial_id, 2, 0.1)
    assert s.suggest().trial_id == 2


def test_random_search_runs_every_trial_to_max_t():
    s = RandomSearch(SPACE, max_t=4, max_trials=3, points_to_evaluate=[{"lr": 0.5}])
    first = s.suggest()
    assert first.config == {"lr": 0.5, "max_epochs": 4} and first.milestone == 4
    for r in range(1, 5):
        s.report(first.trial_id, r, 1.0 / r)
    assert [s.suggest().milestone for _ in range(2)] == [4, 4]
    assert s.suggest() is None and not s.done


@pytest.mark.parametrize(
    ("cls", "max_t", "trials", "expected"),
    [
        # Ray Tune 2.60's BOHB (HyperBandForBOHB, largest bracket first), max_t 9, 6 trials:
        # iterations per trial [1, 1, 1, 3, 3, 9]
        (SyncHyperband, 9, 6, [1, 1, 1, 3, 3, 9]),
        # 4 trials in the 9-trial bracket: the top 3 to rung 3, the best of them to max_t
        (SyncHyperband, 9, 4, [1, 3, 3, 9]),
        # one trial (the Ray Tune notes' HyperBand snippet, max_t 20): it trains to max_t
        (SyncHyperband, 20, 1, [20]),
        (SyncSH, 27, 2, [9, 27]),
    ],
)
def test_a_bracket_cut_short_trains_its_best_trials_to_max_t(cls, max_t, trials, expected):
    """Fewer trials than a bracket plans, with planned_quota: it promotes what the full bracket
    would have, of those it has, so the best trial reaches max_t instead of stopping early."""
    scheduler = cls(
        SPACE, max_t=max_t, reduction_factor=3, max_trials=trials, mode="min", planned_quota=True
    )
    log = play(
        scheduler,
        n_workers=2,
        metric=lambda t, r: float(t),  # trial 0 is the best
        rnd=__import__("random").Random(0),
        max_reports=10**4,
    )
    assert log[-1] == ("idle", True)
    reached: dict[int, int] = {}
    for job in jobs(log):
        reached[job.trial_id] = max(reached.get(job.trial_id, 0), job.milestone)
    assert sorted(reached.values()) == expected
    assert reached[0] == max_t
