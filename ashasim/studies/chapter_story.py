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
from typing import Any

from ashasim.core import ASHA, SyncSH
from ashasim.events import Trace
from ashasim.experiment import Experiment, Stop
from ashasim.sim.catalog import STORY_EPOCH_SECONDS, STORY_METRICS, STORY_SPACE, story_costs

__all__ = ["EPOCH_SECONDS", "METRICS", "SPACE", "async_schedule", "sync_schedule", "write"]

# the story's data, named as the chapter's figures use them (defined with the cost model)
EPOCH_SECONDS, METRICS, SPACE = STORY_EPOCH_SECONDS, STORY_METRICS, STORY_SPACE
LADDER: dict[str, Any] = {"max_t": 4, "grace_period": 1, "reduction_factor": 2}


def sync_schedule(journal: Path | None = None) -> Trace:
    """Synchronous SH on the story: one bracket of 4 trials, and Trial-4 of the next."""
    scheduler = SyncSH(SPACE, **LADDER, overlap="top-rung", resume=False, max_trials=5)
    return _story(scheduler, journal)


def async_schedule(journal: Path | None = None) -> Trace:
    """ASHA (promotion type) on the story, six trials."""
    scheduler = ASHA(SPACE, type="promotion", **LADDER, max_trials=6)
    return _story(scheduler, journal)


def _story(scheduler: Any, journal: Path | None) -> Trace:
    """The story on 2 simulated workers; the scheduler's trial budget ends it."""
    experiment = Experiment(scheduler, 2, stop=Stop(), directory=journal, outputs=False)
    return experiment.simulate(story_costs())


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
