"""The Trace and its views: recording, segments, idle time, results, best-so-far, export."""

import csv
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ashasim.events import (
    JOURNAL,
    JobEnded,
    JobStarted,
    Reported,
    Result,
    Segment,
    Trace,
    load_experiment,
)
from tests.events.logs import build, event_logs, exact, known

# -- recording ----------------------------------------------------------------------------------


def test_record_refuses_an_event_earlier_than_the_previous_one(tmp_path):
    """Events are recorded in time order (equal times are fine); a late one is not written."""
    trace = Trace({"n_workers": 1}, journal=tmp_path / JOURNAL)
    trace.record(JobStarted(1.0, 0, 0, {}, 0, 2))
    trace.record(Reported(1.0, 0, 0, 1, 0.5, "continue"))
    with pytest.raises(ValueError, match=r"time order: t=0.5 after t=1.0"):
        trace.record(Reported(0.5, 0, 0, 2, 0.4, "continue"))
    trace.close()
    assert len(trace) == 2
    assert len(load_experiment(tmp_path)) == 2


def test_views_are_recomputed_after_a_new_event():
    trace = Trace({"n_workers": 1})
    trace.record(JobStarted(0.0, 0, 0, {}, 0, 2))
    assert trace.segments[0].reason == "running"
    trace.record(JobEnded(1.0, 0, 0, 0, "cancelled"))
    assert trace.segments == [Segment(0, 0, 0, 0, 0.0, 1.0, "cancelled", 2, 0)]


@pytest.mark.parametrize("n_workers", [0, -1, 1.5, "2", True, None])
def test_trace_rejects_bad_n_workers(n_workers):
    with pytest.raises(ValueError, match=r"info\['n_workers'\] must be an integer >= 1"):
        Trace({"n_workers": n_workers})


def test_trace_needs_n_workers():
    with pytest.raises(ValueError, match=r"info\['n_workers'\]"):
        Trace({"metric": "loss"})


def test_info_gets_defaults_and_goes_through_json():
    trace = Trace({"n_workers": 2, "levels": (1, 2)})
    assert trace.info == {
        "version": 1,
        "metric": "metric",
        "mode": "min",
        "n_workers": 2,
        "levels": [1, 2],
    }
    assert (trace.n_workers, trace.metric, trace.mode, trace.makespan) == (2, "metric", "min", 0.0)


# -- segments and idle time ---------------------------------------------------------------------


def test_segments_of_the_known_trace():
    """One segment per job in start order; the open job is "running" until the makespan and its
    resource is the last one it reported; milestone and bracket come from the start event."""
    trace = known()
    assert trace.makespan == 6.0
    assert trace.segments == [
        Segment(0, 0, 0, 2, 0.0, 2.0, "milestone", 2, 0),
        Segment(1, 1, 0, 2, 0.5, 6.0, "running", 3, 1),
        Segment(0, 2, 0, 1, 3.0, 4.0, "stopped", 1, 0),
    ]


def test_a_running_job_without_reports_keeps_its_resume_point():
    trace = build(
        2,
        [
            JobStarted(0.0, 0, 0, {}, 0, 1),
            JobStarted(1.0, 1, 7, {}, 3, 6),
            Reported(2.0, 0, 0, 1, 0.5, "continue"),
        ],
    )
    assert trace.segments[1] == Segment(1, 7, 3, 3, 1.0, 2.0, "running", 6, 0)
    assert trace.segments[0] == Segment(0, 0, 0, 1, 0.0, 2.0, "running", 1, 0)


def test_a_worker_starting_a_job_while_busy_is_an_error():
    """record() accepts it; the segments view refuses it, naming both trials."""
    trace = build(2, [JobStarted(0.0, 0, 0, {}, 0, 2), JobStarted(1.0, 0, 1, {}, 0, 2)])
    message = r"worker 0 starts trial 1 at t=1.0 while it still runs trial 0"
    with pytest.raises(ValueError, match=message):
        _ = trace.segments


