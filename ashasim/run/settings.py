"""What a run directory keeps besides its journal, and the checks a resume makes on it.

``tuner.pkl`` holds ``RunSettings``: every choice the user made, with the scheduler as it was
before its first call. It is written once, before the journal, atomically (a temporary file,
fsync, rename), and never changed, so a crash cannot leave half of it behind. The journal's
header names the run it belongs to (scheduler settings, space, objective, and the SHA-256 of
``tuner.pkl``); ``check_identity`` refuses a journal that belongs to another run.

The objective travels to workers with cloudpickle: by value when it was defined in ``__main__`` or
a notebook, by reference (module and name) when it lives in an importable module. A reference is
only as good as ``sys.path``, which differs between the shell that started a run and the one that
resumes it (``ashasim tune --objective mymod:fn`` imports ``mymod`` from the working directory),
so the settings record where the module came from (``Origin``) and ``restore_objective`` puts
that folder back on ``sys.path`` before loading it. Spawned local workers start with the driver's
``sys.path`` (multiprocessing passes it on), so they find it too.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ashasim.checks import check_number, check_optional_int
from ashasim.core.jobs import Scheduler
from ashasim.errors import first_line
from ashasim.events.journal import JOURNAL, read_journal, sync_directory
from ashasim.events.records import Event, json_default
from ashasim.frame import Frame, Stop
from ashasim.run.configs import BackendConfig, Checkpoints
from ashasim.run.resume import ResumeError
from ashasim.space import space_to_json

__all__ = [
    "STATE_FILE",
    "Origin",
    "RunSettings",
    "StoppingCriterion",
    "check_identity",
    "identity",
    "load_settings",
    "objective_name",
    "objective_origin",
    "read_run_journal",
    "restore_objective",
    "save_settings",
    "why_taken",
]

STATE_FILE = "tuner.pkl"


@dataclass(frozen=True)
class StoppingCriterion:
    """When to stop: after ``max_wallclock_time`` seconds or ``max_trials`` trials started
    (``max_num_trials_started`` is Syne Tune's name for the latter); whichever comes first.
    The run also ends when the scheduler is done."""

    max_wallclock_time: float | None = None
    max_trials: int | None = None
    max_num_trials_started: int | None = None

    def __post_init__(self) -> None:
        if self.max_wallclock_time is not None:
            check_number("max_wallclock_time", self.max_wallclock_time, minimum=0, strict=True)
        for name in ("max_trials", "max_num_trials_started"):
            check_optional_int(name, getattr(self, name), minimum=1)
        if self.max_trials is not None and self.max_num_trials_started is not None:
            raise ValueError("give max_trials or max_num_trials_started, not both")

    @property
    def trials(self) -> int | None:
        return self.max_trials if self.max_trials is not None else self.max_num_trials_started

    def as_stop(self) -> Stop:
        """The same criterion in ashasim's own words (``ashasim.frame.Stop``)."""
        return Stop(time=self.max_wallclock_time, trials=self.trials)


@dataclass(frozen=True)
class Origin:
    """Where an objective referred to by module came from: *module* as imported from the
    folder *path* (a ``sys.path`` entry), whose file is *file*."""

    module: str
    file: str
    path: str


@dataclass
class RunSettings:
    """Everything a run directory needs to be resumed: saved before the scheduler's first call,
    so resuming restores every choice the user made (nothing is reset to a default).

    *frame*: the run's ``ashasim.frame.Frame`` (scheduler, workers, stop, faults, durability);
    *backend*: its ``ashasim.run.configs`` config; *checkpoints*: where trials keep theirs."""

    frame: Frame
    objective: bytes
    config_space: dict[str, Any]
    backend: BackendConfig
    checkpoints: Checkpoints
    name: str = ""
    print_every: float | None = None
    objective_name: str = ""
    origin: Origin | None = None
    return_ends_trial: bool = False

    @property
    def scheduler(self) -> Scheduler:
        return self.frame.scheduler

    @property
    def n_workers(self) -> int:
        return self.frame.n_workers


# -- the objective ------------------------------------------------------------------------------


def _function(objective: Any) -> Any:
    while isinstance(objective, functools.partial):
        objective = objective.func
    return objective


def objective_name(objective: Any) -> str:
    """``module:qualname`` of the function an objective calls (through ``functools.partial``)."""
    function = _function(objective)
    module = getattr(function, "__module__", None) or "?"
    name = getattr(function, "__qualname__", None) or type(function).__qualname__
    return f"{module}:{name}"


def objective_origin(objective: Any) -> Origin | None:
    """Where the objective's module was imported from, when cloudpickle sends it by reference
    (None for ``__main__``, notebooks, and modules without a file)."""
    module_name = getattr(_function(objective), "__module__", None)
    module = sys.modules.get(module_name or "")
    file = getattr(module, "__file__", None)
    if module is None or module_name == "__main__" or not file:
        return None
    path = Path(file).resolve()
    depth = module_name.count(".") + (1 if path.stem == "__init__" else 0)
    root = path.parents[depth]
    return Origin(module_name, str(path), str(root))


def restore_objective(settings: RunSettings) -> None:
    """Make the objective loadable here as it was when the run began, or refuse in one line.

    The recorded folder goes first on ``sys.path`` when the module is not found, or is found
    elsewhere, and the folder still exists; then the objective is loaded the way a worker loads it.
    """
    origin = settings.origin
    if origin is not None and origin.module not in sys.modules:
        found = _module_file(origin.module)
        if found != origin.file and Path(origin.path).is_dir() and origin.path not in sys.path:
            sys.path.insert(0, origin.path)
            importlib.invalidate_caches()
    try:
        pickle.loads(settings.objective)
    except Exception as error:
        where = f" (it came from {origin.file})" if origin is not None else ""
        raise ResumeError(
            f"cannot load the objective {settings.objective_name or '?'}{where}: "
            f"{type(error).__name__}: {first_line(error)}; put its folder on PYTHONPATH or "
            f"resume from the directory the run was started in"
        ) from None


def _module_file(name: str) -> str | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    return str(Path(spec.origin).resolve())


# -- tuner.pkl ----------------------------------------------------------------------------------


def save_settings(directory: Path, data: bytes) -> None:
    """Write ``tuner.pkl`` atomically: all of it or nothing, even across a machine crash."""
    target = directory / STATE_FILE
    temporary = directory / f".{STATE_FILE}.tmp"
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)
    sync_directory(directory)


