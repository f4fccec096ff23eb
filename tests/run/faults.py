"""Shared pieces of the fault-injection suite: a deterministic objective with injectable faults,
runs on the in-process FakeBackend, journal cuts (a driver killed at that line), and the checks
every interrupted run must pass (nothing lost, nothing twice, the paper's promotion rule)."""

from __future__ import annotations

import math
import shutil
from collections import Counter
from pathlib import Path

from ashasim.core import Decision, Job, make_scheduler
from ashasim.events import JOURNAL, JobEnded, JobStarted, Reported, load_experiment, read_journal
from ashasim.run import Reporter, StoppingCriterion, Tuner, current_job
from ashasim.run.changes import raise_budget
from ashasim.run.lock import LOCK_FILE
from ashasim.run.resume import catch_up
from ashasim.run.settings import BY_VALUE_FILE, STATE_FILE, check_identity
from ashasim.run.settings_files import load_settings
from ashasim.space import uniform
from tests.core.models import AshaModel, SyncModel

SPACE = {"x": uniform(0.0, 1.0), "max_epochs": 9}
# name, options: ASHA both types, synchronous SH, synchronous Hyperband, random search
SCHEDULERS = {
    "asha": ("asha", {}),
    "asha-stopping": ("asha-stopping", {}),
    "async-hyperband": ("async-hyperband", {}),
    "sync-sh": ("sync-sh", {"overlap": "none"}),
    "sync-hyperband": ("sync-hyperband", {"overlap": "none"}),
    "random": ("random", {}),
}
# Schedulers whose results do not depend on the order reports arrive in (rung barriers, or none
# at all): with several workers, an interrupted run ends with the uninterrupted run's results.
ORDER_FREE = ("sync-sh", "sync-hyperband", "random")


def metric(x: float, trial_id: int, epoch: int) -> float:
    """A deterministic learning curve with the faults the suite injects: trial 2 reports NaN at
    epoch 2, trial 5 reports no metric at epoch 1, trial 11 reports inf at epoch 3. (A report
    the scheduler refuses depends on the job's history, so it has its own test.)"""
    if (trial_id, epoch) == (2, 2):
        return math.nan
    if (trial_id, epoch) == (11, 3):
        return math.inf
    return round(x + 1.0 / epoch + 0.01 * (trial_id % 3), 12)


def objective(x: float, max_epochs: int) -> None:
    job = current_job()
    report = Reporter()
    for epoch in range(job.resume_from + 1, max_epochs + 1):
        if (job.trial_id, epoch) == (5, 1):
            report(epoch=epoch, accuracy=0.5)
        report(epoch=epoch, loss=metric(x, job.trial_id, epoch))


def epoch_seconds(trial_id: int, config: dict, epoch: int) -> float:
    """Uneven epochs, so that workers finish at different times and reports interleave."""
    return 1.0 + ((3 * trial_id + epoch) % 4) * 0.75


def dies(trial_id: int, config: dict, epoch: int) -> bool:
    """Workers die (SIGKILL mid-epoch) in a few epochs of a few trials."""
    return (trial_id, epoch) in {(3, 2), (8, 1), (13, 4)}


def scheduler_for(kind: str, seed: int = 4, max_trials: int = 16, space=None):
    name, options = SCHEDULERS[kind]
    return make_scheduler(
        name,
        SPACE if space is None else space,
        max_t=9,
        grace_period=1,
        reduction_factor=3,
        metric="loss",
        seed=seed,
        max_trials=max_trials,
        **options,
    )


def run_fake(
    directory: Path,
    kind: str,
    n_workers: int = 1,
    *,
    seed: int = 4,
    max_trials: int = 16,
    space=None,
    **backend: object,
):
    """A run of the suite's objective on the FakeBackend (virtual clock, in this process)."""
    options = {"epoch_seconds": epoch_seconds, **backend}
    space = SPACE if space is None else space
    return Tuner(
        objective,
        space,
        scheduler_for(kind, seed, max_trials, space),
        n_workers,
        stop=StoppingCriterion(),
        backend="fake",
        backend_options=options,
        experiment_dir=directory,
        quiet=True,
        outputs=False,
        max_failures=None,
        allow_pickle=True,
    ).run()


