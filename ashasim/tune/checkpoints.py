"""Ray Tune's directory checkpoints, kept by ashasim's checkpoint store.

A Ray Tune trainable checkpoints a *directory* (``with tune.checkpoint_dir(step) as d:`` or
``tune.report(..., checkpoint=Checkpoint.from_directory(d))``). The façade packs the directory's
files into one state and hands it to ``ashasim.run.checkpoint.save``, so the checkpoint is
written atomically, filed under the report that follows it, pruned once a newer one is
journaled, and found again by ``checkpoint.load()`` when a paused trial resumes, on any worker:
everything ashasim's store does, for free. The state also carries the trial's iteration count
and total time, which Ray Tune restores with a checkpoint.

A directory comes back as files again in the trial's directory (``checkpoint_<iteration>``):
for the trainable that resumes, and for ``ExperimentAnalysis.get_best_checkpoint``. Packing
copies the files through memory, which suits the model checkpoints of a tuning run; a
checkpoint of many gigabytes would rather be written straight to shared storage by the
trainable, with its path reported.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["MARK", "Checkpoint", "latest_stored", "materialize", "pack", "unpack"]

MARK = "ashasim.tune"  # key of the façade's checkpoint states
_FILED = re.compile(r"^resource_(\d+)\.pt$")


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


def materialize(state: dict[str, Any], trial_dir: Path) -> Checkpoint:
    """A façade state's files as ``<trial_dir>/checkpoint_<iteration>``."""
    name = f"checkpoint_{int(state['training_iteration']):06d}"
    return Checkpoint(unpack(state["files"], trial_dir / name))


def latest_stored(store: Path) -> tuple[int, dict[str, Any]] | None:
    """The newest façade state filed in a trial's checkpoint folder
    (``<experiment>/checkpoints/trial_<id>``), with its resource; None when there is none."""
    if not store.is_dir():
        return None
    filed = [int(m.group(1)) for p in store.iterdir() if (m := _FILED.match(p.name))]
    if not filed:
        return None
    resource = max(filed)
    with open(store / f"resource_{resource}.pt", "rb") as stream:
        state = _load(stream)
    if not isinstance(state, dict) or MARK not in state:
        return None  # saved through ashasim.run.checkpoint directly: not a directory
    return resource, state


def _load(stream: Any) -> Any:
    """As ``ashasim.run.checkpoint`` writes: torch.save when torch is installed, else pickle."""
    try:
        import torch
    except ImportError:
        return pickle.load(stream)
    return torch.load(stream, map_location="cpu", weights_only=False)
