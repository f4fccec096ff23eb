"""What a run directory keeps besides its journal, and the checks a resume makes on it.

``settings.json`` holds ``RunSettings``: every choice the user made, with the scheduler as it was
before its first call, as data (``ashasim.run.codec``; written and read by
``ashasim.run.settings_files``). It is written once, before the journal, atomically, and never
changed. The journal's header names the run it belongs to (scheduler settings, space, objective,
and the SHA-256 of the settings file); ``check_identity`` refuses a journal that belongs to
another run.
"""

from __future__ import annotations

import functools
import json
from dataclasses import InitVar, dataclass
from pathlib import Path
from typing import Any

from ashasim.checks import check_number, check_optional_int
from ashasim.core.jobs import Scheduler
from ashasim.events.journal import JOURNAL, read_journal
from ashasim.events.records import Event, json_default
from ashasim.frame import Frame, Stop
from ashasim.run.configs import BackendConfig, Checkpoints
from ashasim.run.resume import ResumeError
from ashasim.space import space_to_json

__all__ = [
    "BY_VALUE_FILE",
    "LEGACY_STATE_FILE",
    "STATE_FILE",
    "RunSettings",
    "StoppingCriterion",
    "check_identity",
    "identity",
    "objective_name",
    "read_run_journal",
    "why_taken",
]

STATE_FILE = "settings.json"
BY_VALUE_FILE = "by_value.pkl"  # what has no JSON form, kept only with allow_pickle=True
LEGACY_STATE_FILE = "tuner.pkl"  # the whole settings, pickled (ashasim before settings.json)


_SYNE_TUNE_ONLY = (
    "max_num_evaluations",
    "max_num_trials_completed",
    "max_num_trials_finished",
    "max_cost",
    "min_metric_value",
    "max_metric_value",
)


@dataclass(frozen=True)
class StoppingCriterion:
    """When to stop: after ``max_wallclock_time`` seconds or ``max_trials`` trials started
    (``max_num_trials_started`` is Syne Tune's name for the latter); whichever comes first.
    The run also ends when the scheduler is done."""

    max_wallclock_time: float | None = None
    max_trials: int | None = None
    max_num_trials_started: int | None = None
    # Syne Tune's other criteria: refused in one line when given (InitVars: never kept)
    max_num_evaluations: InitVar[int | None] = None
    max_num_trials_completed: InitVar[int | None] = None
    max_num_trials_finished: InitVar[int | None] = None
    max_cost: InitVar[float | None] = None
    min_metric_value: InitVar[dict[str, float] | None] = None
    max_metric_value: InitVar[dict[str, float] | None] = None

    def __post_init__(self, *syne_tune: Any) -> None:
        pairs = zip(_SYNE_TUNE_ONLY, syne_tune, strict=True)
        given = [name for name, value in pairs if value is not None]
        if given:
            raise ValueError(
                f"StoppingCriterion: {', '.join(given)} not supported; ashasim stops a run after "
                f"max_wallclock_time seconds or max_trials (max_num_trials_started) trials"
            )
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
    folder *path* (a ``sys.path`` entry), whose file is *file*. Kept so that a run directory of
    the previous format (``tuner.pkl``) can still be read, with ``allow_pickle=True``."""

    module: str
    file: str
    path: str


@dataclass
class RunSettings:
    """Everything a run directory needs to be resumed: saved before the scheduler's first call,
    so resuming restores every choice the user made (nothing is reset to a default).

    *frame*: the run's ``ashasim.frame.Frame`` (scheduler, workers, stop, faults, durability);
    *backend*: its ``ashasim.run.configs`` config; *checkpoints*: where trials keep theirs.
    *objective*: the objective as sent to workers (cloudpickle; in memory, never read from the
    run directory without ``allow_pickle``); *function*: the objective itself. *by_value*: the
    settings kept by value (pickled) because they have no JSON form, ``allow_pickle`` allowing.
    """

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
    allow_nan: bool = False
    function: Any = None
    by_value: tuple[str, ...] = ()
    allow_pickle: bool = False

    @property
    def scheduler(self) -> Scheduler:
        return self.frame.scheduler

    @property
    def n_workers(self) -> int:
        return self.frame.n_workers


def objective_name(objective: Any) -> str:
    """``module:qualname`` of the function an objective calls (through ``functools.partial``)."""
    while isinstance(objective, functools.partial):
        objective = objective.func
    module = getattr(objective, "__module__", None) or "?"
    name = getattr(objective, "__qualname__", None) or type(objective).__qualname__
    return f"{module}:{name}"


def why_taken(directory: Path) -> str | None:
    """Why a new run may not start in ``directory`` (None: it may)."""
    if (directory / JOURNAL).exists():
        return (
            f"{directory} already holds a run; resume it with Tuner.resume({str(directory)!r}) "
            f"or choose another directory"
        )
    for state in (STATE_FILE, LEGACY_STATE_FILE):
        if (directory / state).exists():
            return (
                f"{directory} holds {state} but no {JOURNAL} (a run that died before it "
                f"began); remove {state} or choose another directory"
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
