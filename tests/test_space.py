"""Search-space domains: draws stay inside their domain, bad domains fail early and say why."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ashasim import space
from tests.strategies import spaces


@given(spaces, st.integers(0, 2**32 - 1))
def test_samples_stay_inside_their_domains(config_space, seed):
    """Every sampled value belongs to its domain; constants are copied unchanged."""
    config = space.sample(config_space, np.random.default_rng(seed))
    assert list(config) == list(config_space)
    for name, domain in config_space.items():
        if isinstance(domain, space.Domain):
            assert domain.contains(config[name]), (name, domain, config[name])
        else:
            assert config[name] == domain


@given(spaces, st.integers(0, 2**32 - 1))
def test_sampling_is_determined_by_the_seed(config_space, seed):
    first = space.sample(config_space, np.random.default_rng(seed))
    again = space.sample(config_space, np.random.default_rng(seed))
    assert repr(first) == repr(again)  # repr: NaN-free but keeps int/float distinctions


@given(spaces)
def test_json_round_trip(config_space):
    """space_from_json(space_to_json(s)) rebuilds the same domains and constants."""
    rebuilt = space.space_from_json(space.space_to_json(config_space))
    assert rebuilt == config_space


def test_randint_reaches_both_inclusive_bounds():
    rng = np.random.default_rng(0)
    draws = {space.randint(3, 5).sample(rng) for _ in range(200)}
    assert draws == {3, 4, 5}
    draws = {space.lograndint(1, 3).sample(rng) for _ in range(300)}
    assert draws == {1, 2, 3}


def test_loguniform_is_uniform_in_log_space():
    rng = np.random.default_rng(1)
    draws = np.array([space.loguniform(1e-4, 1.0).sample(rng) for _ in range(4000)])
    # A quarter of the log range below 1e-3: about a quarter of the draws.
    assert 0.22 < np.mean(draws < 1e-3) < 0.28


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: space.uniform(1.0, 1.0), "lo must be < hi"),
        (lambda: space.uniform(2.0, 1.0), "lo must be < hi"),
        (lambda: space.uniform(0.0, math.inf), "hi must be a finite number"),
        (lambda: space.uniform("a", 1.0), "lo must be a finite number"),
        (lambda: space.loguniform(0.0, 1.0), "lo must be > 0"),
        (lambda: space.loguniform(-1.0, 1.0), "lo must be > 0"),
        (lambda: space.randint(5, 4), "lo must be <= hi"),
        (lambda: space.randint(1.5, 4), "lo must be an integer"),
        (lambda: space.lograndint(0, 4), "lo must be >= 1"),
        (lambda: space.choice([]), "options must not be empty"),
        (lambda: space.choice("abc"), "options must be a list"),
    ],
)
def test_bad_domains_name_the_bound_and_the_accepted_range(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_space_json_errors_name_the_parameter():
    with pytest.raises(ValueError, match="'lr'.*lo must be > 0"):
        space.space_from_json({"lr": {"loguniform": [0, 1]}})
    with pytest.raises(ValueError, match="'lr'.*unknown domain 'logunif'"):
        space.space_from_json({"lr": {"logunif": [0.1, 1]}})
    with pytest.raises(ValueError, match="'bs'.*takes \\[lo, hi\\]"):
        space.space_from_json({"bs": {"randint": [1]}})


def test_check_config_names_the_offending_key():
    config_space = {"lr": space.loguniform(1e-3, 1.0), "epochs": 10}
    with pytest.raises(ValueError, match="lr=5.0 is outside its domain"):
        space.check_config(config_space, {"lr": 5.0}, what="points_to_evaluate[0]")
    with pytest.raises(ValueError, match="'momentum' is not in the config space"):
        space.check_config(config_space, {"momentum": 0.9}, what="points_to_evaluate[0]")
    with pytest.raises(ValueError, match="epochs=3 but the space fixes epochs=10"):
        space.check_config(config_space, {"epochs": 3}, what="points_to_evaluate[0]")


@given(
    st.lists(st.one_of(st.integers(), st.text(max_size=3)), min_size=1, max_size=6),
    st.integers(0, 2**32 - 1),
)
def test_grid_search_draws_like_a_choice(values, seed):
    """Outside a grid searcher, grid_search(values) is choice(values): same draw, same stream."""
    rng_grid, rng_choice = np.random.default_rng(seed), np.random.default_rng(seed)
    grid, options = space.grid_search(values), space.choice(values)
    for _ in range(5):
        assert grid.sample(rng_grid) == options.sample(rng_choice)
    assert rng_grid.random() == rng_choice.random()
    assert all(grid.contains(v) for v in values)


def test_grid_search_json_round_trip_keeps_it_apart_from_choice():
    config_space = {"opt": space.grid_search(["sgd", "adam"]), "act": space.choice(["relu"])}
    data = space.space_to_json(config_space)
    assert data == {"opt": {"grid_search": ["sgd", "adam"]}, "act": {"choice": ["relu"]}}
    assert space.space_from_json(data) == config_space
    assert space.space_from_json(data)["opt"] != space.choice(["sgd", "adam"])


def test_grid_search_errors():
    with pytest.raises(ValueError, match="grid_search: values must not be empty"):
        space.grid_search([])
    with pytest.raises(ValueError, match="grid_search: values must be a list"):
        space.grid_search("abc")
    with pytest.raises(ValueError, match="'opt'.*values must not be empty"):
        space.space_from_json({"opt": {"grid_search": []}})
    with pytest.raises(ValueError, match="accepted:.*'grid_search'"):
        space.space_from_json({"opt": {"grid": [1, 2]}})


@given(spaces, st.integers(0, 2**32 - 1), st.integers(1, 5))
def test_a_bound_sampler_draws_what_sample_draws(config_space, seed, n):
    """``space.sampler`` (a searcher's per-trial draw) is ``space.sample`` with the space read
    once: the same configs, keys in the same order, and the generator left in the same state."""
    from ashasim.space.spaces import sampler

    bound, plain = np.random.default_rng(seed), np.random.default_rng(seed)
    draw = sampler(config_space)
    for _ in range(n):
        ours, theirs = draw(bound), space.sample(config_space, plain)
        assert list(ours.items()) == list(theirs.items())
    assert bound.bit_generator.state == plain.bit_generator.state


@given(st.floats(-1e6, 1e6), st.floats(1e-6, 1e6), st.integers(0, 2**32 - 1))
def test_the_one_uniform_parameter_sampler_is_bit_identical(lo, width, seed):
    from ashasim.space.spaces import sampler

    domain = space.uniform(lo, lo + width)
    bound, plain = np.random.default_rng(seed), np.random.default_rng(seed)
    draw = sampler({"x": domain, "c": 3})
    assert [draw(bound) for _ in range(3)] == [
        {"x": domain.sample(plain), "c": 3} for _ in range(3)
    ]
