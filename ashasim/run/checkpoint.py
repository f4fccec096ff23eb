"""Save and load a trial's state, so a promoted trial resumes where it paused, on any worker.

    from ashasim.run import checkpoint

    state = checkpoint.load()            # None on a fresh start
    ...
    checkpoint.save({"model": model.state_dict(), "epoch": epoch})   # before report(...)
    report(epoch=epoch, validation_error=error)

Save *before* reporting: the report that reaches the job's milestone ends the job right there (the
scheduler may resume the trial on another worker at once), so a save placed after it never runs.
Without checkpoints a promoted trial retrains from scratch, and the tuner ignores its reports at or
below the point it was promoted from.

A checkpoint belongs to the resource of the report that follows it: ``save()`` stages the state
and the next report files it as ``resource_<r>.pt``. ``load()`` returns the newest checkpoint at or
below the job's ``resume_from``, the point the scheduler knows the trial reached. So a checkpoint
that got ahead of the journal (the driver crashed between the save and the journaling of the
report) is never used, and a synchronous SH that retrains promoted trials (``resume=False``,
``resume_from`` = 0) really starts them afresh. Once the driver has answered a report CONTINUE
(after journaling it), older checkpoints of the trial are deleted: the acknowledged one, newer
ones and a staged one remain. Nothing is deleted on a STOP or at a milestone, whose report may not
be journaled yet: a paused trial keeps the checkpoint a promotion resumes from.

Checkpoints live in ``<checkpoint_storage>/trial_<id>/``: by default
``<experiment_dir>/checkpoints``, or a URI such as ``s3://bucket/run`` (``ashasim.run.storage``),
which every worker must reach (checked at start-up on Ray). Plain state (dicts, lists, numbers,
strings, numpy arrays) is written without torch, tensors with ``torch.save``, and nothing is read by
unpickling unless the run allowed it (``ashasim.run.state_format``); every write is atomic, so a
crash mid-save leaves the previous checkpoint intact.

The store owns its layout, for the façades and for inspecting a run afterwards:
``trial_dir(root, trial_id)`` is a trial's folder, ``latest(trial_dir)`` its newest checkpoint,
and ``best(trial_dir, metric, mode)`` the kept checkpoint whose report scored best (each filed
checkpoint has the values of its report beside it, ``resource_<r>.json``).

A promoted (or retried) trial whose checkpoint the driver knows was saved, but which its worker
cannot find, is an error (``CheckpointMissingError``: the location is not shared) unless the run
chose ``retrain_on_miss``; then the trial retrains from scratch, with a warning.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from pathlib import Path
from typing import Any

from ashasim.run import state_format
from ashasim.run.context import current_context
from ashasim.run.storage import Store, join, where_am_i

__all__ = [
    "CheckpointMissingError",
    "best",
    "directory",
    "latest",
    "load",
    "read",
    "save",
    "trial_dir",
]

STAGED = "staged.pt"
_FILED = re.compile(r"^resource_(\d+)\.pt$")


class CheckpointMissingError(RuntimeError):
    """A checkpoint the trial saved is not where its worker looks (the storage is not shared)."""


def _store() -> Store | None:
    context = current_context()
    if context is None or context.job.checkpoint_dir is None:
        return None
    return Store(context.job.checkpoint_dir)


def directory() -> Path | None:
    """This trial's checkpoint directory, or None outside a tuner (and for a URI location)."""
    store = _store()
    return None if store is None else store.path


def save(state: Any) -> str | Path | None:
    """Stage ``state`` as the trial's checkpoint for its next report (atomically); where it
    went (a path, or a URI); None and nothing written outside a tuner."""
    store = _store()
    if store is None:
        return None
    store.write(STAGED, state_format.dumps(state))
    return store.path / STAGED if store.path is not None else f"{store.location}/{STAGED}"


