"""ashasim.plot: assertions on what the figures contain, not just that they render."""

from __future__ import annotations

import itertools
import math
import random

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.collections import PolyCollection
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure

from ashasim.events import JobEnded, JobStarted, Reported, Trace
from ashasim.plot import best_so_far, gantt, idle_comparison, learning_curves, save
from ashasim.plot.gantt import BOUNDARY_GID, FAILED_GID, IDLE_GID, JOBS_GID

# -- building traces by hand ----------------------------------------------------------------------

_ORDER = {Reported: 0, JobEnded: 1, JobStarted: 2}  # at equal times: report, end, then start


def make_trace(
    jobs: list[tuple],
    *,
    n_workers: int = 2,
    scheduler: str | None = "SyncSH",
    rung_levels: tuple[int, ...] = (1, 2, 4),
    **info,
) -> Trace:
    """jobs: (worker, trial, start, end, resume_from, milestone, metrics[, reason[, bracket]]).

    The job reports ``metrics`` (one per epoch after resume_from) evenly spaced up to ``end``.
    """
    header = {"n_workers": n_workers, "metric": "err", "mode": "min", **info}
    if scheduler is not None:
        header["scheduler"] = {"name": scheduler, "rung_levels": list(rung_levels)}
    events = []
    for job in jobs:
        worker, trial, start, end, resume_from, milestone, metrics, *rest = job
        reason = rest[0] if rest else "milestone"
        bracket = rest[1] if len(rest) > 1 else 0
        events.append(
            JobStarted(start, worker, trial, {"lr": 0.1 * trial}, resume_from, milestone, bracket)
        )
        for i, value in enumerate(metrics):
            t = start + (end - start) * (i + 1) / len(metrics)
            decision = "continue" if i + 1 < len(metrics) else "stop"
            events.append(Reported(t, worker, trial, resume_from + i + 1, value, decision))
        events.append(JobEnded(end, worker, trial, resume_from + len(metrics), reason))
    events.sort(key=lambda e: (e.t, _ORDER[type(e)]))
    trace = Trace(header)
    for event in events:
        trace.record(event)
    return trace


# Synchronous SH on 2 workers, rungs 1, 2, 4: four trials at rung 0, the barrier opens at 3.5
# (trials 0 and 2 promoted), then at 5.5 (trial 0 promoted to r_max = 4).
SH_JOBS = [
    (0, 0, 0.0, 2.0, 0, 1, [0.9]),
    (1, 1, 0.0, 1.5, 0, 1, [0.95]),
    (1, 3, 1.5, 3.0, 0, 1, [0.97]),
    (0, 2, 2.0, 3.5, 0, 1, [0.8]),
    (0, 0, 3.5, 5.5, 1, 2, [0.6]),
    (1, 2, 3.5, 5.0, 1, 2, [0.7]),
    (0, 0, 5.5, 9.5, 2, 4, [0.5, 0.4]),
]
SH_BOUNDARIES = [3.5, 5.5]


@pytest.fixture
def sh_trace() -> Trace:
    return make_trace(SH_JOBS)


@pytest.fixture(autouse=True)
def _no_pyplot_figures():
    """The plots must never go through pyplot (no windows, no global figure registry)."""
    plt.close("all")
    yield
    assert plt.get_fignums() == []


# -- reading figures back -------------------------------------------------------------------------


def collections(ax, gid: str) -> list[PolyCollection]:
    return [c for c in ax.collections if c.get_gid() == gid]


def rects(ax, gid: str) -> list[tuple[int, float, float, tuple]]:
    """(lane, x0, x1, facecolor) of every rectangle in the collections with this gid."""
    out = []
    for coll in collections(ax, gid):
        faces = coll.get_facecolor()
        for i, path in enumerate(coll.get_paths()):
            v = path.vertices
            lane = round(float((v[:, 1].min() + v[:, 1].max()) / 2))
            face = tuple(faces[i % len(faces)])
            out.append((lane, float(v[:, 0].min()), float(v[:, 0].max()), face))
    return out


