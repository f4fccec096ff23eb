"""The domains Ray Tune users write (quantized ranges, randn, sample_from): draws stay in their
domain, sample_from is seeded by the run, and the searchers encode (or clearly refuse) them."""

import math
import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ashasim import space
from ashasim.search import GPSearcher, GridSearcher, KDESearcher, VariantSearcher
from ashasim.search._encoding import Encoding

quanta = st.sampled_from([0.1, 0.2, 0.25, 0.5, 1.0, 3.0, 5e-5])


@st.composite
def quantized(draw):
    """quniform / qloguniform / qrandint with at least one multiple of q inside the range."""
    kind = draw(st.sampled_from(["quniform", "qloguniform", "qrandint"]))
    if kind == "qrandint":
        q = draw(st.integers(1, 7))
        lo = draw(st.integers(-50, 50))
        return space.qrandint(lo, lo + draw(st.integers(q - 1, 60)), q)
    q = draw(quanta)
    start = draw(st.integers(1 if kind == "qloguniform" else -40, 40))
    n = draw(st.integers(1, 30))
    lo = (start + draw(st.sampled_from([0.0, 0.3]))) * q
    hi = (start + n + draw(st.sampled_from([0.0, 0.6]))) * q
    return space.quniform(lo, hi, q) if kind == "quniform" else space.qloguniform(lo, hi, q)


ray_domains = st.one_of(
    quantized(),
    st.tuples(st.integers(-20, 20), st.integers(1, 10)).map(lambda p: space.randn(p[0], p[1] / 4)),
)


@given(quantized(), st.integers(0, 2**32 - 1))
def test_quantized_draws_are_multiples_of_q_inside_the_range(domain, seed):
    rng = np.random.default_rng(seed)
    for _ in range(20):
        value = domain.sample(rng)
        assert domain.lo - 1e-9 <= value <= domain.hi + 1e-9
        assert math.isclose(value / domain.q, round(value / domain.q), abs_tol=1e-6)
        assert domain.contains(value)
    assert type(value) is (int if isinstance(domain, space.QRandInt) else float)


def test_quantized_values_are_written_cleanly_and_reach_both_ends():
    rng = np.random.default_rng(0)
    draws = {space.quniform(3.2, 5.4, 0.2).sample(rng) for _ in range(2000)}
    assert draws == {round(3.2 + 0.2 * k, 1) for k in range(12)}  # 3.2, 3.4, ..., 5.4
    draws = {space.qrandint(-21, 12, 3).sample(rng) for _ in range(2000)}
    assert draws == set(range(-21, 13, 3))  # both bounds included
    assert {space.qrandint(3, 5).sample(rng) for _ in range(300)} == {3, 4, 5}
    draws = [space.qloguniform(1e-4, 1e-1, 5e-5).sample(rng) for _ in range(4000)]
    assert min(draws) == 1e-4 and all(d <= 0.1 for d in draws)
    assert 0.2 < np.mean(np.array(draws) < 1e-3) < 0.4  # still log-uniform: ~a third below 1e-3


