"""Properties every searcher keeps, whatever the space and the calls: configs lie in the space with
the domain's types, the same seed and calls give the same proposals, model-based searchers never
propose a config that is still pending, and the protocol's misuse fails early."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ashasim import space
from ashasim.search import GPSearcher, GridSearcher, KDESearcher, RandomSearcher, Searcher
from tests.search.driving import capacity, play
from tests.strategies import roomy_spaces, search_spaces, searcher_calls

NAMES = ["random", "grid", "kde", "gp", "gp-mf"]


def make(name: str, config_space: dict, data: st.DataObject) -> Searcher:
    """A searcher with options that bring its model into play within a few results."""
    if name == "random":
        return RandomSearcher()
    if name == "grid":
        numeric = (space.Uniform, space.LogUniform, space.RandInt, space.LogRandInt)
        return GridSearcher(num={n: 3 for n, d in config_space.items() if isinstance(d, numeric)})
    min_points = data.draw(st.integers(1, 3), label="min_points")
    if name == "kde":
        fraction = data.draw(st.sampled_from([0.0, 1 / 3]), label="random_fraction")
        samples = data.draw(st.sampled_from([1, 8, 24, 64]), label="num_samples")
        return KDESearcher(min_points=min_points, random_fraction=fraction, num_samples=samples)
    steps = data.draw(st.integers(0, 3), label="random_search_steps")
    return GPSearcher(
        min_points=min_points,
        random_search_steps=steps,
        num_candidates=32,
        fidelity=name == "gp-mf",
    )


@pytest.mark.parametrize("name", NAMES)
@given(
    config_space=search_spaces,
    calls=searcher_calls,
    seed=st.integers(0, 2**32 - 1),
    mode=st.sampled_from(["min", "max"]),
    data=st.data(),
)
def test_configs_lie_in_the_space_and_repeat_under_the_same_seed(
    name, config_space, calls, seed, mode, data
):
    """Every config has every key of the space, in order: reals are floats and ints are ints
    within bounds, options are options, constants are copied; after results (NaN/inf included),
    failures and ends as much as before. A second searcher built alike, fed the same calls with
    the same seed, proposes the same configs (repr: types too)."""
    searcher = make(name, config_space, data)
    first = play(searcher, config_space, calls, seed=seed, mode=mode)  # checks every config
    twin = type(searcher)(**_options(searcher))
    again = play(twin, config_space, calls, seed=seed, mode=mode)
    assert repr(first.configs) == repr(again.configs)


def _options(searcher: Searcher) -> dict:
    settings = searcher.describe()
    settings.pop("name")
    return settings


@pytest.mark.parametrize("name", ["kde", "gp", "gp-mf"])
@given(
    config_space=roomy_spaces,
    calls=searcher_calls,
    seed=st.integers(0, 2**32 - 1),
    mode=st.sampled_from(["min", "max"]),
    data=st.data(),
)
def test_model_searchers_never_repeat_a_pending_config(name, config_space, calls, seed, mode, data):
    """While the space holds more configs than are pending, a proposal differs from every config
    still pending (suggested, with no result, failure or end yet): concurrent workers never train
    the same config twice."""
    log = play(make(name, config_space, data), config_space, calls, seed=seed, mode=mode)
    room = capacity(config_space)
    for config, pending in zip(log.configs, log.pending_then):
        if len(pending) < room:
            assert config not in pending


@pytest.mark.parametrize("name", ["kde", "gp"])
def test_model_searchers_avoid_pending_configs_in_a_tiny_finite_space(name):
    """Two options, one pending: the model's favourite is pending, so the other comes; with
    both pending a repeat cannot be avoided and the searcher still answers."""
    config_space = {"opt": space.choice(["a", "b"]), "epochs": 3}
    searcher = KDESearcher(min_points=1) if name == "kde" else GPSearcher(min_points=1)
    searcher.configure(config_space, mode="min", rng=np.random.default_rng(0))
    for trial_id in range(6):  # "a" scores best: the model wants "a"
        config = searcher.suggest(trial_id)
        searcher.on_result(trial_id, 1, 0.0 if config["opt"] == "a" else 1.0)
        searcher.on_end(trial_id)
    first = searcher.suggest(10)
    second = searcher.suggest(11)
    assert {first["opt"], second["opt"]} == {"a", "b"}
    assert searcher.suggest(12)["opt"] in ("a", "b")


@pytest.mark.parametrize("cls", [RandomSearcher, GridSearcher, KDESearcher, GPSearcher])
def test_a_searcher_serves_one_scheduler(cls):
    searcher = cls()
    with pytest.raises(ValueError, match="not configured"):
        searcher.suggest(0)
    searcher.configure({"x": 1}, mode="min", rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="already configured"):
        searcher.configure({"x": 1}, mode="min", rng=np.random.default_rng(0))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "minimize"}, "mode must be one of 'min', 'max'; got 'minimize'"),
        ({"rng": 0}, "rng must be a numpy.random.Generator"),
        ({"points_to_evaluate": [{"lr": 2.0}]}, r"points_to_evaluate\[0\]: lr=2.0 is outside"),
        ({"points_to_evaluate": [{"wd": 0.1}]}, r"points_to_evaluate\[0\]: 'wd' is not in"),
        ({"points_to_evaluate": [3]}, r"points_to_evaluate\[0\] must be a dict"),
    ],
)
@pytest.mark.parametrize("cls", [RandomSearcher, GridSearcher, KDESearcher, GPSearcher])
def test_configure_checks_its_arguments(cls, kwargs, message):
    arguments = {"mode": "min", "rng": np.random.default_rng(0), **kwargs}
    searcher = cls(num={"lr": 2}) if cls is GridSearcher else cls()
    with pytest.raises(ValueError, match=message):
        searcher.configure({"lr": space.loguniform(1e-3, 1.0)}, **arguments)
    # A failed configure leaves the searcher unconfigured, so it can be configured properly.
    searcher.configure(
        {"lr": space.loguniform(1e-3, 1.0)}, mode="min", rng=np.random.default_rng(0)
    )


@pytest.mark.parametrize("cls", [KDESearcher, GPSearcher])
def test_model_searchers_check_the_calls_they_get(cls):
    searcher = cls()
    searcher.configure(
        {"lr": space.loguniform(1e-3, 1.0)}, mode="min", rng=np.random.default_rng(0)
    )
    searcher.suggest(0)
    with pytest.raises(ValueError, match="trial_id 0 was already suggested"):
        searcher.suggest(0)
    with pytest.raises(ValueError, match="unknown trial_id 7"):
        searcher.on_result(7, 1, 0.5)
    with pytest.raises(ValueError, match="resource must be an integer"):
        searcher.on_result(0, 1.5, 0.5)


class _Custom(space.Domain):
    kind = "custom"

    def sample(self, rng):
        return rng.random()

    def contains(self, value):
        return True


@pytest.mark.parametrize("cls", [KDESearcher, GPSearcher])
def test_model_searchers_name_a_domain_they_cannot_model(cls):
    with pytest.raises(ValueError, match="parameter 'odd'.*cannot model a _Custom domain"):
        cls().configure({"odd": _Custom()}, mode="min", rng=np.random.default_rng(0))


def test_the_base_class_is_a_protocol_to_subclass():
    """A user's searcher overrides suggest; the hooks default to doing nothing."""

    class FirstOption(Searcher):
        def suggest(self, trial_id):
            point = self._next_point()
            return {"opt": "a", **(point or {})}

    searcher = FirstOption()
    rng = np.random.default_rng(0)
    points = [{"opt": "b"}]
    searcher.configure(
        {"opt": space.choice(["a", "b"])}, mode="max", rng=rng, points_to_evaluate=points
    )
    assert [searcher.suggest(0), searcher.suggest(1)] == [{"opt": "b"}, {"opt": "a"}]
    searcher.on_result(0, 1, 0.3)
    searcher.on_failure(1)
    searcher.on_end(0)
    assert searcher.describe() == {"name": "FirstOption"}
    with pytest.raises(NotImplementedError):
        Searcher.suggest(searcher, 2)


