"""The chapter's "learning curves of all trials over wall-clock time", ASHA against random search.

Both tune the LeNet-calibrated workload with the chapter's settings (2 workers, 12 minutes,
r_min = 2, eta = 2, max_epochs = 10): ASHA stops most trials after 2 or 4 epochs, at different
times because their epochs take different time, while random search trains every trial to the end.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ashasim.core import make_scheduler
from ashasim.events import Trace
from ashasim.experiment import Experiment, Stop
from ashasim.sim import LearningCurves

__all__ = ["run", "write"]

SETTINGS: dict[str, Any] = {"max_t": 10, "grace_period": 2, "reduction_factor": 2}


def run(out: Path | None = None, *, seed: int = 0, max_time: float = 720.0) -> dict[str, Trace]:
    """ASHA (stopping type, as the chapter's code) and random search on 2 simulated workers."""
    workload = LearningCurves(max_epochs=SETTINGS["max_t"])
    traces = {}
    for name in ("asha-stopping", "random"):
        scheduler = make_scheduler(
            name, workload.config_space, metric="validation_error", seed=seed, **SETTINGS
        )
        journal = None if out is None else out / f"lenet_{name}"
        experiment = Experiment(
            scheduler, 2, stop=Stop(time=max_time), directory=journal, outputs=False
        )
        traces[name] = experiment.simulate(workload, seed=seed)
    return traces


def write(out: Path, *, seed: int = 0) -> dict[str, Trace]:
    from ashasim.plot import best_so_far, learning_curves, save

    traces = run(out, seed=seed)
    labels = {"asha-stopping": "ASHA", "random": "random search"}
    for name, trace in traces.items():
        title = f"{labels[name]}: validation error of every trial over time (simulated LeNet)"
        save(learning_curves(trace, title=title), out / f"curves_{name}")
    save(
        best_so_far(list(traces.values()), [labels[n] for n in traces], title="Best so far"),
        out / "best_so_far_lenet",
    )
    return traces
