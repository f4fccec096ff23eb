"""Runs made by other tuning libraries, as ashasim traces: Ray Tune, Syne Tune and Optuna.

``read_run(source)`` recognises what *source* is and returns an ``Imported``: the run's ``Trace``
(jobs, reports, failures, times, configs, on worker lanes) and the list of what the source did not
record. ``write_run(imported, out)`` makes it a run directory like any other (journal, results,
``replay.csv``, Gantt chart, curves, measures), so ``ashasim plot`` redraws it and ``ashasim
simulate --table out/replay.csv`` asks what another scheduler would have done with the same
observations. One reader per library (``ray_tune``, ``syne_tune``, ``optuna_study``); what they
share (stretches, lanes, the trace) is in ``common``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ashasim.imports.common import LANE_RULE, Imported, SourceError, Stretch, build_trace
from ashasim.imports.optuna_study import is_optuna, read_optuna
from ashasim.imports.ray_tune import is_ray, read_ray
from ashasim.imports.run_dir import write_run
from ashasim.imports.syne_tune import is_syne_tune, read_syne_tune

__all__ = [
    "LANE_RULE",
    "Imported",
    "SourceError",
    "Stretch",
    "build_trace",
    "read_optuna",
    "read_ray",
    "read_run",
    "read_syne_tune",
    "write_run",
]

KINDS = "a Ray Tune experiment folder, a Syne Tune results folder, or an Optuna storage"


def read_run(
    source: str | Path,
    *,
    metric: str | None = None,
    mode: str | None = None,
    study: str | None = None,
) -> Imported:
    """Import the run at *source*: a folder (Ray Tune, Syne Tune), a database URL, a SQLite file
    or an Optuna journal file. *metric*/*mode* override what a Ray or Syne Tune run records;
    *study* picks one of an Optuna storage's studies."""
    if mode is not None and mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    text = str(source)
    path = Path(text)
    options: dict[str, Any] = {"metric": metric, "mode": mode}
    if "://" not in text and not path.exists():
        raise SourceError(f"{text}: no such file, folder or database URL")
    if is_ray(path):
        return read_ray(path, **options)
    if is_syne_tune(path):
        return read_syne_tune(path, **options)
    if is_optuna(text):
        return read_optuna(text, study=study)
    raise SourceError(f"{text}: not {KINDS} (see docs/guides/import.md)")
