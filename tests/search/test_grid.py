"""GridSearcher: the whole Cartesian product, each config once, in a seeded order, then None."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ashasim import space
from ashasim.search import GridSearcher
from ashasim.search.grid import grid_values
from tests.search.driving import assert_in_space
from tests.strategies import grid_setups


def run_out(config_space, num, seed, points=()):
    searcher = GridSearcher(num=num)
    searcher.configure(
        config_space, mode="min", rng=np.random.default_rng(seed), points_to_evaluate=points
    )
    configs = []
    while (config := searcher.suggest(len(configs))) is not None:
        assert_in_space(config_space, config)
        configs.append(config)
        assert len(configs) <= 10**4, "a grid must end"
    return searcher, configs


@given(grid_setups(), st.integers(0, 2**32 - 1))
def test_the_grid_is_the_full_product_once_then_none_forever(setup, seed):
    """Every combination of the per-parameter values comes exactly once, then None, and None
    again on every later call. Per parameter: all distinct options, all integers of a range
    without a count, exactly num values of a real range, and for an integer range with a count
    at most min(num, range) values, both ends included when num >= 2."""
    config_space, num = setup
    searcher, configs = run_out(config_space, num, seed)
    assert [searcher.suggest(100 + i) for i in range(3)] == [None] * 3
    keys = [tuple(config.values()) for config in configs]
    assert len(set(keys)) == len(keys)
    axes = {name: {config[name] for config in configs} for name in config_space}
    assert len(configs) == math.prod(len(values) for values in axes.values())
    for name, domain in config_space.items():
        values = axes[name]
        if isinstance(domain, space.Choice):
            assert values == set(domain.options)
        elif isinstance(domain, space.GridSearch):
            assert values == set(domain.values)
        elif isinstance(domain, (space.Uniform, space.LogUniform)):
            assert len(values) == num[name]
            if num[name] >= 2:
                assert min(values) == domain.lo and max(values) == domain.hi
        elif isinstance(domain, (space.RandInt, space.LogRandInt)) and name not in num:
            assert values == set(range(domain.lo, domain.hi + 1))
        elif isinstance(domain, (space.RandInt, space.LogRandInt)):
            assert 1 <= len(values) <= min(num[name], domain.hi - domain.lo + 1)
            if num[name] >= 2:
                assert {domain.lo, domain.hi} <= values
        else:
            assert values == {domain}
    assert searcher.remaining == 0


@given(grid_setups(), st.integers(0, 2**32 - 1))
def test_the_order_is_fixed_by_the_seed(setup, seed):
    config_space, num = setup
    assert repr(run_out(config_space, num, seed)[1]) == repr(run_out(config_space, num, seed)[1])


def test_the_order_is_shuffled():
    """A run cut short has sampled across the grid, not swept a corner."""
    config_space = {"a": space.randint(0, 9), "b": space.randint(0, 9)}
    _, configs = run_out(config_space, {}, seed=0)
    sweep = [{"a": a, "b": b} for a in range(10) for b in range(10)]
    assert configs != sweep and sorted(configs, key=lambda c: (c["a"], c["b"])) == sweep
    assert len({c["a"] for c in configs[:20]}) >= 6


@pytest.mark.parametrize(
    ("domain", "num", "expected"),
    [
        (space.uniform(0.0, 1.0), 5, [0.0, 0.25, 0.5, 0.75, 1.0]),
        (space.uniform(0.0, 1.0), 1, [0.5]),
        (space.loguniform(1e-3, 1.0), 4, [1e-3, 1e-2, 1e-1, 1.0]),
        (space.loguniform(1e-4, 1.0), 1, [1e-2]),
        (space.randint(1, 3), 5, [1, 2, 3]),  # rounding de-duplicates
        (space.randint(0, 10), 3, [0, 5, 10]),
        (space.lograndint(1, 1000), 4, [1, 10, 100, 1000]),
        (space.lograndint(1, 4), 8, [1, 2, 3, 4]),
        (space.randint(2, 5), None, [2, 3, 4, 5]),
        (space.choice(["a", "b", "a"]), None, ["a", "b"]),
        (space.grid_search([3, 1, 2]), None, [3, 1, 2]),
        ("const", None, ["const"]),
    ],
)
def test_grid_values_are_spaced_by_the_domains_kind(domain, num, expected):
    values = grid_values("p", domain, num)
    assert values == pytest.approx(expected, rel=1e-12) if num else values == expected
    assert all(type(v) is type(e) for v, e in zip(values, expected))


def test_points_come_first_and_are_taken_off_the_grid():
    """A full grid point is used up; a partial one is completed from an unused grid point that
    agrees with it, which is used up too; an off-grid point uses up nothing."""
    config_space = {"opt": space.grid_search(["sgd", "adam"]), "bs": space.randint(1, 3), "e": 5}
    points = [{"opt": "adam", "bs": 2}, {"opt": "sgd"}, {"bs": 3, "opt": "sgd"}, {"opt": "sgd"}]
    _, configs = run_out(config_space, {}, seed=4, points=[*points, {"bs": 3}])
    assert configs[0] == {"opt": "adam", "bs": 2, "e": 5}
    assert configs[1]["opt"] == "sgd" and configs[1]["bs"] in (1, 2)  # 3 is still unused
    assert configs[2] == {"opt": "sgd", "bs": 3, "e": 5}
    assert configs[3]["opt"] == "sgd" and configs[3]["bs"] in (1, 2)
    assert configs[4]["bs"] == 3 and configs[4]["opt"] == "adam"  # the only bs=3 left
    assert len(configs) == 6  # 6 grid points in all, each once
    assert len({tuple(c.values()) for c in configs}) == 6

    off_grid = {"lr": space.uniform(0.0, 1.0)}
    _, configs = run_out(off_grid, {"lr": 3}, seed=0, points=[{"lr": 0.3}])
    assert configs[0]["lr"] == 0.3
    assert sorted(c["lr"] for c in configs[1:]) == [0.0, 0.5, 1.0]


def test_a_space_of_constants_is_a_grid_of_one():
    _, configs = run_out({"epochs": 10, "model": "lenet"}, {}, seed=0)
    assert configs == [{"epochs": 10, "model": "lenet"}]


@pytest.mark.parametrize(
    ("config_space", "num", "message"),
    [
        (
            {"lr": space.loguniform(1e-3, 1.0)},
            {},
            r"parameter 'lr' is a continuous loguniform range.*num=\{'lr'",
        ),
        ({"x": space.uniform(0, 1)}, {"x": 0}, r"num\['x'\] must be an integer >= 1, got 0"),
        ({"x": space.uniform(0, 1)}, {"x": 2.5}, r"num\['x'\] must be an integer >= 1"),
        ({"x": space.uniform(0, 1)}, {"x": 2, "y": 3}, r"num names \['y'\], which are not in"),
        ({"o": space.choice([1, 2])}, {"o": 2}, r"num\['o'\]: 'o' is a choice"),
        ({"e": 10}, {"e": 2}, r"num\['e'\]: 'e' is a constant"),
        (
            {n: space.randint(0, 99) for n in "abcd"},
            {},
            r"the grid has 100000000 points.*at most 1000000",
        ),
    ],
)
def test_bad_grids_name_the_parameter(config_space, num, message):
    with pytest.raises(ValueError, match=message):
        GridSearcher(num=num).configure(config_space, mode="min", rng=np.random.default_rng(0))


def test_num_must_be_a_dict():
    with pytest.raises(ValueError, match="num must be a dict"):
        GridSearcher(num=5)


# -- an explicit list of configs (a table's rows) -----------------------------------------------

LIST_SPACE = {"config_id": space.randint(0, 99)}


@given(st.integers(1, 60), st.integers(0, 2**32 - 1))
def test_a_list_of_configs_is_handed_out_once_each_then_none(n, seed):
    configs = [{"config_id": i, "name": f"c{i}"} for i in range(n)]
    searcher = GridSearcher(configs=configs)
    searcher.configure(LIST_SPACE, mode="min", rng=np.random.default_rng(seed))
    assert searcher.max_configs == n
    drawn = []
    while (config := searcher.suggest(len(drawn))) is not None:
        drawn.append(config)
    assert sorted(drawn, key=lambda c: c["config_id"]) == configs
    assert searcher.suggest(n) is None and searcher.remaining == 0
    again = GridSearcher(configs=configs)
    again.configure(LIST_SPACE, mode="min", rng=np.random.default_rng(seed))
    assert [again.suggest(i) for i in range(n)] == drawn  # the seed fixes the order


def test_points_pick_from_the_list():
    configs = [{"config_id": i, "learner": "svm" if i % 2 else "knn"} for i in range(6)]
    searcher = GridSearcher(configs=configs)
    searcher.configure(
        LIST_SPACE,
        mode="min",
        rng=np.random.default_rng(3),
        points_to_evaluate=[{"config_id": 4}, {"config_id": 99}],
    )
    assert searcher.suggest(0) == {"config_id": 4, "learner": "knn"}
    off_list = searcher.suggest(1)  # not in the list: uses nothing up, borrows the rest
    assert off_list["config_id"] == 99
    rest = [searcher.suggest(i) for i in range(2, 7)]
    assert sorted(c["config_id"] for c in rest) == [0, 1, 2, 3, 5]
    assert searcher.suggest(7) is None
    assert searcher.describe() == {"name": "GridSearcher", "configs": 6}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"configs": []}, "configs must be a non-empty list of config dicts"),
        ({"configs": [1, 2]}, "configs must be a non-empty list of config dicts"),
        ({"configs": {"a": 1}}, "configs must be a list of config dicts"),
        ({"configs": [{"a": 1}], "num": {"a": 2}}, "give num .* or configs .*, not both"),
    ],
)
def test_bad_config_lists(options, message):
    with pytest.raises(ValueError, match=message):
        GridSearcher(**options)
