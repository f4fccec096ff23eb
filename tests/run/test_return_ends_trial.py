"""The executor's hooks for façades: an objective that returns ends its trial when the run allows
it (Ray Tune's function trainables), and a progress display of the caller's own (FakeBackend)."""

from __future__ import annotations

import shutil

import pytest

from ashasim.core import ASHA, SyncHyperband
from ashasim.events import JOURNAL, JobEnded, load_experiment
from ashasim.run import Reporter, RunError, StoppingCriterion, Tuner, current_job
from ashasim.space import uniform

SPACE = {"x": uniform(0.0, 1.0)}


def returns_at_five(x: float) -> None:
    """Reports epochs 1..5 (resuming where its job starts) and returns: fewer than max_t."""
    report = Reporter()
    for epoch in range(current_job().resume_from + 1, 6):
        report(epoch=epoch, loss=x + 1.0 / epoch)


def never_reports(x: float) -> None:
    return None


def tune(tmp_path, objective, scheduler, *, allow=True, n_workers=2, progress=None, **options):
    return Tuner(
        objective,
        SPACE,
        scheduler,
        n_workers,
        backend="fake",
        experiment_dir=tmp_path,
        quiet=True,
        outputs=False,
        return_ends_trial=allow,
        progress=progress,
        **options,
        allow_pickle=True,
    ).run()


def reasons(trace):
    return [e.reason for e in trace.events if type(e) is JobEnded]


def stopping_asha(**options):
    ladder = {"max_t": 20, "grace_period": 1, "reduction_factor": 2, "metric": "loss"}
    return ASHA(SPACE, type="stopping", max_trials=8, seed=1, **ladder, **options)


def test_a_returning_objective_ends_its_trial_without_a_failure(tmp_path):
    """Stopping ASHA towards max_t = 20, objectives that stop at 5: every trial the scheduler
    let through ends "returned", none fails, and the run ends because the scheduler is done."""
    scheduler = stopping_asha()
    trace = tune(tmp_path, returns_at_five, scheduler)
    assert set(reasons(trace)) == {"returned", "stopped"}
    assert "failed" not in reasons(trace)
    assert scheduler.done
    returned = [e for e in trace.events if type(e) is JobEnded and e.reason == "returned"]
    assert all(e.resource == 5 for e in returned)
    assert trace.summary()["failed_jobs"] == 0


def test_without_the_option_the_same_objective_fails(tmp_path):
    trace = tune(tmp_path, returns_at_five, stopping_asha(), allow=False)
    failed = [e for e in trace.events if type(e) is JobEnded and e.reason == "failed"]
    assert failed and "returned" not in reasons(trace)
    assert all("returned after epoch=5, before the job's milestone 20" in e.error for e in failed)


def test_a_trial_that_never_reported_still_fails(tmp_path):
    with pytest.raises(RunError, match="every trial failed"):
        tune(tmp_path, never_reports, stopping_asha(), max_failures=None)
    assert set(reasons(load_experiment(tmp_path))) == {"failed"}
    with pytest.raises(RunError, match="3 jobs failed in a row"):
        tune(tmp_path / "again", never_reports, stopping_asha(), max_failures=3)


def test_a_returned_trial_is_never_waited_for_by_synchronous_hyperband(tmp_path):
    """Synchronous Hyperband (max_t 9) with objectives that stop at 5: the rung barriers do not
    wait for trials that returned, and the run ends."""
    scheduler = SyncHyperband(
        SPACE, max_t=9, reduction_factor=3, metric="loss", max_trials=20, seed=0
    )
    trace = tune(tmp_path, returns_at_five, scheduler, n_workers=3)
    assert "returned" in reasons(trace)
    assert "failed" not in reasons(trace)
    assert scheduler.done


def test_a_run_with_returned_trials_resumes_from_any_cut(tmp_path):
    """The journal's replay tells the saved scheduler of every returned trial (as a failure),
    so a resumed run continues exactly as the uninterrupted one."""
    full = tune(tmp_path / "full", returns_at_five, stopping_asha(), n_workers=1)
    lines = (tmp_path / "full" / JOURNAL).read_text().splitlines(keepends=True)
    assert "returned" in reasons(full)
    for cut in (len(lines) // 3, len(lines) // 2, len(lines) - 3):
        crashed = tmp_path / f"cut{cut}"
        shutil.copytree(tmp_path / "full", crashed)
        (crashed / JOURNAL).write_text("".join(lines[:cut]))
        resumed = Tuner.resume(crashed, allow_pickle=True, quiet=True, outputs=False)
        assert [(r.trial_id, r.resource, r.metric) for r in resumed.results] == [
            (r.trial_id, r.resource, r.metric) for r in full.results
        ], f"cut at journal line {cut}"


class Recorder:
    """A progress display that keeps what it is shown."""

    enabled = True

    def __init__(self):
        self.updates: list[str] = []
        self.closed = 0

    def update(self, fraction, text, *, now=False):
        self.updates.append(text)

    def close(self):
        self.closed += 1


def test_a_progress_display_of_ones_own_is_used(tmp_path):
    recorder = Recorder()
    tune(
        tmp_path,
        returns_at_five,
        stopping_asha(),
        progress=recorder,
        stop=StoppingCriterion(max_trials=4),
    )
    assert recorder.updates and recorder.closed == 1
    assert all(text.startswith("trials ") for text in recorder.updates)
