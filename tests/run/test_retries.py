"""Retries: a job whose worker died runs again from its last report (``max_retries``), journaled
``retried``; the scheduler hears ``fail`` only when the trial's retries have run out."""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ashasim.events import JOURNAL, JobEnded, read_journal
from ashasim.run import RunError, StoppingCriterion, Tuner
from ashasim.run.executor import MAX_RESTARTS
from tests.invariants import check_trace
from tests.run.faults import (
    ORDER_FREE,
    SPACE,
    crash_copy,
    epoch_seconds,
    replay_run_directory,
    results,
    scheduler_for,
)
from tests.run.objectives import with_checkpoint as clean_objective


class Deaths:
    """Workers die in epoch *e* of trial *t* the first ``times[(t, e)]`` times it is run (a node
    lost, then the stretch retried elsewhere); stateful, so each run gets its own."""

    def __init__(self, times: dict[tuple[int, int], int]) -> None:
        self.left = dict(times)

    def __call__(self, trial_id: int, config: dict, epoch: int) -> bool:
        left = self.left.get((trial_id, epoch), 0)
        if left:
            self.left[(trial_id, epoch)] = left - 1
        return left > 0


def run(directory: Path, kind: str, n_workers: int, *, dies=None, **options):
    backend = {"epoch_seconds": epoch_seconds}
    if dies is not None:
        backend["dies"] = dies
    return Tuner(
        clean_objective,
        SPACE,
        scheduler_for(kind, max_trials=12),
        n_workers,
        stop=StoppingCriterion(),
        backend="fake",
        backend_options=backend,
        experiment_dir=directory,
        quiet=True,
        outputs=False,
        max_failures=None,
        **options,
        allow_pickle=True,
    ).run()


def ends(trace, reason: str) -> list[JobEnded]:
    return [e for e in trace.events if type(e) is JobEnded and e.reason == reason]


def test_a_dead_worker_s_job_is_retried_from_its_last_report(tmp_path):
    trace = run(tmp_path / "run", "sync-sh", 2, dies=Deaths({(3, 2): 1}), max_retries=1)
    (retried,) = ends(trace, "retried")
    assert (retried.trial_id, retried.resource) == (3, 1)
    assert "retry 1 of 1: the worker process died" in retried.error
    assert ends(trace, "failed") == []
    # the retry continues the stretch where the journal left it, on whichever worker is free
    jobs = [(s.resume_from, s.resource, s.reason) for s in trace.segments if s.trial_id == 3]
    at = jobs.index((1, 1, "retried"))  # promoted from 1, died in epoch 2
    assert jobs[at + 1][:1] == (1,) and jobs[at + 1][2] != "retried"
    check_trace(trace)


@pytest.mark.parametrize("kind", ORDER_FREE)
def test_retried_runs_end_with_the_uninterrupted_run_s_results(tmp_path, kind):
    clean = run(tmp_path / "clean", kind, 3)
    deaths = Deaths({(3, 2): 1, (8, 1): 2, (1, 4): 1})
    retried = run(tmp_path / "retried", kind, 3, dies=deaths, max_retries=2)
    assert ends(retried, "retried") and not ends(retried, "failed")
    assert results(retried) == results(clean)


def test_the_scheduler_hears_of_a_failure_only_when_retries_run_out(tmp_path):
    trace = run(tmp_path / "run", "asha", 2, dies=Deaths({(3, 2): 5}), max_retries=2)
    assert [e.trial_id for e in ends(trace, "retried")] == [3, 3]
    (failed,) = ends(trace, "failed")
    assert failed.trial_id == 3 and failed.error.endswith("(after 2 retries)")
    assert trace.summary()["failed_jobs"] == 1


def test_without_retries_a_death_fails_the_job(tmp_path):
    trace = run(tmp_path / "run", "asha", 2, dies=Deaths({(3, 2): 1}))
    assert ends(trace, "retried") == []
    assert [e.trial_id for e in ends(trace, "failed")] == [3]


def test_exceptions_are_retried_only_when_asked(tmp_path):
    from tests.run.objectives import flaky_objective, reset_flaky

    def tune(directory, **options):
        reset_flaky({4: 1})  # trial 4 raises the first time it runs
        return Tuner(
            flaky_objective,
            SPACE,
            scheduler_for("sync-sh", max_trials=9),
            2,
            backend="fake",
            backend_options={"epoch_seconds": epoch_seconds},
            experiment_dir=directory,
            quiet=True,
            outputs=False,
            max_failures=None,
            **options,
            allow_pickle=True,
        ).run()

    plain = tune(tmp_path / "plain", max_retries=3)
    assert [e.trial_id for e in ends(plain, "failed")] == [4] and not ends(plain, "retried")
    asked = tune(tmp_path / "asked", max_retries=3, retry_on_error=True)
    (retried,) = ends(asked, "retried")
    assert retried.trial_id == 4 and "the objective raised: RuntimeError: flaky" in retried.error
    assert ends(asked, "failed") == []


