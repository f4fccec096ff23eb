"""``tune.run(..., resume=True)`` takes the trainable again, as Ray Tune does: a closure (which a
run directory keeps only with ``allow_pickle``) resumes without anything pickled on disk."""

from __future__ import annotations

import pytest

from ashasim import tune
from ashasim.tune import ASHAScheduler
from tests.tune import trainables


def test_a_closure_trainable_resumes_from_its_journal_when_given_again(tmp_path):
    offset = 0.25

    def closure(config, checkpoint_dir=None):  # no import path: not kept by value
        trainables.with_checkpoint_dir({**config, "x": config["x"] + offset}, checkpoint_dir)

    def run(name, **options):
        return tune.run(
            closure,
            name=name,
            storage_path=tmp_path,
            backend="fake",
            backend_options={"epoch_seconds": 1.0},
            config={"x": tune.uniform(0, 1), "steps": 6},
            num_samples=6,
            scheduler=ASHAScheduler(
                metric="loss", mode="min", max_t=6, grace_period=1, reduction_factor=2
            ),
            seed=3,
            verbose=0,
            num_cpus=2,
            **options,
        )

    with pytest.warns(UserWarning, match="a resume must be given it again"):
        full = run("full")
    with pytest.warns(UserWarning, match="a resume must be given it again"):
        cut = run("cut", time_budget_s=4)
    assert not cut.meta["finished"]
    assert not list(tmp_path.rglob("*.pkl"))
    resumed = run("cut", resume=True, time_budget_s=1000)
    assert resumed.meta["finished"]
    assert [(r.trial_id, r.resource, r.metric) for r in resumed.trace.results] == [
        (r.trial_id, r.resource, r.metric) for r in full.trace.results
    ]
