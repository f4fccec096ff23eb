"""The searcher study: its summary arithmetic, its second workload, and a tiny end-to-end run."""

from __future__ import annotations

import math

import pytest

from ashasim.studies import searchers
from ashasim.studies.searchers import BraninCurves, RunCurve, summarize


def curve(seed, steps, contender="ASHA + random"):
    return RunCurve("lenet", contender, 8, seed, tuple(steps), 100)


def test_time_to_target_median_and_quartiles_count_never_as_infinitely_late():
    runs = [
        curve(0, [(1.0, 0.5), (10.0, 0.1)]),  # reaches 0.105 at 10
        curve(1, [(2.0, 0.3), (30.0, 0.09)]),  # at 30
        curve(2, [(5.0, 0.2)]),  # never
        curve(3, [(1.0, 0.104)]),  # at 1
    ]
    (cell,) = summarize(runs, {"lenet": 0.105}, {8: 100.0})
    assert cell.reached == 3 and cell.seeds == 4
    assert cell.time_median == 20.0  # median of 1, 10, 30, inf
    assert cell.time_quartiles == (1.0, math.inf)  # ranks 0 and 3 of 4
    assert cell.best_median == pytest.approx(statistics_median([0.1, 0.09, 0.2, 0.104]))
    assert "never" in searchers.format_table([cell], {"lenet": 0.105})


def statistics_median(values):
    ordered = sorted(values)
    return (ordered[1] + ordered[2]) / 2


def test_best_at_a_time_reads_the_step_function():
    run = curve(0, [(1.0, 0.5), (10.0, 0.1)])
    assert run.best_at(0.5) == math.inf and run.best_at(1.0) == 0.5 and run.best_at(99) == 0.1
    assert run.time_to(0.2) == 10.0 and run.time_to(0.01) is None


def test_branin_curves_are_deterministic_and_have_three_optima():
    costs = BraninCurves()
    config = {"x1": math.pi, "x2": 2.275, "width": 8, "optimizer": "momentum", "max_epochs": 10}
    assert BraninCurves.final_error(config) == pytest.approx(0.05 + 0.9 * 0.3979 / 60.3979, 1e-3)
    for x1, x2 in ((-math.pi, 12.275), (9.42478, 2.475)):
        other = {**config, "x1": x1, "x2": x2}
        assert BraninCurves.final_error(other) == pytest.approx(
            BraninCurves.final_error(config), abs=1e-3
        )
    epoch = costs.epoch_fn(3)
    assert epoch(5, config, 4) == costs.epoch_fn(3)(5, config, 4)
    errors = [epoch(5, config, e)[1] for e in range(1, 11)]
    assert errors[-1] < errors[0]  # it learns


def test_a_tiny_study_runs_writes_and_redraws(tmp_path):
    curves = searchers.run(
        workloads=["branin"],
        contenders=["ASHA + random", "ASHA + KDE"],
        workers=[4],
        seeds=2,
        max_time=60.0,
        processes=1,
    )
    assert len(curves) == 4 and all(c.steps for c in curves)
    paths = searchers.write(tmp_path, curves)
    assert paths["figure"].exists()
    again = searchers.load_curves(tmp_path / "searchers.json")
    assert again == curves