def luminance(rgba) -> float:
    r, g, b = rgba[:3]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def boundary_times(ax) -> list[float]:
    lines = [ln for ln in ax.get_lines() if ln.get_gid() == BOUNDARY_GID]
    for ln in lines:
        assert ln.get_linestyle() == "--"
        xs = ln.get_xdata()
        assert xs[0] == xs[1]
    return sorted(float(ln.get_xdata()[0]) for ln in lines)


def texts(ax) -> list[str]:
    return [t.get_text().strip() for t in ax.texts]


# -- gantt ----------------------------------------------------------------------------------------


def test_gantt_lanes_are_workers_top_to_bottom(sh_trace):
    fig = gantt(sh_trace)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Worker-0", "Worker-1"]
    assert list(ax.get_yticks()) == [0, 1]
    # Worker-0 is drawn above Worker-1 (display y grows upwards)
    y0 = ax.transData.transform((0, 0))[1]
    y1 = ax.transData.transform((0, 1))[1]
    assert y0 > y1


def test_gantt_one_rectangle_per_segment(sh_trace):
    ax = gantt(sh_trace).axes[0]
    drawn = sorted((lane, x0, x1) for lane, x0, x1, _ in rects(ax, JOBS_GID))
    expected = sorted((s.worker, s.start, s.end) for s in sh_trace.segments)
    assert len(drawn) == len(sh_trace.segments) == len(SH_JOBS)
    assert drawn == expected
    assert rects(ax, FAILED_GID) == []


def test_gantt_labels_trials_inside_bars(sh_trace):
    ax = gantt(sh_trace).axes[0]
    labels = [t for t in texts(ax) if t.startswith("Trial-")]
    assert sorted(set(labels)) == ["Trial-0", "Trial-1", "Trial-2", "Trial-3"]
    assert len(labels) == len(sh_trace.segments)
    for text in ax.texts:
        if text.get_text().startswith("Trial-"):
            x, y = text.get_position()
            trial = int(text.get_text().split("-")[1])
            assert any(
                s.trial_id == trial and s.worker == y and s.start < x < s.end
                for s in sh_trace.segments
            )


def test_gantt_thins_labels_past_max_labels():
    """Past max_labels bars the labels do not vanish: the widest bars keep theirs (at most
    max_labels of them), the others go without."""
    # 31 workers x 2 jobs, one of each pair three times as wide: every label would fit
    jobs = [
        job
        for w in range(31)
        for job in ((w, 2 * w, 0.0, 7.5, 0, 1, [0.5]), (w, 2 * w + 1, 7.5, 10.0, 0, 1, [0.5]))
    ]
    trace = make_trace(jobs, n_workers=31, scheduler="ASHA")
    assert len(trace.segments) == 62
    ax = gantt(trace, max_labels=31).axes[0]
    labels = [t for t in texts(ax) if t.startswith("Trial-")]
    assert sorted(labels) == sorted(f"Trial-{2 * w}" for w in range(31))  # the wide ones
    assert len(rects(ax, JOBS_GID)) == 62
    default = gantt(trace).axes[0]
    assert len(texts(default)) == 60  # MAX_LABELS: the 60 widest, not none
    everything = gantt(trace, max_labels=100).axes[0]
    assert len([t for t in texts(everything) if t.startswith("Trial-")]) == 62
    assert texts(gantt(trace, max_labels=0).axes[0]) == []


def test_gantt_shortens_labels_that_do_not_fit():
    """A bar too narrow for "Trial-12" gets a shorter name; one too narrow for any gets none."""
    jobs = [
        (0, 12, 0.0, 100.0, 0, 1, [0.5]),  # wide
        (1, 13, 0.0, 4.0, 0, 1, [0.5]),  # room for "T13" (~0.25 in) but not "Trial-13"
        (1, 14, 4.0, 4.1, 0, 1, [0.5]),  # room for nothing
        (1, 15, 4.1, 100.0, 0, 1, [0.5]),
    ]
    ax = gantt(make_trace(jobs, scheduler="ASHA")).axes[0]
    assert sorted(texts(ax)) == ["T13", "Trial-12", "Trial-15"]


