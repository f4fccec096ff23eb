"""tune.run(..., backend="ray"): the Ray Tune façade on Ray actors (a local Ray instance), with
the decisions of the in-process run and each trial in its own directory."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

ray = pytest.importorskip(
    "ray", reason="the ray extra is not installed (pip install 'ashasim[ray]')"
)

from ashasim import tune  # noqa: E402
from ashasim.tune import ASHAScheduler  # noqa: E402
from tests.tune import trainables  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def decisions(analysis):
    trace = analysis.trace
    return (
        [(s.trial_id, s.resume_from, s.resource, s.reason) for s in trace.segments],
        [(r.trial_id, r.resource, r.metric) for r in trace.results],
    )


def test_one_argument_moves_a_run_onto_ray(tmp_path):
    def run(backend):
        return tune.run(
            trainables.with_checkpoint_dir,
            config={"x": tune.uniform(0, 1), "steps": 4},
            num_samples=6,
            scheduler=ASHAScheduler(
                metric="loss",
                mode="min",
                max_t=4,
                grace_period=1,
                reduction_factor=2,
                type="promotion",
            ),
            resources_per_trial={"cpu": 2},
            num_cpus=2,
            storage_path=tmp_path,
            name=backend,
            backend=backend,
            verbose=0,
            seed=0,  # both runs draw the same configs (without a seed each draws fresh ones)
        )

    on_ray, in_process = run("ray"), run("fake")
    assert on_ray.trace.info["backend"] == "ray"
    assert decisions(on_ray) == decisions(in_process)
    for trial in on_ray.trials:
        assert [r["trained"] for r in trial.results] == [
            r["training_iteration"] for r in trial.results
        ]
        assert Path(trial.logdir, "result.json").exists()


def test_files_land_in_the_trial_directory_on_ray(tmp_path):
    analysis = tune.run(
        trainables.quadratic,
        config={"x": tune.uniform(0, 1)},
        num_samples=2,
        storage_path=tmp_path,
        backend="ray",
        num_cpus=2,
        verbose=0,
    )
    logdir = analysis.get_best_logdir("loss", "min")
    with open(Path(logdir) / "model.pth", "rb") as stream:
        assert pickle.load(stream)["x"] == analysis.get_best_config("loss", "min")["x"]
