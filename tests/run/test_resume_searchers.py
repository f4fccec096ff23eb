"""A resumed run with a model-based searcher continues with the proposals an uninterrupted run
makes: the journal's replay brings the searcher back to the same state (FakeBackend, in-process)."""

from __future__ import annotations

import shutil

import pytest

from ashasim.core import make_scheduler
from ashasim.events import JOURNAL, JobStarted
from ashasim.run import Reporter, StoppingCriterion, Tuner, current_job
from ashasim.space import loguniform, randint

SPACE = {"lr": loguniform(1e-3, 1.0), "width": randint(1, 64), "max_epochs": 9}


def objective(lr: float, width: int, max_epochs: int) -> None:
    """A smooth bowl in (log lr, width) that improves with epochs."""
    import math

    job = current_job()
    report = Reporter()
    for epoch in range(job.resume_from + 1, max_epochs + 1):
        error = (math.log10(lr) + 1.5) ** 2 + ((width - 40) / 30) ** 2 + 1.0 / epoch
        report(epoch=epoch, loss=error)


def run(fake_tuner, directory, searcher):
    scheduler = make_scheduler(
        "asha", SPACE, max_t=9, reduction_factor=3, metric="loss", seed=7, searcher=searcher
    )
    stop = StoppingCriterion(max_trials=24)
    return fake_tuner(objective, scheduler, 1, directory=directory, stop=stop, outputs=False).run()


def configs(trace):
    return {e.trial_id: e.config for e in trace.events if type(e) is JobStarted}


@pytest.mark.parametrize("searcher", ["kde", "gp"])
def test_a_journal_cut_anywhere_resumes_to_the_same_proposals(fake_tuner, tmp_path, searcher):
    full = run(fake_tuner, tmp_path / "full", searcher)
    lines = (tmp_path / "full" / JOURNAL).read_text().splitlines(keepends=True)
    assert len(configs(full)) == 24
    for cut in (3, len(lines) // 3, len(lines) // 2, len(lines) - 2):
        crashed = tmp_path / f"cut{cut}"
        shutil.copytree(tmp_path / "full", crashed)
        (crashed / JOURNAL).write_text("".join(lines[:cut]))
        resumed = Tuner.resume(crashed, allow_pickle=True, quiet=True, outputs=False)
        assert configs(resumed) == configs(full), f"cut at journal line {cut}"
        assert {(r.trial_id, r.resource, r.metric) for r in resumed.results} == {
            (r.trial_id, r.resource, r.metric) for r in full.results
        }