def load_settings(directory: Path) -> tuple[RunSettings, str]:
    """The saved settings and the SHA-256 of their file; ResumeError, in one line, when the file
    is missing, empty, truncated or not a run's settings."""
    path = directory / STATE_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ResumeError(f"{directory} holds no resumable run (no {STATE_FILE})") from None
    except OSError as error:
        raise ResumeError(f"{path}: cannot read it ({error.strerror})") from None
    if not data:
        raise ResumeError(f"{path} is empty: the run's saved settings are lost")
    try:
        settings = pickle.loads(data)
    except Exception as error:
        raise ResumeError(
            f"{path} is damaged ({type(error).__name__}: {first_line(error)}); the run's "
            f"saved settings cannot be read"
        ) from None
    if not isinstance(settings, RunSettings):
        raise ResumeError(f"{path} does not hold a run's settings ({type(settings).__name__})")
    if not isinstance(getattr(settings, "frame", None), Frame):
        raise ResumeError(
            f"{path} was written by an older ashasim (before ashasim.Experiment); resume it "
            f"with the version that started it"
        )
    return settings, hashlib.sha256(data).hexdigest()


def why_taken(directory: Path) -> str | None:
    """Why a new run may not start in ``directory`` (None: it may)."""
    if (directory / JOURNAL).exists():
        return (
            f"{directory} already holds a run; resume it with Tuner.resume({str(directory)!r}) "
            f"or choose another directory"
        )
    if (directory / STATE_FILE).exists():
        return (
            f"{directory} holds {STATE_FILE} but no {JOURNAL} (a run that died before it began); "
            f"remove {STATE_FILE} or choose another directory"
        )
    return None


# -- the journal's header -----------------------------------------------------------------------


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value, default=json_default))


def _space_description(space: dict[str, Any]) -> dict[str, Any]:
    """The space as JSON; a domain without a JSON form (``sample_from``: a Python function) by
    its function's name, which is what the header can say about it."""
    described = {}
    for name, value in space.items():
        try:
            described[name] = space_to_json({name: value})[name]
        except ValueError:
            fn = getattr(value, "fn", value)
            where = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
            described[name] = {getattr(value, "kind", "python"): where}
    return described


def identity(settings: RunSettings, digest: str) -> dict[str, Any]:
    """What the journal's header says about the run it belongs to (beyond ``run_header``)."""
    return {
        "space": _json(_space_description(settings.config_space)),
        "objective": settings.objective_name,
        "settings_sha256": digest,
    }


def read_run_journal(
    directory: Path, settings: RunSettings, digest: str
) -> tuple[dict[str, Any], list[Event]]:
    """The journal's header and events, checked to belong to the run ``tuner.pkl`` describes;
    ResumeError, in one line, when it is damaged or another run's."""
    path = directory / JOURNAL
    try:
        header, events = read_journal(path)
    except (ValueError, TypeError, KeyError) as error:
        raise ResumeError(f"{error}; the journal is damaged, nothing was changed") from None
    except OSError as error:
        raise ResumeError(f"{path}: cannot read it ({error})") from None
    check_identity(header, settings, digest)
    return header, events


def check_identity(header: dict[str, Any], settings: RunSettings, digest: str) -> None:
    """Refuse a journal whose header describes another run than ``tuner.pkl`` (another seed,
    space, scheduler, objective, ...), naming the first difference."""
    scheduler = settings.scheduler
    expected = {
        "n_workers": settings.n_workers,
        "metric": scheduler.metric,
        "mode": scheduler.mode,
        "resource_attr": scheduler.resource_attr,
        "scheduler": _json(scheduler.describe()),
        **identity(settings, digest),
    }
    for key, value in expected.items():
        if key not in header:  # journals written before the field existed
            continue
        difference = _difference(key, header[key], value)
        if difference is not None:
            raise ResumeError(f"{JOURNAL} belongs to another run than {STATE_FILE}: {difference}")


def _difference(key: str, journal: Any, saved: Any) -> str | None:
    if journal == saved:
        return None
    if key == "settings_sha256":
        return f"it was started with a {STATE_FILE} of another content"
    if isinstance(journal, dict) and isinstance(saved, dict):
        names = sorted(set(journal) | set(saved), key=lambda name: (name != "name", str(name)))
        for name in names:  # a scheduler's name first: the most telling difference
            if journal.get(name) != saved.get(name):
                return _difference(f"{key}.{name}", journal.get(name), saved.get(name))
    return f"{key} is {journal!r} in the journal, {saved!r} in {STATE_FILE}"