def test_qrandint_is_uniform_over_its_multiples():
    rng = np.random.default_rng(3)
    draws = [space.qrandint(0, 9, 3).sample(rng) for _ in range(8000)]  # 0, 3, 6, 9
    counts = np.bincount(np.array(draws) // 3, minlength=4) / len(draws)
    assert np.allclose(counts, 0.25, atol=0.02)


def test_randn_has_its_mean_and_sd():
    rng = np.random.default_rng(1)
    draws = np.array([space.randn(10, 2).sample(rng) for _ in range(5000)])
    assert abs(draws.mean() - 10) < 0.1 and abs(draws.std() - 2) < 0.1


@given(st.dictionaries(st.text("abc", min_size=1, max_size=3), ray_domains, max_size=4))
def test_json_round_trip_and_check_config(config_space):
    assert space.space_from_json(space.space_to_json(config_space)) == config_space
    config = space.sample(config_space, np.random.default_rng(0))
    space.check_config(config_space, config, what="sampled")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: space.quniform(0.1, 0.15, 0.2), "no multiple of q=0.2"),
        (lambda: space.quniform(0.0, 1.0, 0.0), "q must be a finite number > 0"),
        (lambda: space.qloguniform(0.0, 1.0, 0.1), "lo must be > 0 on a log scale"),
        (lambda: space.qrandint(1, 2, 5), "no multiple of q=5"),
        (lambda: space.qrandint(0, 10, 0), "q must be an integer >= 1"),
        (lambda: space.randn(0.0, 0.0), "sd must be a finite number > 0"),
        (lambda: space.sample_from(3), "fn must be a function"),
        (lambda: space.space_from_json({"a": {"quniform": [0, 1]}}), "takes [lo, hi, q]"),
        (lambda: space.space_from_json({"a": {"sample_from": "f"}}), "cannot be JSON"),
        (lambda: space.space_to_json({"a": space.sample_from(len)}), "no JSON form"),
    ],
)
def test_bad_domains_say_why(make, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        make()


def test_sample_from_is_seeded_by_the_run_and_leaves_the_global_generators_alone():
    """np.random and random inside the function give the same values for the same seed, other
    values for another seed, and the caller's global random state is as it was."""
    config_space = {
        "l1": space.sample_from(lambda _: 2 ** np.random.randint(2, 9)),
        "r": space.sample_from(lambda _: random.random()),
    }
    np.random.seed(123)
    random.seed(123)
    before = (np.random.random(), random.random())
    np.random.seed(123)
    random.seed(123)

    def run(seed):
        rng = np.random.default_rng(seed)
        return [space.sample(config_space, rng) for _ in range(20)]

    first, again, other = run(7), run(7), run(8)
    assert first == again
    assert first != other
    assert {c["l1"] for c in first} <= {4, 8, 16, 32, 64, 128, 256}
    assert len({c["l1"] for c in first}) > 2
    assert (np.random.random(), random.random()) == before  # untouched by the draws


def test_sample_from_sees_every_other_value_through_the_spec():
    """Like Ray Tune: computed after the other domains (whatever their key order), reading
    spec.config.name, spec.config["name"], and nested keys ("a/b") as spec.config.a.b."""
    config_space = {
        "double": space.sample_from(lambda spec: 2 * spec.config.x),
        "x": space.randint(1, 9),
        "nested/inner": 5,
        "sum": space.sample_from(lambda spec: spec.config["x"] + spec.config.nested.inner),
    }
    for seed in range(5):
        config = space.sample(config_space, np.random.default_rng(seed))
        assert list(config) == list(config_space)
        assert config["double"] == 2 * config["x"]
        assert config["sum"] == config["x"] + 5


def test_a_sample_from_that_raises_names_its_parameter():
    config_space = {"lr": space.sample_from(lambda spec: 1 / 0)}
    with pytest.raises(space.SampleFromError, match=r"'lr'.*ZeroDivisionError: division by zero"):
        space.sample(config_space, np.random.default_rng(0))
    config_space = {"b": space.sample_from(lambda spec: spec.config.missing)}
    with pytest.raises(space.SampleFromError, match="no value 'missing' drawn yet"):
        space.sample(config_space, np.random.default_rng(0))


# -- what the searchers make of them -----------------------------------------------------------


@given(st.dictionaries(st.text("abc", min_size=1, max_size=3), ray_domains, max_size=4))
def test_the_models_encoding_keeps_ray_domains(config_space):
    """encode -> snap -> decode gives the config back (multiples of q exactly; randn to
    rounding inside ~4.7 sd), and snapped random coordinates decode into the domains."""
    encoding = Encoding(config_space, "test")
    config = space.sample(config_space, np.random.default_rng(0))
    back = encoding.decode(encoding.snap(encoding.encode(config)[None, :])[0])
    for name, domain in config_space.items():
        if isinstance(domain, space.RandN) and abs(config[name] - domain.mean) > 4.5 * domain.sd:
            continue
        assert math.isclose(back[name], config[name], rel_tol=1e-7, abs_tol=1e-9)
    for x in encoding.uniform(np.random.default_rng(1), 50):
        decoded = encoding.decode(x)
        space.check_config(config_space, decoded, what="decoded")
        assert np.allclose(encoding.snap(encoding.encode(decoded)[None, :])[0], x)


def test_uniform_draws_in_the_encoding_reach_every_multiple():
    encoding = Encoding({"k": space.qrandint(-21, 12, 3), "z": space.randn(0, 1)}, "test")
    configs = [encoding.decode(x) for x in encoding.uniform(np.random.default_rng(0), 2000)]
    assert {c["k"] for c in configs} == set(range(-21, 13, 3))
    zs = np.array([c["z"] for c in configs])
    assert abs(zs.mean()) < 0.1 and abs(zs.std() - 1) < 0.1  # the CDF map keeps the prior


@pytest.mark.parametrize("searcher", [KDESearcher, GPSearcher])
def test_models_refuse_sample_from_naming_the_parameter(searcher):
    config_space = {"x": space.uniform(0, 1), "l1": space.sample_from(lambda _: 4)}
    with pytest.raises(
        ValueError, match=rf"parameter 'l1': {searcher.__name__} cannot model a SampleFrom"
    ):
        searcher().configure(config_space, mode="min", rng=np.random.default_rng(0))


def test_grid_searcher_enumerates_qrandint_and_needs_counts_for_real_ranges():
    grid = GridSearcher()
    grid.configure({"k": space.qrandint(0, 9, 3)}, mode="min", rng=np.random.default_rng(0))
    assert sorted(grid.suggest(i)["k"] for i in range(4)) == [0, 3, 6, 9]
    assert grid.suggest(4) is None
    grid = GridSearcher(num={"a": 3})
    grid.configure({"a": space.quniform(0, 1, 0.25)}, mode="min", rng=np.random.default_rng(0))
    assert sorted(grid.suggest(i)["a"] for i in range(3)) == [0.0, 0.5, 1.0]
    with pytest.raises(ValueError, match="give GridSearcher"):
        GridSearcher().configure(
            {"a": space.quniform(0, 1, 0.25)}, mode="min", rng=np.random.default_rng(0)
        )
    with pytest.raises(ValueError, match="cannot enumerate a RandN"):
        GridSearcher().configure({"z": space.randn()}, mode="min", rng=np.random.default_rng(0))


# -- VariantSearcher: Ray Tune's basic variant generation ----------------------------------------


def test_variant_searcher_sweeps_the_grid_repeat_times_and_draws_the_rest():
    config_space = {
        "a": space.grid_search([1, 2]),
        "b": space.grid_search(["x", "y", "z"]),
        "lr": space.loguniform(1e-3, 1),
        "twice": space.sample_from(lambda spec: spec.config.a * 2),
    }
    searcher = VariantSearcher(repeat=2)
    searcher.configure(config_space, mode="min", rng=np.random.default_rng(0))
    assert searcher.max_configs == 12
    configs = [searcher.suggest(i) for i in range(12)]
    assert searcher.suggest(12) is None
    sweep = [(c["a"], c["b"]) for c in configs]
    one = [(1, "x"), (1, "y"), (1, "z"), (2, "x"), (2, "y"), (2, "z")]
    assert sweep == one + one  # in order, the last parameter fastest, repeated
    assert all(c["twice"] == 2 * c["a"] for c in configs)  # sample_from sees the grid value
    assert len({c["lr"] for c in configs}) == 12  # drawn anew for every trial


def test_variant_searcher_without_a_grid_gives_repeat_random_configs_points_first():
    searcher = VariantSearcher(repeat=3)
    points = [{"lr": 0.5}]
    searcher.configure(
        {"lr": space.uniform(0, 1)},
        mode="min",
        rng=np.random.default_rng(0),
        points_to_evaluate=points,
    )
    configs = [searcher.suggest(i) for i in range(3)]
    assert configs[0] == {"lr": 0.5}
    assert searcher.suggest(3) is None
