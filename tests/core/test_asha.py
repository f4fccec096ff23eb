"""ASHA (promotion and stopping types) and asynchronous Hyperband against brute-force models,
the chapter's narrative for two workers and eta = 2, and the invariances of a rank-based rule."""

import math
import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ashasim import space
from ashasim.core import ASHA, AsyncHyperband, Decision, SyncSH, TrialState
from tests.core.models import AshaModel
from tests.driver import decisions, jobs, play
from tests.strategies import finite_metric_values, ladders, metric_stream, metric_values, spaces

SPACE = {"lr": space.loguniform(1e-3, 1.0), "bs": space.randint(8, 128), "max_epochs": 4}


@st.composite
def asha_runs(draw, scheduler_class=ASHA):
    ladder = draw(ladders())
    kind = draw(st.sampled_from(["promotion", "stopping"]))
    extra = {}
    if scheduler_class is AsyncHyperband:
        extra["brackets"] = draw(st.none() | st.integers(1, 2))
    scheduler = scheduler_class(
        draw(spaces),
        type=kind,
        max_t=ladder.max_t,
        grace_period=ladder.grace_period,
        reduction_factor=ladder.eta,
        mode=draw(st.sampled_from(["min", "max"])),
        max_trials=draw(st.none() | st.integers(1, 40)),
        seed=draw(st.integers(0, 2**16)),
        **extra,
    )
    return scheduler, kind


@given(
    asha_runs(),
    st.integers(1, 6),
    metric_values,
    st.randoms(use_true_random=False),
    st.sampled_from([0.0, 0.05]),
    st.booleans(),
)
def test_asha_matches_the_papers_rule_step_by_step(run, n_workers, values, rnd, fail_prob, lazy):
    """Every job and decision equals the brute-force model's: promotions are the best unpromoted
    paused trial in the top floor(n/eta) of the highest rung that has one, else a new trial; the
    stopping type stops exactly the trials outside the top 1/eta; None only when no trial may start;
    with max_trials the run ends with done = True (failures never block it)."""
    scheduler, kind = run
    log = play(
        scheduler,
        n_workers=n_workers,
        metric=metric_stream(values),
        rnd=rnd,
        fail_prob=fail_prob,
        max_reports=600,
        extra_suggests=True,
        lazy=lazy,
    )
    AshaModel(scheduler, kind).replay(log)


@given(
    asha_runs(AsyncHyperband), st.integers(1, 6), metric_values, st.randoms(use_true_random=False)
)
def test_async_hyperband_brackets_follow_the_same_rule(run, n_workers, values, rnd):
    scheduler, kind = run
    log = play(
        scheduler,
        n_workers=n_workers,
        metric=metric_stream(values),
        rnd=rnd,
        max_reports=600,
        lazy=True,
    )
    AshaModel(scheduler, kind).replay(log)


@given(ladders(), st.integers(1, 5), finite_metric_values, st.randoms(use_true_random=False))
def test_every_trial_that_is_not_stopped_ends_at_max_t(ladder, n_workers, values, rnd):
    """Stopping type: a trial ends by STOP at a rung, or trains to max_t; nothing in between."""
    scheduler = ASHA(
        SPACE,
        type="stopping",
        max_t=ladder.max_t,
        grace_period=ladder.grace_period,
        reduction_factor=ladder.eta,
        max_trials=12,
    )
    log = play(scheduler, n_workers=n_workers, metric=metric_stream(values), rnd=rnd)
    assert log[-1] == ("idle", True)
    last = {}
    for entry in log:
        if entry[0] == "report":
            last[entry[2]] = (entry[3], entry[5])
    for trial_id, (resource, decision) in last.items():
        if decision is Decision.STOP:
            assert resource in scheduler.rung_levels[:-1]
            assert scheduler.trial_state(trial_id) is TrialState.STOPPED
        else:
            assert resource == ladder.max_t
            assert scheduler.trial_state(trial_id) is TrialState.COMPLETED


def _transformed_run(transform, mode, ladder, n_workers, values, seed, kind):
    scheduler = ASHA(
        SPACE,
        type=kind,
        max_t=ladder.max_t,
        grace_period=ladder.grace_period,
        reduction_factor=ladder.eta,
        mode=mode,
        max_trials=20,
        seed=seed,
    )
    stream = metric_stream(values)
    log = play(
        scheduler,
        n_workers=n_workers,
        metric=lambda t, r: transform(stream(t, r)),
        rnd=random.Random(seed),
        max_reports=400,
    )
    return decisions(log)


common = (
    ladders(),
    st.integers(1, 5),
    # Integers as floats: the transforms below stay strictly increasing in float arithmetic.
    st.lists(st.integers(-1000, 1000).map(float), min_size=1, max_size=30),
    st.integers(0, 1000),
    st.sampled_from(["promotion", "stopping"]),
)