def test_gantt_labels_speak_the_configs_names():
    """A run whose header names its config keys (a table's) labels bars with their values."""
    events = [
        JobStarted(0.0, 0, 0, {"config_id": 7, "learner": "svm", "C": 0.1}, 0, 1),
        Reported(50.0, 0, 0, 1, 0.3, "continue"),
        JobEnded(50.0, 0, 0, 1, "milestone"),
        JobStarted(50.0, 0, 1, {"config_id": 3, "learner": "knn", "C": 10}, 0, 1),
        Reported(100.0, 0, 1, 1, 0.4, "continue"),
        JobEnded(100.0, 0, 1, 1, "milestone"),
    ]
    trace = Trace({"n_workers": 1, "config_label": ["learner", "C"]}, events=events)
    assert sorted(texts(gantt(trace).axes[0])) == ["learner=knn C=10", "learner=svm C=0.1"]
    assert sorted(texts(gantt(trace, label="learner").axes[0])) == ["knn", "svm"]
    assert sorted(texts(gantt(trace, label="trial").axes[0])) == ["Trial-0", "Trial-1"]
    named = gantt(trace, label=lambda trial_id, config: f"#{config['config_id']}")
    assert sorted(texts(named.axes[0])) == ["#3", "#7"]


def test_gantt_colours_stay_distinct_past_ten_configs():
    """40 configs: 40 distinct dark colours; a config drawn twice keeps its colour; up to ten
    configs keep tab10's hues (the chapter's figures)."""
    jobs = [(t % 8, t, float(t), t + 1.0, 0, 1, [0.5]) for t in range(40)]
    trace = make_trace(jobs, n_workers=8, scheduler="ASHA")
    faces = {x0: face for _, x0, _, face in rects(gantt(trace).axes[0], JOBS_GID)}
    assert len({tuple(np.round(face, 4)) for face in faces.values()}) == 40
    events = [
        JobStarted(0.0, 0, 0, {"config_id": 1}, 0, 1),
        JobEnded(1.0, 0, 0, 0, "milestone"),
        JobStarted(1.0, 0, 1, {"config_id": 2}, 0, 1),
        JobEnded(2.0, 0, 1, 0, "milestone"),
        JobStarted(2.0, 0, 2, {"config_id": 1}, 0, 1),  # the first config again
        JobEnded(3.0, 0, 2, 0, "milestone"),
    ]
    same = Trace({"n_workers": 1}, events=events)
    faces = sorted(rects(gantt(same).axes[0], JOBS_GID), key=lambda r: r[1])
    assert faces[0][3] == faces[2][3] != faces[1][3]
    few = make_trace(jobs[:10], n_workers=8, scheduler="ASHA")
    tab10 = {tuple(np.round(c, 4)) for c in plt.get_cmap("tab20").colors[1::2]}  # light shades
    assert {tuple(np.round(face[:3], 4)) for *_, face in rects(gantt(few).axes[0], JOBS_GID)} <= (
        tab10
    )


def test_gantt_barrier_lines_stay_readable_on_long_runs():
    """Hundreds of barriers: thin, light lines, labels only where they do not overlap."""
    jobs = []
    for k in range(200):  # a bracket per 10 s, each with a barrier at +5 s
        jobs.append((0, 2 * k, 10.0 * k, 10.0 * k + 5, 0, 1, [0.5], "milestone", k))
        jobs.append((0, 2 * k, 10.0 * k + 5, 10.0 * k + 10, 1, 2, [0.4], "milestone", k))
    trace = make_trace(jobs, n_workers=1, scheduler="SyncSH")
    ax = gantt(trace).axes[0]
    lines = [ln for ln in ax.get_lines() if ln.get_gid() == BOUNDARY_GID]
    assert len(lines) == 200
    assert all(ln.get_linewidth() == 0.5 and ln.get_alpha() == 0.4 for ln in lines)
    rung_labels = [t for t in texts(ax) if "rung" in t]
    assert 0 < len(rung_labels) < 40
    short = gantt(make_trace(SH_JOBS)).axes[0]
    assert all(
        ln.get_linewidth() == 0.9 for ln in short.get_lines() if ln.get_gid() == BOUNDARY_GID
    )


