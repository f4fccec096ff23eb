"""Shared hypothesis strategies: spaces, rung ladders, metric streams (map, don't filter)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from hypothesis import strategies as st

from ashasim import space

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
ordered_pair = st.tuples(finite, finite).filter(lambda p: p[0] != p[1]).map(sorted)
positive_pair = (
    st.tuples(st.floats(1e-6, 1e6), st.floats(1e-6, 1e6)).filter(lambda p: p[0] != p[1]).map(sorted)
)
int_pair = st.tuples(st.integers(-1000, 1000), st.integers(0, 1000)).map(
    lambda p: (p[0], p[0] + p[1])
)

domains = st.one_of(
    ordered_pair.map(lambda p: space.uniform(*p)),
    positive_pair.map(lambda p: space.loguniform(*p)),
    int_pair.map(lambda p: space.randint(*p)),
    st.tuples(st.integers(1, 1000), st.integers(0, 1000)).map(
        lambda p: space.lograndint(p[0], p[0] + p[1])
    ),
    st.lists(st.one_of(st.integers(), st.text(max_size=3)), min_size=1, max_size=5).map(
        space.choice
    ),
)
constants = st.one_of(st.integers(-5, 5), st.text(max_size=4), st.booleans())

spaces = st.dictionaries(
    st.text("abcdefgh_", min_size=1, max_size=6), st.one_of(domains, constants), max_size=4
)


@dataclass(frozen=True)
class Ladder:
    grace_period: int
    max_t: int
    eta: int


@st.composite
def ladders(draw: st.DrawFn, max_rungs: int = 3) -> Ladder:
    """A rung ladder: r_min * eta**k up to r_max, sometimes with an r_max off the eta grid."""
    eta = draw(st.sampled_from([2, 3, 4]))
    grace = draw(st.integers(1, 2))
    rungs = draw(st.integers(1, max_rungs))
    extra = draw(st.integers(0, eta - 1))
    return Ladder(grace, grace * eta**rungs + extra, eta)


special = st.sampled_from([math.nan, math.inf, -math.inf])
metric_values = st.lists(st.one_of(finite, special), min_size=1, max_size=40)
finite_metric_values = st.lists(finite, min_size=1, max_size=40)


def metric_stream(values: list[float]):
    """A deterministic metric(trial_id, resource) built from drawn values (repeats make ties)."""

    def metric(trial_id: int, resource: int) -> float:
        return values[(7 * trial_id + 3 * resource) % len(values)]

    return metric


# -- searchers (tests/search) -----------------------------------------------------------------

option_lists = st.lists(st.one_of(st.integers(), st.text(max_size=3)), min_size=1, max_size=5)
search_domains = st.one_of(domains, option_lists.map(space.grid_search))
names = st.text("abcdefgh_", min_size=1, max_size=6)
search_spaces = st.dictionaries(names, st.one_of(search_domains, constants), max_size=4)

# Real ranges wide enough that distinct draws are distinct configs (no subnormal-width ranges), so
# a test can tell when "no proposal repeats a pending config" is achievable: always with a real
# parameter, else while fewer configs are pending than the space holds. Built by mapping integers.
roomy_reals = st.one_of(
    st.tuples(st.integers(-40, 40), st.integers(1, 40)).map(
        lambda p: space.uniform(p[0] / 4, (p[0] + p[1]) / 4)
    ),
    st.tuples(st.integers(-6, 2), st.integers(1, 6)).map(
        lambda p: space.loguniform(10.0 ** p[0], 10.0 ** (p[0] + p[1]))
    ),
)
roomy_domains = st.one_of(
    roomy_reals,
    int_pair.map(lambda p: space.randint(*p)),
    st.tuples(st.integers(1, 100), st.integers(1, 100)).map(
        lambda p: space.lograndint(p[0], p[0] + p[1])
    ),
    option_lists.map(space.choice),
    option_lists.map(space.grid_search),
)
roomy_spaces = st.dictionaries(names, st.one_of(roomy_domains, constants), min_size=1, max_size=4)

# Small finite domains for grids: small integer ranges, options, constants; real ranges get a
# count from grid_setups.
grid_domains = st.one_of(
    st.tuples(st.integers(-5, 5), st.integers(0, 4)).map(
        lambda p: space.randint(p[0], p[0] + p[1])
    ),
    st.tuples(st.integers(1, 5), st.integers(0, 4)).map(
        lambda p: space.lograndint(p[0], p[0] + p[1])
    ),
    option_lists.map(space.choice),
    option_lists.map(space.grid_search),
    roomy_reals,
    constants,
)


@st.composite
def grid_setups(draw: st.DrawFn) -> tuple[dict, dict[str, int]]:
    """A space of grid-able parameters and ``num`` counts: every real range gets one, integer
    ranges sometimes."""
    config_space = draw(st.dictionaries(names, grid_domains, max_size=4))
    num = {}
    for name, domain in config_space.items():
        numeric = isinstance(domain, (space.RandInt, space.LogRandInt))
        if isinstance(domain, (space.Uniform, space.LogUniform)) or (
            numeric and draw(st.booleans())
        ):
            num[name] = draw(st.integers(1, 4))
    return config_space, num


# A searcher's life as a list of calls, mapped onto legal calls by tests/search/driving.py:
# (what, which trial among the active ones, resource level, metric).
searcher_calls = st.lists(
    st.tuples(
        st.sampled_from(["suggest", "suggest", "result", "result", "result", "fail", "end"]),
        st.integers(0, 1000),
        st.integers(1, 3),
        st.one_of(finite, finite, special),
    ),
    min_size=8,
    max_size=50,
)


@st.composite
def schedulers(
    draw: st.DrawFn, max_trials=st.integers(1, 30), space=None, max_t: int = 9, names=None
):
    """Any scheduler the factory builds by name (every overlap and retrain setting for the
    synchronous ones), on the LeNet-like space unless another is given; *names* narrows the
    choice (default: every name but the searcher combinations)."""
    from ashasim.core import make_scheduler
    from ashasim.core.defaults import OVERLAPS
    from ashasim.core.factory import COMBINATIONS, SCHEDULER_NAMES
    from ashasim.sim import LearningCurves

    if names is None:
        names = [n for n in SCHEDULER_NAMES if n not in COMBINATIONS]
    name = draw(st.sampled_from(list(names)))
    options = {
        "max_t": max_t,
        "grace_period": 1,
        "reduction_factor": draw(st.sampled_from([2, 3])),
        "max_trials": draw(max_trials),
        "seed": draw(st.integers(0, 50)),
    }
    if name.startswith("sync"):
        options.update(overlap=draw(st.sampled_from(OVERLAPS)), resume=draw(st.booleans()))
    if space is None:
        space = LearningCurves(max_epochs=max_t).config_space
    return make_scheduler(name, space, **options)
