"""Recording -> replay: turn a finished real run into a ``Tabular`` workload for the simulator.

"What would 8 workers, or synchronous SH, have done on this run?" The table holds, for every
(config, epoch) the run observed, the seconds that epoch took (time since the job's previous report;
for a job's first report, since the job started, so start-up and checkpoint loading are included)
and the metric. Limits: only observed pairs exist. A replay that asks for an epoch the run never
trained for that config (a trial the real scheduler stopped early, say) fails, or with
``Tabular(..., missing="hold")`` repeats the last observed epoch, which is only an approximation.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from ashasim.events import JobStarted, Reported, Trace

__all__ = ["export_tabular", "tabular_rows"]


def tabular_rows(trace: Trace) -> list[dict[str, Any]]:
    """One row per (config, epoch) observed: the config's keys, epoch, seconds, metric."""
    resource_attr = trace.info.get("resource_attr", "epoch")
    starts: dict[int, tuple[float, dict[str, Any]]] = {}  # worker -> (last time, config)
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    for event in trace.events:
        if type(event) is JobStarted:
            starts[event.worker] = (event.t, event.config)
        elif type(event) is Reported:
            last, config = starts[event.worker]
            starts[event.worker] = (event.t, config)
            key = (repr(sorted(config.items())), event.resource)
            # a trial trained twice over an epoch (a retrain) keeps its first observation
            rows.setdefault(
                key,
                {
                    **config,
                    resource_attr: event.resource,
                    "seconds": event.t - last,
                    "metric": event.metric,
                },
            )
    return list(rows.values())


def export_tabular(trace: Trace, path: str | os.PathLike[str]) -> Path:
    """Write ``tabular_rows(trace)`` as CSV, ready for ``Tabular(path, resource_attr=...)``."""
    rows = tabular_rows(trace)
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    target = Path(path)
    with open(target, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns) or ["epoch", "seconds", "metric"])
        writer.writeheader()
        writer.writerows(rows)
    return target
