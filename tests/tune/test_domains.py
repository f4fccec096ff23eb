"""Ray Tune's search-space functions keep Ray's bounds (randint excludes upper, qrandint
includes it) and build ashasim's domains."""

from __future__ import annotations

import numpy as np
import pytest

from ashasim import space, tune


def draws(domain, n=3000, seed=0):
    rng = np.random.default_rng(seed)
    return {domain.sample(rng) for _ in range(n)}


def test_integer_bounds_are_ray_tunes():
    assert draws(tune.randint(-2, 3)) == {-2, -1, 0, 1, 2}  # upper excluded
    assert draws(tune.lograndint(1, 5)) == {1, 2, 3, 4}  # upper excluded
    assert draws(tune.qrandint(-21, 12, 3)) == set(range(-21, 13, 3))  # upper included
    assert draws(tune.qrandint(0, 4)) == {0, 1, 2, 3, 4}


def test_each_function_builds_its_ashasim_domain():
    assert tune.uniform(0, 1) == space.uniform(0, 1)
    assert tune.loguniform(1e-4, 1e-1) == space.loguniform(1e-4, 1e-1)
    assert tune.loguniform(1e-4, 1e-1, base=2) == space.loguniform(1e-4, 1e-1)  # same law
    assert tune.quniform(3.2, 5.4, 0.2) == space.quniform(3.2, 5.4, 0.2)
    assert tune.qloguniform(1e-4, 1e-1, 5e-5) == space.qloguniform(1e-4, 1e-1, 5e-5)
    assert tune.randint(0, 10) == space.randint(0, 9)
    assert tune.lograndint(1, 10) == space.lograndint(1, 9)
    assert tune.randn(10, 2) == space.randn(10, 2)
    assert tune.choice([2, 4]) == space.choice([2, 4])
    assert tune.grid_search([1, 2]) == space.grid_search([1, 2])
    assert isinstance(tune.sample_from(lambda spec: 1), space.SampleFrom)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: tune.randint(3, 3),
            "upper is excluded .as in Ray Tune., so upper must be > lower",
        ),
        (lambda: tune.lograndint(2, 2), "upper is excluded"),
        (lambda: tune.loguniform(1, 2, base=1), "base must be a finite number > 1"),
        (lambda: tune.uniform(1, 0), "lo must be < hi"),
    ],
)
def test_bad_bounds_say_why(make, message):
    with pytest.raises(ValueError, match=message):
        make()
