"""KDESearcher (BOHB's model): the densities, the split, pending trials as bad points, and that it
beats random search on a smooth objective."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import norm

from ashasim import space
from ashasim.search import KDESearcher, RandomSearcher
from ashasim.search._model import Level
from ashasim.search.kde import bandwidths, log_density
from tests.search.objectives import BOWL6_SPACE, best_after, bowl6, hartmann3_asha, two_levels

SEEDS = range(10)


def test_kde_beats_random_search_on_a_six_dimensional_bowl():
    """60 sequential evaluations on a 6-d bowl over [-5, 5]^6, 10 seeds: the KDE's median best
    regret is at most half of random search's (measured: 5.8 vs 12.6 with 24 candidates per
    proposal; 5.4 with BOHB's 64).

    (On the 2-d bowl BOHB's rule, 3 good points and no bandwidth floor beyond 1e-3, stays local
    and is no better than random search at 60 to 150 evaluations: measured 0.55 vs 0.23 at 60.)
    """
    options = {"config_space": BOWL6_SPACE, "objective": bowl6}
    kde = [best_after(KDESearcher(), seed, **options) for seed in SEEDS]
    rand = [best_after(RandomSearcher(), seed, **options) for seed in SEEDS]
    assert np.median(kde) <= 0.5 * np.median(rand), (kde, rand)


def _asha_regret(searcher: object, seed: int) -> float:
    """True regret of the incumbent of a 4-worker stopping-type ASHA run (grace period 1, eta 3)
    on the multi-fidelity Hartmann-3, 1,500 simulated seconds (as experiments/searchers.py)."""
    from ashasim.events import JobStarted, Reported

    bench, trace = hartmann3_asha(searcher, seed, 1500.0)
    configs = {e.trial_id: e.config for e in trace.events if type(e) is JobStarted}
    reports = [e for e in trace.events if type(e) is Reported]
    top = max(e.resource for e in reports)
    best = min((e for e in reports if e.resource == top), key=lambda e: e.metric)
    return bench.regret(configs[best.trial_id])


@pytest.mark.slow
def test_asynchronous_kde_does_not_collapse_on_hartmann3_with_four_workers():
    """Async BOHB with few trials (~100 in the run): with BOHB's 64 candidates per proposal the
    best ratio l/g reached into the tails and the KDE's median regret was 3.6x random search's
    (0.29 vs 0.080, seeds 0-19); with 24 candidates, 0.074. Held to 1.5x random's median."""
    kde = [_asha_regret(KDESearcher(), seed) for seed in range(20)]
    rand = [_asha_regret(RandomSearcher(), seed) for seed in range(20)]
    assert np.median(kde) <= 1.5 * np.median(rand), (np.median(kde), np.median(rand))


def test_the_model_uses_the_highest_level_with_enough_good_and_bad_results():
    """BOHB's rule, N = d + 1 = 3: 6 results at level 3 give 3 good and 3 bad, so the model
    follows level 3's optimum (0.8, 0.8); with 5 there (3 good, 2 bad) it stays on level 1's
    (0.2, 0.2), where 30 results inform both densities."""
    searcher = KDESearcher(random_fraction=0.0)
    top = two_levels(searcher, n_top=6)
    assert searcher.model_level == 3
    assert np.median([c["x"] for c in top]) > 0.5 and np.median([c["y"] for c in top]) > 0.5
    searcher = KDESearcher(random_fraction=0.0)
    low = two_levels(searcher, n_top=5)
    assert searcher.model_level == 1
    assert np.median([c["x"] for c in low]) < 0.5 and np.median([c["y"] for c in low]) < 0.5


@pytest.mark.parametrize(
    ("n", "n_good", "n_bad"),
    [(6, 3, 3), (20, 3, 17), (26, 3, 23), (27, 4, 23), (100, 15, 85), (1000, 150, 256)],
)
def test_split_rule(n, n_good, n_bad):
    """n_good = max(d + 1, floor(0.15 n)) (BOHB's); the rest is bad; each side at most
    max_points (256) points, taken at evenly spaced ranks (the best always among them)."""
    searcher = KDESearcher()
    searcher.configure(
        {"x": space.uniform(0, 1), "y": space.uniform(0, 1)},
        mode="max",
        rng=np.random.default_rng(0),
    )
    for trial_id in range(n):
        config = searcher.suggest(trial_id)
        searcher.on_result(trial_id, 1, config["x"])  # mode max: large x is good
    good, bad = searcher._good_and_bad(searcher.levels[1])
    assert (len(good), len(bad)) == (n_good, n_bad)
    xs = searcher._x[:n, 0]
    assert good[:, 0].min() >= np.sort(xs)[::-1][n_good - 1]  # the good are the largest x
    assert good[0, 0] == xs.max() and bad[-1, 0] == xs.min()


