"""The page's data: what it shows must be what the trace says, and bounded in size."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ashasim.dashboard import views
from ashasim.dashboard.page import embed_json
from ashasim.events import JobEnded, JobStarted, Reported, Trace, load_experiment
from experiments.bench_dashboard import long_run


def test_small_run_shows_every_job_as_a_bar(finished_runs):
    trace = load_experiment(finished_runs["sync-sh"])
    view = views.run_view(trace)
    gantt = view["gantt"]
    assert gantt["aggregate"] is None
    assert len(gantt["bars"]["start"]) == len(trace.segments) == gantt["jobs"]
    assert sorted(set(gantt["bars"]["worker"])) == list(range(trace.n_workers))
    assert [s.start for s in trace.segments] == gantt["bars"]["start"]
    assert sum(1 for label in gantt["bars"]["label"] if label) <= views.MAX_LABELS
    assert gantt["boundaries"], "a synchronous run shows its barriers"
    assert view["summary"]["trials"] == len(trace.trial_ids)


def test_asynchronous_runs_have_no_barrier_lines(finished_runs):
    assert views.run_view(load_experiment(finished_runs["asha"]))["gantt"]["boundaries"] == []


def test_idle_over_time_averages_to_the_runs_idle_fraction(finished_runs):
    for name in ("sync-sh", "asha"):
        trace = load_experiment(finished_runs[name])
        idle = views.run_view(trace)["idle"]
        assert len(idle["t"]) == views.IDLE_BINS
        assert np.mean(idle["idle"]) == pytest.approx(trace.idle_fraction, abs=1e-3)


def test_rung_table_counts_the_trials_at_each_level(finished_runs):
    trace = load_experiment(finished_runs["sync-sh"])
    levels = trace.info["scheduler"]["rung_levels"]
    table = views.run_view(trace)["rungs"]
    assert [row["level"] for row in table] == levels
    for row in table:
        at_level = {r.trial_id: r.metric for r in trace.results if r.resource == row["level"]}
        beyond = {r.trial_id for r in trace.results if r.resource > row["level"]}
        assert row["trials"] == len(at_level)
        assert row["went_on"] == len(set(at_level) & beyond)
        ranked = sorted(at_level.values())
        assert row["best"] == (ranked[0] if ranked else None)
        keep = len(ranked) // 3
        if row["rung"] < len(levels) - 1 and keep:
            assert row["cutoff"] == ranked[keep - 1]
            # the cut-off keeps exactly the top 1/eta
            assert sum(1 for value in ranked if value <= row["cutoff"]) == keep


def test_best_so_far_ends_at_the_makespan(finished_runs):
    trace = load_experiment(finished_runs["asha"])
    best = views.run_view(trace)["best"]
    assert best["metric"][-1] == trace.best.metric
    assert best["t"][-1] == trace.makespan
    assert all(a >= b for a, b in zip(best["metric"], best["metric"][1:]))


def _trace_with_failures() -> Trace:
    trace = Trace({"n_workers": 2, "scheduler": {"name": "ASHA", "rung_levels": [1, 3]}})
    config = {"lr": "</script><script>alert(1)</script>"}
    trace.record(JobStarted(0.0, 0, 0, config, 0, 1))
    trace.record(JobStarted(0.0, 1, 1, {"lr": 0.1}, 0, 1))
    trace.record(JobEnded(1.0, 0, 0, 0, "failed", "CUDA out of memory"))
    trace.record(JobEnded(1.5, 1, 1, 0, "retried", "worker lost"))
    trace.record(JobStarted(2.0, 1, 1, {"lr": 0.1}, 0, 1))
    trace.record(Reported(3.0, 1, 1, 1, float("nan"), "continue"))
    return trace


def test_failures_and_retries_are_listed_newest_first():
    failures = views.run_view(_trace_with_failures())["failures"]
    assert (failures["failed"], failures["retried"]) == (1, 1)
    assert [(r["reason"], r["error"]) for r in failures["rows"]] == [
        ("retried", "worker lost"),
        ("failed", "CUDA out of memory"),
    ]


def test_a_job_still_running_is_shown_as_running():
    view = views.run_view(_trace_with_failures())
    assert view["summary"]["running_jobs"] == 1
    assert view["gantt"]["bars"]["edge"][-1] == views.RUNNING_EDGE


def test_text_from_the_run_cannot_become_markup():
    """Configs reach hover texts escaped, and the embedded JSON cannot close its script tag."""
    view = views.run_view(_trace_with_failures())
    hover = view["gantt"]["bars"]["hover"][0]
    assert "<script>" not in hover and "&lt;script&gt;" in hover
    text = embed_json(view)  # NaN metrics included: no NaN literal reaches the page
    assert "<" not in text and ">" not in text
    assert json.loads(text) == json.loads(json.dumps(view, allow_nan=False))


@given(
    jobs=st.lists(
        st.tuples(st.floats(0, 100, allow_nan=False), st.floats(0, 50, allow_nan=False)),
        max_size=30,
    ),
    at=st.lists(st.floats(-10, 200, allow_nan=False), min_size=1, max_size=10),
)
def test_busy_integral_is_the_sum_of_clipped_jobs(jobs, at):
    starts = np.array([start for start, _ in jobs], dtype=float)
    ends = np.array([start + length for start, length in jobs], dtype=float)
    got = views.busy_integral(starts, ends, np.array(at))
    expected = [sum(min(max(x - s, 0.0), e - s) for s, e in zip(starts, ends)) for x in at]
    assert got == pytest.approx(expected, abs=1e-6 * (1 + len(jobs) * 150))


@pytest.mark.slow
def test_a_run_of_a_hundred_thousand_jobs_stays_small():
    """Past MAX_BARS jobs the latest are bars and the older a busy strip up to where the bars
    begin; the older jobs still running there are bars too, so together they draw all the busy
    time. The curves keep at most MAX_CURVE_POINTS points."""
    trace = long_run(100_000)
    n_workers, cut = trace.n_workers, 100_000 - views.MAX_BARS
    view = views.run_view(trace)
    gantt = view["gantt"]
    bars = list(zip(gantt["bars"]["worker"], gantt["bars"]["start"], gantt["bars"]["end"]))
    assert views.MAX_BARS <= len(bars) <= views.MAX_BARS + n_workers
    aggregate = gantt["aggregate"]
    assert aggregate is not None
    until = aggregate["until"]
    busy = np.array(aggregate["busy"])
    assert busy.shape == (n_workers, views.AGGREGATE_BINS)
    assert busy.min() >= 0 and busy.max() <= 1 + 1e-9
    strip = busy.sum() * aggregate["dt"]
    older = trace.segments[:cut]
    # busy shares are sent rounded to 4 decimals: 1e-4 of the total is the rounding's bound
    assert strip == pytest.approx(sum(min(s.end, until) - s.start for s in older), rel=1e-4)
    crossing = [(s.worker, s.start, s.end) for s in older if s.end > until]
    assert set(crossing) <= set(bars)
    drawn_twice = sum(until - start for _, start, _ in crossing)
    drawn = strip + sum(end - start for _, start, end in bars) - drawn_twice
    assert drawn == pytest.approx(trace.busy_time(), rel=1e-4)
    assert sum(sum(row) for row in aggregate["jobs"]) == cut
    points = [value for value in view["curves"]["t"] if value is not None]
    assert len(points) <= views.MAX_CURVE_POINTS
    assert len(embed_json(view)) < 3_000_000
    assert math.isclose(view["summary"]["makespan"], trace.makespan)