def load() -> Any | None:
    """The newest state saved at or below the job's resume point; None for a fresh start (or
    outside a tuner). ``CheckpointMissingError`` when the driver knows the trial saved one at
    or below that point and it is not here (unless the run chose ``retrain_on_miss``)."""
    context = current_context()
    store = _store()
    if context is None or store is None:
        return None
    job = context.job
    usable = [r for r in _filed(store) if r <= job.resume_from]
    expected = job.checkpoint_at
    if expected is not None and (not usable or max(usable) < expected):
        problem = (
            f"trial {job.trial_id}: its checkpoint at {job.resource_attr}="
            f"{expected} is not in {store.location} as seen from {where_am_i()}; the checkpoint "
            f"storage is not shared by the workers (give a shared path or a URI such as "
            f"s3://bucket/run as checkpoint_storage, or retrain_on_miss=True to retrain)"
        )
        if not job.retrain_on_miss:
            raise CheckpointMissingError(problem)
        print(f"ashasim: {problem}; retraining from scratch", file=sys.stderr)
        return None
    if not usable:
        return None
    return _read_filed(store, max(usable), allow_pickle=job.allow_pickle)


def read(path: str | os.PathLike[str], *, allow_pickle: bool = False) -> Any:
    """A checkpoint file's state, outside a tuner (to inspect what a trial saved); unpickled only
    with *allow_pickle* (a file you trust)."""
    with open(path, "rb") as stream:
        return state_format.loads(stream.read(), allow_pickle=allow_pickle, where=str(path))


def file_staged(resource: int, values: dict[str, Any] | None = None) -> bool:
    """Called by the Reporter before a report: the staged state belongs to ``resource``, and the
    report's *values* are written beside it (for ``best``). True when there was one (the driver
    then knows the trial has a checkpoint there)."""
    store = _store()
    if store is None or not store.exists(STAGED):
        return False
    if values is not None:
        scores = {k: v for k, v in values.items() if isinstance(v, (int, float, str, bool))}
        store.write(f"resource_{resource}.json", json.dumps(scores).encode())
    store.rename(STAGED, f"resource_{resource}.pt")
    return True


def prune(acknowledged: int) -> None:
    """Called by the Reporter once the driver journaled the report at ``acknowledged`` (it
    answered CONTINUE): keep the newest checkpoint at or below it (future jobs resume from there
    or later) and newer ones."""
    store = _store()
    if store is None:
        return
    filed = _filed(store)
    keep = max((r for r in filed if r <= acknowledged), default=None)
    for resource in filed:
        if keep is not None and resource < keep:
            store.remove(f"resource_{resource}.pt")
            store.remove(f"resource_{resource}.json")


def trial_dir(root: str | os.PathLike[str], trial_id: int) -> str:
    """Where trial *trial_id* of a run keeps its checkpoints, under the run's checkpoint
    location *root* (a path or a URI): ``<root>/trial_<id>``."""
    return join(str(root), f"trial_{trial_id}")


def latest(
    trial_dir: str | os.PathLike[str], *, allow_pickle: bool = False
) -> tuple[int, Any] | None:
    """The newest checkpoint filed in *trial_dir*, as (resource, state); None when none is.
    Unpickled only with *allow_pickle*."""
    store = Store(str(trial_dir))
    filed = _filed(store)
    if not filed:
        return None
    resource = max(filed)
    return resource, _read_filed(store, resource, allow_pickle=allow_pickle)


def best(
    trial_dir: str | os.PathLike[str], metric: str, mode: str, *, allow_pickle: bool = False
) -> tuple[int, Any] | None:
    """The kept checkpoint of *trial_dir* whose report had the best *metric* (``mode`` "min" or
    "max"; NaN and missing values rank last, ties go to the newer one), as (resource, state);
    None when no kept checkpoint has a report with *metric*. Unpickled only with
    *allow_pickle*."""
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    store = Store(str(trial_dir))
    scored = []
    for resource in _filed(store):
        name = f"resource_{resource}.json"
        value = json.loads(store.read(name)).get(metric) if store.exists(name) else None
        if isinstance(value, (int, float)) and not math.isnan(value):
            scored.append((value if mode == "min" else -value, -resource))
    if not scored:
        return None
    resource = -min(scored)[1]
    return resource, _read_filed(store, resource, allow_pickle=allow_pickle)


def _read_filed(store: Store, resource: int, *, allow_pickle: bool) -> Any:
    """The state filed at *resource*, read without running code unless *allow_pickle*."""
    name = f"resource_{resource}.pt"
    return state_format.loads(
        store.read(name), allow_pickle=allow_pickle, where=f"{store.location}/{name}"
    )


def _filed(store: Store) -> list[int]:
    return [int(m.group(1)) for name in store.names() if (m := _FILED.match(name))]
