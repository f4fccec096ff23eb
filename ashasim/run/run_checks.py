"""What a real run checks before it reads or writes its directory, each failure one line: the
new run's arguments (``check_new_run``) and a directory to resume (``check_run_directory``).
Kept apart from ``ashasim.run.real_run`` so the run's life and its gatekeeping read separately."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ashasim.events import JOURNAL
from ashasim.frame import Frame
from ashasim.run.configs import BackendConfig, Checkpoints
from ashasim.run.resume import ResumeError
from ashasim.run.settings import LEGACY_STATE_FILE, STATE_FILE
from ashasim.run.signature import check_signature

__all__ = ["check_new_run", "check_run_directory"]


def check_new_run(
    frame: Frame, objective: Any, backend: BackendConfig, checkpoints: Checkpoints
) -> None:
    """What only a real run needs, checked before anything is written: an objective that takes
    the space's names, a fresh scheduler, a backend and checkpoint config of ashasim's kinds, and
    workers that fit the devices."""
    if not isinstance(frame, Frame):
        raise ValueError(f"frame must be an ashasim Frame or Experiment, got {frame!r}")
    if not callable(objective):
        raise ValueError(f"objective must be a function of the config, got {objective!r}")
    check_signature(objective, frame.scheduler.config_space)  # before the first job
    if frame.scheduler.n_trials:
        raise ValueError(
            "scheduler has been used already; give the run a fresh one (a run directory "
            "keeps it as it was before its first call, to resume)"
        )
    if not hasattr(backend, "build") or not hasattr(backend, "slots"):
        raise ValueError(f"backend must be Local(...), Ray(...) or Fake(...), got {backend!r}")
    if not isinstance(checkpoints, Checkpoints):
        raise ValueError(f"checkpoints must be Checkpoints(...), got {checkpoints!r}")
    backend.slots(frame.n_workers)  # n_workers fits the devices


def check_run_directory(directory: str | Path) -> Path:
    """*directory* if it holds a run to resume; ResumeError, in one line, otherwise."""
    if not isinstance(directory, (str, Path)) or not str(directory):
        raise ResumeError(f"experiment_dir must be a run directory, got {directory!r}")
    directory = Path(directory)
    if not directory.exists():
        raise ResumeError(f"{directory} holds no resumable run (no such directory)")
    if not directory.is_dir():
        raise ResumeError(f"{directory} holds no resumable run (it is a file, not a directory)")
    if not (directory / STATE_FILE).is_file() and not (directory / LEGACY_STATE_FILE).is_file():
        raise ResumeError(f"{directory} holds no resumable run (no {STATE_FILE})")
    if (directory / JOURNAL).is_symlink():
        raise ResumeError(
            f"{directory / JOURNAL} is a symbolic link; a run writes its journal only inside "
            f"its directory (copy the file there instead)"
        )
    return directory
