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

Checkpoints live in ``<experiment_dir>/checkpoints/trial_<id>/``, which every worker must be able
to read (on a cluster, put the experiment directory on a shared file system). ``torch.save`` is
used when torch is importable (tensors stay tensors), pickle otherwise; every write is atomic (a
temporary file, then a rename), so a crash mid-save leaves the previous checkpoint intact.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import re
import tempfile
from pathlib import Path
from typing import Any

from ashasim.run.context import current_context

__all__ = ["directory", "load", "read", "save"]

STAGED = "staged.pt"
_FILED = re.compile(r"^resource_(\d+)\.pt$")


def directory() -> Path | None:
    """This trial's checkpoint directory, or None outside a tuner."""
    context = current_context()
    return None if context is None else context.checkpoint_dir


def save(state: Any) -> Path | None:
    """Stage ``state`` as the trial's checkpoint for its next report (atomically); None and
    nothing written outside a tuner."""
    folder = directory()
    if folder is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / STAGED
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".checkpoint-")
    try:
        with os.fdopen(handle, "wb") as stream:
            _dump(state, stream)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def load() -> Any | None:
    """The newest state saved at or below the job's resume point; None for a fresh start (or
    outside a tuner)."""
    context = current_context()
    if context is None or context.checkpoint_dir is None:
        return None
    usable = [r for r in _filed(context.checkpoint_dir) if r <= context.job.resume_from]
    if not usable:
        return None
    with open(context.checkpoint_dir / f"resource_{max(usable)}.pt", "rb") as stream:
        return _load(stream)


def read(path: str | os.PathLike[str]) -> Any:
    """A checkpoint file's state, outside a tuner (to inspect what a trial saved)."""
    with open(path, "rb") as stream:
        return _load(stream)


def file_staged(resource: int) -> None:
    """Called by the Reporter before a report: the staged state belongs to ``resource``."""
    folder = directory()
    if folder is not None and (folder / STAGED).exists():
        os.replace(folder / STAGED, folder / f"resource_{resource}.pt")


def prune(acknowledged: int) -> None:
    """Called by the Reporter once the driver journaled the report at ``acknowledged``: keep the
    newest checkpoint at or below it (future jobs resume from there or later) and newer ones."""
    folder = directory()
    if folder is None:
        return
    filed = _filed(folder)
    keep = max((r for r in filed if r <= acknowledged), default=None)
    for resource in filed:
        if keep is not None and resource < keep:
            with contextlib.suppress(FileNotFoundError):
                (folder / f"resource_{resource}.pt").unlink()


def _filed(folder: Path) -> list[int]:
    if not folder.exists():
        return []
    return [int(m.group(1)) for p in folder.iterdir() if (m := _FILED.match(p.name))]


def _dump(state: Any, stream: Any) -> None:
    try:
        import torch
    except ImportError:
        pickle.dump(state, stream, protocol=pickle.HIGHEST_PROTOCOL)
    else:
        torch.save(state, stream)


def _load(stream: Any) -> Any:
    try:
        import torch
    except ImportError:
        return pickle.load(stream)
    return torch.load(stream, map_location="cpu", weights_only=False)
