"""Optuna studies: an RDB storage (``sqlite:///study.db``, any other URL through Optuna) or a
``JournalStorage`` file.

SQLite databases and journal files are read directly (Python's ``sqlite3`` and ``json``), so
importing needs no Optuna, and opening a file never changes it: Optuna's own ``RDBStorage`` creates
missing tables and checks the schema's migrations on open, which would write into a file that is
not a study, and SQLite is opened read-only here. Other database URLs (PostgreSQL, MySQL) go
through Optuna's storage API, so they need Optuna and its database driver installed.

What Optuna records: each trial's parameters, state (COMPLETE, PRUNED, FAIL, RUNNING, WAITING),
``datetime_start``/``datetime_complete`` and its intermediate values by step, but not *when* each
intermediate value was reported: report k of K is placed at k/K of the trial's duration (the last
at its completion), and the note says so. A journal names the process and thread that ran each
trial (its ``worker_id``): those are the lanes; an RDB names none, so its lanes are inferred.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ashasim.imports.common import Imported, SourceError, Stretch, build_trace

__all__ = ["is_optuna", "read_optuna"]

LIBRARY = "Optuna"
# TrialState values, as the journal writes them
STATES = {0: "RUNNING", 1: "COMPLETE", 2: "PRUNED", 3: "FAIL", 4: "WAITING"}
REASON_OF = {"COMPLETE": "returned", "PRUNED": "stopped", "FAIL": "failed", "RUNNING": "cancelled"}
# journal operation codes (optuna.storages.journal._storage.JournalOperation)
CREATE_STUDY, CREATE_TRIAL, SET_PARAM, SET_STATE, SET_INTERMEDIATE = 0, 4, 5, 6, 7
KNOWN_OPS = range(10)
SQLITE = b"SQLite format 3"  # the first bytes of every SQLite database file
JOURNAL_START = b'{"op_code"'  # every journal line is a JSON operation, op_code first
TABLES = {
    "studies": {"study_id", "study_name"},
    "study_directions": {"study_id", "direction"},
    "trials": {"trial_id", "number", "study_id", "state", "datetime_start", "datetime_complete"},
    "trial_params": {"trial_id", "param_name", "param_value", "distribution_json"},
    "trial_intermediate_values": {"trial_id", "step", "intermediate_value"},
}
SPACING = (
    "when each intermediate value was reported (Optuna stores a trial's start and completion "
    "only): report k of K is placed at k/K of the trial's duration"
)


@dataclass
class _Trial:
    number: int
    state: str = "WAITING"
    start: datetime | None = None
    complete: datetime | None = None
    params: dict[str, Any] = field(default_factory=dict)
    steps: dict[int, float] = field(default_factory=dict)
    worker: str | None = None


def _head(path: Path) -> bytes:
    """A file's first bytes (empty for anything that is not a file), to tell what it holds."""
    if not path.is_file():
        return b""
    with open(path, "rb") as handle:
        return handle.read(64)


def is_optuna(source: str) -> bool:
    """A database URL, a SQLite file, or an Optuna journal file."""
    return "://" in source or _head(Path(source)).startswith((SQLITE, JOURNAL_START))


def read_optuna(source: str, *, study: str | None = None) -> Imported:
    """Import one study (*study*: its name; needed when the storage holds several)."""
    if source.startswith("sqlite:///"):
        path = source[len("sqlite:///") :]
        name, mode, trials, version = _read_sqlite(path, study)
    elif "://" in source:
        path = source
        name, mode, trials, version = _read_with_optuna(source, study)
    elif _head(Path(source)).startswith(SQLITE):
        path = source
        name, mode, trials, version = _read_sqlite(source, study)
    else:
        path = source
        name, mode, trials, version = _read_journal(Path(source), study)
    if not any(trial.steps for trial in trials):
        raise SourceError(
            f"{path}: study {name!r} has no intermediate values (trial.report was never called), "
            f"so there is no learning curve to import"
        )
    missing = [SPACING]
    stretches = [stretch for trial in trials if (stretch := _stretch(trial)) is not None]
    if any(trial.state == "WAITING" for trial in trials):
        missing.append("waiting trials never started (left out)")
    if any(trial.state == "RUNNING" for trial in trials):
        missing.append("how far running trials got (still running, or died): cut at their start")
    if any(trial.state == "FAIL" for trial in trials):
        missing.append("why a failed trial failed (Optuna keeps no error message)")
    return build_trace(
        stretches,
        library=LIBRARY,
        source=source,
        metric="value",
        mode=mode,
        missing=missing,
        details={"study": name, "version": version},
    )


