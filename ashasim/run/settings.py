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


@dataclass(frozen=True)
class StoppingCriterion:
    """When to stop, in Syne Tune's words, whichever comes first: after ``max_wallclock_time``
    seconds; once ``max_trials`` trials have started (``max_num_trials_started`` is Syne Tune's
    name); and, with Syne Tune's meaning ("once *more* than N"), after more than
    ``max_num_evaluations`` results, ``max_num_trials_completed`` completed trials or
    ``max_num_trials_finished`` finished ones (completed, stopped or failed), or at a result of
    the scheduler's metric below ``min_metric_value[metric]`` or above
    ``max_metric_value[metric]``. The run also ends when the scheduler is done. ``as_stop`` says
    it in ashasim's words (``ashasim.frame.Stop``); ``max_cost`` is refused (ashasim's results
    carry no cost)."""

    max_wallclock_time: float | None = None
    max_trials: int | None = None
    max_num_trials_started: int | None = None
    max_num_evaluations: int | None = None
    max_num_trials_completed: int | None = None
    max_num_trials_finished: int | None = None
    min_metric_value: dict[str, float] | None = None
    max_metric_value: dict[str, float] | None = None
    max_cost: InitVar[float | None] = None  # refused when given (an InitVar: never kept)

    def __post_init__(self, max_cost: float | None) -> None:
        if max_cost is not None:
            raise ValueError(
                "StoppingCriterion: max_cost not supported; ashasim's results carry no cost "
                "(stop on max_wallclock_time, trials, evaluations or a metric value instead)"
            )
        if self.max_wallclock_time is not None:
            check_number("max_wallclock_time", self.max_wallclock_time, minimum=0, strict=True)
        for name in ("max_trials", "max_num_trials_started"):
            check_optional_int(name, getattr(self, name), minimum=1)
        for name in _MORE_THAN:
            check_optional_int(name, getattr(self, name), minimum=0)
        for name in ("min_metric_value", "max_metric_value"):
            thresholds = getattr(self, name)
            if thresholds is not None and not isinstance(thresholds, dict):
                raise ValueError(f"{name} must be a dict {{metric: value}}, got {thresholds!r}")
        if self.max_trials is not None and self.max_num_trials_started is not None:
            raise ValueError("give max_trials or max_num_trials_started, not both")

    @property
    def trials(self) -> int | None:
        return self.max_trials if self.max_trials is not None else self.max_num_trials_started

    def as_stop(self, metric: str | None = None) -> Stop:
        """The same criterion in ashasim's own words (``ashasim.frame.Stop``); *metric*: the
        scheduler's, the only one a metric threshold may name."""
        more_than = {
            key: None if (n := getattr(self, name)) is None else n + 1
            for name, key in _MORE_THAN.items()
        }
        return Stop(
            time=self.max_wallclock_time,
            trials=self.trials,
            metric_below=self._threshold("min_metric_value", metric),
            metric_above=self._threshold("max_metric_value", metric),
            **more_than,
        )

    def _threshold(self, name: str, metric: str | None) -> float | None:
        thresholds = getattr(self, name)
        if not thresholds:
            return None
        other = sorted(key for key in thresholds if key != metric)
        if other:
            raise ValueError(
                f"StoppingCriterion({name}=...): ashasim watches the scheduler's metric "
                f"{metric!r} only, got {other[0]!r}"
            )
        return check_number(f"{name}[{metric!r}]", thresholds[metric])


# Syne Tune's counts that stop once *more* than N: ashasim's Stop stops once N are reached
_MORE_THAN = {
    "max_num_evaluations": "results",
    "max_num_trials_completed": "completed",
    "max_num_trials_finished": "finished",
}


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