def test_learning_curves_against_the_fidelity():
    """Levels that are not epochs: the curves can be drawn against the real values."""
    events = [
        JobStarted(0.0, 0, 0, {"config_id": 0}, 0, 3),
        Reported(1.0, 0, 0, 1, 0.5, "continue"),
        Reported(2.0, 0, 0, 2, 0.4, "continue"),
        Reported(3.0, 0, 0, 3, 0.3, "continue"),
        JobEnded(3.0, 0, 0, 3, "milestone"),
    ]
    trace = Trace(
        {"n_workers": 1, "fidelity": {"name": "train_size", "values": [16, 128, 1024]}},
        events=events,
    )
    ax = learning_curves(trace, x="fidelity").axes[0]
    (line,) = ax.get_lines()
    assert list(line.get_xdata()) == [16, 128, 1024]
    assert ax.get_xlabel() == "train_size" and ax.get_xscale() == "log"
    assert list(learning_curves(trace).axes[0].get_lines()[0].get_xdata()) == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="x must be 'time' or 'fidelity'"):
        learning_curves(trace, x="epoch")


def test_gantt_idle_rectangles_are_the_idle_intervals(sh_trace):
    ax = gantt(sh_trace).axes[0]
    drawn = sorted((lane, x0, x1) for lane, x0, x1, _ in rects(ax, IDLE_GID))
    expected = sorted((w, a, b) for w in range(2) for a, b in sh_trace.idle_intervals(w))
    assert expected == [(1, 3.0, 3.5), (1, 5.0, 9.5)]
    assert drawn == expected
    (idle,) = collections(ax, IDLE_GID)
    assert idle.get_hatch()
    assert "idle" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_gantt_without_idle(sh_trace):
    ax = gantt(sh_trace, show_idle=False).axes[0]
    assert collections(ax, IDLE_GID) == []
    assert "idle" not in [t.get_text() for t in ax.get_legend().get_texts()]


def test_gantt_promoted_trials_are_darker(sh_trace):
    ax = gantt(sh_trace).axes[0]
    by_trial = {}
    for lane, x0, x1, face in rects(ax, JOBS_GID):
        (segment,) = [s for s in sh_trace.segments if (s.worker, s.start, s.end) == (lane, x0, x1)]
        by_trial.setdefault(segment.trial_id, set()).add(face)
    assert all(len(faces) == 1 for faces in by_trial.values())  # one colour per trial
    colour = {trial: next(iter(faces)) for trial, faces in by_trial.items()}
    assert sh_trace.promoted == {0, 2}
    assert len(set(colour.values())) == 4  # distinct trials, distinct colours
    promoted = max(luminance(colour[t]) for t in (0, 2))
    others = min(luminance(colour[t]) for t in (1, 3))
    assert promoted < others


def test_gantt_same_trial_darker_once_promoted():
    once = make_trace([(0, 0, 0.0, 1.0, 0, 1, [0.5])], n_workers=1, scheduler="ASHA")
    twice = make_trace(
        [(0, 0, 0.0, 1.0, 0, 1, [0.5]), (0, 0, 1.0, 2.0, 1, 2, [0.4])],
        n_workers=1,
        scheduler="ASHA",
    )
    (light,) = {face for *_, face in rects(gantt(once).axes[0], JOBS_GID)}
    (dark,) = {face for *_, face in rects(gantt(twice).axes[0], JOBS_GID)}
    assert luminance(dark) < luminance(light)


def test_gantt_failed_jobs_hatched_red():
    trace = make_trace(
        [(0, 0, 0.0, 2.0, 0, 1, [0.5]), (1, 1, 0.0, 1.0, 0, 1, [], "failed")],
        scheduler="ASHA",
    )
    ax = gantt(trace).axes[0]
    assert [(lane, x0, x1) for lane, x0, x1, _ in rects(ax, FAILED_GID)] == [(1, 0.0, 1.0)]
    assert [(lane, x0, x1) for lane, x0, x1, _ in rects(ax, JOBS_GID)] == [(0, 0.0, 2.0)]
    (failed,) = collections(ax, FAILED_GID)
    assert failed.get_hatch()
    edge = failed.get_edgecolor()[0]
    assert edge[0] > 0.7 and edge[1] < 0.3 and edge[2] < 0.3
    assert "failed" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_gantt_rung_boundaries_for_sync_sh(sh_trace):
    ax = gantt(sh_trace).axes[0]
    assert boundary_times(ax) == SH_BOUNDARIES
    assert {"rung 1", "rung 2"} <= set(texts(ax))
    assert boundary_times(gantt(sh_trace, rung_boundaries=False).axes[0]) == []


