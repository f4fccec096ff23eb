"""Ray Tune's directory checkpoints, kept by ashasim's checkpoint store.

A Ray Tune trainable checkpoints a *directory* (``with tune.checkpoint_dir(step) as d:`` or
``tune.report(..., checkpoint=Checkpoint.from_directory(d))``). The façade packs the directory's
files into one state and hands it to ``ashasim.run.checkpoint.save``, so the checkpoint is
written atomically, filed under the report that follows it, pruned once a newer one is
journaled, and found again by ``checkpoint.load()`` when a paused trial resumes, on any worker:
everything ashasim's store does, for free. The state also carries the trial's iteration count
and total time, which Ray Tune restores with a checkpoint.

A directory comes back as files again in the trial's directory (``checkpoint_<iteration>``):
for the trainable that resumes. The trial's directory also keeps a copy of every checkpoint as
it is saved (Ray Tune's layout), so that ``ExperimentAnalysis.get_best_checkpoint`` can return
the one saved with the best result; ``keep_checkpoints_num`` (with ``checkpoint_score_attr``)
deletes all but the best N of those copies, as Ray Tune does (``prune_copies``). Packing
copies the files through memory, which suits the model checkpoints of a tuning run; a
checkpoint of many gigabytes would rather be written straight to shared storage by the
trainable, with its path reported.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ashasim.checks import RecordsArguments
from ashasim.run import checkpoint

__all__ = [
    "MARK",
    "Checkpoint",
    "KeepPolicy",
    "best_copy",
    "copy_name",
    "latest_stored",
    "materialize",
    "pack",
    "prune_copies",
    "unpack",
]

MARK = "ashasim.tune"  # key of the façade's checkpoint states
_COPY = re.compile(r"^checkpoint_(\d+)$")


class Checkpoint:
    """A checkpoint directory (Ray Tune's ``Checkpoint``): ``path``, ``as_directory()``,
    ``to_directory(path)``; ``os.path.join(checkpoint, "file")`` works too (``__fspath__``),
    and ``value`` is the path, as Ray Tune 1.x's ``trial.checkpoint.value`` was."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)

    @classmethod
    def from_directory(cls, path: str | os.PathLike[str]) -> Checkpoint:
        if not Path(path).is_dir():
            raise ValueError(f"Checkpoint.from_directory: {path} is not a directory")
        return cls(path)

    @property
    def value(self) -> str:
        return self.path

    @contextlib.contextmanager
    def as_directory(self) -> Iterator[str]:
        yield self.path

    def to_directory(self, path: str | os.PathLike[str] | None = None) -> str:
        """Copy the checkpoint's files to *path* (a new temporary directory by default)."""
        target = Path(path) if path is not None else Path(tempfile.mkdtemp(prefix="checkpoint-"))
        shutil.copytree(self.path, target, dirs_exist_ok=True)
        return str(target)

    def __fspath__(self) -> str:
        return self.path

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Checkpoint) and other.path == self.path

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Checkpoint(path={self.path!r})"


def pack(directory: str | os.PathLike[str]) -> dict[str, bytes]:
    """Every file under *directory*, by relative path (with "/"), as bytes."""
    root = Path(directory)
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def unpack(files: dict[str, bytes], directory: Path) -> Path:
    """Write *files* into a fresh *directory* (replacing what was there); return it."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    for name, data in files.items():
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return directory


def copy_name(iteration: int) -> str:
    """The directory of the checkpoint saved with report number *iteration*."""
    return f"checkpoint_{int(iteration):06d}"


def materialize(state: dict[str, Any], trial_dir: Path) -> Checkpoint:
    """A façade state's files as ``<trial_dir>/checkpoint_<iteration>``."""
    return Checkpoint(unpack(state["files"], trial_dir / copy_name(state["training_iteration"])))


class KeepPolicy(RecordsArguments):
    """Ray Tune's ``keep_checkpoints_num`` and ``checkpoint_score_attr`` ("min-" prefix: lower
    is better; no attribute: keep the newest)."""

    def __init__(self, keep: int, score_attr: str | None) -> None:
        self.keep = keep
        self.mode = "min" if score_attr and score_attr.startswith("min-") else "max"
        self.attr = score_attr[4:] if score_attr and score_attr.startswith("min-") else score_attr


def _scored_copies(
    trial_dir: Path, results: list[dict[str, Any]], attr: str | None, mode: str
) -> list[tuple[float, int]]:
    """(sort key, iteration) of the kept copies, best first; newest first without *attr*."""
    by_iteration = {row.get("training_iteration"): row for row in results}
    found = []
    for path in trial_dir.iterdir() if trial_dir.is_dir() else ():
        match = _COPY.match(path.name)
        if match is None or not path.is_dir():
            continue
        iteration = int(match.group(1))
        if attr is None:
            found.append((-float(iteration), iteration))
            continue
        value = by_iteration.get(iteration, {}).get(attr)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            found.append(((value if mode == "min" else -value), iteration))
    return sorted(found)


def prune_copies(trial_dir: Path, results: list[dict[str, Any]], policy: KeepPolicy) -> None:
    """Delete the copies beyond the best ``policy.keep`` (copies not yet scored stay)."""
    ranked = _scored_copies(trial_dir, results, policy.attr, policy.mode)
    for _, iteration in ranked[policy.keep :]:
        shutil.rmtree(trial_dir / copy_name(iteration), ignore_errors=True)


def best_copy(
    trial_dir: Path, results: list[dict[str, Any]], metric: str, mode: str
) -> Checkpoint | None:
    """The kept checkpoint saved with the best *metric* (ties: the older), or None."""
    ranked = _scored_copies(trial_dir, results, metric, mode)
    return Checkpoint(trial_dir / copy_name(ranked[0][1])) if ranked else None


def latest_stored(store: Path) -> tuple[int, dict[str, Any]] | None:
    """The newest façade state filed in a trial's checkpoint folder
    (``<experiment>/checkpoints/trial_<id>``), with its resource; None when there is none. Read
    by the checkpoint store, which owns the format (and unpickles nothing)."""
    if not store.is_dir():
        return None
    found = checkpoint.latest(store)
    if found is None or not isinstance(found[1], dict) or MARK not in found[1]:
        return None  # none, or saved through ashasim.run.checkpoint directly: not a directory
    return found
