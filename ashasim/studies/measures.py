"""What synchronisation costs, measured on a trace: the paper's measures and a few of ours.

All functions read a finished ``Trace`` (simulated or real) and nothing else, so the same numbers
come from any run of any scheduler:

* ``first_at_top``: when the first trial is trained to r_max (Li et al., MLSys 2020, measure the
  time until the first configuration is trained to completion);
* ``count_at_top``: how many trials have been trained to r_max, over time (their second measure);
* ``promotion_waits``: for every promotion, the time from the end of the trial's job at a rung to
  the start of its next job (waiting at a barrier, or for a free worker, vs at once);
* ``unfinished_share``: the share of busy worker time spent in brackets none of whose trials
  reached the bracket's top (work a cut-off run never turns into a full-budget result);
* ``wrong_promotions``: the promotions (a trial trained past a rung) that synchronous SH, ranking
  the rung's final results, would not have made: the price of deciding early.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from ashasim.events import Trace
from ashasim.events.segments import Segment

__all__ = [
    "count_at_top",
    "first_at_top",
    "promotion_waits",
    "unfinished_share",
    "wrong_promotions",
]


def _max_t(trace: Trace) -> int:
    levels = trace.info.get("scheduler", {}).get("rung_levels")
    if not levels:
        raise ValueError("the trace's header lacks the scheduler's rung_levels")
    return int(levels[-1])


def first_at_top(trace: Trace) -> float | None:
    """Time of the first report at r_max, or None if no trial got there."""
    top = _max_t(trace)
    return next((row.t for row in trace.results if row.resource >= top), None)


def count_at_top(trace: Trace) -> list[tuple[float, int]]:
    """(t, trials trained to r_max so far) at each new one."""
    top, seen, steps = _max_t(trace), set(), []
    for row in trace.results:
        if row.resource >= top and row.trial_id not in seen:
            seen.add(row.trial_id)
            steps.append((row.t, len(seen)))
    return steps


def promotion_waits(trace: Trace) -> list[float]:
    """Seconds between a job's end at its milestone and the start of the same trial's next job.

    A trial that passes a rung inside one job (ASHA's stopping type) never waits and adds
    nothing; a retrain (synchronous SH without checkpoints) counts like a resume. Segments come
    in start order, so a trial's previous job is the last one seen of it: one pass, in the order
    of the trials' next jobs.
    """
    last: dict[int, Segment] = {}  # trial -> its latest segment so far
    waits = []
    for segment in trace.segments:
        before = last.get(segment.trial_id)
        if before is not None and before.reason == "milestone":
            waits.append(segment.start - before.end)
        last[segment.trial_id] = segment
    return waits


def unfinished_share(trace: Trace) -> float:
    """Busy time in brackets where no trial reached r_max (every bracket's top), over all busy
    time."""
    top = _max_t(trace)
    busy: dict[int, float] = defaultdict(float)
    reached: dict[int, int] = defaultdict(int)
    for segment in trace.segments:
        busy[segment.bracket] += segment.end - segment.start
        reached[segment.bracket] = max(reached[segment.bracket], segment.resource)
    total = sum(busy.values())
    unfinished = sum(busy[b] for b in busy if reached[b] < top)
    return unfinished / total if total > 0 else 0.0


def wrong_promotions(
    trace: Trace, reduction_factor: int | None = None, levels: Sequence[int] | None = None
) -> tuple[int, int]:
    """(promotions synchronous SH would not have made, promotions), over every rung.

    A trial is promoted from rung level L of its bracket (a level the bracket judges at: from
    level b up for bracket b of ASHA and asynchronous Hyperband, both types; from its first
    milestone up for a synchronous bracket) when it reports at a resource above L; for the
    stopping type that is a trial that was not stopped at L.
    Synchronous SH, seeing the rung's final results (n of them), promotes the best floor(n/eta)
    (ties: lower trial id): a promotion outside that set is one SH would not have made. The
    rung's results at the end of the run are what it is judged on, so an early promotion that a
    later, better arrival pushed out of the top counts as wrong. *reduction_factor* and *levels*
    default to the trace's scheduler settings.
    """
    scheduler = trace.info.get("scheduler", {})
    rungs = list(levels or scheduler["rung_levels"])[:-1]  # r_max promotes nothing
    if not rungs:
        return 0, 0  # random search: no rung, no promotion
    eta = int(reduction_factor or scheduler["reduction_factor"])
    sign = 1.0 if trace.mode == "min" else -1.0
    segments = trace.segments
    bracket_of = {segment.trial_id: segment.bracket for segment in segments}  # (one per trial)
    first_rung: dict[int, int] = {}  # bracket -> the level it first judges its trials at
    if "type" in scheduler:  # ASHA / async Hyperband: bracket b starts at level b
        for bracket in set(bracket_of.values()):
            first_rung[bracket] = rungs[min(bracket, len(rungs) - 1)]
    else:  # a synchronous bracket starts its trials at its first rung's milestone
        for segment in segments:
            first = first_rung.get(segment.bracket, segment.milestone)
            first_rung[segment.bracket] = min(first, segment.milestone)
    scores: dict[tuple[int, int], dict[int, float]] = defaultdict(dict)  # first score at a rung
    highest: dict[int, int] = {}
    judged = set(rungs)
    for _, _, trial_id, _, resource, metric in trace.results:  # (unpacked: 10^5 rows)
        if resource > highest.get(trial_id, 0):
            highest[trial_id] = resource
        if resource in judged:
            scores[(bracket_of[trial_id], resource)].setdefault(trial_id, _score(sign, metric))
    wrong = total = 0
    for (bracket, level), results in scores.items():
        if level < first_rung[bracket]:
            continue  # below where this bracket starts judging
        ranked = sorted(zip(results.values(), results, strict=True))  # by score, then trial id
        chosen = {trial_id for _, trial_id in ranked[: len(ranked) // eta]}
        promoted = {t for t in results if highest[t] > level}
        total += len(promoted)
        wrong += len(promoted - chosen)
    return wrong, total


def _score(sign: float, metric: float) -> float:
    value = sign * metric
    return value if value == value and abs(value) != float("inf") else float("inf")