def test_gantt_no_rung_boundaries_for_asha():
    trace = make_trace(SH_JOBS, scheduler="ASHA")
    assert boundary_times(gantt(trace).axes[0]) == []
    assert boundary_times(gantt(trace, rung_boundaries=True).axes[0]) == SH_BOUNDARIES
    no_scheduler = make_trace(SH_JOBS, scheduler=None)
    assert boundary_times(gantt(no_scheduler).axes[0]) == []


def test_gantt_rung_boundaries_per_bracket():
    # Hyperband: bracket 0 runs rungs 1 -> 2, bracket 1 starts at rung 2 and goes to 4. The first
    # rung of a bracket is no barrier, whatever its level; a barrier is the rung's earliest start.
    jobs = [
        (0, 0, 0.0, 1.0, 0, 1, [0.9], "milestone", 0),
        (1, 1, 0.0, 2.0, 0, 1, [0.8], "milestone", 0),
        (0, 1, 2.0, 3.0, 1, 2, [0.7], "milestone", 0),
        (1, 2, 2.0, 4.0, 0, 2, [0.6, 0.5], "milestone", 1),
        (0, 3, 3.0, 5.0, 0, 2, [0.6, 0.55], "milestone", 1),
        (0, 2, 5.0, 7.0, 2, 4, [0.4, 0.3], "milestone", 1),
        (1, 0, 4.0, 5.0, 1, 2, [0.85], "milestone", 0),  # later job of an open rung: no new line
    ]
    trace = make_trace(jobs, scheduler="SyncHyperband")
    ax = gantt(trace).axes[0]
    assert boundary_times(ax) == [2.0, 5.0]
    assert {"b0 rung 1", "b1 rung 2"} <= set(texts(ax))


def test_gantt_title_and_axis_label(sh_trace):
    ax = gantt(sh_trace).axes[0]
    assert ax.get_title() == f"SyncSH: 2 workers, idle {sh_trace.idle_fraction:.0%}"
    assert ax.get_title() == "SyncSH: 2 workers, idle 26%"
    assert ax.get_xlabel() == "simulated time (s)"
    assert ax.get_xlim() == (0.0, 9.5)
    wall = make_trace(SH_JOBS, clock="wallclock")
    ax = gantt(wall, title="mine").axes[0]
    assert ax.get_xlabel() == "wall-clock time (s)"
    assert ax.get_title() == "mine"


def test_gantt_running_job_and_empty_trace():
    trace = Trace({"n_workers": 2, "metric": "err", "mode": "min"})
    for event in [
        JobStarted(0.0, 0, 0, {}, 0, 1),
        JobStarted(0.5, 1, 1, {}, 0, 2),
        Reported(2.0, 0, 0, 1, 0.5, "stop"),
        JobEnded(2.0, 0, 0, 1, "milestone"),
        Reported(3.0, 1, 1, 1, 0.4, "continue"),
    ]:
        trace.record(event)
    assert trace.segments[1].reason == "running"
    ax = gantt(trace).axes[0]
    assert sorted((lane, x0, x1) for lane, x0, x1, _ in rects(ax, JOBS_GID)) == [
        (0, 0.0, 2.0),
        (1, 0.5, 3.0),
    ]
    assert ax.get_title() == f"Run: 2 workers, idle {trace.idle_fraction:.0%}"
    empty = gantt(Trace({"n_workers": 3})).axes[0]
    assert [t.get_text() for t in empty.get_yticklabels()] == [
        "Worker-0",
        "Worker-1",
        "Worker-2",
    ]
    assert rects(empty, JOBS_GID) == [] and rects(empty, IDLE_GID) == []


