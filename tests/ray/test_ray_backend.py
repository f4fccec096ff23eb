"""The Ray backend on a local Ray instance (ray.init(num_cpus=2)): same driver, same decisions."""

from __future__ import annotations

import pytest

ray = pytest.importorskip(
    "ray", reason="the ray extra is not installed (pip install 'ashasim[ray]')"
)

from ashasim.core import ASHA, RandomSearch  # noqa: E402
from ashasim.run import Tuner  # noqa: E402
from ashasim.space import uniform  # noqa: E402
from tests.run import objectives  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.slow, pytest.mark.timeout(600)]

SPACE = {"x": uniform(0.0, 1.0), "max_epochs": 4}
LADDER = {"max_t": 4, "grace_period": 1, "reduction_factor": 2, "metric": "loss"}


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def run(backend, objective, scheduler, path, n_workers=1):
    return Tuner(
        objective,
        SPACE,
        scheduler,
        n_workers,
        devices="cpu",
        backend=backend,
        experiment_dir=path,
        quiet=True,
        outputs=False,
    ).run()


def decisions(trace):
    return (
        [(s.trial_id, s.resume_from, s.resource, s.reason) for s in trace.segments],
        [(r.trial_id, r.resource, r.metric) for r in trace.results],
    )


def test_ray_and_local_backends_make_the_same_decisions(tmp_path):
    """One worker, deterministic reports: the Ray run equals the local run, job for job."""

    def scheduler():
        return ASHA(SPACE, type="promotion", max_trials=7, seed=3, **LADDER)

    local = run("local", objectives.with_checkpoint, scheduler(), tmp_path / "local")
    on_ray = run("ray", objectives.with_checkpoint, scheduler(), tmp_path / "ray")
    assert decisions(on_ray) == decisions(local)
    assert on_ray.info["backend"] == "ray"


def test_an_actor_killed_mid_trial_is_survived(tmp_path):
    """ray.kill on the actor running trial 1: the trial fails, a new actor replaces it, and
    every other trial finishes."""
    scheduler = RandomSearch(SPACE, max_t=4, max_trials=5, metric="loss")
    trace = run("ray", objectives.ray_kills_trial, scheduler, tmp_path, n_workers=2)
    failed = [s for s in trace.segments if s.reason == "failed"]
    assert [(s.trial_id, s.resource) for s in failed] == [(1, 1)]
    ended = [e for e in trace.events if type(e).__name__ == "JobEnded" and e.trial_id == 1]
    assert "Ray actor died" in ended[0].error
    assert sorted(s.trial_id for s in trace.segments if s.reason == "milestone") == [0, 2, 3, 4]
    # journal invariants: one job at a time per worker, each result once
    for worker in range(2):
        lane = [s for s in trace.segments if s.worker == worker]
        assert all(a.end <= b.start for a, b in zip(lane, lane[1:]))
    assert len({(r.trial_id, r.resource) for r in trace.results}) == len(trace.results)
    assert scheduler.done
