"""The checkpoint store owns its layout: ``trial_dir``, ``latest`` and ``best`` find what a run's
trials saved, with the values of the report each checkpoint was filed under."""

from __future__ import annotations

import json
import math

import pytest

from ashasim.experiment import Experiment, Fake, Stop
from ashasim.run import checkpoint, state_format
from ashasim.run.storage import Store
from tests.run.faults import epoch_seconds, scheduler_for
from tests.run.objectives import curve, with_checkpoint


def test_latest_and_best_find_what_the_trials_saved(tmp_path):
    experiment = Experiment(
        scheduler_for("sync-sh", max_trials=9), 2, stop=Stop(), directory=tmp_path
    )
    trace = experiment.run(with_checkpoint, backend=Fake(epoch_seconds=epoch_seconds), quiet=True)
    root = tmp_path / "checkpoints"
    for trial_id in trace.trial_ids:
        folder = checkpoint.trial_dir(root, trial_id)
        assert folder == str(root / f"trial_{trial_id}")
        reached = max(r.resource for r in trace.results if r.trial_id == trial_id)
        resource, state = checkpoint.latest(folder)
        assert resource == reached == state["epoch"]
        found = checkpoint.best(folder, "loss", "min")
        assert found is not None and found[1]["epoch"] == found[0]
        config = next(r.config for r in trace.results if r.trial_id == trial_id)
        scores = json.loads((root / f"trial_{trial_id}" / f"resource_{found[0]}.json").read_text())
        assert scores["loss"] == pytest.approx(curve(config["x"], found[0]))
    assert checkpoint.latest(root / "trial_999") is None
    assert checkpoint.best(root / "trial_999", "loss", "min") is None


def test_best_ranks_by_the_metric_and_mode(tmp_path):
    store = Store(str(tmp_path))
    for resource, loss in ((1, 0.5), (2, 0.2), (3, math.nan), (4, 0.9)):
        store.write(f"resource_{resource}.pt", state_format.dumps({"epoch": resource}))
        store.write(f"resource_{resource}.json", json.dumps({"loss": loss}).encode())
    assert checkpoint.best(tmp_path, "loss", "min") == (2, {"epoch": 2})  # NaN ranks last
    assert checkpoint.best(tmp_path, "loss", "max")[0] == 4
    assert checkpoint.best(tmp_path, "accuracy", "max") is None
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
        checkpoint.best(tmp_path, "loss", "lowest")
