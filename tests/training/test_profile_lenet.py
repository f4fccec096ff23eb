"""experiments/profile_lenet.py on CPU: the per-step split adds up, and the trimmed eager step
dispatches fewer operators than the reference one."""

from __future__ import annotations

import pytest

pytest.importorskip("torch", reason="needs the torch extra: pip install -e '.[torch]'")

from experiments import profile_lenet


@pytest.mark.parametrize("kind", ["old", "eager"])
def test_the_split_adds_up_to_the_profiled_time(data, kind):
    row = profile_lenet.profile_step(kind, data, batch_size=32, steps=4, repeats=1)
    assert (row.runner, row.batch_size) == (kind, 32)
    assert row.wall_us > 0
    parts = row.python_us + row.dispatch_us + row.device_us
    assert parts == pytest.approx(row.profiled_us, rel=1e-6)
    assert row.device_us > 0.3 * row.profiled_us  # on CPU the arithmetic dominates
    assert min(row.python_us, row.dispatch_us) > 0
    assert row.ops > 30  # forward, loss, backward and update operators


def test_the_eager_runner_calls_fewer_operators(data):
    old = profile_lenet.profile_step("old", data, batch_size=32, steps=4, repeats=1)
    new = profile_lenet.profile_step("eager", data, batch_size=32, steps=4, repeats=1)
    assert new.ops < old.ops  # one _foreach_add_ instead of an add_ per parameter, ...


def test_steps_must_fit_the_data(data):
    with pytest.raises(ValueError, match="^steps: 100 x 32 images > the 600 loaded"):
        profile_lenet.profile_step("old", data, batch_size=32, steps=100)
    with pytest.raises(ValueError, match="^runner must be"):
        profile_lenet.profile_step("fast", data, batch_size=32, steps=2)


def test_the_table():
    row = profile_lenet.Row("old", 32, 4000.0, 5000.0, 1000.0, 500.0, 3500.0, 75.0, 66.0)
    table = profile_lenet.format_table([row], "title")
    assert table.splitlines()[0] == "title"
    # shares of the profiled time, in us of the unprofiled wall time
    assert "| old | 32 | 4,000 | 5,000 | 800 (20%) | 400 (10%) | 2,800 (70%) | 75 | 66 |" in table
