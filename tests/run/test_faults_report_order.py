"""Fault injection, the report path: no worker hears the answer to a report before the report is
journaled (and fsync-ed under ``durable``), at milestones as everywhere; checkpoints are pruned
only behind the journal; an objective that swallows ``StopTrial`` fails its job and deletes no
checkpoint a promotion needs."""

from __future__ import annotations

import os

import pytest

from ashasim.core import make_scheduler
from ashasim.events import JobEnded, JobStarted, Reported, load_experiment
from ashasim.events import journal as journal_module
from ashasim.run import Reporter, checkpoint, current_job
from ashasim.run.context import JobContext, JobSpec, StopTrial, reset_context, set_context
from ashasim.run.fake import FakeBackend
from ashasim.run.messages import CONTINUE, STOP, Report, RunJob
from ashasim.space import uniform

SPACE = {"x": uniform(0.0, 1.0), "max_epochs": 9}


def asha(kind="asha", max_trials=9):
    return make_scheduler(
        kind,
        SPACE,
        max_t=9,
        grace_period=1,
        reduction_factor=3,
        metric="loss",
        seed=3,
        max_trials=max_trials,
    )


def saves_and_reports(x: float, max_epochs: int) -> None:
    """Resumes from its checkpoint, saves before every report."""
    state = checkpoint.load()
    start = state["epoch"] if state else 0
    report = Reporter()
    for epoch in range(start + 1, max_epochs + 1):
        checkpoint.save({"epoch": epoch})
        report(epoch=epoch, loss=round(x + 1.0 / epoch, 9))


# -- the Reporter, on a channel that records what it is told --------------------------------------


class SpyChannel:
    def __init__(self, replies):
        self.sent = []
        self.replies = list(replies)

    def send(self, message):
        self.sent.append(message)

    def recv(self):
        return self.replies.pop(0)


def filed(directory):
    return sorted(int(name[9:-3]) for name in os.listdir(directory) if name.endswith(".pt"))


@pytest.fixture
def job_on(tmp_path):
    """Run ``body(report)`` as a job from epoch 1 to its milestone 3, with *replies* queued."""

    def run(replies, body):
        channel = SpyChannel(replies)
        spec = JobSpec(7, {}, 1, 3, str(tmp_path))
        token = set_context(JobContext(spec, channel))
        try:
            body(Reporter())
        finally:
            reset_context(token)
        return channel

    (tmp_path / "resource_1.pt").write_bytes(b"")  # the checkpoint the job resumed from
    return run


def test_the_milestone_report_waits_for_no_answer_and_prunes_nothing(job_on, tmp_path):
    """Epoch 2 is answered CONTINUE (after the journal line): the checkpoint at 1 may go. Epoch
    3 is the milestone: the job ends there, the worker lets go without waiting for an answer
    (none can reach it before the driver journals the report), and keeps epoch 2's checkpoint:
    the milestone's report is not journaled yet, so a promotion may still resume from 2."""

    def body(report):
        checkpoint.save({"epoch": 2})
        report(epoch=2, loss=0.5)
        assert filed(tmp_path) == [2]
        checkpoint.save({"epoch": 3})
        with pytest.raises(StopTrial):
            report(epoch=3, loss=0.4)

    channel = job_on([CONTINUE], body)
    assert [(m.values["epoch"], m.saved, m.final) for m in channel.sent] == [
        (2, True, False),
        (3, True, True),
    ]
    assert channel.replies == []  # the one answer was used, and no other was waited for
    assert filed(tmp_path) == [2, 3]


def test_a_stop_prunes_nothing(job_on, tmp_path):
    """STOP may answer a report that was never journaled (refused, or made after a stop): the
    checkpoint at the last journaled report stays."""

    def body(report):
        checkpoint.save({"epoch": 2})
        with pytest.raises(StopTrial):
            report(epoch=2, loss=0.5)

    job_on([STOP], body)
    assert filed(tmp_path) == [1, 2]


# -- the order of journal writes, fsyncs and answers in a whole run ------------------------------


