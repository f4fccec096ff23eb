"""Step runners: choosing one, the eager runner's bit-for-bit equality with the reference
``train_epoch``, and the plain-SGD fast path. CPU only; nothing here initializes CUDA."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch", reason="needs the torch extra: pip install -e '.[torch]'")

from ashasim.training import trial as tr  # noqa: E402
from ashasim.training.fashion_data import load_fashion_mnist  # noqa: E402
from ashasim.training.runner_base import (  # noqa: E402
    SGDUpdate,
    default_eval_batch_size,
    is_plain_sgd,
)
from ashasim.training.steps import EagerRunner, make_runner, resolve_step  # noqa: E402
from tests.lenet_data import write_dataset  # noqa: E402
from tests.training.helpers import (  # noqa: E402
    assert_same_params,
    assert_same_state,
    fresh,
    momentum_sgd,
    reference_history,
    runner_history,
)


def test_resolve_step():
    assert resolve_step("auto", "cpu") == "eager"
    assert resolve_step("auto", "cuda") == "graph"  # parses the name only; CUDA is not touched
    assert resolve_step("auto", torch.device("cuda", 1)) == "graph"
    assert resolve_step("compile", "cpu") == "compile"
    assert resolve_step("eager", "cuda:0") == "eager"
    with pytest.raises(ValueError, match="step='graph'.*needs a CUDA device"):
        resolve_step("graph", "cpu")
    with pytest.raises(ValueError, match="^step must be one of auto, eager, graph, compile"):
        resolve_step("graphs", "cpu")


def test_trials_choose_their_runner(data):
    trial = tr.make_trial({"learning_rate": 0.1}, data=data, seed=0)
    assert trial.step == "auto"
    assert type(trial.runner) is EagerRunner  # auto on CPU
    assert trial.runner is trial.runner  # built once
    trial.optimizer = momentum_sgd(trial.model)
    assert trial.runner.optimizer is trial.optimizer  # rebuilt for the new optimizer
    with pytest.raises(ValueError, match="needs a CUDA device"):
        tr.make_trial({"learning_rate": 0.1}, data=data, seed=0, step="graph")
    with pytest.raises(ValueError, match="^step must be one of"):
        tr.make_trial({"learning_rate": 0.1}, data=data, seed=0, step="fast")
    with pytest.raises(ValueError, match="^batch_size must be >= 1"):
        tr.make_trial({"learning_rate": 0.1, "batch_size": 0}, data=data, seed=0)
    assert type(make_runner("eager", trial.model, trial.optimizer, data, 32)) is EagerRunner


def test_epoch_order_is_the_reference_shuffle(data):
    order = tr.epoch_order(7, 3, data)
    assert torch.equal(order, torch.randperm(data.n_train, generator=tr.epoch_generator(7, 3)))
    assert order.device == data.device


@pytest.mark.parametrize("batch_size", [64, 100, 1000])  # remainder 24; none; one short batch
@pytest.mark.parametrize("optimizer", [None, momentum_sgd], ids=["plain", "momentum"])
def test_eager_runner_is_the_reference_bit_for_bit(data, batch_size, optimizer):
    config = {"learning_rate": 0.3, "batch_size": batch_size}
    reference, candidate = (
        fresh(data, config, optimizer=optimizer),
        fresh(data, config, optimizer=optimizer),
    )
    expected = reference_history(reference, 3)
    runner = EagerRunner(candidate.model, candidate.optimizer, data, batch_size)
    assert runner.update.plain is (optimizer is None)
    assert runner_history(candidate, runner, 3) == expected
    assert_same_params(candidate.model, reference.model)
    assert_same_state(candidate.optimizer, reference.optimizer)


def test_eager_runner_rejects_an_order_that_is_not_the_train_split(data):
    trial = fresh(data)
    runner = EagerRunner(trial.model, trial.optimizer, data, 64)
    with pytest.raises(ValueError, match="order must be a permutation of the 600 train"):
        runner.train_epoch(torch.arange(599))


@pytest.mark.parametrize(
    ("options", "plain"),
    [
        ({}, True),
        ({"momentum": 0.9}, False),
        ({"weight_decay": 1e-4}, False),
        ({"maximize": True}, False),
    ],
)
def test_plain_sgd_detection(options, plain):
    model = torch.nn.Linear(3, 2)
    assert is_plain_sgd(torch.optim.SGD(model.parameters(), lr=0.1, **options)) is plain
    assert not is_plain_sgd(torch.optim.Adam(model.parameters()))


def test_the_fast_update_is_sgds_step():
    """One ``_foreach_add_`` gives SGD.step's parameters bit for bit, skips parameters without
    a gradient as SGD does, and reads the learning rate at each call."""
    generator = torch.Generator().manual_seed(0)
    weights = [torch.randn(5, 4, generator=generator), torch.randn(4, generator=generator)]
    grads = [torch.randn(5, 4, generator=generator), None]

    def params():
        made = [torch.nn.Parameter(w.clone()) for w in weights]
        for p, g in zip(made, grads, strict=True):
            p.grad = None if g is None else g.clone()
        return made

    for lr in (0.3, 1e-3):
        stepped, fast = params(), params()
        sgd = torch.optim.SGD(stepped, lr=lr)
        sgd.step()
        update = SGDUpdate(torch.optim.SGD(fast, lr=1.0))
        update.optimizer.param_groups[0]["lr"] = lr
        update()
        for a, b in zip(stepped, fast, strict=True):
            assert torch.equal(a, b)
        assert torch.equal(fast[1], weights[1])  # no gradient: untouched
        update.clear_grads()
        assert all(p.grad is None for p in fast)


def test_validation_in_cache_sized_passes_on_cpu(tmp_path):
    """On CPU the runner validates 512 images per pass; the error is the reference's (4,096)."""
    data = load_fashion_mnist(write_dataset(tmp_path, n_train=64, n_test=1500))
    trial = fresh(data, {"learning_rate": 0.5, "batch_size": 16})
    reference_history(trial, 2)
    runner = EagerRunner(trial.model, trial.optimizer, data, 16)
    assert runner.eval_batch_size == default_eval_batch_size(torch.device("cpu")) == 512
    assert default_eval_batch_size(torch.device("cuda")) == 4096
    assert runner.validation_error() == tr.validation_error(trial.model, data)


def test_validation_leaves_the_mode_and_weights_alone(data):
    trial = fresh(data)
    runner = EagerRunner(trial.model, trial.optimizer, data, 64)
    before = [p.clone() for p in trial.model.parameters()]
    assert runner.validation_error() == tr.validation_error(trial.model, data)
    assert trial.model.training
    trial.model.eval()
    runner.validation_error()
    assert not trial.model.training
    for a, b in zip(before, trial.model.parameters(), strict=True):
        assert torch.equal(a, b)
