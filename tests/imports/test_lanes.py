"""The earliest-free-lane rule and the trace built from stretches: properties for any stretches."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ashasim.imports import SourceError, Stretch, build_trace
from ashasim.imports.common import infer_lanes


@st.composite
def stretch_lists(draw, with_workers=False):
    count = draw(st.integers(1, 12))
    stretches = []
    for trial_id in range(count):
        start = draw(st.floats(0, 100, allow_nan=False).map(lambda x: round(x, 3)))
        length = draw(st.floats(0, 20, allow_nan=False).map(lambda x: round(x, 3)))
        n_reports = draw(st.integers(0, 4))
        times = sorted(draw(st.lists(st.floats(0, 1), min_size=n_reports, max_size=n_reports)))
        reports = [(1000 + start + f * length, k + 1, float(k)) for k, f in enumerate(times)]
        worker = draw(st.sampled_from("abc")) if with_workers else None
        reason = draw(st.sampled_from(["milestone", "stopped", "failed", "returned"]))
        stretches.append(
            Stretch(
                trial_id,
                {"x": trial_id},
                1000 + start,
                1000 + start + length,
                reports,
                reason,
                worker=worker,
            )
        )
    return stretches


def max_overlap(stretches):
    """Most stretches running at one instant (an end at t frees the lane for a start at t)."""
    points = sorted([(s.start, 1) for s in stretches] + [(s.end, -1) for s in stretches])
    running = best = 0
    for _, step in points:
        running += step
        best = max(best, running)
    return best


@given(stretch_lists())
def test_inferred_lanes_never_overlap_and_are_as_few_as_possible(stretches):
    lanes = infer_lanes(stretches)
    assert lanes == infer_lanes(list(stretches))  # deterministic
    for lane in set(lanes):
        mine = sorted((s.start, s.end) for s, other in zip(stretches, lanes) if other == lane)
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(mine, mine[1:]))
    # greedy interval partitioning: as many lanes as stretches ever run at once
    if all(s.end > s.start for s in stretches):  # (a job of no length runs at no instant)
        assert max(lanes) + 1 == max_overlap(stretches)


@given(stretch_lists())
def test_the_lane_chosen_is_the_one_free_the_longest(stretches):
    lanes = infer_lanes(stretches)
    order = sorted(
        range(len(stretches)),
        key=lambda i: (stretches[i].start, stretches[i].end, stretches[i].trial_id),
    )
    free_at = {}
    for index in order:
        stretch, lane = stretches[index], lanes[index]
        free = {other: end for other, end in free_at.items() if end <= stretch.start}
        if free:
            assert (free[lane], lane) == min((end, other) for other, end in free.items())
        else:
            assert lane == len(free_at)
        free_at[lane] = stretch.end


@given(stretch_lists(), st.booleans())
def test_the_trace_has_every_report_at_its_time(stretches, with_start):
    started = 900.0 if with_start else None
    imported = build_trace(
        stretches, library="X", source="x", metric="m", mode="min", started=started
    )
    trace = imported.trace
    t0 = trace.info["imported"]["t0"]
    assert t0 == (900.0 if with_start else min(s.start for s in stretches))
    assert len(trace.segments) == len(stretches)
    assert len(trace.results) == sum(len(s.reports) for s in stretches)
    got = sorted((r.trial_id, round(t0 + r.t, 6), r.resource, r.metric) for r in trace.results)
    want = sorted((s.trial_id, round(t, 6), res, m) for s in stretches for t, res, m in s.reports)
    assert got == want
    ends = {(s.trial_id, round(t0 + s.end, 6), s.reason) for s in trace.segments}
    assert ends == {(s.trial_id, round(s.end, 6), s.reason) for s in stretches}
    assert trace.idle_time >= 0


@given(stretch_lists(with_workers=True))
def test_recorded_workers_are_the_lanes_unless_they_overlap(stretches):
    imported = build_trace(stretches, library="X", source="x", metric="m", mode="min")
    by_name = {}
    for s in stretches:
        by_name.setdefault(s.worker, []).append((s.start, s.end))
    overlapping = any(
        a_end > b_start
        for spans in by_name.values()
        for (_, a_end), (b_start, _) in zip(sorted(spans), sorted(spans)[1:])
    )
    assert imported.lanes_inferred == overlapping
    if not overlapping:
        lane_names = {}
        for segment in imported.trace.segments:
            lane_names.setdefault(segment.worker, set()).add(stretches[segment.trial_id].worker)
        assert all(len(names) == 1 for names in lane_names.values())


def test_nothing_to_import_or_times_out_of_order_is_one_line():
    with pytest.raises(SourceError, match="no trial ran"):
        build_trace([], library="X", source="src", metric="m", mode="min")
    backwards = Stretch(0, {}, 10.0, 5.0)
    with pytest.raises(SourceError, match="src: trial 0's times are not in order"):
        build_trace([backwards], library="X", source="src", metric="m", mode="min")
