"""The chapter's two schematic schedules, simulated rather than drawn.

Two workers, eta = 2, r_min = 1, r_max = 4 (rungs 1, 2, 4). Trial-2 is a straggler, Trial-0 the
best trial and Trial-3 the second best; Trial-3's epochs are slower than Trial-0's. With these
costs the simulator tells the chapter's stories on its own:

* Synchronous SH (n0 = 4, retrain on promotion as in the chapter, the next round starts once the
  top rung is under way): Worker-1 idles at the rung-0 barrier until the straggler Trial-2
  reports; Trial-0 and Trial-3 go to rung 1 together; Worker-0 idles until the slower Trial-3
  finishes; Trial-0 alone trains on rung 2 while Trial-4 of the next round starts beside it.
* ASHA (promotion type): Trial-0 is promoted as soon as Trial-1 finishes, Trial-3 once Trial-2
  reports, then Trial-0 goes on to rung 2, while Trial-4 and Trial-5 start on rung 0 and no
  worker waits until the trial budget runs out.
"""

from __future__ import annotations

from pathlib import Path

from ashasim.core import ASHA, SyncSH
from ashasim.events import Trace
from ashasim.sim import Scripted, simulate
from ashasim.space import uniform

__all__ = ["EPOCH_SECONDS", "METRICS", "async_schedule", "story_workload", "sync_schedule", "write"]

# seconds per epoch of each trial: Trial-2 is the straggler, Trial-3 slower than Trial-0
EPOCH_SECONDS = {0: 1.0, 1: 1.2, 2: 3.5, 3: 1.5, 4: 1.0, 5: 2.4}
# validation error after epochs 1..4: Trial-0 best, Trial-3 second
METRICS = {
    0: [0.40, 0.25, 0.20, 0.18],
    1: [0.60, 0.50, 0.45, 0.42],
    2: [0.90, 0.80, 0.75, 0.72],
    3: [0.45, 0.35, 0.30, 0.28],
    4: [0.70, 0.60, 0.55, 0.52],
    5: [0.80, 0.70, 0.65, 0.62],
}
SPACE = {"x": uniform(0.0, 1.0), "max_epochs": 4}
LADDER = {"max_t": 4, "grace_period": 1, "reduction_factor": 2}


def story_workload() -> Scripted:
    return Scripted(EPOCH_SECONDS, METRICS)


def sync_schedule(journal: Path | None = None) -> Trace:
    """Synchronous SH on the story: one bracket of 4 trials, and Trial-4 of the next."""
    scheduler = SyncSH(SPACE, **LADDER, overlap="top-rung", resume=False, max_trials=5)
    return simulate(scheduler, story_workload(), 2, journal=journal)


def async_schedule(journal: Path | None = None) -> Trace:
    """ASHA (promotion type) on the story, six trials."""
    scheduler = ASHA(SPACE, type="promotion", **LADDER, max_trials=6)
    return simulate(scheduler, story_workload(), 2, journal=journal)


def write(out: Path) -> dict[str, Trace]:
    """Simulate both schedules; write their journals and Gantt charts (PNG + SVG) under ``out``."""
    from ashasim.plot import gantt, save

    traces = {
        "sync": sync_schedule(out / "story_sync"),
        "async": async_schedule(out / "story_async"),
    }
    titles = {"sync": "Synchronous Successive Halving", "async": "Asynchronous Successive Halving"}
    for name, trace in traces.items():
        save(gantt(trace, title=titles[name]), out / f"gantt_{name}")
    return traces