@st.composite
def worker_schedules(draw):
    """Per worker, alternating gaps and job lengths (integers / 4, so sums are exact floats)."""
    n_workers = draw(st.integers(1, 4))
    lengths = st.integers(0, 12).map(lambda k: k / 4)
    durations = st.integers(1, 12).map(lambda k: k / 4)
    return [draw(st.lists(st.tuples(lengths, durations), max_size=6)) for _ in range(n_workers)]


@given(worker_schedules())
def test_gantt_jobs_and_idle_tile_each_lane(schedules):
    jobs, trial = [], 0
    for worker, schedule in enumerate(schedules):
        t = 0.0
        for gap, duration in schedule:
            start, t = t + gap, t + gap + duration
            jobs.append((worker, trial, start, t, 0, 1, [0.5]))
            trial += 1
    trace = make_trace(jobs, n_workers=len(schedules), scheduler="ASHA")
    ax = gantt(trace).axes[0]
    busy = rects(ax, JOBS_GID)
    idle = rects(ax, IDLE_GID)
    assert len(busy) == len(trace.segments)
    for worker in range(trace.n_workers):
        pieces = sorted((x0, x1) for lane, x0, x1, _ in busy + idle if lane == worker)
        if trace.makespan == 0:
            assert pieces == [(0.0, 0.0)] * len(pieces)
            continue
        nonempty = [(a, b) for a, b in pieces if b > a]
        assert nonempty[0][0] == 0.0
        assert nonempty[-1][1] == trace.makespan
        for (_, end), (start, _) in itertools.pairwise(nonempty):
            assert end == start  # no gap, no overlap


def test_gantt_5000_segments_renders(tmp_path):
    rnd = random.Random(0)
    jobs, trial = [], 0
    for worker in range(50):
        t = 0.0
        for _ in range(100):
            start = t + rnd.choice([0.0, 0.0, rnd.random()])
            t = start + 0.1 + rnd.random()
            promoted_before = rnd.random() < 0.3
            reason = "failed" if rnd.random() < 0.02 else "milestone"
            jobs.append((worker, trial, start, t, 1 if promoted_before else 0, 2, [0.5], reason))
            trial += 1 if not promoted_before else 0
    trace = make_trace(jobs, n_workers=50, scheduler="SyncSH")
    assert len(trace.segments) == 5000
    fig = gantt(trace)
    ax = fig.axes[0]
    assert len(rects(ax, JOBS_GID)) + len(rects(ax, FAILED_GID)) == 5000
    assert not [t for t in texts(ax) if t.startswith("Trial-")]
    out = tmp_path / "big.png"
    fig.savefig(out, dpi=80)
    assert out.stat().st_size > 1000


# -- learning curves ------------------------------------------------------------------------------


def test_learning_curves_one_line_per_trial(sh_trace):
    fig = learning_curves(sh_trace)
    (ax,) = fig.axes
    lines = ax.get_lines()
    assert len(lines) == 4
    for line in lines:
        trial = int(line.get_label().split()[1])
        rows = [r for r in sh_trace.results if r.trial_id == trial]
        assert list(line.get_xdata()) == [r.t for r in rows]
        assert list(line.get_ydata()) == [r.metric for r in rows]
        assert line.get_marker() == "o"
    assert [ln.get_label() for ln in lines] == ["trial 1", "trial 0", "trial 3", "trial 2"]
    assert len({tuple(ln.get_color()) for ln in lines}) == 4
    assert ax.get_ylabel() == "err"
    assert ax.get_xlabel() == "simulated time (s)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "trial 1",
        "trial 0",
        "trial 3",
        "trial 2",
    ]


def test_learning_curves_legend_limit_and_nonfinite(sh_trace):
    assert learning_curves(sh_trace, max_legend=3).axes[0].get_legend() is None
    trace = make_trace(
        [
            (0, 0, 0.0, 3.0, 0, 3, [0.9, math.nan, 0.7]),
            (1, 1, 0.0, 2.0, 0, 2, [math.inf, -math.inf]),
        ]
    )
    ax = learning_curves(trace, title="curves").axes[0]
    assert ax.get_title() == "curves"
    (line,) = ax.get_lines()  # trial 1 never reported a finite metric
    assert list(line.get_xdata()) == [1.0, 3.0]
    assert list(line.get_ydata()) == [0.9, 0.7]


