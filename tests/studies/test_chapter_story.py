"""The chapter's two schematic schedules, asserted event by event (the chapter's narrative)."""

import pytest

from ashasim.studies.chapter_story import async_schedule, sync_schedule, write


def jobs(trace):
    """(worker, trial, resume_from, resource reached, start, end), times rounded to 1e-9 s."""
    return [
        (s.worker, s.trial_id, s.resume_from, s.resource, round(s.start, 9), round(s.end, 9))
        for s in trace.segments
    ]


def test_synchronous_successive_halving():
    trace = sync_schedule()
    assert jobs(trace) == [
        (0, 0, 0, 1, 0.0, 1.0),  # rung 0: Trial-0 and Trial-1 start together
        (1, 1, 0, 1, 0.0, 1.2),
        (0, 2, 0, 1, 1.0, 4.5),  # the straggler Trial-2
        (1, 3, 0, 1, 1.2, 2.7),
        (0, 0, 0, 2, 4.5, 6.5),  # barrier passed: Trial-0 and Trial-3 promoted together,
        (1, 3, 0, 2, 4.5, 7.5),  # retrained from scratch to rung 1 (2 epochs)
        (0, 0, 0, 4, 7.5, 11.5),  # Trial-0 alone on rung 2 (r_max) ...
        (1, 4, 0, 1, 7.5, 8.5),  # ... and Trial-4 of the next round beside it
    ]
    # Worker-1 idles at the rung-0 barrier until the straggler reports, Worker-0 at rung 1
    # until the slower Trial-3 finishes.
    assert trace.idle_intervals(1)[0] == pytest.approx((2.7, 4.5))
    assert trace.idle_intervals(0) == [pytest.approx((6.5, 7.5))]
    assert trace.promoted == {0, 3}


def test_asynchronous_successive_halving():
    trace = async_schedule()
    assert jobs(trace) == [
        (0, 0, 0, 1, 0.0, 1.0),
        (1, 1, 0, 1, 0.0, 1.2),
        (0, 2, 0, 1, 1.0, 4.5),  # one result at rung 0: nothing to promote, a new trial
        (1, 0, 1, 2, 1.2, 2.2),  # Trial-1 finishes: Trial-0 (top 1 of 2) is promoted
        (1, 3, 0, 1, 2.2, 3.7),
        (1, 4, 0, 1, 3.7, 4.7),  # Trial-3 is 2nd of 3: floor(3/2) = 1, so a new trial
        (0, 3, 1, 2, 4.5, 6.0),  # Trial-2 reports: 4 results, Trial-3 now in the top 2
        (1, 5, 0, 1, 4.7, 7.1),
        (0, 0, 2, 4, 6.0, 8.0),  # rung 1 has Trial-0 and Trial-3: Trial-0 on to r_max
        (1, 1, 1, 2, 7.1, 8.3),  # six results at rung 0: Trial-1 is in the top 3
    ]
    # Nobody waits until the trial budget (six trials) runs out.
    assert trace.idle_intervals(1) == []
    assert trace.idle_intervals(0) == [pytest.approx((8.0, 8.3))]
    assert trace.idle_fraction < sync_schedule().idle_fraction / 10


def test_write_produces_both_figures_and_journals(tmp_path):
    traces = write(tmp_path)
    for name in ("sync", "async"):
        assert (tmp_path / f"gantt_{name}.png").stat().st_size > 10_000
        assert (tmp_path / f"gantt_{name}.svg").read_text().startswith("<?xml")
        assert (tmp_path / f"story_{name}" / "journal.jsonl").exists()
    assert jobs(traces["sync"]) == jobs(sync_schedule())