@given(*common)
def test_flipping_mode_and_negating_metrics_changes_nothing(ladder, n_workers, values, seed, kind):
    minimize = _transformed_run(lambda x: x, "min", ladder, n_workers, values, seed, kind)
    maximize = _transformed_run(lambda x: -x, "max", ladder, n_workers, values, seed, kind)
    assert minimize == maximize


@given(*common, st.sampled_from(["affine", "cube", "exp"]))
def test_increasing_transforms_of_metrics_change_nothing(
    ladder, n_workers, values, seed, kind, name
):
    """The rules look only at ranks: a strictly increasing transform gives the same decisions."""
    transform = {
        "affine": lambda x: 3.0 * x + 7.0,
        "cube": lambda x: x**3,
        "exp": lambda x: math.exp(x / 10.0),
    }[name]
    plain = _transformed_run(lambda x: x, "min", ladder, n_workers, values, seed, kind)
    assert plain == _transformed_run(transform, "min", ladder, n_workers, values, seed, kind)


@given(asha_runs(AsyncHyperband), st.integers(1, 4), metric_values, st.integers(0, 10**6))
def test_same_seed_same_calls_same_jobs_and_configs(run, n_workers, values, seed):
    scheduler, kind = run

    def fresh():
        return AsyncHyperband(
            scheduler.config_space,
            type=kind,
            max_t=scheduler.max_t,
            grace_period=scheduler.grace_period,
            reduction_factor=scheduler.reduction_factor,
            brackets=len(scheduler._brackets),
            mode=scheduler.mode,
            max_trials=scheduler.max_trials,
            seed=scheduler.seed,
        )

    first = play(
        fresh(),
        n_workers=n_workers,
        metric=metric_stream(values),
        rnd=random.Random(seed),
        max_reports=300,
    )
    second = play(
        fresh(),
        n_workers=n_workers,
        metric=metric_stream(values),
        rnd=random.Random(seed),
        max_reports=300,
    )
    assert repr(jobs(first)) == repr(jobs(second))  # repr: configs may hold NaN-free floats
    assert decisions(first) == decisions(second)


@given(
    st.integers(1, 30),
    st.sampled_from([2, 3, 4]),
    st.lists(st.floats(-10, 10), min_size=1),
    st.randoms(use_true_random=False),
    st.integers(1, 3),
)
def test_when_a_whole_rung_reports_before_any_decision_asha_promotes_like_sync_sh(
    n, eta, values, rnd, n_rungs
):
    """Feed both schedulers whole rungs (every running job reports, in a random order, before
    the next suggest): ASHA's promotions equal SyncSH's, rung by rung, in the same order."""
    max_t = eta**n_rungs
    asha = ASHA(SPACE, type="promotion", max_t=max_t, reduction_factor=eta, max_trials=n)
    sync = SyncSH(SPACE, max_t=max_t, reduction_factor=eta, n0=n, max_trials=n)
    metric = metric_stream(values)
    order = list(range(n))
    rnd.shuffle(order)
    for _ in range(n_rungs + 1):
        batches = []
        for scheduler in (asha, sync):
            batch = []
            while (job := scheduler.suggest()) is not None:
                batch.append(job)
            batches.append(batch)
        assert [(j.trial_id, j.resume_from, j.milestone) for j in batches[0]] == [
            (j.trial_id, j.resume_from, j.milestone) for j in batches[1]
        ]
        for scheduler, batch in zip((asha, sync), batches):
            for job in sorted(batch, key=lambda j: order[j.trial_id]):
                for resource in range(job.resume_from + 1, job.milestone + 1):
                    scheduler.report(job.trial_id, resource, metric(job.trial_id, resource))
    assert asha.done and sync.done


def test_bracket_draws_follow_hyperband_weights():
    """Each new trial's bracket is drawn with probability proportional to eta**s / (s+1)."""
    scheduler = AsyncHyperband(SPACE, type="stopping", max_t=27, reduction_factor=3, seed=3)
    assert scheduler.bracket_probabilities == pytest.approx(
        [x / sum([27 / 4, 9 / 3, 3 / 2, 1]) for x in [27 / 4, 9 / 3, 3 / 2, 1]]
    )
    counts = [0] * 4
    for _ in range(8000):
        job = scheduler.suggest()
        counts[scheduler.trial_bracket(job.trial_id)] += 1
    assert [c / 8000 for c in counts] == pytest.approx(scheduler.bracket_probabilities, abs=0.02)