# -- best so far ----------------------------------------------------------------------------------


def test_best_so_far_steps_follow_the_trace(sh_trace):
    fig = best_so_far(sh_trace)
    (ax,) = fig.axes
    (line,) = ax.get_lines()
    steps = sh_trace.best_so_far()
    assert len(steps) == 7
    xs, ys = list(line.get_xdata()), list(line.get_ydata())
    assert xs[: len(steps)] == [t for t, _, _ in steps]
    assert ys[: len(steps)] == [v for _, v, _ in steps]
    # extended flat to the makespan; the last improvement is at the makespan here
    assert xs[-1] == sh_trace.makespan
    assert line.get_drawstyle() == "steps-post"
    assert ax.get_ylabel() == "best err"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["SyncSH"]


def test_best_so_far_several_traces():
    fast = make_trace([(0, 0, 0.0, 1.0, 0, 1, [0.3]), (1, 1, 0.0, 4.0, 0, 1, [0.5])])
    slow = make_trace(
        [(0, 0, 0.0, 2.0, 0, 2, [0.6, 0.2]), (1, 1, 0.0, 3.0, 0, 1, [0.4])], scheduler="ASHA"
    )
    ax = best_so_far([fast, slow]).axes[0]
    first, second = ax.get_lines()
    assert list(first.get_xdata()) == [1.0, 4.0]  # one improvement, then flat to the makespan
    assert list(first.get_ydata()) == [0.3, 0.3]
    assert list(second.get_xdata()) == [1.0, 2.0, 3.0]
    assert list(second.get_ydata()) == [0.6, 0.2, 0.2]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["SyncSH", "ASHA"]
    ax = best_so_far([fast, slow], ["a", "b"], title="t").axes[0]
    assert [ln.get_label() for ln in ax.get_lines()] == ["a", "b"]
    assert ax.get_title() == "t"
    with pytest.raises(ValueError, match="labels"):
        best_so_far([fast, slow], ["only one"])


# -- idle comparison ------------------------------------------------------------------------------

IDLE_ROWS = [
    {"scheduler": "SyncSH", "n_workers": 2, "idle_fraction": [0.2, 0.4], "setting": "low variance"},
    {"scheduler": "SyncSH", "n_workers": 8, "idle_fraction": [0.5, 0.7], "setting": "low variance"},
    {"scheduler": "ASHA", "n_workers": 2, "idle_fraction": [0.0, 0.1], "setting": "low variance"},
    {"scheduler": "ASHA", "n_workers": 8, "idle_fraction": [0.05], "setting": "low variance"},
    {
        "scheduler": "SyncSH",
        "n_workers": 2,
        "idle_fraction": [0.3, 0.3],
        "setting": "high variance",
    },
    {
        "scheduler": "SyncSH",
        "n_workers": 4,
        "idle_fraction": [0.6, 0.9],
        "setting": "high variance",
    },
]


def errorbars(ax) -> dict[str, tuple[list, list, list]]:
    """label -> (x, mean, half error bar) for each errorbar line of the axes."""
    out = {}
    for container in ax.containers:
        assert isinstance(container, ErrorbarContainer)
        data_line, _, (bars,) = container.lines
        half = [abs(seg[1][1] - seg[0][1]) / 2 for seg in bars.get_segments()]
        out[container.get_label()] = (
            list(data_line.get_xdata()),
            list(data_line.get_ydata()),
            half,
        )
    return out