def test_idle_time_of_the_known_trace():
    """Worker 0 waits 2..3 and 4..6, worker 1 until 0.5, worker 2 never runs a job."""
    trace = known()
    assert trace.idle_intervals(0) == [(2.0, 3.0), (4.0, 6.0)]
    assert trace.idle_intervals(1) == [(0.0, 0.5)]
    assert trace.idle_intervals(2) == [(0.0, 6.0)]
    assert [trace.busy_time(w) for w in range(3)] == [3.0, 5.5, 0.0]
    assert trace.busy_time() == 8.5
    assert trace.idle_time == 9.5
    assert trace.idle_fraction == pytest.approx(9.5 / 18)


def test_an_empty_trace_is_not_idle():
    trace = Trace({"n_workers": 3})
    assert trace.idle_fraction == 0.0
    assert trace.idle_intervals(2) == []
    assert trace.segments == [] and trace.results == [] and trace.best is None


@pytest.mark.parametrize("worker", [-1, 3, 10])
def test_idle_intervals_rejects_a_worker_out_of_range(worker):
    with pytest.raises(ValueError, match=rf"worker must be in 0..2, got {worker}"):
        known().idle_intervals(worker)


@given(event_logs())
def test_busy_plus_idle_is_workers_times_makespan(log):
    """Per worker, its jobs and its idle gaps tile [0, makespan] without overlap."""
    n_workers, events = log
    trace = build(n_workers, events)
    total = 0.0
    for worker in range(n_workers):
        gaps = trace.idle_intervals(worker)
        jobs = [(s.start, s.end) for s in trace.segments if s.worker == worker]
        pieces = sorted(gaps + jobs)
        cursor = 0.0
        for start, end in pieces:
            assert start == cursor and start <= end
            cursor = end
        assert cursor == trace.makespan
        idle = sum(b - a for a, b in gaps)
        assert math.isclose(idle + trace.busy_time(worker), trace.makespan, abs_tol=1e-9)
        total += idle
    assert math.isclose(total + trace.busy_time(), n_workers * trace.makespan, abs_tol=1e-9)
    assert math.isclose(trace.idle_time, total, abs_tol=1e-9)
    assert 0.0 <= trace.idle_fraction <= 1.0 + 1e-12
    assert len(trace.segments) == sum(type(e) is JobStarted for e in events)
    open_jobs = [s for s in trace.segments if s.reason == "running"]
    assert all(s.end == trace.makespan for s in open_jobs)
    assert len(open_jobs) == sum(type(e) is JobStarted for e in events) - sum(
        type(e) is JobEnded for e in events
    )


# -- results and best-so-far ----------------------------------------------------------------


def test_results_of_the_known_trace():
    """One row per report, in time order, with its trial's config."""
    rows = known().results
    assert exact(rows) == exact(
        [
            Result(1.0, 0, 0, {"lr": 0.1}, 1, 0.5),
            Result(1.5, 1, 1, {"lr": 0.2, "opt": "sgd"}, 1, 0.7),
            Result(2.0, 0, 0, {"lr": 0.1}, 2, 0.4),
            Result(4.0, 0, 2, {"lr": 0.3}, 1, 0.2),
            Result(6.0, 1, 1, {"lr": 0.2, "opt": "sgd"}, 2, math.nan),
        ]
    )


def test_best_so_far_min_and_max():
    """Improvements only, in the mode's direction; the NaN report is never best."""
    low = known("min")
    assert low.best_so_far() == [(1.0, 0.5, 0), (2.0, 0.4, 0), (4.0, 0.2, 2)]
    assert low.best == Result(4.0, 0, 2, {"lr": 0.3}, 1, 0.2)
    assert low.time_to_reach(0.45) == 2.0
    assert low.time_to_reach(0.2) == 4.0
    assert low.time_to_reach(0.1) is None
    high = known("max")
    assert high.best_so_far() == [(1.0, 0.5, 0), (1.5, 0.7, 1)]
    assert high.best == Result(1.5, 1, 1, {"lr": 0.2, "opt": "sgd"}, 1, 0.7)
    assert high.time_to_reach(0.6) == 1.5
    assert high.time_to_reach(0.9) is None