@given(
    seed=st.integers(0, 2**32 - 1),
    max_t=st.integers(2, 200),
    eta=st.integers(2, 5),
)
def test_bracket_draws_are_numpy_choice_draws(seed, max_t, eta):
    """The bracket of each new trial is the draw Generator.choice(p=bracket_probabilities) makes
    from the scheduler's seeded generator (the cheap draw keeps seeded runs as they were), and the
    configs drawn after it come from the same stream."""
    one_uniform = {"x": space.uniform(0.0, 1.0)}
    scheduler = AsyncHyperband(
        one_uniform, type="stopping", max_t=max_t, reduction_factor=eta, seed=seed
    )
    reference = np.random.default_rng(seed)
    n = len(scheduler.bracket_probabilities)
    for _ in range(30):
        job = scheduler.suggest()
        expected = int(reference.choice(n, p=scheduler.bracket_probabilities))
        assert scheduler.trial_bracket(job.trial_id) == expected
        assert job.config["x"] == reference.uniform(0.0, 1.0)  # then the config, same stream


class TestChapterNarrative:
    """The chapter's ASHA story, two workers, eta = 2, r_min = 1, r_max = 4 (rungs 1, 2, 4)."""

    def make(self):
        return ASHA(SPACE, type="promotion", max_t=4, grace_period=1, reduction_factor=2, seed=0)

    def test_the_story(self):
        s = self.make()
        assert (s.suggest().trial_id, s.suggest().trial_id) == (0, 1)  # Worker-0, Worker-1
        s.report(0, 1, 0.10)
        # One result at rung 0: floor(1/2) = 0 promotable, so Worker-0 starts Trial-2.
        assert s.suggest() == _job(s, 2, 0, 1)
        s.report(1, 1, 0.50)
        # Trial-1 finishing promotes Trial-0 (top 1 of 2) to rung 1.
        assert s.suggest() == _job(s, 0, 1, 2)
        s.report(0, 2, 0.08)
        # Rung 1 has one result; rung 0's quota is used by Trial-0: a new trial.
        assert s.suggest() == _job(s, 3, 0, 1)
        s.report(3, 1, 0.30)
        # Trial-3 is second of three at rung 0: quota floor(3/2) = 1, not promoted yet.
        assert s.suggest() == _job(s, 4, 0, 1)
        s.report(2, 1, 0.90)  # the straggler Trial-2 reports worse...
        # ...so rung 0 has four results, quota 2, and Trial-3 is promoted.
        assert s.suggest() == _job(s, 3, 1, 2)
        s.report(3, 2, 0.20)
        # Rung 1 now has Trial-0 and Trial-3: Trial-0 goes on to r_max.
        assert s.suggest() == _job(s, 0, 2, 4)
        assert s.rung_trials(1) == [0, 3, 1, 2]
        assert s.rung_trials(2) == [0, 3]

    def test_a_late_winner_is_promoted_beyond_floor_n_over_eta(self):
        """The paper's rule, not a cap: when a later result outranks a promoted trial, the newcomer
        is in the top floor(n/eta) and is promoted too (2 promotions from 3 results, eta = 2)."""
        s = self.make()
        for _ in range(3):
            s.suggest()
        s.report(0, 1, 0.5)
        s.report(1, 1, 0.6)
        assert s.suggest() == _job(s, 0, 1, 2)
        s.report(2, 1, 0.1)
        assert s.suggest() == _job(s, 2, 1, 2)

    def test_stopping_type_small_sample_policy(self):
        s = ASHA(SPACE, type="stopping", max_t=4, grace_period=1, reduction_factor=2)
        for _ in range(4):
            s.suggest()
        assert s.report(0, 1, 0.5) is Decision.CONTINUE  # first arrival: nothing to compare
        assert s.report(1, 1, 0.7) is Decision.STOP  # 2nd of 2: rank 1 is not < 2/2
        assert s.report(2, 1, 0.6) is Decision.CONTINUE  # 2nd of 3: rank 1 < 3/2
        assert s.report(3, 1, 0.4) is Decision.CONTINUE  # best
        assert s.report(0, 2, 0.3) is Decision.CONTINUE


def _job(scheduler, trial_id, resume_from, milestone):
    from ashasim.core import Job

    config = scheduler._trials[trial_id].config
    # a job that pauses below max_t saves a checkpoint; the last one (to max_t) need not
    return Job(trial_id, config, resume_from, milestone, 0, milestone < scheduler.max_t)


def test_failed_paused_trial_is_never_promoted():
    s = ASHA(SPACE, type="promotion", max_t=4, grace_period=1, reduction_factor=2, max_trials=2)
    s.suggest(), s.suggest()
    s.report(0, 1, 0.1)
    s.fail(0)  # e.g. its checkpoint was lost while paused
    s.report(1, 1, 0.5)
    assert s.suggest() is None  # Trial-0 was the only one in the top 1 of 2
    assert s.done
    assert s.trial_state(0) is TrialState.FAILED
