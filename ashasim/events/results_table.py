"""A run's results as a flat table (one row per report): what ``results.csv`` holds and what
``Trace.to_pandas`` returns, so every tool reads the same columns.

The fixed columns come first (t, worker, trial_id, the resource, the metric); when the levels
are not epochs, the resource column is "level" (the core's integer) and the fidelity's own column
(e.g. "train_size") follows it with the real value. Config keys follow in order of appearance; a
hyperparameter named like a fixed column is written as ``config_<name>`` so it cannot overwrite it.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

__all__ = ["columns", "fixed_columns", "rows", "to_csv", "to_pandas"]


class Trace(Protocol):
    """What the table reads of a trace (``ashasim.events.Trace`` has it): the protocol, not the
    class, so this module and the trace's need not import each other."""

    info: dict[str, Any]

    @property
    def results(self) -> Sequence[Any]: ...  # of ashasim.events.trace.Result

    @property
    def metric(self) -> str: ...

    @property
    def fidelity(self) -> tuple[str, list[Any]] | None: ...

    def fidelity_of(self, level: int) -> Any: ...


def fixed_columns(trace: Trace) -> tuple[str, ...]:
    """t, worker, trial_id, the resource, [the real fidelity,] the metric."""
    fidelity = trace.fidelity
    if fidelity is None:
        return ("t", "worker", "trial_id", trace.info.get("resource_attr", "epoch"), trace.metric)
    level = "level" if fidelity[0] != "level" else "level_index"
    return ("t", "worker", "trial_id", level, fidelity[0], trace.metric)


def rows(trace: Trace) -> Iterator[dict[str, Any]]:
    """One flat dict per report, in time order."""
    fixed = fixed_columns(trace)
    mapped = len(fixed) == 6
    for row in trace.results:
        values: tuple[Any, ...]
        if mapped:
            level = trace.fidelity_of(row.resource)
            values = (row.t, row.worker, row.trial_id, row.resource, level, row.metric)
        else:
            values = (row.t, row.worker, row.trial_id, row.resource, row.metric)
        flat = dict(zip(fixed, values, strict=True))
        for key, value in row.config.items():
            flat[f"config_{key}" if key in fixed else key] = value
        yield flat


def columns(trace: Trace, table: list[dict[str, Any]]) -> list[str]:
    """The fixed columns (even with no rows), then every config key in order of appearance."""
    names = dict.fromkeys(fixed_columns(trace))
    for row in table:
        names.update(dict.fromkeys(row))
    return list(names)


def to_csv(trace: Trace, path: str | os.PathLike[str]) -> Path:
    """Write the results table as CSV."""
    table = list(rows(trace))
    target = Path(path)
    with open(target, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns(trace, table))
        writer.writeheader()
        writer.writerows(table)
    return target


def to_pandas(trace: Trace) -> Any:
    """The results table as a pandas DataFrame (needs pandas)."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("to_pandas() needs pandas: pip install pandas") from None
    table = list(rows(trace))
    return pd.DataFrame(table, columns=columns(trace, table))
