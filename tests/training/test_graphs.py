"""The CUDA-graph step runner.

On CPU, ``GraphRunner(capture=False)`` runs exactly the bodies it would capture (static index
buffers, gather inside the step, static loss total, warm-up with the trial's state put back), so
everything except ``torch.cuda.graph`` itself is checked here bit for bit against the reference
``train_epoch``. The tests at the end capture real graphs and need a GPU; they are skipped,
saying so, without one (``experiments/gpu_check.py`` checks the same on a GPU).
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch", reason="needs the torch extra: pip install -e '.[torch]'")

from ashasim.training import trial as tr  # noqa: E402
from ashasim.training.batching import Batch, plan_epoch  # noqa: E402
from ashasim.training.fashion_data import FashionData  # noqa: E402
from ashasim.training.graphs import GraphRunner, StaticIndices  # noqa: E402
from tests.training.helpers import (  # noqa: E402
    assert_same_params,
    assert_same_state,
    fresh,
    momentum_sgd,
    reference_history,
    runner_history,
)

needs_cuda = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="captures CUDA graphs: needs a CUDA GPU"
)


def test_static_indices_copy_each_batch_into_its_shapes_buffer():
    plan = plan_epoch(10, 4)  # batches of 4, 4, 2
    indices = StaticIndices(plan, torch.device("cpu"))
    assert sorted(indices.buffers) == [2, 4]
    addresses = {size: buffer.data_ptr() for size, buffer in indices.buffers.items()}
    order = torch.tensor([9, 3, 0, 7, 1, 8, 2, 6, 5, 4])
    seen = [indices.load(order, batch).clone() for batch in plan]
    assert [s.tolist() for s in seen] == [[9, 3, 0, 7], [1, 8, 2, 6], [5, 4]]
    assert indices.load(order, Batch(4, 4)) is indices.buffers[4]  # the buffer itself
    # the same memory every step: a captured graph reads these addresses
    assert {size: buffer.data_ptr() for size, buffer in indices.buffers.items()} == addresses


@pytest.mark.parametrize("batch_size", [64, 100])  # with a remainder graph; without
@pytest.mark.parametrize("warmup", [0, 2])
@pytest.mark.parametrize("optimizer", [None, momentum_sgd], ids=["plain", "momentum"])
def test_the_captured_bodies_are_the_reference_bit_for_bit(data, batch_size, warmup, optimizer):
    """Warm-up steps train the model and create SGD's momentum buffers; putting the state back
    (a zero buffer standing for "none yet") leaves the trial exactly as the reference's."""
    config = {"learning_rate": 0.3, "batch_size": batch_size}
    reference = fresh(data, config, optimizer=optimizer)
    candidate = fresh(data, config, optimizer=optimizer)
    expected = reference_history(reference, 3)
    runner = GraphRunner(
        candidate.model, candidate.optimizer, data, batch_size, capture=False, warmup=warmup
    )
    assert runner_history(candidate, runner, 3) == expected
    assert_same_params(candidate.model, reference.model)
    assert_same_state(candidate.optimizer, reference.optimizer)


def test_warm_up_puts_restored_momentum_buffers_back(data):
    """A trial resumed from a checkpoint has momentum buffers before warm-up: they are copied
    back, not zeroed, and the resumed run equals the run straight through."""
    straight = fresh(data, optimizer=momentum_sgd)
    expected = reference_history(straight, 3)

    paused = fresh(data, optimizer=momentum_sgd)
    reference_history(paused, 2)
    state = paused.state_dict()
    resumed = fresh(data, optimizer=momentum_sgd)
    resumed.load_state_dict(state)
    runner = GraphRunner(resumed.model, resumed.optimizer, data, 64, capture=False, warmup=3)
    assert runner_history(resumed, runner, 1) == expected[2:]
    assert_same_params(resumed.model, straight.model)
    assert_same_state(resumed.optimizer, straight.optimizer)


def test_checkpoints_move_between_runners(data):
    """Two epochs by the graph bodies, a checkpoint through torch.save-able CPU tensors, then
    the eager runner of a restored trial: the same as the reference straight through."""
    straight = fresh(data)
    expected = reference_history(straight, 4)

    first = fresh(data)
    runner = GraphRunner(first.model, first.optimizer, data, 64, capture=False, warmup=1)
    history = runner_history(first, runner, 2)
    resumed = tr.restore_trial(first.state_dict(), data=data, step="eager")
    assert resumed.epoch == 2
    history += [(resumed.train_epoch(), resumed.validation_error()) for _ in range(2)]
    assert history == expected
    assert_same_params(resumed.model, straight.model)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda m: torch.optim.Adam(m.parameters()), "supports torch.optim.SGD, got Adam"),
        (lambda m: torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, dampening=0.1), "damp"),
    ],
)
def test_unsupported_optimizers_are_refused(data, make, match):
    trial = fresh(data)
    with pytest.raises(ValueError, match=f"^optimizer: .*{match}"):
        GraphRunner(trial.model, make(trial.model), data, 64, capture=False)


def test_bad_arguments(data):
    trial = fresh(data)
    with pytest.raises(ValueError, match="capture=True needs a CUDA device"):
        GraphRunner(trial.model, trial.optimizer, data, 64, capture=True)
    with pytest.raises(ValueError, match="^warmup must be"):
        GraphRunner(trial.model, trial.optimizer, data, 64, capture=False, warmup=-1)
    with pytest.raises(ValueError, match="^batch_size must be"):
        GraphRunner(trial.model, trial.optimizer, data, 0, capture=False)
    runner = GraphRunner(trial.model, trial.optimizer, data, 64)
    assert not runner.capture  # the default off CUDA
    assert runner.warmup == 0


# ---------------------------------------------------------------------------------------------
# On a GPU
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cuda_data(data):
    return FashionData(
        data.train_x.cuda(), data.train_y.cuda(), data.test_x.cuda(), data.test_y.cuda()
    )


@needs_cuda
def test_graph_replay_follows_the_eager_step_on_a_gpu(cuda_data):
    """Captured graphs train the same trial as the eager runner: same batches, the same
    kernels; equal up to atomics in cuDNN's backward (tolerance, not bit equality)."""
    config = {"learning_rate": 0.3, "batch_size": 64}
    eager = tr.make_trial(config, data=cuda_data, seed=4, step="eager")
    graph = tr.make_trial(config, data=cuda_data, seed=4)  # auto: graph on CUDA
    assert type(graph.runner) is GraphRunner and graph.runner.capture
    for _ in range(3):
        loss_e, loss_g = eager.train_epoch(), graph.train_epoch()
        assert loss_g == pytest.approx(loss_e, rel=1e-4)
        assert graph.validation_error() == pytest.approx(eager.validation_error(), abs=0.02)
    for a, b in zip(eager.model.parameters(), graph.model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-4)


@needs_cuda
def test_a_graph_checkpoint_resumes_on_a_gpu(cuda_data):
    config = {"learning_rate": 0.3, "batch_size": 64}
    first = tr.make_trial(config, data=cuda_data, seed=4)
    first.train_epoch()
    resumed = tr.restore_trial(first.state_dict(), data=cuda_data, step="eager")
    first.train_epoch()
    resumed.train_epoch()
    for a, b in zip(first.model.parameters(), resumed.model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-4)
