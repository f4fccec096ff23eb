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