def _stretch(trial: _Trial) -> Stretch | None:
    if trial.start is None:
        return None  # WAITING: never ran
    start = trial.start.timestamp()
    # a trial still RUNNING when the storage was read (or whose process died) has no end: its
    # job is cut at its start, journaled as cancelled
    end = trial.complete.timestamp() if trial.complete is not None else start
    steps = sorted(trial.steps)
    count = len(steps)
    reports = [
        (start + (end - start) * (k + 1) / count, int(step), float(trial.steps[step]))
        for k, step in enumerate(steps)
    ]
    if reports:  # the last report at the trial's end exactly, not one rounding away from it
        reports[-1] = (end, *reports[-1][1:])
    error = "FAIL (no message recorded)" if trial.state == "FAIL" else None
    return Stretch(
        trial.number,
        trial.params,
        start,
        end,
        reports,
        REASON_OF.get(trial.state, "cancelled"),
        error,
        trial.worker,
    )


def _timestamp(text: Any) -> datetime | None:
    """An Optuna time: ISO text (journal, aware) or SQLite's naive text, taken as UTC."""
    if text is None:
        return None
    moment = datetime.fromisoformat(str(text))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _param(value: float, distribution: str) -> Any:
    """A parameter's value from Optuna's internal float and its distribution's JSON."""
    described = json.loads(distribution)
    attributes = described.get("attributes", {})
    kind = described.get("name")
    if kind == "CategoricalDistribution":
        return attributes["choices"][int(value)]
    if kind in ("IntDistribution", "IntUniformDistribution", "IntLogUniformDistribution"):
        return int(value)
    return float(value)


def _choose(names: dict[Any, str], study: str | None, where: str) -> Any:
    """The id of the study to read: the one named, or the only one."""
    if study is not None:
        for key, name in names.items():
            if name == study:
                return key
        raise SourceError(f"{where}: no study named {study!r} (it holds {sorted(names.values())})")
    if len(names) != 1:
        raise SourceError(
            f"{where}: holds {len(names)} studies {sorted(names.values())}; name one (--study)"
        )
    return next(iter(names))


def _read_sqlite(path: str, study: str | None) -> tuple[str, str, list[_Trial], str]:
    if not Path(path).is_file():
        raise SourceError(f"{path}: no such file")
    try:
        connection = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise SourceError(f"{path}: cannot open as SQLite ({error})") from None
    try:
        return _query(connection, path, study)
    except sqlite3.DatabaseError as error:
        raise SourceError(f"{path}: not a readable Optuna database ({error})") from None
    finally:
        connection.close()


def _query(
    connection: sqlite3.Connection, path: str, study: str | None
) -> tuple[str, str, list[_Trial], str]:
    version = "no version_info"
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    if "version_info" in tables:
        row = connection.execute("SELECT schema_version, library_version FROM version_info")
        found = row.fetchone()
        if found:
            version = f"schema {found[0]}, optuna {found[1]}"
    for table, columns in TABLES.items():
        if table not in tables:
            raise SourceError(f"{path}: not an Optuna storage ({version}): no table {table}")
        have = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        if columns - have:
            raise SourceError(
                f"{path}: an Optuna storage of another version ({version}): table {table} "
                f"lacks {sorted(columns - have)}"
            )
    names = dict(connection.execute("SELECT study_id, study_name FROM studies"))
    study_id = _choose(names, study, path)
    direction = connection.execute(
        "SELECT direction FROM study_directions WHERE study_id = ? ORDER BY objective",
        (study_id,),
    ).fetchone()
    mode = "max" if direction and direction[0] == "MAXIMIZE" else "min"
    trials: dict[int, _Trial] = {}
    for trial_id, number, state, start, complete in connection.execute(
        "SELECT trial_id, number, state, datetime_start, datetime_complete FROM trials "
        "WHERE study_id = ? ORDER BY number",
        (study_id,),
    ):
        trials[trial_id] = _Trial(number, state, _timestamp(start), _timestamp(complete))
    for trial_id, name, value, distribution in connection.execute(
        "SELECT trial_id, param_name, param_value, distribution_json FROM trial_params "
        "ORDER BY param_id"
    ):
        if trial_id in trials:
            trials[trial_id].params[name] = _param(value, distribution)
    for trial_id, step, value in connection.execute(
        "SELECT trial_id, step, intermediate_value FROM trial_intermediate_values"
    ):
        if trial_id in trials:
            trials[trial_id].steps[int(step)] = float("nan") if value is None else float(value)
    return names[study_id], mode, list(trials.values()), version


