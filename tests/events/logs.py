"""Shared for the events tests: hypothesis event logs and a hand-built trace with known numbers."""

import math

from hypothesis import strategies as st

from ashasim.events import (
    REASONS,
    JobEnded,
    JobStarted,
    Reported,
    Trace,
)

# -- strategies -------------------------------------------------------------------------------

config_values = st.one_of(
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False),  # NaN != NaN would make configs compare unequal
    st.text(max_size=5),
    st.booleans(),
    st.none(),
)
configs = st.dictionaries(st.text("abcxyz_", min_size=1, max_size=4), config_values, max_size=4)
metrics = st.one_of(
    st.floats(-1e3, 1e3, allow_nan=False), st.sampled_from([math.nan, math.inf, -math.inf])
)
# zero steps make ties, and several reports of one trial at the same instant
time_steps = st.one_of(st.just(0.0), st.sampled_from([0.25, 1.0, 3.5]), st.floats(0, 50))


@st.composite
def event_logs(draw, max_workers=4, max_steps=30):
    """(n_workers, events): valid sequences. Per worker, a job starts, reports resources
    resume_from + 1, + 2, ... up to its milestone, then ends (or is left open); a trial runs on
    one worker at a time and may resume later; times never decrease."""
    n_workers = draw(st.integers(1, max_workers))
    t, next_trial = 0.0, 0
    busy: dict[int, list] = {}  # worker -> [trial_id, resource, milestone]
    paused: dict[int, int] = {}  # trial_id -> resource reached
    trial_configs: dict[int, dict] = {}
    events = []
    for _ in range(draw(st.integers(0, max_steps))):
        t += draw(time_steps)
        worker = draw(st.integers(0, n_workers - 1))
        job = busy.get(worker)
        if job is None:
            if paused and draw(st.booleans()):
                trial_id = draw(st.sampled_from(sorted(paused)))
                resume = paused.pop(trial_id)
            else:
                trial_id, resume = next_trial, 0
                next_trial += 1
                trial_configs[trial_id] = draw(configs)
            milestone = resume + draw(st.integers(1, 3))
            bracket = draw(st.integers(0, 2))
            events.append(
                JobStarted(t, worker, trial_id, trial_configs[trial_id], resume, milestone, bracket)
            )
            busy[worker] = [trial_id, resume, milestone]
        elif job[1] < job[2] and draw(st.integers(0, 3)) > 0:
            job[1] += 1
            decision = draw(st.sampled_from(["continue", "stop"]))
            events.append(Reported(t, worker, job[0], job[1], draw(metrics), decision))
        else:
            reason = draw(st.sampled_from(REASONS))
            error = draw(st.sampled_from([None, "boom", 'quote " and\nnewline']))
            events.append(JobEnded(t, worker, job[0], job[1], reason, error))
            paused[job[0]] = job[1]
            del busy[worker]
    return n_workers, events


def build(n_workers, events, *, journal=None, **info):
    trace = Trace({"n_workers": n_workers, **info}, journal=journal)
    for event in events:
        trace.record(event)
    trace.close()
    return trace


def exact(rows):
    """Rows with float fields as repr, so NaN compares equal to NaN (and -0.0 differs from 0.0)."""
    return [tuple(repr(v) if isinstance(v, float) else v for v in row) for row in rows]


# -- a hand-built trace with known numbers ----------------------------------------------------

KNOWN = [
    JobStarted(0.0, 0, 0, {"lr": 0.1}, 0, 2),
    JobStarted(0.5, 1, 1, {"lr": 0.2, "opt": "sgd"}, 0, 3, 1),
    Reported(1.0, 0, 0, 1, 0.5, "continue"),
    Reported(1.5, 1, 1, 1, 0.7, "continue"),
    Reported(2.0, 0, 0, 2, 0.4, "continue"),
    JobEnded(2.0, 0, 0, 2, "milestone"),
    JobStarted(3.0, 0, 2, {"lr": 0.3}, 0, 1),
    Reported(4.0, 0, 2, 1, 0.2, "stop"),
    JobEnded(4.0, 0, 2, 1, "stopped"),
    Reported(6.0, 1, 1, 2, math.nan, "continue"),  # trial 1 still runs: no job_ended
]


def known(mode="min", **info):
    return build(3, KNOWN, metric="loss", mode=mode, **info)
