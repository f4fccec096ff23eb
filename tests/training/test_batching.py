"""The epoch's batch plan: which static shapes a captured step needs, and which slice each step
copies. Pure Python; the properties compare it with the eager step's slicing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ashasim.training.batching import Batch, plan_epoch


def eager_slices(n: int, b: int) -> list[tuple[int, int]]:
    """(start, size) of every batch, as train_epoch slices ``order[start:start + b]``."""
    return [(start, min(b, n - start)) for start in range(0, n, b)]


def test_full_batches_then_the_remainder():
    plan = plan_epoch(600, 64)
    assert (plan.full_batches, plan.remainder, len(plan)) == (9, 24, 10)
    assert plan.shapes == (64, 24)
    batches = list(plan)
    assert batches[:2] == [Batch(0, 64), Batch(64, 64)]
    assert batches[-1] == Batch(576, 24)
    assert batches[-1].stop == 600


def test_no_remainder_and_one_short_batch():
    assert plan_epoch(600, 100).shapes == (100,)  # divides: one shape, one graph
    assert list(plan_epoch(600, 1000)) == [Batch(0, 600)]  # bigger than n: one short batch
    assert plan_epoch(600, 1000).shapes == (600,)
    assert plan_epoch(60_000, 108).shapes == (108, 60)  # the GPU check's batch size


@given(st.integers(1, 5_000), st.integers(1, 600))
def test_the_plan_is_the_eager_steps_batches(n, b):
    plan = plan_epoch(n, b)
    batches = list(plan)
    assert [(batch.start, batch.size) for batch in batches] == eager_slices(n, b)
    assert len(batches) == len(plan)
    # consecutive slices that cover 0..n exactly once
    assert batches[0].start == 0
    assert all(a.stop == c.start for a, c in zip(batches, batches[1:]))
    assert batches[-1].stop == n
    # one or two static shapes; only the last batch may have the second
    assert 1 <= len(plan.shapes) <= 2
    assert {batch.size for batch in batches} == set(plan.shapes)
    assert all(batch.size == b for batch in batches[:-1])


@pytest.mark.parametrize(
    ("n", "batch_size", "name"),
    [(0, 32, "n"), (-5, 32, "n"), (10, 0, "batch_size"), (10, 2.5, "batch_size"), (True, 3, "n")],
)
def test_bad_sizes_name_the_parameter(n, batch_size, name):
    with pytest.raises(ValueError, match=f"^{name} must be an integer >= 1"):
        plan_epoch(n, batch_size)
