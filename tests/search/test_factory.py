"""make_searcher: searchers by name, and bad options fail early naming the option and its range."""

import math

import numpy as np
import pytest

from ashasim.search import (
    SEARCHER_NAMES,
    GPSearcher,
    GridSearcher,
    KDESearcher,
    RandomSearcher,
    make_searcher,
)


def test_names_make_fresh_searchers_and_instances_pass_through():
    classes = [RandomSearcher, GridSearcher, KDESearcher, GPSearcher]
    assert SEARCHER_NAMES == ("random", "grid", "kde", "gp")
    for name, cls in zip(SEARCHER_NAMES, classes):
        first, second = make_searcher(name), make_searcher(name)
        assert type(first) is cls and first is not second
    kde = make_searcher("kde", top_fraction=0.3, num_samples=8)
    assert (kde.top_fraction, kde.num_samples) == (0.3, 8)
    assert make_searcher("grid", num={"lr": 4}).num == {"lr": 4}
    instance = GPSearcher()
    assert make_searcher(instance) is instance
    assert kde.describe()["top_fraction"] == 0.3


def test_unknown_names_and_options_are_refused():
    with pytest.raises(
        ValueError, match=r"searcher must be one of \['random', 'grid', 'kde', 'gp'\]"
    ):
        make_searcher("bohb")
    with pytest.raises(ValueError, match=r"'kde' does not take option\(s\) \['eta'\]; it takes \["):
        make_searcher("kde", eta=3)
    with pytest.raises(
        ValueError, match=r"options \['top_fraction'\] apply only to a searcher given by name"
    ):
        make_searcher(KDESearcher(), top_fraction=0.2)


@pytest.mark.parametrize(
    ("name", "option", "value", "accepted"),
    [
        ("kde", "top_fraction", 0.0, r"in \(0, 1\)"),
        ("kde", "top_fraction", 1.0, r"in \(0, 1\)"),
        ("kde", "top_fraction", -0.2, r"in \(0, 1\)"),
        ("kde", "top_fraction", math.nan, r"in \(0, 1\)"),
        ("kde", "top_fraction", "0.1", r"in \(0, 1\)"),
        ("kde", "num_samples", 0, ">= 1"),
        ("kde", "num_samples", 2.0, ">= 1"),
        ("kde", "bandwidth_factor", 0.0, "> 0"),
        ("kde", "bandwidth_factor", -3, "> 0"),
        ("kde", "bandwidth_factor", math.inf, "> 0"),
        ("kde", "min_bandwidth", 0.0, "> 0"),
        ("kde", "random_fraction", -0.1, r"in \[0, 1\]"),
        ("kde", "random_fraction", 1.5, r"in \[0, 1\]"),
        ("kde", "min_points", 0, ">= 1 or None"),
        ("kde", "max_points", 1, ">= 2"),
        ("gp", "random_search_steps", -1, ">= 0 or None"),
        ("gp", "min_points", True, ">= 1 or None"),
        ("gp", "max_points", 1, ">= 2"),
        ("gp", "refit_every", 0, ">= 1"),
        ("gp", "num_candidates", 0, ">= 1"),
        ("gp", "num_local", -1, ">= 0"),
    ],
)
def test_bad_options_name_the_option_and_its_range(name, option, value, accepted):
    with pytest.raises(ValueError, match=f"{option} must be .*{accepted}, got"):
        make_searcher(name, **{option: value})


def test_boundary_options_are_accepted():
    make_searcher("kde", random_fraction=0.0, min_bandwidth=1e-9, top_fraction=0.99)
    make_searcher("kde", random_fraction=1.0, num_samples=1, min_points=1)
    make_searcher("gp", random_search_steps=0, num_local=0, refit_every=1)
    searcher = make_searcher("kde", random_fraction=1.0)  # all random: the model is never used
    searcher.configure({"x": 1}, mode="min", rng=np.random.default_rng(0))
    assert searcher.suggest(0) == {"x": 1}
