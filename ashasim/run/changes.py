"""What a resume may change in a run's saved settings, checked and applied.

A resumed run is the same run: the same scheduler, space, objective and workers. What may change
is how it goes on: when it stops, how it treats faults, whether the journal is fsync-ed, whether
result files are written, and where its workers are (a backend of the same kind, e.g. a Ray
cluster at a new address). ``faults`` and ``backend`` may be given whole or as a dict of the
fields to change. Anything else is refused in one line, before the directory is read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ashasim.core.jobs import Scheduler
from ashasim.events.records import Event, JobStarted
from ashasim.frame import Faults, Stop
from ashasim.run.resume import ResumeError
from ashasim.run.settings import RunSettings, StoppingCriterion

__all__ = ["FRAME_CHANGES", "changed", "check_changes", "raise_budget"]

FRAME_CHANGES = ("stop", "faults", "durable", "outputs")


def changed(settings: RunSettings, changes: Mapping[str, Any], directory: Path) -> RunSettings:
    """The saved settings with a resume's changes, checked again; the frame's directory is the
    one resumed (a run directory may have been moved). ``faults`` and ``backend`` may be given
    whole, or as a mapping of the fields to change in the saved one."""
    frame = settings.frame
    updates: dict[str, Any] = {"directory": directory}
    for key in FRAME_CHANGES:
        if key in changes:
            updates[key] = _updated(key, getattr(frame, key), changes[key], directory)
    if isinstance(updates.get("stop"), StoppingCriterion):  # its metric is the saved scheduler's
        try:
            updates["stop"] = updates["stop"].as_stop(frame.scheduler.metric)
        except ValueError as error:
            raise ResumeError(f"stop: {error}") from None
    backend = _updated("backend", settings.backend, changes.get("backend", {}), directory)
    if type(backend) is not type(settings.backend):
        raise ResumeError(
            f"backend: the run in {directory} uses {_kind(settings.backend)}, not {_kind(backend)}"
        )
    try:
        frame = frame.replace(**updates)
    except ValueError as error:
        what = "would never end" if "never ends" in str(error) else "is not a valid run"
        raise ResumeError(f"the resumed run {what}: {error}") from None
    return dataclasses.replace(settings, frame=frame, backend=backend)


def raise_budget(
    scheduler: Scheduler, stop: Stop, events: Sequence[Event], directory: Path
) -> None:
    """Before the journal is replayed: give the saved scheduler the larger trial budget the
    resume asks for (*stop*), or that an earlier resume gave it (the journal started more trials
    than the saved budget), where the budget only decides when new trials stop coming
    (``raise_trials``: random search, ASHA, asynchronous Hyperband). The frame's stop then
    limits it again. A scheduler whose brackets the budget sized is refused in one line."""
    started = len({event.trial_id for event in events if type(event) is JobStarted})
    wanted = max(started, stop.trials or 0)
    saved = scheduler.max_trials
    if saved is None or wanted <= saved:
        return
    raise_trials = getattr(scheduler, "raise_trials", None)
    try:
        if raise_trials is None:
            raise ValueError(f"{type(scheduler).__name__} has no raise_trials")
        raise_trials(wanted)
    except ValueError as error:
        raise ResumeError(
            f"stop: the run in {directory} has a budget of {saved} trials, which a resume "
            f"cannot raise to {wanted} ({error}); give it more time instead, or start a new run"
        ) from None


def check_changes(changes: Mapping[str, Any]) -> None:
    """A resume's changes, checked before the directory is read (one line each)."""
    allowed = {*FRAME_CHANGES, "backend"}
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise ValueError(
            f"resume cannot change {unknown[0]}; it may change {', '.join(sorted(allowed))}"
        )
    kinds = (("stop", (Stop, StoppingCriterion), "Stop(...)"), ("durable", bool, "True or False"))
    for key, kind, example in kinds:
        if key in changes and not isinstance(changes[key], kind):
            raise ValueError(f"{key} must be {example}, got {changes[key]!r}")
    if "outputs" in changes and not isinstance(changes["outputs"], bool):
        raise ValueError(f"outputs must be True or False, got {changes['outputs']!r}")
    faults = changes.get("faults", {})
    if isinstance(faults, Mapping):
        Faults(**faults)  # the values are checked as a new Faults checks them
    elif not isinstance(faults, Faults):
        raise ValueError(f"faults must be Faults(...) or a dict of its fields, got {faults!r}")


def _updated(name: str, saved: Any, change: Any, directory: Path) -> Any:
    if not isinstance(change, Mapping):
        return change
    for field in change:
        if not hasattr(saved, field):
            owner = "Ray" if field in ("address", "num_cpus") else f"one with {field}"
            raise ResumeError(f"{field}: the run in {directory} uses {_kind(saved)}, not {owner}")
    return dataclasses.replace(saved, **change)


def _kind(config: Any) -> str:
    """How errors name a backend: "the 'fake' backend", as ``Tuner(backend=...)`` spells it."""
    return f"the {type(config).__name__.lower()!r} backend"