def crash_copy(source: Path, target: Path, lines: int, torn: int = 0) -> Path:
    """``target``: the run directory ``source`` as a driver killed after writing ``lines`` lines
    of its journal would have left it (plus ``torn`` characters of the next, a crash mid-write).
    Its checkpoints are those *source* ended with: the ones a cut job resumes from are among them
    unless a later report of the same trial replaced them."""
    target.mkdir(parents=True)
    shutil.copy(source / STATE_FILE, target / STATE_FILE)
    if (source / BY_VALUE_FILE).exists():
        shutil.copy(source / BY_VALUE_FILE, target / BY_VALUE_FILE)
    shutil.copy(source / LOCK_FILE, target / LOCK_FILE)
    if (source / "checkpoints").is_dir():  # a crash leaves the trials' checkpoints in place
        shutil.copytree(source / "checkpoints", target / "checkpoints")
    text = (source / JOURNAL).read_text().splitlines(keepends=True)
    kept = "".join(text[:lines]) + (text[lines][:torn] if torn and lines < len(text) else "")
    (target / JOURNAL).write_text(kept)
    return target


def results(trace) -> set[tuple[int, int, float]]:
    return {(r.trial_id, r.resource, round(r.metric, 9)) for r in _finite(trace)}


def _finite(trace):
    return [r for r in trace.results if math.isfinite(r.metric)]


def check_nothing_lost_or_twice(before, after) -> None:
    """Every result journaled before the crash is in the final run, in the same order, and no
    (trial, resource) was reported twice."""
    kept = [(r.trial_id, r.resource, r.metric) for r in before.results]
    final = [(r.trial_id, r.resource, r.metric) for r in after.results]
    assert final[: len(kept)] == kept
    counts = Counter((trial, resource) for trial, resource, _ in final)
    assert max(counts.values(), default=1) == 1, "a result was made twice"


def replay_run_directory(directory: Path):
    """The saved scheduler caught up with the whole journal (raises if the journal does not
    replay), given the trial budget a resume may have raised, as a resume gives it; the journal
    must also load as an experiment."""
    settings, digest = load_settings(directory, allow_pickle=True)
    header, events = read_journal(directory / JOURNAL)
    check_identity(header, settings, digest)
    raise_budget(settings.scheduler, settings.frame.stop, events, directory)
    catch_up(settings.scheduler, events, settings.n_workers)
    load_experiment(directory).segments  # noqa: B018 - builds and checks the job structure
    return settings.scheduler


def check_paper_rule(directory: Path) -> None:
    """Replay the journal through the brute-force reference models of tests/core/models.py:
    every new job, promotion and decision is the one the paper's rule makes at that point."""
    scheduler = replay_run_directory(directory)
    _, events = read_journal(directory / JOURNAL)
    log, running, milestones = [], set(), {}
    for event in events:
        kind = type(event)
        if kind is JobStarted:
            milestones[event.trial_id] = event.milestone
            if event.trial_id not in running:
                job = Job(
                    event.trial_id,
                    event.config,
                    event.resume_from,
                    event.milestone,
                    event.bracket,
                )
                log.append(("job", event.worker, job))
            running.add(event.trial_id)
        elif kind is Reported:
            log.append(
                (
                    "report",
                    event.worker,
                    event.trial_id,
                    event.resource,
                    event.metric,
                    Decision(event.decision),
                )
            )
            if event.decision == "stop" or event.resource >= milestones[event.trial_id]:
                running.discard(event.trial_id)
        elif kind is JobEnded and event.reason not in ("cancelled", "retried"):
            running.discard(event.trial_id)
            if event.reason == "failed":
                log.append(("fail", event.worker, event.trial_id))
    name = type(scheduler).__name__
    if name in ("ASHA", "AsyncHyperband"):
        AshaModel(scheduler, scheduler.type).replay(log)
    elif name in ("SyncSH", "SyncHyperband"):
        SyncModel(scheduler).replay(log)
    else:  # random search: each trial in one job to max_t, unless it failed
        for entry in log:
            if entry[0] == "job":
                assert (entry[2].resume_from, entry[2].milestone) == (0, scheduler.max_t)
