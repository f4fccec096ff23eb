"""The built-in LeNet/FashionMNIST objective through the real executor, on the CPU."""

from __future__ import annotations

import functools

import pytest

torch = pytest.importorskip("torch", reason="needs the torch extra: pip install -e '.[torch]'")

from ashasim.core import RandomSearch, SyncSH  # noqa: E402
from ashasim.run import Tuner  # noqa: E402
from ashasim.training import fashion_mnist as fm  # noqa: E402
from ashasim.training.fashion_data import DEBIAN_DIR  # noqa: E402
from tests.lenet_data import write_dataset  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def run(objective, scheduler, tmp_path, n_workers=1):
    return Tuner(
        objective,
        scheduler.config_space,
        scheduler,
        n_workers,
        devices="cpu",
        experiment_dir=tmp_path / "run",
        quiet=True,
        outputs=False,
    ).run()


def errors_of(trace, trial_id):
    return [r.metric for r in trace.results if r.trial_id == trial_id]


def test_lenet_learns_on_test_written_idx_files(tmp_path):
    """The chapter's sigmoid LeNet leaves its 0.9 plateau on learnable data: validation error
    from above 0.75 after the first epoch to below 0.3 within 60 epochs (measured: epoch 18-31
    for seeds 0-5 at lr 0.2, batch 16)."""
    data = write_dataset(tmp_path / "idx")
    space = {"learning_rate": 0.2, "batch_size": 16, "max_epochs": 60}
    objective = functools.partial(fm.objective, data_dir=data)
    trace = run(
        objective, RandomSearch(space, max_t=60, max_trials=1, metric="validation_error"), tmp_path
    )
    errors = errors_of(trace, 0)
    assert len(errors) == 60
    assert errors[0] > 0.75
    assert min(errors) < 0.3


def test_a_promoted_lenet_trial_continues_exactly_from_its_checkpoint(tmp_path):
    """Synchronous SH pauses both trials at epoch 2 and promotes the better one, which resumes
    from its checkpoint on the worker: its epochs 3-4 equal those of the same trial trained
    straight through (bit for bit on the CPU)."""
    data = write_dataset(tmp_path / "idx")
    objective = functools.partial(fm.objective, data_dir=data)
    space = {
        "learning_rate": fm.chapter_space()["learning_rate"],
        "batch_size": 16,
        "max_epochs": 4,
    }
    points = [{"learning_rate": 0.3}, {"learning_rate": 0.5}]
    sync = SyncSH(
        space,
        max_t=4,
        grace_period=2,
        reduction_factor=2,
        n0=2,
        max_trials=2,
        metric="validation_error",
        points_to_evaluate=points,
    )
    paused = run(objective, sync, tmp_path / "sync", n_workers=2)
    promoted = next(s.trial_id for s in paused.segments if s.resume_from == 2)
    straight = run(
        objective,
        RandomSearch(
            space, max_t=4, max_trials=2, metric="validation_error", points_to_evaluate=points
        ),
        tmp_path / "straight",
    )
    assert errors_of(paused, promoted) == errors_of(straight, promoted)
    assert len(errors_of(paused, promoted)) == 4


@pytest.mark.skipif(
    not DEBIAN_DIR.exists(),
    reason="the Debian package dataset-fashion-mnist is not installed (.ci/run installs it)",
)
def test_lenet_learns_on_the_real_fashion_mnist_files(tmp_path):
    """The chapter's LeNet at lr 0.9, batch 128 on all 60,000 real images: from the plateau to
    below 0.4 validation error by epoch 3 (the H100 run reached 0.37 and 0.27 for seed 0)."""
    space = {"learning_rate": 0.9, "batch_size": 128, "max_epochs": 3}
    trace = run(
        fm.objective,
        RandomSearch(space, max_t=3, max_trials=1, metric="validation_error"),
        tmp_path,
    )
    errors = errors_of(trace, 0)
    assert len(errors) == 3
    assert errors[-1] < 0.4, errors