def test_a_resume_keeps_the_retries_a_trial_has_used(tmp_path):
    """Cut after the first retry: the resumed run retries once more, then fails the trial."""
    whole = run(tmp_path / "whole", "asha", 1, dies=Deaths({(3, 2): 9}), max_retries=2)
    lines = (tmp_path / "whole" / JOURNAL).read_text().splitlines()
    first = next(n for n, line in enumerate(lines) if '"retried"' in line)
    cut = crash_copy(tmp_path / "whole", tmp_path / "cut", first + 1)
    resumed = Tuner.resume(cut, allow_pickle=True, quiet=True, outputs=False)
    assert [e.trial_id for e in ends(resumed, "retried")] == [3, 3]
    assert [e.trial_id for e in ends(resumed, "failed")] == [3]
    assert results(resumed) == results(whole)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kind=st.sampled_from((*ORDER_FREE, "asha")),
    n_workers=st.integers(1, 3),
    max_retries=st.integers(0, 2),
    deaths=st.dictionaries(
        st.tuples(st.integers(0, 11), st.integers(1, 9)), st.integers(1, 3), max_size=5
    ),
)
def test_with_retries_no_job_is_lost_or_duplicated(kind, n_workers, max_retries, deaths):
    """Whatever dies where: each trial is retried at most max_retries times, a death fails a
    job only once the trial's retries have run out, no result is made twice, every trial that
    did not fail reaches the results an uninterrupted run of an order-free scheduler gives, and
    the journal replays."""
    # more deaths than that, none reporting between them, and the executor rightly gives up on
    # the worker (MAX_RESTARTS: a worker that cannot run anything is broken)
    assume(sum(deaths.values()) <= MAX_RESTARTS)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        trace = run(root / "run", kind, n_workers, dies=Deaths(deaths), max_retries=max_retries)
        check_trace(trace)
        retried = Counter(e.trial_id for e in ends(trace, "retried"))
        assert max(retried.values(), default=0) <= max_retries
        for failed in ends(trace, "failed"):
            assert "worker process died" in failed.error
            assert retried[failed.trial_id] == max_retries
        replay_run_directory(root / "run")
        _, events = read_journal(root / "run" / JOURNAL)
        assert len(events) == len(trace.events)
        if kind in ORDER_FREE and not ends(trace, "failed"):
            assert results(trace) == results(run(root / "clean", kind, n_workers))


def test_a_worker_that_dies_before_every_report_is_given_up():
    """Each death before any report is a restart without progress: past MAX_RESTARTS the run
    stops instead of restarting a broken worker for ever."""
    always_first_epoch = Deaths({(t, 1): 9 for t in range(12)})
    message = f"died {MAX_RESTARTS + 1} times in a row"
    with tempfile.TemporaryDirectory() as folder, pytest.raises(RunError, match=message):
        run(Path(folder) / "run", "random", 1, dies=always_first_epoch)


def test_deaths_between_reports_are_not_a_broken_worker():
    """A worker whose jobs report before it dies makes progress: twelve deaths in a row on one
    worker fail ten trials (no retries asked), and the run still ends normally."""
    after_first_epoch = Deaths({(t, 2): 1 for t in range(10)})
    with tempfile.TemporaryDirectory() as folder:
        trace = run(Path(folder) / "run", "random", 1, dies=after_first_epoch)
    assert len(ends(trace, "failed")) == 10 > MAX_RESTARTS + 1
    assert {r.trial_id for r in trace.results if r.resource > 1} == {10, 11}


def test_a_resume_counts_the_trials_that_failed_before_it(tmp_path):
    """max_failed_trials counts failures over the whole run: cut after the second of three
    failures, the resumed run gives up at the third, as the uninterrupted run does (a resume
    that counted from zero would go on)."""
    deaths = {(2, 1): 1, (5, 1): 1, (8, 1): 1}  # no retries: each death fails its trial
    with pytest.raises(RunError, match="3 trials failed, more than max_failed_trials=2"):
        run(tmp_path / "whole", "asha", 1, dies=Deaths(deaths), max_failed_trials=2)
    lines = (tmp_path / "whole" / JOURNAL).read_text().splitlines()
    failures = [n for n, line in enumerate(lines) if '"failed"' in line]
    assert len(failures) == 3
    cut = crash_copy(tmp_path / "whole", tmp_path / "cut", failures[1] + 1)
    with pytest.raises(RunError, match="3 trials failed, more than max_failed_trials=2"):
        Tuner.resume(cut, allow_pickle=True, quiet=True, outputs=False)
    _, events = read_journal(cut / JOURNAL)
    failed = [e.trial_id for e in events if type(e) is JobEnded and e.reason == "failed"]
    assert failed == [2, 5, 8]
