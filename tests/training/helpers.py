"""Shared by the step-runner tests: the same trial trained by the reference ``train_epoch`` and
by a runner, epoch by epoch, so that the two histories and final weights can be compared."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ashasim.training import trial as tr

#: A plain-SGD trial (the chapter's) and, for the optimizer.step() path, one with momentum.
PLAIN = {"learning_rate": 0.3, "batch_size": 64}


def momentum_sgd(model: torch.nn.Module) -> torch.optim.Optimizer:
    return torch.optim.SGD(model.parameters(), lr=0.3, momentum=0.9, nesterov=True)


def fresh(
    data: Any, config: dict = PLAIN, seed: int = 4, optimizer: Callable | None = None
) -> tr.LeNetTrial:
    trial = tr.make_trial(config, data=data, seed=seed, step="eager")
    if optimizer is not None:
        trial.optimizer = optimizer(trial.model)
    return trial


def reference_history(trial: tr.LeNetTrial, epochs: int) -> list[tuple[float, float]]:
    """(mean loss, validation error) per epoch from the reference functions."""
    history = []
    for epoch in range(trial.epoch + 1, trial.epoch + epochs + 1):
        generator = tr.epoch_generator(trial.seed, epoch)
        loss = tr.train_epoch(trial.model, trial.optimizer, trial.data, trial.batch_size, generator)
        history.append((loss, tr.validation_error(trial.model, trial.data)))
    trial.epoch += epochs
    return history


def runner_history(trial: tr.LeNetTrial, runner: Any, epochs: int) -> list[tuple[float, float]]:
    """The same epochs through ``runner`` (built on ``trial.model`` and ``trial.optimizer``)."""
    history = []
    for epoch in range(trial.epoch + 1, trial.epoch + epochs + 1):
        loss = runner.train_epoch(tr.epoch_order(trial.seed, epoch, trial.data))
        history.append((loss, runner.validation_error()))
    trial.epoch += epochs
    return history


def assert_same_params(a: torch.nn.Module, b: torch.nn.Module) -> None:
    for x, y in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(x, y)


def assert_same_state(a: torch.optim.Optimizer, b: torch.optim.Optimizer) -> None:
    """Equal optimizer state_dicts: hyperparameters, and every state tensor bit for bit."""
    sa, sb = a.state_dict(), b.state_dict()
    assert sa["param_groups"] == sb["param_groups"]
    assert sa["state"].keys() == sb["state"].keys()
    for key, state in sa["state"].items():
        assert state.keys() == sb["state"][key].keys()
        for name, value in state.items():
            assert torch.equal(value, sb["state"][key][name]), (key, name)
