"""Synchronous SH against ASHA as the cluster grows, with low and high epoch-time variance.

For 2 ... 256 workers and >= 10 seeds per cell, both schedulers tune the LeNet-calibrated
workload (the chapter's settings: r_min = 2, eta = 2, r_max = 10) for ``max_time`` simulated
seconds. The table gives idle fraction, time until the best validation error reaches ``target``,
and the best error at the budget, as mean ± std over seeds; the figure plots idle fraction against
workers. Synchronous SH opens the next bracket once the top rung is under way (the chapter's
convention) and sizes its brackets to the cluster (see ``ashasim.studies.compare``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from ashasim.studies.compare import (
    RunResult,
    as_rows,
    compare,
    format_table,
    summarize,
    variance_settings,
)

__all__ = ["DEFAULT_WORKERS", "run", "write"]

DEFAULT_WORKERS = (2, 4, 8, 16, 32, 64, 128, 256)
LADDER = {"max_t": 10, "grace_period": 2, "reduction_factor": 2}


def run(
    *,
    workers: Sequence[int] = DEFAULT_WORKERS,
    seeds: int = 10,
    max_time: float = 1800.0,
    target: float = 0.15,
    processes: int | None = None,
    on_result: Callable[[RunResult], None] | None = None,
) -> list[RunResult]:
    return compare(
        ["sync-sh", "asha"],
        workers,
        seeds,
        settings=variance_settings(LADDER["max_t"]),
        max_time=max_time,
        target=target,
        processes=processes,
        on_result=on_result,
        overlap="top-rung",
        **LADDER,
    )


def write(out: Path, results: list[RunResult], *, target: float) -> dict[str, Path]:
    """Table (Markdown + JSON) and figure (PNG + SVG) under ``out``."""
    from ashasim.plot import idle_comparison, save

    out.mkdir(parents=True, exist_ok=True)
    summaries = summarize(results)
    table = out / "sync_vs_async.md"
    table.write_text(format_table(summaries, target=target) + "\n", encoding="utf-8")
    data = out / "sync_vs_async.json"
    data.write_text(json.dumps(as_rows(summaries), indent=1) + "\n", encoding="utf-8")
    figure = idle_comparison(
        as_rows(summaries), title="Idle fraction: synchronous SH vs ASHA (mean ± std over seeds)"
    )
    paths = save(figure, out / "sync_vs_async")
    return {"table": table, "data": data, "figure": paths[0]}
