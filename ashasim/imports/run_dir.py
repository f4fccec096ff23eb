"""An imported run as a run directory, the same files ``ashasim simulate`` and ``tune`` write.

``journal.jsonl`` (so ``ashasim plot DIR`` redraws it), ``results.csv``, ``summary.json``, the
Gantt chart and learning curves, ``replay.csv`` (``ashasim.run.export``: one row per observed
(config, epoch) with its seconds and metric, for ``ashasim simulate --table DIR/replay.csv``),
``measures.json`` (idle fraction, busy and idle worker-seconds, promotion waits, when the first
trial reached the top resource) and ``import.json`` (where it came from, what was not recorded, how
the lanes were drawn).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from ashasim.events import JOURNAL, Trace
from ashasim.imports.common import Imported

__all__ = ["REPLAY", "measures", "write_run"]

REPLAY = "replay.csv"


def measures(trace: Trace) -> dict[str, Any]:
    """The study's measures that need no knowledge of the scheduler that made the run."""
    from ashasim.studies.measures import count_at_top, first_at_top, promotion_waits

    waits = promotion_waits(trace)
    return {
        "n_workers": trace.n_workers,
        "makespan": trace.makespan,
        "busy_worker_seconds": trace.busy_time(),
        "idle_worker_seconds": trace.idle_time,
        "idle_fraction": trace.idle_fraction,
        "idle_fraction_by_worker": [
            sum(b - a for a, b in trace.idle_intervals(w)) / trace.makespan
            if trace.makespan > 0
            else 0.0
            for w in range(trace.n_workers)
        ],
        "promotion_waits": {
            "count": len(waits),
            "mean": statistics.fmean(waits) if waits else None,
            "max": max(waits, default=None),
        },
        "top_resource": trace.info["scheduler"]["rung_levels"][-1],
        "first_at_top": first_at_top(trace),
        "trials_at_top": count_at_top(trace)[-1][1] if count_at_top(trace) else 0,
    }


def write_run(imported: Imported, out: Path) -> list[Path]:
    """Write the run directory (see the module docstring); returns the files written."""
    from ashasim.outputs import write_outputs
    from ashasim.run.export import export_tabular

    out.mkdir(parents=True, exist_ok=True)
    source = imported.trace
    with Trace(source.info, journal=out / JOURNAL) as journaled:
        for event in source.events:
            journaled.record(event)
    written = [out / JOURNAL]
    written += write_outputs(source, out)
    written.append(export_tabular(source, out / REPLAY))
    for name, content in (
        ("measures.json", measures(source)),
        ("import.json", source.info["imported"]),
    ):
        path = out / name
        path.write_text(json.dumps(content, indent=1) + "\n", encoding="utf-8")
        written.append(path)
    return written