def test_no_answer_reaches_a_worker_before_its_report_is_journaled_and_synced(
    fake_tuner, tmp_path, monkeypatch
):
    """A durable run on the FakeBackend with every journal write, fsync, delivered report and
    message to a worker logged in one sequence: each CONTINUE/STOP follows the write and fsync
    of the report it answers; milestone reports get no answer at all, and are journaled (and
    synced) before their trial is handed to any worker again."""
    log: list[tuple] = []
    write, fsync = journal_module.JournalWriter.write, os.fsync
    wait, send = FakeBackend.wait, FakeBackend.send

    def logged_write(self, event):
        log.append(("line", event))  # the fsync, if any, comes in ``write``
        write(self, event)

    def logged_wait(self, until):
        messages = wait(self, until)
        log.extend(("report", i, m) for i, m in messages if type(m) is Report)
        return messages

    def logged_send(self, index, message):
        log.append(("send", index, message))
        send(self, index, message)

    monkeypatch.setattr(journal_module.JournalWriter, "write", logged_write)
    monkeypatch.setattr(journal_module.os, "fsync", lambda fd: (log.append(("fsync",)), fsync(fd)))
    monkeypatch.setattr(FakeBackend, "wait", logged_wait)
    monkeypatch.setattr(FakeBackend, "send", logged_send)
    fake_tuner(saves_and_reports, asha(), n_workers=3, durable=True, outputs=False).run()

    def synced_line(trial_id, resource, before):
        """Position of the journal line of that report, when an fsync follows it before
        *before*; None otherwise."""
        for position in range(before - 1, -1, -1):
            kind, event = log[position][0], log[position][-1]
            if kind == "line" and type(event) is Reported and event[2:4] == (trial_id, resource):
                synced = any(e == ("fsync",) for e in log[position + 1 : before])
                return position if synced else None
        return None

    last_report: dict[int, Report] = {}
    answers = milestones = 0
    for position, entry in enumerate(log):
        if entry[0] == "report":
            last_report[entry[1]] = entry[2]
        elif entry[0] == "send" and isinstance(entry[2], str):
            report = last_report.pop(entry[1])
            assert not report.final, "a milestone report was answered"
            assert synced_line(report.trial_id, report.values["epoch"], position) is not None
            answers += 1
        elif entry[0] == "send" and type(entry[2]) is RunJob:
            spec = entry[2].spec
            if spec.resume_from > 0:  # a promotion: its milestone report is journaled and synced
                assert synced_line(spec.trial_id, spec.resume_from, position) is not None
                milestones += 1
    assert answers >= 5 and milestones >= 3  # the run promoted trials, so the check has teeth


# -- an objective that swallows StopTrial ---------------------------------------------------------


def swallows_stops(x: float, max_epochs: int) -> None:
    """Trial 1 catches everything its reports raise (a bare ``except``) and goes on reporting."""
    state = checkpoint.load()
    start = state["epoch"] if state else 0
    report = Reporter()
    for epoch in range(start + 1, max_epochs + 1):
        checkpoint.save({"epoch": epoch})
        try:
            report(epoch=epoch, loss=round(x + 1.0 / epoch, 9))
        except:  # noqa: E722 - the fault under test
            if current_job().trial_id != 1:
                raise


@pytest.mark.parametrize("kind", ["asha", "asha-stopping"])
def test_a_report_after_a_stop_fails_the_job_and_prunes_no_resumable_checkpoint(
    fake_tuner, tmp_path, kind
):
    """Trial 1 ignores the end of its first job (its milestone, or a STOP) and reports again:
    that job fails with a message naming the swallowed stop (a trial the scheduler had stopped
    stays stopped, with the error), its worker is replaced, the other trials' promotions run as
    usual, and every trial the journal leaves paused at a report still has its checkpoint
    there."""
    directory = tmp_path / "run"
    trace = fake_tuner(
        swallows_stops, asha(kind), n_workers=2, directory=directory, outputs=False
    ).run()
    ends = [e for e in trace.events if type(e) is JobEnded and e.trial_id == 1]
    assert [e.reason for e in ends] == ["failed" if kind == "asha" else "stopped"]
    assert "the objective ignored a stop: it reported epoch=" in ends[0].error
    assert "swallow StopTrial" in ends[0].error
    decisions = [e.decision for e in trace.events if type(e) is Reported and e.trial_id == 1]
    if kind == "asha":  # its held milestone report was dropped: the scheduler never heard it
        assert decisions == []
        promoted = {e.trial_id for e in trace.events if type(e) is JobStarted and e.resume_from}
        assert promoted  # promotions resumed from checkpoints (a missing one would fail them)
    else:  # the STOP it swallowed answered a journaled report
        assert decisions[-1] == "stop"
    errors = {e.trial_id for e in trace.events if type(e) is JobEnded and e.error}
    assert errors == {1}
    last: dict[int, int] = {}
    for event in load_experiment(directory).events:
        if type(event) is Reported:
            last[event.trial_id] = event.resource
    for trial_id, resource in last.items():
        if trial_id != 1:
            kept = filed(directory / "checkpoints" / f"trial_{trial_id}")
            assert resource in kept
