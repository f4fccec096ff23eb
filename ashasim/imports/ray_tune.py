"""Ray Tune experiment directories (Ray 2.x ``Tuner`` and classic ``tune.run`` write the same).

Read: ``experiment_state-*.json`` (the newest: each trial's status, ``start_time``,
``last_result_time``, error file; the metric's name), each trial folder's ``result.json`` (or
``progress.csv``) for its reports and ``params.json`` for its config. The state's pickled parts
(storage, scheduler, checkpoints) are never unpickled: nothing read from disk runs code.

Times. Ray stamps each result with whole seconds only (``timestamp``), but also with the trial's
float ``time_total_s`` and the driver's ``last_result_time``: a trial's last stretch is anchored on
``last_result_time`` and each earlier report placed ``time_total_s`` apart from it, which is
exact to the millisecond. A trial that was paused and resumed (``iterations_since_restore``
restarts at 1) has one stretch per run; earlier stretches begin at the latest time their
whole-second stamps allow (not before the trial's ``start_time``), so within a second (the note
says so). A trial's job starts at its ``start_time`` and ends at its last result: Ray
records no later time, so an errored trial's bar ends at its last report.

Lanes: Ray starts a new actor process per trial unless actors are reused; only then does the
(node, pid) Ray records name a worker, and those are the lanes; otherwise they are inferred.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

from ashasim.imports.common import Imported, SourceError, Stretch, build_trace

__all__ = ["is_ray", "read_ray"]

LIBRARY = "Ray Tune"
STATE_GLOB = "experiment_state-*.json"
NEEDED = ("training_iteration", "time_total_s", "iterations_since_restore", "time_since_restore")


def is_ray(path: Path) -> bool:
    return path.is_dir() and any(path.glob(STATE_GLOB))


def read_ray(path: Path, *, metric: str | None = None, mode: str | None = None) -> Imported:
    """Import the experiment in *path*; *metric* and *mode* default to the experiment's own
    metric and to "min" (Ray keeps the mode in the pickled scheduler, so it is noted)."""
    states = sorted(path.glob(STATE_GLOB))
    if not states:
        raise SourceError(f"{path}: not a Ray Tune experiment (no {STATE_GLOB})")
    state_file = states[-1]
    trials, runner = _trial_states(state_file)
    metric = metric or runner.get("_metric")
    if not metric:
        raise SourceError(f"{state_file}: names no metric; give it (--metric)")
    missing: list[str] = []
    if mode is None:
        mode = "min"
        missing.append("whether the metric is minimised (Ray pickles the scheduler): taken as min")
    reuse = bool(runner.get("_reuse_actors"))
    stretches: list[Stretch] = []
    placement: dict[str, str] = {}
    for number, (ray_id, (trial, run)) in enumerate(sorted(trials.items())):
        folder = path / str(trial.get("relative_logdir", ""))
        rows = _results(folder)
        config = _config(folder, trial)
        trial_id = _trial_number(ray_id, number)
        for piece in _split(rows, metric, folder):
            stretches.append(_stretch(trial_id, config, piece, (trial, run), metric, reuse, folder))
        if rows:
            placement[str(trial_id)] = f"{rows[-1].get('node_ip')} pid {rows[-1].get('pid')}"
        else:  # started, never reported (an error at set-up, say): a job of no length
            start = float(run["start_time"])
            failed = trial.get("status") == "ERROR"
            error = _error(folder) if failed else None
            reason = "failed" if failed else "cancelled"
            stretches.append(Stretch(trial_id, config, start, start, [], reason, error))
    top = max((r for s in stretches for _, r, _ in s.reports), default=0)
    for stretch in stretches:
        if stretch.reason == "returned" and stretch.reports and stretch.reports[-1][1] < top:
            stretch.reason = "stopped"  # ended below the top: the scheduler stopped it
    if len(stretches) > len(trials):  # some trial was paused and resumed
        missing.append(
            "a paused stretch's times to the second only (Ray's stamps are whole seconds), "
            "and when a resumed stretch started (its first report less that epoch's time)"
        )
    if any(stretch.reason == "failed" for stretch in stretches):
        missing.append("when an errored trial failed (its job ends at its last result)")
    return build_trace(
        stretches,
        library=LIBRARY,
        source=str(path),
        metric=metric,
        mode=mode,
        missing=missing,
        started=_started(runner),
        details={"state": state_file.name, "placement": placement, "ray_ids": sorted(trials)},
    )


def _started(runner: dict[str, Any]) -> float | None:
    value = runner.get("_start_time")
    return float(value) if isinstance(value, (int, float)) else None


def _trial_states(state_file: Path) -> tuple[dict[str, tuple[dict, dict]], dict[str, Any]]:
    """Ray id -> (trial's JSON state, its run metadata), and the runner's settings."""
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SourceError(f"{state_file}: not JSON ({error}); truncated?") from None
    if not isinstance(state, dict) or "trial_data" not in state:
        keys = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise SourceError(
            f"{state_file}: an experiment state this reader does not know (no trial_data; "
            f"has {keys}); written by a Ray older than 2.7?"
        )
    trials = {}
    for entry in state["trial_data"]:
        try:
            trial, run = (json.loads(part) for part in entry)
        except (TypeError, ValueError):
            raise SourceError(
                f"{state_file}: a trial entry is not [trial JSON, run JSON]"
            ) from None
        if "trial_id" not in trial or "start_time" not in run:
            raise SourceError(f"{state_file}: a trial entry lacks trial_id or start_time")
        trials[str(trial["trial_id"])] = (trial, run)
    return trials, state.get("runner_data") or {}


def _results(folder: Path) -> list[dict[str, Any]]:
    """The trial's results: result.json (one JSON object a line), else progress.csv."""
    lines_file, table_file = folder / "result.json", folder / "progress.csv"
    if lines_file.exists():
        rows = []
        text = lines_file.read_text(encoding="utf-8")
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                raise SourceError(
                    f"{lines_file}:{number}: truncated (not a complete JSON result)"
                ) from None
        return rows
    if table_file.exists():
        with open(table_file, newline="", encoding="utf-8") as handle:
            return [_numbers(row) for row in csv.DictReader(handle)]
    if not folder.is_dir():
        raise SourceError(f"{folder}: the trial folder the experiment state names is missing")
    return []  # a trial that never reported


def _numbers(row: dict[str, str]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for key, text in row.items():
        try:
            parsed[key] = float(text) if text not in ("", None) else None
        except ValueError:
            parsed[key] = text
    return parsed


def _config(folder: Path, trial: dict[str, Any]) -> dict[str, Any]:
    params = folder / "params.json"
    if params.exists():
        try:
            return dict(json.loads(params.read_text(encoding="utf-8")))
        except (json.JSONDecodeError, TypeError, ValueError):
            raise SourceError(f"{params}: not a JSON object of parameters") from None
    return dict(trial.get("config") or {})


def _trial_number(ray_id: str, fallback: int) -> int:
    """Ray's trial ids end in their index ("5977e_00003" -> 3)."""
    tail = ray_id.rsplit("_", 1)[-1]
    return int(tail) if tail.isdigit() else fallback


def _split(rows: list[dict[str, Any]], metric: str, folder: Path) -> list[list[dict[str, Any]]]:
    """Rows in stretches: a new one wherever ``iterations_since_restore`` starts again at 1."""
    pieces: list[list[dict[str, Any]]] = []
    for number, row in enumerate(rows, start=1):
        absent = [key for key in (*NEEDED, metric) if row.get(key) is None]
        if absent:
            raise SourceError(f"{folder / 'result.json'}: result {number} lacks {absent}")
        if not pieces or int(row["iterations_since_restore"]) == 1:
            pieces.append([])
        pieces[-1].append(row)
    return pieces


def _stretch(
    trial_id: int,
    config: dict[str, Any],
    rows: list[dict[str, Any]],
    state: tuple[dict[str, Any], dict[str, Any]],
    metric: str,
    reuse: bool,
    folder: Path,
) -> Stretch:
    """One stretch of rows as a ``Stretch`` at the driver's times (see the module docstring)."""
    trial, run = state
    last_total = float(rows[-1]["time_total_s"])
    final = run.get("last_result") or {}
    is_last = math.isclose(float(final.get("time_total_s", math.nan)), last_total)
    if is_last and run.get("last_result_time") is not None:
        anchor = float(run["last_result_time"])
        times = [anchor - (last_total - float(row["time_total_s"])) for row in rows]
    else:  # a stretch before a pause: the trainable began at the latest time its whole-second
        # stamps allow (and, for the trial's first stretch, not before the trial started)
        base = max(float(row["timestamp"]) - float(row["time_since_restore"]) for row in rows)
        if int(rows[0]["training_iteration"]) == 1:
            base = max(base, float(run["start_time"]))
        times = [base + float(row["time_since_restore"]) for row in rows]
    first_start = times[0] - float(rows[0].get("time_this_iter_s") or 0.0)
    start = float(run["start_time"])
    if int(rows[0]["training_iteration"]) != 1 or start > times[0]:
        start = first_start  # a resumed stretch: Ray's start_time is the trial's first start
    reports = [
        (t, int(row["training_iteration"]), float(row[metric]))
        for t, row in zip(times, rows, strict=True)
    ]
    status = trial.get("status")
    reason, error = "milestone", None
    if is_last:
        # PAUSED at the end: a scheduler (HyperBand) paused it at a rung and the run ended
        reason = {"ERROR": "failed", "TERMINATED": "returned", "PAUSED": "milestone"}.get(
            str(status), "cancelled"
        )
        if reason == "failed":
            error = _error(folder)
    where = f"{rows[-1].get('node_ip')}:{rows[-1].get('pid')}" if reuse else None
    return Stretch(trial_id, config, start, times[-1], reports, reason, error, where)


def _error(folder: Path) -> str:
    """The last line of the trial's error.txt (the exception), or a word when there is none."""
    text = folder / "error.txt"
    if not text.exists():
        return "error (no error.txt)"
    lines = [
        line
        for line in text.read_text(encoding="utf-8", errors="replace").splitlines()
        if line.strip()
    ]
    return lines[-1].strip() if lines else "error"
