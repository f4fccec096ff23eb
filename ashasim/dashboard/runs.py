"""The runs a dashboard shows: found from the paths it was given, followed, viewed on demand.

A path is a run directory (its ``journal.jsonl``), a journal file, or a directory of run
directories (each subdirectory up to two levels down that holds a journal, e.g. one per
scheduler): the sync-SH and ASHA runs side by side. A directory that holds no journal yet is a run
about to start; it is followed from the moment its journal appears.

Views are rebuilt only when a journal changed, and then not more often than every few times the
last rebuild took, so a huge run being written cannot keep the server busy.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ashasim.dashboard.follower import JournalFollower
from ashasim.dashboard.views import run_view
from ashasim.events import JOURNAL

__all__ = ["Run", "RunSet", "find_runs"]

SEARCH_DEPTH = 2
BUSY_SHARE = 0.25  # at most this share of the time goes to rebuilding views of a growing run


def find_runs(paths: Iterable[str | os.PathLike[str]]) -> list[tuple[str, Path]]:
    """(name, journal path) of every run under *paths*, in the order given (then by name).

    Raises FileNotFoundError for a path that does not exist.
    """
    found: list[tuple[str, Path]] = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such run directory or journal")
        if path.is_file() or (path / JOURNAL).exists():
            journal = path if path.is_file() else path / JOURNAL
            found.append((_name(journal, journal.parent.parent), journal))
            continue
        nested = sorted(_nested_journals(path, SEARCH_DEPTH))
        if nested:
            found.extend((_name(journal, path), journal) for journal in nested)
        else:  # a run about to start: its journal will appear here
            found.append((path.resolve().name or str(path), path / JOURNAL))
    return _distinct(found)


def _distinct(found: list[tuple[str, Path]]) -> list[tuple[str, Path]]:
    """Runs with the same name (a/run, b/run) named by more of their path; one journal given
    twice is shown once."""
    unique: dict[Path, str] = {}
    for name, journal in found:
        unique.setdefault(journal.resolve(), name)
    names = list(unique.values())
    out: list[tuple[str, Path]] = []
    for index, (journal, name) in enumerate(unique.items()):
        if names.count(name) > 1:
            parts = journal.parent.parts if journal.name == JOURNAL else journal.parts
            name = "/".join(parts[-2:])
        if any(taken == name for taken, _ in out):
            name = f"{name} ({index + 1})"
        out.append((name, journal))
    return out


def _nested_journals(directory: Path, depth: int) -> list[Path]:
    journals = []
    for child in sorted(p for p in directory.iterdir() if p.is_dir() and not p.is_symlink()):
        if (child / JOURNAL).is_file():
            journals.append(child / JOURNAL)
        elif depth > 1:
            journals.extend(_nested_journals(child, depth - 1))
    return journals


def _name(journal: Path, base: Path) -> str:
    run = journal.parent if journal.name == JOURNAL else journal
    try:
        return str(run.resolve().relative_to(base.resolve())) or run.resolve().name
    except ValueError:
        return run.resolve().name


class Run:
    """One followed journal and its latest view (rebuilt lazily, see the module docstring)."""

    def __init__(self, name: str, journal: Path) -> None:
        self.name = name
        self.follower = JournalFollower(journal)
        self.error: str | None = None
        self._view: dict[str, Any] | None = None
        self._built_version = -1
        self._next_build = 0.0

    def view(self, *, now: float | None = None) -> dict[str, Any]:
        """Poll the journal, and return this run's view (``view["version"]`` says if it moved)."""
        now = time.monotonic() if now is None else now
        if self.error is None:
            try:
                self.follower.poll()
            except (ValueError, OSError) as error:
                self.error = str(error)
        trace = self.follower.trace
        stale = self.follower.version != self._built_version
        if stale and trace is not None and (now >= self._next_build or self._view is None):
            started = time.monotonic()
            self._view = run_view(trace)
            self._built_version = self.follower.version
            self._next_build = now + (time.monotonic() - started) / BUSY_SHARE
        return {
            "name": self.name,
            "path": str(self.follower.path),
            # what the page compares to skip a redraw: a new error must be drawn too
            "version": f"{self._built_version}{'!' if self.error else ''}",
            "error": self.error,
            "waiting": trace is None,
            **(self._view or {}),
        }


class RunSet:
    """The runs of one dashboard; ``views()`` is safe to call from several server threads."""

    def __init__(self, runs: Sequence[tuple[str, Path]]) -> None:
        self.runs = [Run(name, journal) for name, journal in runs]
        self._lock = threading.Lock()

    def views(self) -> list[dict[str, Any]]:
        with self._lock:
            return [run.view() for run in self.runs]
