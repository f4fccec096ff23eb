"""Syne Tune results folders: ``results.csv.zip`` (or ``results.csv``) and ``metadata.json``.

Read: one row per report, with the trial, its ``config_*`` columns, the resource (the
scheduler's ``time_attr``), the metric, ``st_worker_timestamp`` (the worker's clock when it
reported), ``st_worker_time`` (seconds since the worker's ``Reporter`` was made),
``st_tuner_time`` and the scheduler's ``st_decision`` (CONTINUE, PAUSE, STOP); and from the
metadata the metric, its mode, the scheduler's ``time_attr`` and ``max_t``, and when the tuner
started. The tuner's ``tuner.dill`` is a pickle and is never read.

Times are the workers' own ``st_worker_timestamp`` (exact). A trial's job starts at its first
report's timestamp less its ``st_worker_time`` (when its Reporter was made, so process start-up
before that is not counted) and ends at its last report. A PAUSE decision ends a stretch; the next
report starts another, from its own worker time. Syne Tune's results hold reports only: a trial
that never reported, and why a trial ended without a decision (failed, or cut off when the tuner
stopped), are not recorded, and the note says so.
"""

from __future__ import annotations

import csv
import io
import json
import math
import zipfile
from pathlib import Path
from typing import Any

from ashasim.imports.common import Imported, SourceError, Stretch, build_trace
from ashasim.sim.table_cells import parse_cell

__all__ = ["is_syne_tune", "read_syne_tune"]

LIBRARY = "Syne Tune"
RESULTS = ("results.csv.zip", "results.csv")
METADATA = "metadata.json"
COLUMNS = ("trial_id", "st_worker_timestamp", "st_worker_time", "st_decision")


def is_syne_tune(path: Path) -> bool:
    return path.is_dir() and (path / METADATA).exists()


def read_syne_tune(path: Path, *, metric: str | None = None, mode: str | None = None) -> Imported:
    """Import the tuning run in *path*; *metric*/*mode* override the metadata's."""
    metadata = _metadata(path)
    kwargs = metadata.get("scheduler_kwargs") or {}
    metric = metric or metadata.get("metric") or kwargs.get("metric")
    mode = mode or metadata.get("metric_mode")
    resource = kwargs.get("time_attr")
    if not metric or mode not in ("min", "max") or not resource:
        raise SourceError(
            f"{path / METADATA}: lacks the metric, its mode or the scheduler's time_attr "
            f"(give --metric and --mode; the resource must be the scheduler's time_attr)"
        )
    rows, results = _rows(path, (*COLUMNS, metric, resource))
    max_t = kwargs.get("max_t")
    by_trial: dict[int, list[dict[str, str]]] = {}
    for row in rows:
        by_trial.setdefault(int(row["trial_id"]), []).append(row)
    stretches: list[Stretch] = []
    cut = False
    for trial_id, trial_rows in sorted(by_trial.items()):
        config = {
            key[len("config_") :]: parse_cell(text)  # a config cell as the number it was
            for key, text in trial_rows[0].items()
            if key.startswith("config_")
        }
        for piece in _split(trial_rows):
            stretch = _stretch(trial_id, config, piece, metric, resource, max_t, results)
            cut = cut or stretch.reason == "cancelled"
            stretches.append(stretch)
    missing = ["trials that never reported (the results hold reports only)"]
    if cut:
        missing.append(
            "why a trial ended without a decision (failed, or cut off when the tuner stopped): "
            "journaled as cancelled"
        )
    missing.append("process start-up before each trial's Reporter (not in st_worker_time)")
    started = metadata.get("st_tuner_start_timestamp")
    return build_trace(
        stretches,
        library=LIBRARY,
        source=str(path),
        metric=metric,
        mode=mode,
        missing=missing,
        n_workers=None,
        started=float(started) if isinstance(started, (int, float)) else None,
        details={"resource": resource, "max_t": max_t, "scheduler": metadata.get("scheduler_name")},
    )


def _metadata(path: Path) -> dict[str, Any]:
    try:
        metadata = json.loads((path / METADATA).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SourceError(f"{path / METADATA}: not JSON ({error}); truncated?") from None
    if not isinstance(metadata, dict):
        raise SourceError(f"{path / METADATA}: not a JSON object")
    return metadata


def _rows(path: Path, needed: tuple[str, ...]) -> tuple[list[dict[str, str]], Path]:
    """The results table's rows, and the file they came from."""
    for name in RESULTS:
        results = path / name
        if results.exists():
            break
    else:
        raise SourceError(f"{path}: a Syne Tune folder without {' or '.join(RESULTS)}")
    try:
        if results.suffix == ".zip":
            with zipfile.ZipFile(results) as archive:
                text = archive.read(archive.namelist()[0]).decode("utf-8")
        else:
            text = results.read_text(encoding="utf-8")
    except (zipfile.BadZipFile, IndexError, KeyError, UnicodeDecodeError, EOFError) as error:
        raise SourceError(f"{results}: not a readable results table ({error})") from None
    reader = csv.DictReader(io.StringIO(text))
    absent = [column for column in needed if column not in (reader.fieldnames or [])]
    if absent:
        raise SourceError(f"{results}: lacks column(s) {absent}")
    rows = list(reader)
    for number, row in enumerate(rows, start=2):
        if any(row.get(column) in (None, "") for column in needed):
            raise SourceError(f"{results}:{number}: a row without {list(needed)}; truncated?")
    if not rows:
        raise SourceError(f"{results}: no reports")
    return rows, results


def _split(rows: list[dict[str, str]]) -> list[list[dict[str, str]]]:
    """A trial's rows in stretches: a PAUSE decision ends one."""
    pieces: list[list[dict[str, str]]] = [[]]
    for row in rows:
        pieces[-1].append(row)
        if row["st_decision"] == "PAUSE":
            pieces.append([])
    return [piece for piece in pieces if piece]


def _stretch(
    trial_id: int,
    config: dict[str, Any],
    rows: list[dict[str, str]],
    metric: str,
    resource: str,
    max_t: Any,
    results: Path,
) -> Stretch:
    times = [float(row["st_worker_timestamp"]) for row in rows]
    start = times[0] - float(rows[0]["st_worker_time"])
    reports = []
    for t, row in zip(times, rows, strict=True):
        level = float(row[resource])
        if not level.is_integer() or level < 1:
            raise SourceError(
                f"{results}: trial {trial_id} reports {resource}={level}, not 1, 2, ..."
            )
        reports.append((t, int(level), float(row[metric])))
    decision = rows[-1]["st_decision"]
    top = isinstance(max_t, (int, float)) and not math.isnan(max_t) and reports[-1][1] >= max_t
    if decision == "PAUSE":
        reason = "milestone"
    elif top:
        reason = "returned"
    elif decision == "STOP":
        reason = "stopped"
    else:
        reason = "cancelled"
    return Stretch(trial_id, config, start, times[-1], reports, reason)
