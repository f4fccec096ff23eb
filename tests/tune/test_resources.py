"""resources_per_trial as ashasim workers: the arithmetic Ray Tune does, on resource counts given
explicitly (so it is tested without a GPU)."""

from __future__ import annotations

import os

import pytest

from ashasim.tune.resources import WorkerPlan, plan_workers


def plan(resources, **counts):
    return plan_workers(resources, check_visible=False, **counts)


@pytest.mark.parametrize(
    ("resources", "counts", "expected"),
    [
        (None, {"num_cpus": 8, "num_gpus": 0}, WorkerPlan(8, "cpu", None)),
        ({"cpu": 2}, {"num_cpus": 8, "num_gpus": 0}, WorkerPlan(4, "cpu", None)),
        ({"cpu": 3}, {"num_cpus": 8, "num_gpus": 0}, WorkerPlan(2, "cpu", None)),
        ({"cpu": 0.5}, {"num_cpus": 2, "num_gpus": 0}, WorkerPlan(4, "cpu", None)),
        # the CIFAR tutorial's {"cpu": 2, "gpu": 0.5}: two trials per GPU, CPUs permitting
        ({"cpu": 2, "gpu": 0.5}, {"num_cpus": 16, "num_gpus": 1}, WorkerPlan(2, ["cuda:0"], 2)),
        (
            {"cpu": 2, "gpu": 0.5},
            {"num_cpus": 16, "num_gpus": 4},
            WorkerPlan(8, ["cuda:0", "cuda:1", "cuda:2", "cuda:3"], 2),
        ),
        (
            {"cpu": 4, "gpu": 0.25},
            {"num_cpus": 16, "num_gpus": 2},
            WorkerPlan(4, ["cuda:0", "cuda:1"], 4),
        ),
        ({"cpu": 1, "gpu": 1 / 3}, {"num_cpus": 16, "num_gpus": 1}, WorkerPlan(3, ["cuda:0"], 3)),
        (
            {"cpu": 1, "gpu": 1},
            {"num_cpus": 16, "num_gpus": 2},
            WorkerPlan(2, ["cuda:0", "cuda:1"], 1),
        ),
        ({"cpu": 1, "gpu": 0.3}, {"num_cpus": 16, "num_gpus": 1}, WorkerPlan(3, ["cuda:0"], 3)),
        # never more workers than max_concurrent or than trials
        (
            {"cpu": 1},
            {"num_cpus": 8, "num_gpus": 0, "max_concurrent": 3},
            WorkerPlan(3, "cpu", None),
        ),
        ({"cpu": 1}, {"num_cpus": 8, "num_gpus": 0, "max_trials": 5}, WorkerPlan(5, "cpu", None)),
    ],
)
def test_workers_follow_from_the_resources(resources, counts, expected):
    assert plan(resources, **counts) == expected


def test_default_counts_are_this_machines():
    assert plan_workers({"cpu": 1}, num_gpus=0).n_workers == (os.cpu_count() or 1)


@pytest.mark.parametrize(
    ("resources", "counts", "message"),
    [
        (
            {"gpu": 0.5},
            {"num_cpus": 4, "num_gpus": 0},
            r"asks for 0.5 GPU\(s\) per trial, but there is no GPU",
        ),
        (
            {"gpu": 2},
            {"num_cpus": 4, "num_gpus": 1},
            r"asks for 2 GPU\(s\) per trial, but there are only 1",
        ),
        ({"gpu": 2}, {"num_cpus": 4, "num_gpus": 4}, "a trial gets at most one GPU in ashasim"),
        (
            {"cpu": 8},
            {"num_cpus": 4, "num_gpus": 0},
            r"asks for 8 CPU\(s\) per trial, but there are only 4",
        ),
        ({"cpu": -1}, {"num_cpus": 4, "num_gpus": 0}, r"resources_per_trial\['cpu'\] must be"),
        ({"custom": 1}, {"num_cpus": 4, "num_gpus": 0}, r"\['custom'\] not supported"),
        ("4 cpus", {"num_cpus": 4, "num_gpus": 0}, "must be a dict like"),
    ],
)
def test_impossible_requests_say_why(resources, counts, message):
    with pytest.raises(ValueError, match=message):
        plan(resources, **counts)


def test_local_workers_need_the_gpus_to_exist():
    from ashasim.run.backend import visible_gpus

    with pytest.raises(ValueError, match="num_gpus=.*but this machine has"):
        plan_workers({"gpu": 1}, num_cpus=4, num_gpus=visible_gpus() + 1)