def test_nan_and_inf_metrics_rank_last():
    searcher = KDESearcher(min_points=1)
    searcher.configure({"x": space.uniform(0, 1)}, mode="min", rng=np.random.default_rng(0))
    metrics = [math.nan, -math.inf, math.inf, 0.5, 0.7, 0.9, 0.6]
    for trial_id, metric in enumerate(metrics):
        searcher.suggest(trial_id)
        searcher.on_result(trial_id, 1, metric)
    good, bad = searcher._good_and_bad(searcher.levels[1])
    assert list(good[:, 0]) == list(searcher._x[[3], 0])  # 0.5: n_good = max(1, floor(1.05))
    assert set(bad[-3:, 0]) == set(searcher._x[[0, 1, 2], 0])  # NaN, -inf, inf: worst


def test_only_categoricals_learns_the_best_option():
    config_space = {"opt": space.choice(["a", "b", "c", "d"]), "act": space.grid_search([0, 1])}
    searcher = KDESearcher(random_fraction=0.0)
    searcher.configure(config_space, mode="max", rng=np.random.default_rng(0))
    picks = []
    for trial_id in range(60):
        config = searcher.suggest(trial_id)
        picks.append((config["opt"], config["act"]))
        searcher.on_result(trial_id, 1, float(config["opt"] == "c") + 0.5 * config["act"])
        searcher.on_end(trial_id)
    assert picks[30:].count(("c", 1)) >= 20


def test_a_space_without_free_parameters_returns_its_constants():
    searcher = KDESearcher()
    searcher.configure(
        {"epochs": 10, "k": space.randint(3, 3)}, mode="min", rng=np.random.default_rng(0)
    )
    for trial_id in range(5):
        assert searcher.suggest(trial_id) == {"epochs": 10, "k": 3}
        searcher.on_result(trial_id, 1, float(trial_id))


def test_bandwidths_follow_the_normal_reference_rule_floored_at_min_bandwidth():
    rng = np.random.default_rng(0)
    points = np.c_[rng.random(50), rng.integers(0, 3, 50)]
    cont, cat, n_options = np.array([0]), np.array([1]), np.array([3])
    h = bandwidths(points, cont, cat, n_options, min_bandwidth=1e-3)
    shrink = 50 ** (-1 / 6)
    assert h[0] == pytest.approx(1.06 * points[:, 0].std() * shrink)
    p = np.bincount(points[:, 1].astype(int), minlength=3) / 50
    assert h[1] == pytest.approx(min((1 - np.sum(p**2)) * shrink, 2 / 3))
    same = np.zeros((4, 2))  # all agree: min_bandwidth and nothing more, however few points
    assert list(bandwidths(same, cont, cat, n_options, min_bandwidth=1e-3)) == [1e-3, 1e-3]
    assert list(bandwidths(same, cont, cat, n_options, min_bandwidth=0.05)) == [0.05, 0.05]


def test_log_density_is_a_product_of_gaussian_and_aitchison_aitken_kernels():
    points = np.array([[0.2, 0.0], [0.6, 2.0]])
    h = np.array([0.1, 0.3])
    cont, cat, n_options = np.array([0]), np.array([1]), np.array([3])
    x = np.array([[0.3, 2.0], [0.5, 1.0]])
    got = np.exp(log_density(x, points, h, cont, cat, n_options))

    def aa(a, b):
        return 0.7 if a == b else 0.15

    for row, value in zip(x, got):
        expected = np.mean([norm.pdf(row[0], p[0], 0.1) * aa(row[1], p[1]) for p in points])
        assert value == pytest.approx(expected)
    codes = np.array([[0.4, c] for c in range(3)])  # the categorical kernel sums to 1
    total = np.exp(log_density(codes, points[:1], h, np.array([], int), cat, n_options)).sum()
    assert total == pytest.approx(1.0)


@given(
    st.lists(
        st.tuples(st.integers(0, 30), st.sampled_from([0.0, 1.0, 2.0, math.inf, -1.5])),
        max_size=80,
    ),
    st.lists(st.integers(1, 5), min_size=1, max_size=10),
)
def test_incremental_ranking_equals_a_stable_sort(results, batches):
    """Level.ranked(), merged in as results arrive (in batches of various sizes, rescored trials
    included), always equals a stable argsort of the scores: best first, ties by arrival."""
    level = Level()
    position = 0
    for size in batches * 20:
        for row, score in results[position : position + size]:
            level.add(row, score)
        position += size
        ranked = level.ranked()
        expected = np.argsort(level.scores[: level.n], kind="stable")
        assert list(ranked) == list(expected)
        if position >= len(results):
            break
