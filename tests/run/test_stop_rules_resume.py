"""Stop rules in real runs (FakeBackend): the counts go on across a resume, and a resume whose
journal already meets its rule starts nothing."""

from __future__ import annotations

import pytest

from ashasim.events import JOURNAL, JobStarted, Reported, read_journal
from ashasim.run import StoppingCriterion, Tuner
from tests.run.faults import SPACE, crash_copy, epoch_seconds, scheduler_for
from tests.run.objectives import with_checkpoint


def run(directory, stop: StoppingCriterion):
    return Tuner(
        with_checkpoint,
        SPACE,
        scheduler_for("asha-stopping", max_trials=40),
        2,
        stop=stop,
        backend="fake",
        backend_options={"epoch_seconds": epoch_seconds},
        experiment_dir=directory,
        quiet=True,
        outputs=False,
        allow_pickle=True,
    ).run()


@pytest.mark.parametrize("fraction", [0.3, 0.7])
def test_a_resumed_run_counts_the_results_it_had(tmp_path, fraction):
    """Cut anywhere before the rule was met: the resumed run stops at the same count in all,
    the cut journal's results first (a count from zero would run on past 30)."""
    stop = StoppingCriterion(max_num_evaluations=29)  # Syne Tune's "more than 29": 30
    whole = run(tmp_path / "whole", stop)
    assert len(whole.results) == 30
    lines = (tmp_path / "whole" / JOURNAL).read_text().splitlines()
    cut = crash_copy(tmp_path / "whole", tmp_path / "cut", int(len(lines) * fraction))
    _, kept = read_journal(cut / JOURNAL)
    earlier = [e for e in kept if type(e) is Reported]
    assert 0 < len(earlier) < 30
    resumed = Tuner.resume(cut, allow_pickle=True, quiet=True, outputs=False)
    assert len(resumed.results) == 30
    assert [e for e in resumed.events if type(e) is Reported][: len(earlier)] == earlier


def test_a_resume_whose_journal_meets_the_rule_starts_nothing(tmp_path):
    run(tmp_path / "run", StoppingCriterion(max_num_evaluations=9))
    _, before = read_journal(tmp_path / "run" / JOURNAL)
    Tuner.resume(tmp_path / "run", allow_pickle=True, quiet=True, outputs=False)
    _, after = read_journal(tmp_path / "run" / JOURNAL)
    assert after == before
    more = StoppingCriterion(max_num_evaluations=14)  # a new rule: the run goes on to 15
    resumed = Tuner.resume(tmp_path / "run", stop=more, allow_pickle=True, quiet=True)
    assert len(resumed.results) == 15
    assert sum(type(e) is JobStarted for e in resumed.events) > sum(
        type(e) is JobStarted for e in before
    )
    assert sum(type(e) is Reported for e in resumed.events) == 15
