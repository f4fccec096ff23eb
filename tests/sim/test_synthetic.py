"""Multi-fidelity synthetic benchmarks (Kandasamy et al. 2017) as cost models."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ashasim.core import make_scheduler
from ashasim.sim import simulate
from ashasim.sim.catalog import WORKLOAD_NAMES, make_workload
from ashasim.sim.synthetic import BENCHMARKS, MultiFidelityFunction

# a known optimiser of each function at z = 1 (Branin: one of its three)
OPTIMISERS = {
    "branin": {"x1": math.pi, "x2": 2.275},
    "currin": {"x1": 0.2167, "x2": 0.5},
    "hartmann3": {"x1": 0.114614, "x2": 0.555649, "x3": 0.852547},
    "hartmann6": dict(
        zip(
            [f"x{i}" for i in range(1, 7)],
            [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573],
        )
    ),
}


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_the_top_level_is_the_true_function_with_its_published_optimum(name):
    bench = MultiFidelityFunction(name, max_epochs=9)
    assert bench.regret(OPTIMISERS[name]) == pytest.approx(0.0, abs=1e-4)
    assert bench.value(OPTIMISERS[name], 9) == pytest.approx(bench.optimum, abs=1e-4)


def test_branin_at_the_top_fidelity_is_branins_function():
    bench = MultiFidelityFunction("branin")
    x1, x2 = 2.0, 7.0
    expected = (x2 - 5.1 / (4 * math.pi**2) * x1**2 + 5 / math.pi * x1 - 6) ** 2
    expected += 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1) + 10
    assert bench.value({"x1": x1, "x2": x2}, bench.max_epochs) == pytest.approx(expected)
    assert bench.value({"x1": x1, "x2": x2}, 1) != pytest.approx(expected)  # lower: perturbed


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
@given(u=st.lists(st.floats(0, 1), min_size=6, max_size=6), seed=st.integers(0, 10))
def test_regret_is_never_negative_and_levels_are_deterministic(name, u, seed):
    bench = MultiFidelityFunction(name, max_epochs=5, noise=0.1)
    config = {n: d.lo + v * (d.hi - d.lo) for (n, d), v in zip(bench.config_space.items(), u)}
    assert bench.regret(config) >= -1e-6
    epoch = bench.epoch_fn(seed)
    assert epoch(3, config, 2) == epoch(3, config, 2)  # a pure function of its arguments
    assert epoch(3, config, 2) != epoch(4, config, 2)  # noise differs per trial


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_the_runtime_model_is_the_papers_cost_scaled_to_full_seconds(name):
    resume = MultiFidelityFunction(name, max_epochs=10, full_seconds=50.0)
    restart = MultiFidelityFunction(name, max_epochs=10, full_seconds=50.0, cost="restart")
    lam = BENCHMARKS[name][4]
    increments = [resume.seconds(k) for k in range(1, 11)]
    assert all(s > 0 for s in increments)
    assert sum(increments) == pytest.approx(50.0)  # a trial run to the top pays lambda(1)
    for k in range(1, 11):
        assert restart.seconds(k) == pytest.approx(50.0 * lam(k / 10) / lam(1.0))
        assert restart.seconds(k) == pytest.approx(sum(increments[:k]))
    assert resume.seconds_hint() == resume.seconds(1)


def test_the_catalog_names_them_and_asha_runs_on_them():
    assert {f"mf-{n}" for n in BENCHMARKS} <= set(WORKLOAD_NAMES)
    bench = make_workload("mf-hartmann3", max_epochs=9)
    assert isinstance(bench, MultiFidelityFunction) and bench.max_epochs == 9
    scheduler = make_scheduler(
        "asha", bench.config_space, max_t=9, reduction_factor=3, seed=0, searcher="kde"
    )
    trace = simulate(scheduler, bench, 4, max_time=2000.0, seed=0)
    assert len(trace.trial_ids) > 20


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="name must be one of"):
        MultiFidelityFunction("rosenbrock")
    with pytest.raises(ValueError, match="noise"):
        MultiFidelityFunction("branin", noise=-1)
    with pytest.raises(ValueError, match="full_seconds"):
        MultiFidelityFunction("branin", full_seconds=0)
    assert np.isfinite(MultiFidelityFunction("currin").value({"x1": 0.5, "x2": 0.0}, 1))