def test_idle_comparison_one_panel_per_setting():
    fig = idle_comparison(IDLE_ROWS)
    assert len(fig.axes) == 2
    low, high = fig.axes
    assert low.get_title() == "low variance"
    assert high.get_title() == "high variance"
    bars = errorbars(low)
    assert set(bars) == {"SyncSH", "ASHA"}
    xs, means, half = bars["SyncSH"]
    assert xs == [2, 8]
    np.testing.assert_allclose(means, [0.3, 0.6])
    np.testing.assert_allclose(half, [np.std([0.2, 0.4]), np.std([0.5, 0.7])])
    np.testing.assert_allclose(errorbars(low)["ASHA"][2], [np.std([0.0, 0.1]), 0.0])
    xs, means, half = errorbars(high)["SyncSH"]
    assert xs == [2, 4]
    np.testing.assert_allclose(means, [0.3, 0.75])
    np.testing.assert_allclose(half, [0.0, 0.15])
    for ax in fig.axes:
        assert ax.get_xscale() == "log"
        assert ax.get_ylim() == (0.0, 1.0)
    assert list(low.get_xticks()) == [2, 8]
    assert [t.get_text() for t in low.get_xticklabels()] == ["2", "8"]
    assert low.yaxis.get_major_formatter()(0.5, 0) == "50%"
    # a scheduler keeps its colour across panels
    colours = {
        (ax.get_title(), c.get_label()): c.lines[0].get_color()
        for ax in fig.axes
        for c in ax.containers
    }
    assert colours[("low variance", "SyncSH")] == colours[("high variance", "SyncSH")]
    assert colours[("low variance", "SyncSH")] != colours[("low variance", "ASHA")]


def test_idle_comparison_without_settings():
    rows = [
        {"scheduler": "ASHA", "n_workers": n, "idle_fraction": [0.1 * k, 0.1 * k + 0.02]}
        for k, n in enumerate([1, 2, 4, 8, 16])
    ]
    fig = idle_comparison(iter(rows), title="idle")
    (ax,) = fig.axes
    assert fig.get_suptitle() == "idle"
    (xs, means, half) = errorbars(ax)["ASHA"]
    assert xs == [1, 2, 4, 8, 16]
    np.testing.assert_allclose(means, [0.01, 0.11, 0.21, 0.31, 0.41])
    np.testing.assert_allclose(half, [0.01] * 5)
    with pytest.raises(ValueError, match="no idle_fraction"):
        idle_comparison([{"scheduler": "ASHA", "n_workers": 2, "idle_fraction": []}])
    with pytest.raises(ValueError, match="at least one row"):
        idle_comparison([])


# -- save -----------------------------------------------------------------------------------------


def test_save_writes_png_and_svg(tmp_path, sh_trace):
    paths = save(gantt(sh_trace), tmp_path / "figs" / "gantt.sync")
    assert paths == [tmp_path / "figs" / "gantt.sync.png", tmp_path / "figs" / "gantt.sync.svg"]
    png, svg = (p.read_bytes() for p in paths)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert b"<svg" in svg
    (only,) = save(learning_curves(sh_trace), str(tmp_path / "curves"), formats=(".PDF",))
    assert only == tmp_path / "curves.pdf"
    assert only.read_bytes().startswith(b"%PDF")


def test_saved_figures_are_byte_identical_when_remade(tmp_path, sh_trace):
    """No dates and no random SVG ids: regenerating an unchanged figure changes no byte."""
    first = save(gantt(sh_trace), tmp_path / "a" / "gantt")
    again = save(gantt(sh_trace), tmp_path / "b" / "gantt")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in again]
    assert b"<dc:date>" not in first[1].read_bytes()


def test_quartile_errorbars_draw_medians_and_leave_out_what_never_happened():
    from matplotlib.figure import Figure

    from ashasim.plot import quartile_errorbar

    ax = Figure().add_subplot()
    drawn = quartile_errorbar(
        ax, {8: [3.0, 1.0, 2.0, 4.0, 5.0], 2: [None, None, 1.0], 4: [1.0, None, 2.0]},
        color="k", label="x",
    )  # fmt: skip
    assert drawn == [4, 8]  # 2: its median never happened
    (container,) = ax.containers
    line, _, (bar_lines,) = container
    assert list(line.get_ydata()) == [2.0, 3.0]  # medians of [1, 2, inf] and [1..5]
    bars = bar_lines.get_segments()
    assert [(seg[0][1], seg[1][1]) for seg in bars] == [(1.0, 2.0), (2.0, 4.0)]  # inf: no bar up