def _read_journal(path: Path, study: str | None) -> tuple[str, str, list[_Trial], str]:
    """Replay a journal's operations (one JSON object a line; a torn last line is dropped)."""
    if not path.exists():
        raise SourceError(f"{path}: no such file or URL")
    studies: dict[int, str] = {}
    directions: dict[int, list[int]] = {}
    trials: list[tuple[int, _Trial]] = []  # global trial id -> (study, trial)
    numbers: dict[int, int] = {}
    lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    torn = len(lines) - 1
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            op = json.loads(line)
        except json.JSONDecodeError:
            if index == torn:
                break  # a crash mid-write
            raise SourceError(f"{path}:{index + 1}: not an Optuna journal line") from None
        code = op.get("op_code") if isinstance(op, dict) else None
        if code not in KNOWN_OPS:
            raise SourceError(
                f"{path}:{index + 1}: not an Optuna journal operation this reader knows "
                f"(op_code {code!r}; written by another Optuna version?)"
            )
        if code == CREATE_STUDY:
            studies[len(studies)] = op["study_name"]
            directions[len(directions)] = op.get("directions", [1])
        elif code == CREATE_TRIAL:
            owner = op["study_id"]
            numbers[owner] = numbers.get(owner, -1) + 1
            trial = _Trial(numbers[owner], "RUNNING", _timestamp(op.get("datetime_start")))
            trial.worker = op.get("worker_id")
            trials.append((owner, trial))
        elif code in (SET_PARAM, SET_STATE, SET_INTERMEDIATE):
            _apply(trials[op["trial_id"]][1], code, op)
    if not studies:
        raise SourceError(f"{path}: an Optuna journal without a study (no create-study line)")
    study_id = _choose(studies, study, str(path))
    mode = "max" if directions[study_id][:1] == [2] else "min"
    chosen = [trial for owner, trial in trials if owner == study_id]
    return studies[study_id], mode, chosen, "journal"


def _apply(trial: _Trial, code: int, op: dict[str, Any]) -> None:
    if code == SET_PARAM:
        trial.params[op["param_name"]] = _param(op["param_value_internal"], op["distribution"])
    elif code == SET_INTERMEDIATE:
        trial.steps[int(op["step"])] = float(op["intermediate_value"])
    else:
        trial.state = STATES.get(op["state"], "RUNNING")
        if op.get("datetime_start"):
            trial.start = _timestamp(op["datetime_start"])
        if op.get("datetime_complete"):
            trial.complete = _timestamp(op["datetime_complete"])


def _read_with_optuna(url: str, study: str | None) -> tuple[str, str, list[_Trial], str]:
    """Any other database URL, through Optuna's storage (needs Optuna and the driver)."""
    try:
        import optuna
    except ImportError:
        raise SourceError(
            f"{url}: reading this database needs optuna installed (pip install optuna); "
            f"sqlite:/// URLs and journal files are read without it"
        ) from None
    storage = optuna.storages.get_storage(url)
    names = {s._study_id: s.study_name for s in storage.get_all_studies()}
    study_id = _choose(names, study, url)
    loaded = optuna.load_study(study_name=names[study_id], storage=storage)
    mode = "max" if loaded.direction == optuna.study.StudyDirection.MAXIMIZE else "min"
    trials = [
        _Trial(
            t.number,
            t.state.name,
            _aware(t.datetime_start),
            _aware(t.datetime_complete),
            dict(t.params),
            {int(k): float(v) for k, v in t.intermediate_values.items()},
        )
        for t in loaded.trials
    ]
    return names[study_id], mode, trials, f"optuna {optuna.__version__}"


def _aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else _timestamp(moment.isoformat())
