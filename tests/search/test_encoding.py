"""The shared [0, 1] encoding: configs survive encode -> snap -> decode, and uniform draws in the
encoding cover every option and every integer."""

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from ashasim import space
from ashasim.search._encoding import Encoding
from tests.search.driving import assert_in_space
from tests.strategies import search_spaces


@given(search_spaces, st.integers(0, 2**32 - 1))
def test_configs_survive_encode_snap_decode(config_space, seed):
    """Options and integers come back exactly, reals to rounding; the key is unchanged."""
    encoding = Encoding(config_space, "test")
    config = space.sample(config_space, np.random.default_rng(seed))
    x = encoding.encode(config)
    assert x.shape == (encoding.d,)
    assert np.all((x[encoding.cont] >= 0) & (x[encoding.cont] <= 1))
    back = encoding.decode(encoding.snap(x[None, :])[0])
    assert_in_space(config_space, back)
    for name, value in config.items():
        if isinstance(value, float):
            assert math.isclose(back[name], value, rel_tol=1e-9, abs_tol=1e-9 * (1 + abs(value)))
        else:
            assert back[name] == value
    if all(not isinstance(v, float) for v in config.values()):
        assert encoding.key(back) == encoding.key(config)


def test_uniform_draws_reach_every_option_and_integer():
    config_space = {
        "opt": space.choice(["a", "b", "c", "d", "e"]),
        "grid": space.grid_search([1, 2, 3]),
        "k": space.randint(-2, 2),
        "w": space.lograndint(1, 6),
        "lr": space.loguniform(1e-4, 1.0),
    }
    encoding = Encoding(config_space, "test")
    configs = [encoding.decode(x) for x in encoding.uniform(np.random.default_rng(0), 2000)]
    assert {c["opt"] for c in configs} == {"a", "b", "c", "d", "e"}
    assert {c["grid"] for c in configs} == {1, 2, 3}
    assert {c["k"] for c in configs} == {-2, -1, 0, 1, 2}
    assert {c["w"] for c in configs} == {1, 2, 3, 4, 5, 6}
    lrs = np.log10([c["lr"] for c in configs])
    assert 0.2 < np.mean(lrs < -3) < 0.3  # log-uniform: a quarter of the log range


def test_single_valued_domains_and_constants_have_no_coordinate():
    encoding = Encoding({"a": space.randint(3, 3), "b": space.choice([7, 7]), "c": "x"}, "test")
    assert encoding.d == 0
    assert encoding.decode(np.empty(0)) == {"a": 3, "b": 7, "c": "x"}
    assert list(encoding.all_configs()) == [{"a": 3, "b": 7, "c": "x"}]
