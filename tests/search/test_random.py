"""RandomSearcher reproduces the schedulers' own sampling draw for draw, so seeded traces stay
byte-identical once schedulers go through it."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from ashasim import space
from ashasim.core import ASHA, Decision
from ashasim.search import RandomSearcher
from tests.strategies import search_spaces


@given(search_spaces, st.integers(0, 2**32 - 1), st.integers(0, 6), st.data())
def test_configs_equal_space_sample_on_an_identically_seeded_generator(
    config_space, seed, n_points, data
):
    """config = sample(space, rng), then the next point's keys written over it; the sample is
    drawn even when a point is given, and a point may give only some keys. The generator is left
    exactly where the schedulers' own code leaves it."""
    other = np.random.default_rng(seed + 1)
    points = []
    for _ in range(n_points):
        full = space.sample(config_space, other)
        keys = data.draw(
            st.lists(st.sampled_from(sorted(full)), unique=True) if full else st.just([])
        )
        points.append({key: full[key] for key in keys})
    searcher, rng = RandomSearcher(), np.random.default_rng(seed)
    searcher.configure(config_space, mode="min", rng=rng, points_to_evaluate=points)
    expected_rng = np.random.default_rng(seed)
    for trial_id in range(n_points + 4):
        expected = space.sample(config_space, expected_rng)
        if trial_id < n_points:
            expected.update(points[trial_id])
        config = searcher.suggest(trial_id)
        assert repr(config) == repr(expected)
        searcher.on_result(trial_id, 1, 0.5)  # results change nothing
        searcher.on_end(trial_id)
    assert rng.random() == expected_rng.random()


def test_points_come_first_in_order_then_draws():
    config_space = {"lr": space.loguniform(1e-3, 1.0), "bs": space.randint(32, 256), "epochs": 10}
    searcher = RandomSearcher()
    searcher.configure(
        config_space,
        mode="max",
        rng=np.random.default_rng(3),
        points_to_evaluate=[{"lr": 0.1, "bs": 64}, {"bs": 32}],
    )
    first, second, third = (searcher.suggest(t) for t in range(3))
    assert (first["lr"], first["bs"], first["epochs"]) == (0.1, 64, 10)
    assert second["bs"] == 32 and second["lr"] != 0.1
    assert 1e-3 <= third["lr"] <= 1.0 and 32 <= third["bs"] <= 256


@given(search_spaces, st.integers(0, 2**16), st.integers(0, 3), st.data())
def test_configs_equal_what_asha_gives_its_trials_today(config_space, seed, n_points, data):
    """The schedulers' own sampling (SchedulerBase._new_trial) and RandomSearcher agree trial by
    trial, points included: wiring the searcher in leaves seeded traces unchanged."""
    other = np.random.default_rng(seed + 7)
    points = []
    for _ in range(n_points):
        full = space.sample(config_space, other)
        keys = data.draw(
            st.lists(st.sampled_from(sorted(full)), unique=True) if full else st.just([])
        )
        points.append({key: full[key] for key in keys})
    scheduler = ASHA(
        config_space, type="promotion", max_t=9, seed=seed, max_trials=12, points_to_evaluate=points
    )
    first_configs = {}
    while (job := scheduler.suggest()) is not None:
        first_configs.setdefault(job.trial_id, job.config)
        for resource in range(job.resume_from + 1, job.milestone + 1):
            if scheduler.report(job.trial_id, resource, float(job.trial_id % 5)) is Decision.STOP:
                break
    searcher = RandomSearcher()
    searcher.configure(
        config_space, mode="min", rng=np.random.default_rng(seed), points_to_evaluate=points
    )
    assert len(first_configs) == 12
    for trial_id, config in sorted(first_configs.items()):
        assert repr(searcher.suggest(trial_id)) == repr(config)
