"""The simulator's fault model: jobs that die (drop_probability), journaled as failed."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ashasim.core import make_scheduler
from ashasim.events import load_experiment
from ashasim.sim import LearningCurves, Scripted, simulate
from ashasim.space import uniform
from tests.invariants import check_trace
from tests.strategies import schedulers


def test_no_drops_leaves_the_journal_as_it_was(tmp_path):
    plain, faulty = LearningCurves(), LearningCurves(drop_probability=0.0)
    for costs, out in ((plain, tmp_path / "a"), (faulty, tmp_path / "b")):
        scheduler = make_scheduler("asha", costs.config_space, max_t=10, seed=3)
        simulate(scheduler, costs, 4, max_time=300, seed=3, journal=out)
    assert (tmp_path / "a" / "journal.jsonl").read_bytes() == (
        tmp_path / "b" / "journal.jsonl"
    ).read_bytes()


@settings(max_examples=25, deadline=None)
@given(
    scheduler=schedulers(max_trials=st.integers(5, 30)),
    p=st.sampled_from([0.05, 0.3, 1.0]),
    n_workers=st.integers(1, 6),
    seed=st.integers(0, 20),
)
def test_drops_are_deterministic_failed_jobs_with_their_reason(scheduler, p, n_workers, seed):
    import copy

    twin = copy.deepcopy(scheduler)
    costs = LearningCurves(max_epochs=9, drop_probability=p)
    trace = simulate(scheduler, costs, n_workers, seed=seed)
    again = simulate(twin, costs, n_workers, seed=seed)
    assert trace == again  # deterministic under the seed
    check_trace(
        trace, retrains=not scheduler.resumes_promoted, reasons=("milestone", "stopped", "failed")
    )
    ended = [e for e in trace.events if type(e).__name__ == "JobEnded"]
    failed = [e for e in ended if e.reason == "failed"]
    assert all(
        e.error == f"dropped: the simulated job died (drop_probability={p:g})" for e in failed
    )
    if p == 1.0:
        # every job dies before its milestone, unless the scheduler stopped it first
        assert failed and all(e.reason in ("failed", "stopped") for e in ended)
    assert scheduler.done


def test_a_dropped_job_dies_inside_its_work_and_keeps_its_earlier_reports():
    """Every job of trial 0 runs four 1-second epochs; with p = 1 each dies during one of them,
    at a fraction of it: its reports before that stand, its end is between two epochs."""
    costs = Scripted({0: 1.0}, {0: [0.5, 0.4, 0.3, 0.2]}, drop_probability=1.0)
    space = {"x": uniform(0.0, 1.0)}
    scheduler = make_scheduler("random", space, max_t=4, max_trials=1)
    trace = simulate(scheduler, costs, 1, seed=11)
    (segment,) = trace.segments
    assert segment.reason == "failed"
    reports = [r.resource for r in trace.results]
    assert reports == list(range(1, len(reports) + 1)) and len(reports) < 4
    assert len(reports) < segment.end < len(reports) + 1
    other_seed = simulate(make_scheduler("random", space, max_t=4, max_trials=1), costs, 1, seed=12)
    assert other_seed.segments[0].end != segment.end  # where it dies depends on the seed


def test_synchronous_sh_closes_a_rung_without_its_dropped_trials():
    costs = LearningCurves(max_epochs=9, drop_probability=0.3)
    scheduler = make_scheduler(
        "sync-sh", costs.config_space, max_t=9, reduction_factor=3, n0=9, max_trials=9, seed=2
    )
    trace = simulate(scheduler, costs, 3, seed=5)
    failed_at = {s.trial_id: s.end for s in trace.segments if s.reason == "failed"}
    assert failed_at
    # a dropped trial is never handed out again, and its rung still closed: later rungs ran
    assert not [
        s
        for s in trace.segments
        if s.trial_id in failed_at and s.start >= failed_at[s.trial_id] and s.reason != "failed"
    ]
    assert any(s.milestone > 1 for s in trace.segments)
    assert scheduler.done  # nothing waits for a dropped trial


@pytest.mark.parametrize(("value", "message"), [(-0.1, "in \\[0, 1\\]"), (1.5, "in \\[0, 1\\]")])
def test_a_bad_drop_probability_is_refused(value, message):
    with pytest.raises(ValueError, match=f"drop_probability must be a number {message}"):
        LearningCurves(drop_probability=value)


def test_the_command_line_takes_a_drop_probability(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ashasim",
            "simulate",
            "--drop-probability",
            "0.2",
            "--max-time",
            "120",
            "--quiet",
            "--out",
            str(tmp_path / "run"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert load_experiment(tmp_path / "run").summary()["failed_jobs"] > 0
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "ashasim",
            "simulate",
            "--drop-probability",
            "2",
            "--max-time",
            "5",
            "--out",
            str(tmp_path / "bad"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 2 and "--drop-probability" in bad.stderr
