"""Fault injection, time limits: a job's limit counts from the moment its objective starts (not
from its worker's start-up, imports or the job's transit), and a job the driver's crash cut is
charged with the time it ran until the crash, not until the journal's last line."""

from __future__ import annotations

import math

import pytest

from ashasim.core import make_scheduler
from ashasim.events import JobEnded, load_experiment
from ashasim.run import Reporter, StoppingCriterion, Tuner, current_job
from ashasim.run.executor import Execution
from ashasim.run.fake import FakeBackend
from ashasim.run.messages import Started
from ashasim.run.real_run import HEARTBEAT
from ashasim.space import uniform

SPACE = {"x": uniform(0.0, 1.0), "max_epochs": 4}
COLD = 3.0  # virtual seconds between a job's arrival and its objective's start


def objective(x: float, max_epochs: int) -> None:
    job = current_job()
    report = Reporter()
    for epoch in range(job.resume_from + 1, max_epochs + 1):
        report(epoch=epoch, loss=x + 1.0 / epoch)


class ColdStarts(FakeBackend):
    """Every job's objective starts ``COLD`` virtual seconds after the job reached its worker
    (a cold worker's first imports, a slow transit): the objective's own time comes after."""

    def _produced(self, worker, message):
        if type(message) is Started:
            worker.resumed_at += COLD
        return super()._produced(worker, message)


def scheduler():
    return make_scheduler("random", SPACE, max_t=4, metric="loss", max_trials=4)


def test_the_time_limit_counts_from_the_objective_s_start(fake_tuner, tmp_path):
    """Objectives of 4 s under a 5 s limit, each starting 3 s after its job was sent: the limit
    covers the objective alone, so every job finishes (counted from the send, all would fail)."""
    trace = fake_tuner(
        objective,
        scheduler(),
        outputs=False,
        trial_timeout=5,
        backend_options={"epoch_seconds": 1.0, "backend": ColdStarts},
    ).run()
    assert [s.reason for s in trace.segments] == ["milestone"] * 4
    assert {round(s.end - s.start, 6) for s in trace.segments} == {COLD + 4.0}


def test_a_hung_objective_is_still_ended_by_its_limit_counted_from_its_start(fake_tuner, tmp_path):
    def hangs_in_trial_0(trial_id, config, epoch):
        return math.inf if trial_id == 0 else 1.0

    trace = fake_tuner(
        objective,
        scheduler(),
        outputs=False,
        trial_timeout=5,
        backend_options={"epoch_seconds": hangs_in_trial_0, "backend": ColdStarts},
    ).run()
    failed = [s for s in trace.segments if s.reason == "failed"]
    assert [(s.trial_id, s.end - s.start) for s in failed] == [(0, COLD + 5.0)]


# -- a crash of the driver ------------------------------------------------------------------------


class Crash(BaseException):
    """The driver dies here without a word to its journal (SIGKILL)."""


def hangs_in_trial_1(trial_id, config, epoch):
    """Trial 1 hangs in epoch 2; every other epoch takes one second."""
    return math.inf if (trial_id, epoch) == (1, 2) else 1.0


def crashing_run(directory, monkeypatch):
    """Trial 1 hangs from t=1 on, the others end by t=16; the driver dies at t=30 without
    journaling anything (``stop_all``, which a SIGKILL never lets run, only kills the workers)."""

    def die(self, at, why):
        for slot in self.slots:  # the workers die with it (PR_SET_PDEATHSIG)
            self.backend.kill(slot.index)
        raise Crash

    monkeypatch.setattr(Execution, "stop_all", die)
    tuner = Tuner(
        objective,
        SPACE,
        make_scheduler("random", SPACE, max_t=4, metric="loss", max_trials=5),
        2,
        backend="fake",
        backend_options={"epoch_seconds": hangs_in_trial_1},
        experiment_dir=directory,
        stop=StoppingCriterion(max_wallclock_time=30),
        quiet=True,
        outputs=False,
    )
    with pytest.raises(Crash):
        tuner.run()
    monkeypatch.undo()


def test_a_job_cut_by_a_crash_is_charged_until_the_crash(tmp_path, monkeypatch):
    """The journal's last line is at t=16, but the driver lived until t=30: resumed with a 20 s
    limit, the hung job (started at t=0) has run 29 s or more, so it fails at once instead of
    hanging for another 20 s; its cut is journaled at the crash, where the run's clock goes on."""
    directory = tmp_path / "run"
    crashing_run(directory, monkeypatch)
    events = load_experiment(directory).events
    assert events[-1].t == 16.0 and float((directory / HEARTBEAT).read_text()) >= 29.0
    resumed = Tuner.resume(
        directory, quiet=True, outputs=False, stop=StoppingCriterion(), trial_timeout=20
    )
    ends = [e for e in resumed.events if type(e) is JobEnded and e.trial_id == 1]
    assert [e.reason for e in ends] == ["cancelled", "failed"]
    assert ends[0].t >= 29.0 and ends[1].t == ends[0].t
    assert "past the time limit (trial_timeout=20 s)" in ends[1].error
    assert "had run 29 s" in ends[1].error or "had run 30 s" in ends[1].error


def test_an_unreadable_heartbeat_falls_back_to_the_journal(tmp_path, monkeypatch):
    """A damaged heartbeat is only a lost hint: the crash is taken to be at the last line."""
    directory = tmp_path / "run"
    crashing_run(directory, monkeypatch)
    (directory / HEARTBEAT).write_text("not a number")
    resumed = Tuner.resume(
        directory, quiet=True, outputs=False, stop=StoppingCriterion(max_wallclock_time=40)
    )
    ends = [e for e in resumed.events if type(e) is JobEnded and e.trial_id == 1]
    assert ends[0].reason == "cancelled" and ends[0].t == 16.0
