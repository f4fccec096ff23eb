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
``resume_from`` = 0) really starts them afresh. Once the driver has acknowledged a report, older
checkpoints of the trial are deleted: at most the acknowledged one and a staged one remain.

Checkpoints live in ``<checkpoint_storage>/trial_<id>/``: by default
``<experiment_dir>/checkpoints``, or a URI such as ``s3://bucket/run`` (``ashasim.run.storage``),
which every worker must reach (checked at start-up on Ray). Plain state (dicts, lists, numbers,
strings, numpy arrays) is written without torch, tensors with ``torch.save``, and nothing is read by
unpickling unless the run allowed it (``ashasim.run.state_format``); every write is atomic, so a
crash mid-save leaves the previous checkpoint intact.

A promoted (or retried) trial whose checkpoint the driver knows was saved, but which its worker
cannot find, is an error (``CheckpointMissingError``: the location is not shared) unless the run
chose ``retrain_on_miss``; then the trial retrains from scratch, with a warning.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

from ashasim.run import state_format
from ashasim.run.context import current_context
from ashasim.run.storage import Store, where_am_i

__all__ = ["CheckpointMissingError", "directory", "load", "read", "save"]

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
    name = f"resource_{max(usable)}.pt"
    return state_format.loads(
        store.read(name),
        allow_pickle=bool(getattr(job, "allow_pickle", False)),
        where=f"{store.location}/{name}",
    )


def read(path: str | os.PathLike[str], *, allow_pickle: bool = False) -> Any:
    """A checkpoint file's state, outside a tuner (to inspect what a trial saved); unpickled only
    with *allow_pickle* (a file you trust)."""
    with open(path, "rb") as stream:
        return state_format.loads(stream.read(), allow_pickle=allow_pickle, where=str(path))


def file_staged(resource: int) -> bool:
    """Called by the Reporter before a report: the staged state belongs to ``resource``. True
    when there was one (the driver then knows the trial has a checkpoint there)."""
    store = _store()
    if store is None or not store.exists(STAGED):
        return False
    store.rename(STAGED, f"resource_{resource}.pt")
    return True


def prune(acknowledged: int) -> None:
    """Called by the Reporter once the driver journaled the report at ``acknowledged``: keep the
    newest checkpoint at or below it (future jobs resume from there or later) and newer ones."""
    store = _store()
    if store is None:
        return
    filed = _filed(store)
    keep = max((r for r in filed if r <= acknowledged), default=None)
    for resource in filed:
        if keep is not None and resource < keep:
            store.remove(f"resource_{resource}.pt")


def _filed(store: Store) -> list[int]:
    return [int(m.group(1)) for name in store.names() if (m := _FILED.match(name))]
