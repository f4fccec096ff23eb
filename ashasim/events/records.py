"""The three events every run is made of, and their one-line JSON form (ARCHITECTURE §3).

* ``JobStarted(t, worker, trial_id, config, resume_from, milestone, bracket)``
* ``Reported(t, worker, trial_id, resource, metric, decision, checkpoint)``
* ``JobEnded(t, worker, trial_id, resource, reason, error)``, reason in ``REASONS``

``t`` is seconds since the experiment began (simulated or wall-clock). Events are NamedTuples
rather than dataclasses: the simulator creates one per simulated epoch, and NamedTuples are several
times cheaper to build. ``encode`` writes exactly what ``json.dumps`` would, faster for the two
events the simulator writes most, so a journal's bytes do not depend on which path wrote them.
"""

from __future__ import annotations

import json
import math
import operator
from typing import Any, NamedTuple

__all__ = [
    "FORMAT_VERSION",
    "REASONS",
    "Event",
    "JobEnded",
    "JobStarted",
    "Reported",
    "decode",
    "encode",
    "json_default",
]

# "returned": the objective ended its trial by returning (only where a run allows that: the Ray
# Tune façade's function trainables); the scheduler was told through ``fail`` that no more comes.
# "retried": the worker died and the same stretch runs again (``Driver(max_retries=...)``); like
# "cancelled", the scheduler was not told
REASONS = ("milestone", "stopped", "failed", "cancelled", "returned", "retried")
FORMAT_VERSION = 1


class JobStarted(NamedTuple):
    t: float
    worker: int
    trial_id: int
    config: dict[str, Any]
    resume_from: int
    milestone: int
    bracket: int = 0  # the scheduler's bracket (Hyperband); lets plots draw per-bracket rungs


class Reported(NamedTuple):
    t: float
    worker: int
    trial_id: int
    resource: int
    metric: float
    decision: str  # "continue" | "stop"
    # a checkpoint was filed with this report (real runs): a resume knows the trial can continue
    # from here, and that a missing file is an error rather than a silent restart at epoch 0.
    # Written only when true, so journals without checkpoints keep their bytes.
    checkpoint: bool = False


class JobEnded(NamedTuple):
    t: float
    worker: int
    trial_id: int
    resource: int
    reason: str  # one of REASONS
    error: str | None = None


Event = JobStarted | Reported | JobEnded
_KINDS: dict[str, type] = {
    "job_started": JobStarted,
    "reported": Reported,
    "job_ended": JobEnded,
}
_NAMES = {cls: name for name, cls in _KINDS.items()}


def json_default(value: Any) -> Any:
    # numpy scalars and other number-likes in configs; exact integers stay integers, anything
    # else number-like becomes a float (int() first would truncate Fraction(1, 2) to 0)
    if hasattr(value, "item"):
        try:
            return value.item()
        except (TypeError, ValueError):
            pass
    for cast in (operator.index, float):
        try:
            return cast(value)
        except (TypeError, ValueError):
            continue
    raise TypeError(f"cannot write {value!r} ({type(value).__name__}) to the journal")


def _number(value: float) -> str:
    """A number as json.dumps writes it (NaN and Infinity included)."""
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def encode(event: Event) -> str:
    """One journal line (without the newline), byte-identical to ``json.dumps`` of its fields."""
    if (
        type(event) is Reported
        and not event.checkpoint
        and type(event.metric) is float
        and type(event.t) in (float, int)
        and type(event.resource) is int
    ):
        # One per simulated epoch: format it directly (json.dumps is several times slower).
        return (
            f'{{"event": "reported", "t": {_number(event.t)}, "worker": {event.worker}, '
            f'"trial_id": {event.trial_id}, "resource": {event.resource}, '
            f'"metric": {_number(event.metric)}, "decision": "{event.decision}"}}'
        )
    if type(event) is JobEnded and event.error is None and type(event.t) in (float, int):
        return (
            f'{{"event": "job_ended", "t": {_number(event.t)}, "worker": {event.worker}, '
            f'"trial_id": {event.trial_id}, "resource": {event.resource}, '
            f'"reason": "{event.reason}"}}'
        )
    payload = {"event": _NAMES[type(event)], **event._asdict()}
    if type(event) is JobEnded and event.error is None:
        del payload["error"]
    elif type(event) is Reported and not event.checkpoint:
        del payload["checkpoint"]
    return json.dumps(payload, default=json_default, allow_nan=True)


def decode(line: str) -> Event | dict[str, Any]:
    """An event, or the header dict, from one journal line."""
    data = json.loads(line)
    if not isinstance(data, dict) or "event" not in data:
        raise ValueError("not a JSON object with an 'event' field")
    kind = data.pop("event")
    data.pop("crc", None)  # a sealed journal's checksum (ashasim.events.journal), checked there
    if kind == "experiment":
        return data
    cls = _KINDS.get(kind)
    if cls is None:
        raise ValueError(f"unknown event {kind!r}")
    return cls(**data)