@pytest.mark.parametrize("cls", [KDESearcher, GPSearcher])
@given(config_space=search_spaces, seed=st.integers(0, 2**32 - 1), data=st.data())
def test_model_searchers_hand_out_points_as_random_search_does(cls, config_space, seed, data):
    """points_to_evaluate come first, completed by a draw exactly as RandomSearcher completes
    them; once they report they are observations like any other."""
    full = [space.sample(config_space, np.random.default_rng(seed + i)) for i in range(3)]
    points = [
        {k: v for k, v in p.items() if data.draw(st.booleans(), label=f"keep {k}")} for p in full
    ]
    searcher, reference = cls(), RandomSearcher()
    searcher.configure(
        config_space, mode="min", rng=np.random.default_rng(seed), points_to_evaluate=points
    )
    reference.configure(
        config_space, mode="min", rng=np.random.default_rng(seed), points_to_evaluate=points
    )
    for trial_id in range(3):
        assert repr(searcher.suggest(trial_id)) == repr(reference.suggest(trial_id))
        searcher.on_result(trial_id, 2, float(trial_id))
    assert searcher.levels[2].n == 3


@pytest.mark.parametrize("cls", [KDESearcher, GPSearcher])
def test_failures_are_dropped_not_counted(cls):
    """A failed trial stops being pending and adds no observation; results it reported before
    the crash stay."""
    searcher = cls()
    searcher.configure({"x": space.uniform(0, 1)}, mode="min", rng=np.random.default_rng(0))
    for trial_id in range(3):
        searcher.suggest(trial_id)
    searcher.on_result(0, 1, 0.5)
    searcher.on_failure(0)
    searcher.on_failure(1)
    assert searcher.levels[1].n == 1 and list(searcher._pending) == [2]
    assert searcher.model_level is None  # 1 result < min_points = 2
