"""Invariants every trace must satisfy, whichever clock made it (shared by sim and run tests)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict

from ashasim.events import REASONS


def check_trace(trace, *, retrains: bool = False, reasons=REASONS) -> None:
    """No worker runs two jobs at once; busy + idle = makespan on every worker; a trial's jobs
    never overlap in time and continue where the last one stopped (from 0 when the scheduler
    *retrains* promoted trials; a job retried after its worker died continues where it stopped
    in any case); no (trial, resource) is reported twice (outside retrains); every
    job ends by one of *reasons*."""
    by_worker, by_trial = defaultdict(list), defaultdict(list)
    for segment in trace.segments:
        by_worker[segment.worker].append(segment)
        by_trial[segment.trial_id].append(segment)
        assert segment.reason in reasons, segment
        assert segment.start <= segment.end
        assert segment.resume_from <= segment.resource <= max(segment.milestone, segment.resource)
    for worker in range(trace.n_workers):
        jobs = sorted(by_worker[worker], key=lambda s: s.start)
        for before, after in zip(jobs, jobs[1:]):
            assert before.end <= after.start
        busy = sum(s.end - s.start for s in jobs)
        idle = sum(b - a for a, b in trace.idle_intervals(worker))
        assert math.isclose(busy + idle, trace.makespan, rel_tol=1e-9, abs_tol=1e-9)
    for jobs in by_trial.values():
        for before, after in zip(jobs, jobs[1:]):
            assert before.end <= after.start
            # a retried job continues its stretch; a promotion retrains from 0 if *retrains*
            continues = not retrains or before.reason == "retried"
            assert after.resume_from == (before.resource if continues else 0)
    if not retrains and trace.results:
        seen = Counter((r.trial_id, r.resource) for r in trace.results)
        assert max(seen.values()) == 1, "a result was reported twice"