def test_best_is_the_best_report_when_a_trial_reports_twice_at_one_instant():
    """Zero-second epochs: both reports of trial 0 come at t=0; the better (second) is best."""
    trace = build(
        1,
        [
            JobStarted(0.0, 0, 0, {}, 0, 2),
            Reported(0.0, 0, 0, 1, 0.5, "continue"),
            Reported(0.0, 0, 0, 2, 0.3, "continue"),
            JobEnded(0.0, 0, 0, 2, "milestone"),
        ],
    )
    assert trace.best_so_far() == [(0.0, 0.5, 0), (0.0, 0.3, 0)]
    assert trace.best == Result(0.0, 0, 0, {}, 2, 0.3)
    assert trace.summary()["best_resource"] == 2


def test_only_non_finite_metrics_means_no_best():
    trace = build(
        1,
        [
            JobStarted(0.0, 0, 0, {}, 0, 3),
            Reported(1.0, 0, 0, 1, math.nan, "continue"),
            Reported(2.0, 0, 0, 2, -math.inf, "continue"),
            Reported(3.0, 0, 0, 3, math.inf, "stop"),
        ],
    )
    assert trace.best_so_far() == [] and trace.best is None
    assert trace.time_to_reach(1e9) is None
    summary = trace.summary()
    assert summary["best_metric"] is None and summary["time_to_best"] is None


@given(event_logs(), st.sampled_from(["min", "max"]))
def test_best_so_far_improves_monotonically(log, mode):
    """Steps are finite, strictly improving, in time order, each one a reported row; the last is
    the optimum over finite metrics and best is the first report reaching it."""
    n_workers, events = log
    trace = build(n_workers, events, mode=mode)
    sign = 1 if mode == "min" else -1
    steps = trace.best_so_far()
    finite = [r for r in trace.results if math.isfinite(r.metric)]
    assert all(math.isfinite(value) for _, value, _ in steps)
    for (t0, v0, _), (t1, v1, _) in zip(steps, steps[1:]):
        assert t0 <= t1 and sign * v1 < sign * v0
    rows = {(r.t, r.metric, r.trial_id) for r in finite}
    assert set(steps) <= rows
    if not finite:
        assert steps == [] and trace.best is None
        return
    optimum = min(finite, key=lambda r: sign * r.metric).metric
    assert steps[-1][1] == optimum
    assert trace.best == next(r for r in finite if r.metric == optimum)
    assert trace.time_to_reach(optimum) == trace.best.t
    assert trace.time_to_reach(optimum - sign) is None
    assert trace.time_to_reach(steps[0][1]) == steps[0][0]


def test_summary_of_the_known_trace():
    trace = known(resource_attr="epoch")
    assert trace.summary() == {
        "trials": 3,
        "jobs": 3,
        "reports": 5,
        "n_workers": 3,
        "makespan": 6.0,
        "idle_fraction": pytest.approx(9.5 / 18),
        "metric": "loss",
        "mode": "min",
        "best_metric": 0.2,
        "best_trial": 2,
        "best_resource": 1,
        "time_to_best": 4.0,
        "failed_jobs": 0,
    }
    assert trace.trial_ids == [0, 1, 2]
    assert trace.promoted == set()


def test_failed_jobs_and_promotions_are_counted():
    trace = build(
        1,
        [
            JobStarted(0.0, 0, 0, {}, 0, 1),
            Reported(1.0, 0, 0, 1, 0.5, "continue"),
            JobEnded(1.0, 0, 0, 1, "milestone"),
            JobStarted(1.0, 0, 0, {}, 1, 2),
            JobEnded(1.5, 0, 0, 1, "failed", "CUDA out of memory"),
        ],
    )
    assert trace.summary()["failed_jobs"] == 1
    assert trace.promoted == {0}
    assert trace.summary()["trials"] == 1 and trace.summary()["jobs"] == 2


# -- export -----------------------------------------------------------------------------------


