"""Synchronous SH against ASHA as the cluster grows, every overlap policy side by side.

For 2 ... 256 workers and >= 10 seeds per cell, every contender tunes the LeNet-calibrated
workload (the chapter's settings: r_min = 2, eta = 2, r_max = 10), with low and with high
epoch-time variance, for ``max_time`` simulated seconds. The contenders:

* ``sync-sh:none`` (textbook SH: a free worker waits at the barrier), ``sync-sh:top-rung`` (the
  chapter's figure: the next bracket opens once the top rung is under way) and ``sync-sh:always``
  (a free worker with nothing to do in the current brackets opens the next one), brackets sized
  to the cluster (n0 = max(eta**K, workers));
* ``sync-hyperband:top-rung``, Li et al.'s brackets (not resized);
* ``asha`` (promotion type), ``asha-stopping`` and ``async-hyperband``.

The tables give idle fraction, time until the best validation error reaches ``target`` and the
best error at the budget, then what synchronisation costs (``ashasim.studies.measures``); the
figures plot idle fraction, and time until the first trial is trained to r_max, against workers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ashasim.studies.compare import (
    RunResult,
    Summary,
    as_rows,
    compare,
    format_costs_table,
    format_table,
    summarize,
    variance_settings,
)

__all__ = ["CONTENDERS", "DEFAULT_WORKERS", "HEADLINE_WORKERS", "headline_table", "run", "write"]

DEFAULT_WORKERS = (2, 4, 8, 16, 32, 64, 128, 256)
HEADLINE_WORKERS = (8, 128)  # docs/studies/sync-vs-async.md's table: a small and a large cluster
LADDER: dict[str, Any] = {"max_t": 10, "grace_period": 2, "reduction_factor": 2}
CONTENDERS = (
    "sync-sh:none",
    "sync-sh:top-rung",
    "sync-sh:always",
    "sync-hyperband:top-rung",
    "asha",
    "asha-stopping",
    "async-hyperband",
)


def run(
    *,
    workers: Sequence[int] = DEFAULT_WORKERS,
    seeds: int = 10,
    max_time: float = 1800.0,
    target: float = 0.15,
    contenders: Sequence[str] = CONTENDERS,
    drop_probability: float = 0.0,
    processes: int | None = None,
    on_result: Callable[[RunResult], None] | None = None,
) -> list[RunResult]:
    return compare(
        contenders,
        workers,
        seeds,
        settings=variance_settings(LADDER["max_t"], drop_probability=drop_probability),
        max_time=max_time,
        target=target,
        processes=processes,
        on_result=on_result,
        **LADDER,
    )


def headline_table(
    summaries: Sequence[Summary], *, target: float, workers: Sequence[int] = HEADLINE_WORKERS
) -> str:
    """The table of docs/studies/sync-vs-async.md: per setting, cluster size and contender, idle
    fraction, time to the target, time to the first trial at r_max, the median promotion wait and
    the share of ASHA's promotions SH would not have made (mean ± std over seeds)."""

    def pm(pair: tuple[float | None, float | None], fmt: str) -> str:
        mean, std = pair
        return "—" if mean is None else f"{mean:{fmt}} ± {std:{fmt}}"

    lines = [
        f"| setting | workers | scheduler | idle | time to ≤ {target:g} (s) | first at r_max (s) "
        "| promotion wait, median (s) | promotions SH would not make |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    settings = list(dict.fromkeys(s.setting for s in summaries))
    order = list(dict.fromkeys(s.scheduler for s in summaries))
    chosen = sorted(
        (s for s in summaries if s.n_workers in workers),
        key=lambda s: (settings.index(s.setting), s.n_workers, order.index(s.scheduler)),
    )
    for s in chosen:
        lines.append(
            f"| {s.setting} | {s.n_workers} | {s.scheduler} | {s.idle_mean:.0%} | "
            f"{pm((s.time_to_target_mean, s.time_to_target_std), ',.0f')} | "
            f"{pm(s.first_at_top, ',.0f')} | {pm(s.wait_median, ',.1f')} | "
            f"{pm(s.wrong_fraction, '.1%')} |"
        )
    return "\n".join(lines)


def write(out: Path, results: list[RunResult], *, target: float) -> dict[str, Path]:
    """Tables (Markdown + JSON) and figures (PNG + SVG) under ``out``."""
    from ashasim.plot import idle_comparison, save, workers_comparison

    out.mkdir(parents=True, exist_ok=True)
    summaries = summarize(results)
    table = out / "sync_vs_async.md"
    table.write_text(format_table(summaries, target=target) + "\n", encoding="utf-8")
    costs = out / "sync_costs.md"
    costs.write_text(format_costs_table(summaries) + "\n", encoding="utf-8")
    headline = out / "sync_headline.md"
    headline.write_text(headline_table(summaries, target=target) + "\n", encoding="utf-8")
    data = out / "sync_vs_async.json"
    data.write_text(json.dumps(as_rows(summaries), indent=1) + "\n", encoding="utf-8")
    figure = idle_comparison(
        as_rows(summaries), title="Idle fraction by overlap policy (mean ± std over seeds)"
    )
    paths = save(figure, out / "sync_vs_async")
    first = workers_comparison(
        results,
        value=lambda r: r.first_at_top,
        ylabel="first trial at r_max (s)",
        title="Time until the first trial is trained to r_max (median, quartiles)",
    )
    save(first, out / "first_at_top")
    return {
        "table": table,
        "costs": costs,
        "headline": headline,
        "data": data,
        "figure": paths[0],
    }
