"""Runs to show: small simulated sync-SH and ASHA runs, and journals written a piece at a time."""

from __future__ import annotations

from pathlib import Path

import pytest

from ashasim.core import make_scheduler
from ashasim.events import JOURNAL
from ashasim.sim import LearningCurves, simulate


def simulated_run(directory: Path, scheduler: str, *, workers: int = 3, max_time: float = 120.0):
    """A finished simulated run in *directory*; returns its Trace."""
    workload = LearningCurves(max_epochs=9)
    chosen = make_scheduler(scheduler, workload.config_space, max_t=9, reduction_factor=3, seed=1)
    return simulate(chosen, workload, n_workers=workers, max_time=max_time, journal=directory)


@pytest.fixture(scope="session")
def finished_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A sync-SH run and an ASHA run, side by side in one folder (the headline view)."""
    root = tmp_path_factory.mktemp("runs")
    for name in ("sync-sh", "asha"):
        simulated_run(root / name, name)
    return {"root": root, "sync-sh": root / "sync-sh", "asha": root / "asha"}


def journal_lines(run: Path) -> list[bytes]:
    """A finished run's journal, as its lines (each with its newline)."""
    return (run / JOURNAL).read_bytes().splitlines(keepends=True)
