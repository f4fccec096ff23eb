"""Every journal a test here leaves behind must replay: its saved scheduler, caught up with it,
makes exactly the calls it records (journal order = the order of the scheduler's decisions).

A test that damages journals on purpose says so with ``@pytest.mark.damaged_journals``.
"""

from __future__ import annotations

import json

import pytest

from ashasim.run import Tuner
from tests.run.faults import replay_run_directory


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "damaged_journals: the test damages journals on purpose (no replay check)"
    )


@pytest.fixture(autouse=True)
def every_journal_replays(request: pytest.FixtureRequest, tmp_path):
    """After the test: replay each run directory under its ``tmp_path``."""
    yield
    if request.node.get_closest_marker("damaged_journals") is not None:
        return
    for state in sorted(tmp_path.rglob("settings.json")):
        if not json.loads(state.read_text())["unsaved"]:  # else not resumable, by design
            replay_run_directory(state.parent)


@pytest.fixture
def fake_tuner(tmp_path):
    """Build a ``Tuner`` on the in-process FakeBackend (virtual clock): ``fake_tuner(objective,
    scheduler, n_workers=2, directory=None, **options)``; the directory defaults to
    ``tmp_path / "run"``, the space to the scheduler's, and the run is quiet. *options* are
    ``Tuner``'s (``backend_options`` for the FakeBackend's epoch costs, deaths, ...)."""

    def make(objective, scheduler, n_workers=2, *, directory=None, space=None, **options):
        options.setdefault("quiet", True)
        return Tuner(
            objective,
            space,
            scheduler,
            n_workers,
            backend="fake",
            experiment_dir=tmp_path / "run" if directory is None else directory,
            **options,
            allow_pickle=True,
        )

    return make