def test_to_csv_writes_one_row_per_report(tmp_path):
    """Header: t, worker, trial_id, <resource_attr>, <metric>, then config keys in order of
    appearance; a key a trial lacks is an empty cell; values read back equal the results."""
    trace = known(resource_attr="step")
    path = trace.to_csv(tmp_path / "results.csv")
    assert path == tmp_path / "results.csv"
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["t", "worker", "trial_id", "step", "loss", "lr", "opt"]
        rows = list(reader)
    assert len(rows) == len(trace.results)
    for row, result in zip(rows, trace.results):
        assert float(row["t"]) == result.t
        assert int(row["worker"]) == result.worker
        assert int(row["trial_id"]) == result.trial_id
        assert int(row["step"]) == result.resource
        assert repr(float(row["loss"])) == repr(result.metric)
        assert float(row["lr"]) == result.config["lr"]
        assert row["opt"] == result.config.get("opt", "")


def test_to_pandas_has_the_same_rows():
    pd = pytest.importorskip("pandas")
    trace = known()
    frame = trace.to_pandas()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["t", "worker", "trial_id", "epoch", "loss", "lr", "opt"]
    assert len(frame) == len(trace.results)
    assert frame["t"].tolist() == [r.t for r in trace.results]
    assert frame["trial_id"].tolist() == [r.trial_id for r in trace.results]
    assert frame["epoch"].tolist() == [r.resource for r in trace.results]
    assert frame["lr"].tolist() == [r.config["lr"] for r in trace.results]
    losses = frame["loss"].tolist()
    assert losses[:4] == [0.5, 0.7, 0.4, 0.2] and math.isnan(losses[4])
    assert frame["opt"].isna().tolist() == [True, False, True, True, False]


def test_exports_of_an_empty_trace_still_have_the_fixed_columns(tmp_path):
    trace = Trace({"n_workers": 1, "metric": "acc", "resource_attr": "step"})
    with open(trace.to_csv(tmp_path / "r.csv"), newline="", encoding="utf-8") as handle:
        assert next(csv.reader(handle)) == ["t", "worker", "trial_id", "step", "acc"]
    pytest.importorskip("pandas")
    frame = trace.to_pandas()
    assert list(frame.columns) == ["t", "worker", "trial_id", "step", "acc"] and len(frame) == 0


def test_results_carry_the_real_fidelity_when_levels_are_not_epochs(tmp_path):
    """With a fidelity in the header, the resource column is "level" and the fidelity's own
    column (its real values) follows it, in rows, CSV and the summary; a journal keeps it."""
    header = {
        "n_workers": 1,
        "metric": "error",
        "resource_attr": "epoch",
        "fidelity": {"name": "train_size", "values": [16, 32, 64]},
    }
    trace = Trace(header, journal=tmp_path / "journal.jsonl")
    for event in [
        JobStarted(0.0, 0, 0, {"learner": "svm", "train_size": "x"}, 0, 3),
        Reported(1.0, 0, 0, 1, 0.5, "continue"),
        Reported(2.0, 0, 0, 3, 0.2, "continue"),
        JobEnded(2.0, 0, 0, 3, "milestone"),
    ]:
        trace.record(event)
    trace.close()
    rows = list(trace.result_rows())
    assert list(rows[0]) == [
        "t",
        "worker",
        "trial_id",
        "level",
        "train_size",
        "error",
        "learner",
        "config_train_size",
    ]
    assert [(row["level"], row["train_size"]) for row in rows] == [(1, 16), (3, 64)]
    assert trace.fidelity_of(2) == 32 and trace.fidelity_of(9) == 9
    summary = trace.summary()
    assert (summary["best_resource"], summary["fidelity"], summary["best_fidelity"]) == (
        3,
        "train_size",
        64,
    )
    loaded = load_experiment(tmp_path)
    assert loaded.fidelity == ("train_size", [16, 32, 64])
    trace.to_csv(tmp_path / "results.csv")
    assert (tmp_path / "results.csv").read_text().splitlines()[0] == (
        "t,worker,trial_id,level,train_size,error,learner,config_train_size"
    )
    plain = Trace({"n_workers": 1})
    assert plain.fidelity is None and "fidelity" not in plain.summary()
