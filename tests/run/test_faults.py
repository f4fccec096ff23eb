"""Fault injection on the in-process FakeBackend (virtual clock): failed reports, dead workers,
slow and hung objectives, and drivers killed at every line of their journal, across ASHA (both
types), asynchronous Hyperband, synchronous SH, synchronous Hyperband and random search.

A driver killed after writing k journal lines leaves exactly the directory ``crash_copy`` makes
(the journal is written one unbuffered line at a time), so cutting journals is killing drivers.
Every journal these tests leave behind is also replayed by ``conftest.every_journal_replays``.
"""

from __future__ import annotations

import math
import random
import tempfile
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ashasim.core import make_scheduler
from ashasim.events import JOURNAL, JobEnded, JobStarted, load_experiment
from ashasim.run import Reporter, RunError, StoppingCriterion, Tuner, current_job
from ashasim.space import uniform
from tests.run.faults import (
    ORDER_FREE,
    SCHEDULERS,
    check_nothing_lost_or_twice,
    check_paper_rule,
    crash_copy,
    dies,
    results,
    run_fake,
)


def configs(trace):
    return {e.trial_id: e.config for e in trace.events if type(e) is JobStarted}


def load_quietly(directory):
    """The journal as a crash left it (a torn last line is dropped, with a warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_experiment(directory)


def resume(directory, **options):
    return Tuner.resume(directory, allow_pickle=True, quiet=True, outputs=False, **options)


# -- item 2: the journal holds the scheduler's calls in the order it got them -------------------

BARRIER_SPACE = {"x": uniform(0.0, 1.0), "max_epochs": 8}


def fails_at_a_report(fault):
    """Trial 3 fails at a report (NaN, inf, no metric, or one the scheduler refuses)."""

    def objective(x: float, max_epochs: int) -> None:
        job = current_job()
        report = Reporter()
        for epoch in range(job.resume_from + 1, max_epochs + 1):
            if job.trial_id == 3 and epoch == 2:
                if fault == "refused":  # epoch 1 again: the scheduler refuses it
                    report(epoch=1, loss=x)
                elif fault == "missing":
                    report(epoch=epoch, accuracy=x)
                else:
                    report(epoch=epoch, loss=float(fault))
            report(epoch=epoch, loss=x + 1.0 / epoch)

    return objective


@pytest.mark.parametrize("fault", ["nan", "inf", "missing", "refused"])
def test_a_failure_is_journaled_before_the_decisions_that_follow_it(tmp_path, fault):
    """Issue 10, item 2. Synchronous SH, two workers: trial 2 ends its rung-0 job and its worker
    waits at the rung barrier; trial 3 then fails at a report, and its worker needs 0.5 s to let
    go. The failure releases the barrier, but the scheduler hears of it only when the failed job
    ends in the journal, so the promotion it unblocks comes after it there, and the run resumes
    (as a finished run, and cut at every line)."""
    scheduler = make_scheduler(
        "sync-sh",
        BARRIER_SPACE,
        max_t=8,
        grace_period=2,
        reduction_factor=2,
        metric="loss",
        seed=0,
        max_trials=4,
        overlap="none",
    )
    full = Tuner(
        fails_at_a_report(fault),
        BARRIER_SPACE,
        scheduler,
        2,
        backend="fake",
        backend_options={
            "epoch_seconds": lambda trial, config, epoch: 2.0 if trial == 3 else 1.0,
            "unwind_seconds": 0.5,
        },
        experiment_dir=tmp_path / "full",
        quiet=True,
        outputs=False,
        allow_pickle=True,
    ).run()
    events = full.events
    failed = next(i for i, e in enumerate(events) if type(e) is JobEnded and e.reason == "failed")
    promoted = next(i for i, e in enumerate(events) if type(e) is JobStarted and e.resume_from)
    assert events[failed].trial_id == 3
    assert failed < promoted
    assert events[failed].t > events[failed - 1].t  # it did come late: 0.5 s after the report
    assert resume(tmp_path / "full") == full  # nothing to do, nothing added
    lines = len((tmp_path / "full" / JOURNAL).read_text().splitlines())
    for cut in range(1, lines + 1):
        crashed = crash_copy(tmp_path / "full", tmp_path / f"cut{cut}", cut)
        before = load_experiment(crashed)
        resumed = resume(crashed)
        check_nothing_lost_or_twice(before, resumed)
        if fault != "refused":  # a job continued after its first epoch-1 report skips the repeat
            assert results(resumed) == results(full), f"cut after line {cut}"


# -- a driver killed at any line ----------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(SCHEDULERS))
def test_a_driver_killed_after_any_line_resumes_to_the_uninterrupted_results(tmp_path, kind):
    """One worker (the order of reports is fixed): whatever line the driver dies after, even in
    the middle of writing the next one, the resumed run makes exactly the uninterrupted run's
    trials, configs and results, in the same order; nothing journaled is lost or made twice.
    The objective fails in several ways on the way (NaN, inf, no metric) and its worker dies
    mid-epoch (SIGKILL) in three trials."""
    full = run_fake(tmp_path / "full", kind, dies=dies, unwind_seconds=0.25)
    expected = [(r.trial_id, r.resource, r.metric) for r in full.results]
    assert len(full.trial_ids) == 16
    errors = [e.error for e in full.events if type(e) is JobEnded and e.reason == "failed"]
    assert any("killed" in error for error in errors)
    assert any("not a finite number" in error or "has no 'loss'" in error for error in errors)
    check_paper_rule(tmp_path / "full")
    lines = (tmp_path / "full" / JOURNAL).read_text().splitlines()
    for cut in range(1, len(lines) + 1):
        torn = 9 if cut % 5 == 0 else 0  # now and then, a crash in the middle of a line
        crashed = crash_copy(tmp_path / "full", tmp_path / f"cut{cut}", cut, torn)
        before = load_quietly(crashed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            resumed = resume(crashed)
        assert [(r.trial_id, r.resource, r.metric) for r in resumed.results] == expected, cut
        assert configs(resumed) == configs(full)
        check_nothing_lost_or_twice(before, resumed)
        assert load_experiment(crashed) == resumed


@pytest.mark.parametrize("kind", sorted(SCHEDULERS))
def test_several_workers_and_drivers_killed_twice_lose_and_repeat_nothing(tmp_path, kind):
    """Three workers, workers dying mid-epoch, slow job ends; the driver is killed at 12 random
    lines, and each resumed run is killed again at a random later line and resumed once more.
    Every time: nothing journaled is lost or made twice, every decision of the final journal
    follows the paper's rule (brute-force models), and where the result does not depend on the
    order of reports (rung barriers, random search) the run ends with the uninterrupted run's
    results."""
    rng = random.Random(kind)
    options = {"dies": dies, "unwind_seconds": 0.25}
    full = run_fake(tmp_path / "full", kind, 3, **options)
    check_paper_rule(tmp_path / "full")
    lines = len((tmp_path / "full" / JOURNAL).read_text().splitlines())
    for attempt in range(12):
        first = crash_copy(
            tmp_path / "full", tmp_path / f"a{attempt}", rng.randrange(1, lines), rng.choice([0, 6])
        )
        before = load_quietly(first)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            middle = resume(first)
        length = len((first / JOURNAL).read_text().splitlines())
        cut = rng.randrange(len(before.events) + 2, length + 1)
        second = crash_copy(first, tmp_path / f"b{attempt}", cut)
        during = load_experiment(second)
        final = resume(second)
        check_nothing_lost_or_twice(before, final)
        check_nothing_lost_or_twice(during, final)
        check_paper_rule(second)
        assert all(s.reason != "running" for s in final.segments)
        if kind in ORDER_FREE:
            assert results(final) == results(full) == results(middle)
        else:
            assert len(final.trial_ids) == 16


# -- per-job time limits ------------------------------------------------------------------------

LIMIT_SPACE = {"x": uniform(0.0, 1.0), "max_epochs": 4}


def hangs_in_trial_1(trial_id: int, config: dict, epoch: int) -> float:
    """Trial 1 hangs in epoch 2 (its report never comes); other epochs take one second."""
    return math.inf if (trial_id, epoch) == (1, 2) else 1.0


def limit_objective(x: float, max_epochs: int) -> None:
    job = current_job()
    report = Reporter()
    for epoch in range(job.resume_from + 1, max_epochs + 1):
        report(epoch=epoch, loss=x + 1.0 / epoch)


def limited_tuner(fake_tuner, directory, **options):
    scheduler = make_scheduler("random", LIMIT_SPACE, max_t=4, metric="loss", max_trials=5)
    return fake_tuner(
        limit_objective,
        scheduler,
        directory=directory,
        backend_options={"epoch_seconds": hangs_in_trial_1},
        outputs=False,
        **options,
    )


def test_a_hung_trial_fails_at_its_time_limit_and_the_run_ends_by_itself(fake_tuner, tmp_path):
    """Without a limit this run would wait for ever; with trial_timeout=10 the hung job fails
    10 s after it started, with a reason naming the limit, and a fresh worker takes its lane."""
    trace = limited_tuner(fake_tuner, tmp_path / "run", trial_timeout=10).run()
    failed = [s for s in trace.segments if s.reason == "failed"]
    assert [(s.trial_id, s.resource, s.end - s.start) for s in failed] == [(1, 1, 10.0)]
    error = next(e.error for e in trace.events if type(e) is JobEnded and e.reason == "failed")
    assert "ran past its time limit (trial_timeout=10 s)" in error
    assert sorted(s.trial_id for s in trace.segments if s.reason == "milestone") == [0, 2, 3, 4]
    lane = failed[0].worker
    assert [(s.trial_id, s.start) for s in trace.segments if s.worker == lane][1:] == [(4, 10.0)]


def test_a_job_that_hung_until_the_budget_is_not_run_again_on_resume(fake_tuner, tmp_path):
    """The budget ends a run whose trial 1 hangs: its job is cancelled (the scheduler still
    counts it as running). Resumed without a limit, it would be handed out first and hang
    again; resumed with trial_timeout below the time it had already run, it fails at once
    with that reason and the run completes."""
    directory = tmp_path / "run"
    cut = limited_tuner(fake_tuner, directory, stop=StoppingCriterion(max_wallclock_time=30)).run()
    hung = [s for s in cut.segments if s.trial_id == 1]
    assert [s.reason for s in hung] == ["cancelled"] and hung[0].end == 30.0
    resumed = resume(directory, stop=StoppingCriterion(), trial_timeout=10)
    again = [s for s in resumed.segments if s.trial_id == 1][1:]
    assert [(s.reason, s.start, s.end) for s in again] == [("failed", 30.0, 30.0)]
    error = [e.error for e in resumed.events if type(e) is JobEnded and e.reason == "failed"]
    assert "had run 30 s, past the time limit (trial_timeout=10 s)" in error[0]
    assert "not run again" in error[0]
    assert sorted(s.trial_id for s in resumed.segments if s.reason == "milestone") == [0, 2, 3, 4]


def test_trial_timeout_is_checked(fake_tuner, tmp_path):
    for bad in (0, -1, math.inf, "10"):
        with pytest.raises(ValueError, match="trial_timeout must be a finite number > 0"):
            limited_tuner(fake_tuner, tmp_path / "run", trial_timeout=bad)
    assert not (tmp_path / "run").exists()


# -- a run in which every trial failed ----------------------------------------------------------


@pytest.mark.parametrize(
    ("space", "metric", "message"),
    [
        (LIMIT_SPACE, "accuracy", "has no 'accuracy', the metric the scheduler optimizes"),
    ],
)
def test_a_run_in_which_every_trial_failed_is_an_error(tmp_path, space, metric, message):
    """A metric the objective never reports (wrong space keys are refused before the run, see
    tests/run/test_bad_input.py): fewer trials than max_failures, yet the run must not look like a success. The journal is complete first."""
    scheduler = make_scheduler("random", space, max_t=4, metric=metric, max_trials=3)
    tuner = Tuner(
        limit_objective,
        space,
        scheduler,
        2,
        backend="fake",
        experiment_dir=tmp_path / "run",
        quiet=True,
        outputs=False,
        allow_pickle=True,
    )
    with pytest.raises(RunError, match=f"every trial failed \\(3 of 3\\)(.|\n)*{message}"):
        tuner.run()
    assert {s.reason for s in load_experiment(tmp_path / "run").segments} == {"failed"}


# -- the same, as a property over schedulers, workers, seeds, faults and the moment of the crash --


@settings(max_examples=30, deadline=None)
@given(
    kind=st.sampled_from(sorted(SCHEDULERS)),
    n_workers=st.integers(1, 4),
    seed=st.integers(0, 1000),
    deaths=st.sets(st.tuples(st.integers(0, 11), st.integers(1, 9)), max_size=4),
    unwind=st.sampled_from([0.0, 0.25, 1.5]),
    where=st.floats(0.0, 1.0),
    torn=st.sampled_from([0, 0, 5]),
)
def test_any_crash_of_any_run_resumes_without_loss(
    kind, n_workers, seed, deaths, unwind, where, torn
):
    """For any scheduler, worker count, seed, set of worker deaths, slowness of job ends and
    moment of the driver's death: the resumed run keeps every journaled result, makes none twice,
    follows the paper's rule, and (order-free schedulers) ends with the uninterrupted results."""
    with tempfile.TemporaryDirectory() as root:
        root = Path(root)
        options = {"dies": lambda t, c, e: (t, e) in deaths, "unwind_seconds": unwind}
        full = run_fake(root / "full", kind, n_workers, seed=seed, max_trials=12, **options)
        lines = len((root / "full" / JOURNAL).read_text().splitlines())
        crashed = crash_copy(root / "full", root / "crashed", 1 + int(where * (lines - 1)), torn)
        before = load_quietly(crashed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            resumed = resume(crashed)
        check_nothing_lost_or_twice(before, resumed)
        check_paper_rule(crashed)
        if kind in ORDER_FREE:
            assert results(resumed) == results(full)
