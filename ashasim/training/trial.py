"""One seeded LeNet trial: training epochs, validation, checkpoint and resume.

- :func:`train_epoch` / :func:`validation_error`: batching by indexing device-resident tensors
  with a seeded permutation (no ``DataLoader``), op by op: the reference semantics that every
  step runner (:mod:`ashasim.training.steps`) is tested against;
- :func:`derive_seed`, :func:`init_generator`, :func:`epoch_generator`, :func:`epoch_order`:
  every random stream of a trial derives from its seed, never from torch's global RNG;
- :func:`make_trial`, :class:`LeNetTrial`, :func:`trial_state`, :func:`restore_trial`: a trial
  that can be checkpointed when paused and resumed bit-identically (on CPU), executing its
  epochs through a step runner (CUDA graphs on a GPU, eager on CPU).

Typical use by an executor::

    data = load_fashion_mnist(device="cuda")        # once per worker process
    trial = make_trial(config, data=data, seed=trial_seed)
    for epoch in range(trial.epoch + 1, milestone + 1):
        trial.train_epoch()
        error = trial.validation_error()            # report (epoch, error)
    checkpoint = trial.state_dict()                 # plain CPU tensors; torch.save-able
    ...
    trial = restore_trial(checkpoint, data=data)    # continues exactly where it stopped
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ashasim.training.fashion_data import FashionData
from ashasim.training.lenet import lenet
from ashasim.training.steps import StepRunner, make_runner, resolve_step

#: Batch size used by :func:`make_trial` when the config has none (d2l.FashionMNIST's default).
DEFAULT_BATCH_SIZE = 64


# --------------------------------------------------------------------------------------------
# Training and evaluation
# --------------------------------------------------------------------------------------------


def train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    data: FashionData,
    batch_size: int,
    generator: torch.Generator,
) -> float:
    """One epoch of minibatch training; returns the mean cross-entropy over the train images.

    The order is ``torch.randperm`` drawn from ``generator`` (seed it per trial and epoch, e.g.
    with :func:`epoch_generator`); every slice of ``batch_size`` indices (the last one may be
    shorter, as with ``DataLoader(drop_last=False)``) indexes the device-resident tensors
    directly. Only one host synchronization happens, at the end.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    n = data.n_train
    order = torch.randperm(n, generator=generator, device=generator.device).to(data.device)
    model.train()
    total = torch.zeros((), device=data.device)
    for start in range(0, n, batch_size):
        index = order[start : start + batch_size]
        loss = nn.functional.cross_entropy(model(data.train_x[index]), data.train_y[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.detach() * index.numel()
    return total.item() / n


def validation_error(model: nn.Module, data: FashionData, batch_size: int = 4096) -> float:
    """1 - accuracy on the test split (the chapter's validation error), in large batches."""
    was_training = model.training
    model.eval()
    correct = torch.zeros((), dtype=torch.int64, device=data.device)
    with torch.no_grad():
        for start in range(0, data.n_test, batch_size):
            logits = model(data.test_x[start : start + batch_size])
            correct += (logits.argmax(dim=1) == data.test_y[start : start + batch_size]).sum()
    model.train(was_training)
    return 1.0 - correct.item() / data.n_test


# --------------------------------------------------------------------------------------------
# Trials: seeding, checkpoint, resume
# --------------------------------------------------------------------------------------------


def derive_seed(seed: int, *keys: int) -> int:
    """A 64-bit seed for stream ``keys`` of a trial seeded ``seed`` (numpy SeedSequence)."""
    if seed < 0 or any(key < 0 for key in keys):
        raise ValueError(f"seeds must be non-negative integers, got {seed}, {keys}")
    state = np.random.SeedSequence([int(seed), *map(int, keys)]).generate_state(1, np.uint64)
    return int(state[0])


def init_generator(seed: int) -> torch.Generator:
    """The CPU generator for a trial's initial weights."""
    return torch.Generator().manual_seed(derive_seed(seed, 0))


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The CPU generator for the shuffle of epoch ``epoch`` (1-based) of a trial seeded ``seed``."""
    return torch.Generator().manual_seed(derive_seed(seed, 1, epoch))


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars, so checkpoints load with torch.load(weights_only=True)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(item) for item in value)
    return value


def _cpu_copy(value: Any) -> Any:
    """A deep copy of a (nested) state dict with every tensor detached and cloned to the CPU."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, Mapping):
        return {key: _cpu_copy(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cpu_copy(item) for item in value)
    return value


def trial_state(
    model: nn.Module, optimizer: torch.optim.Optimizer, epoch: int, **extra: Any
) -> dict[str, Any]:
    """A snapshot ``{"epoch", "model", "optimizer", **extra}`` with CPU copies of all tensors.

    It does not change when training goes on, and ``torch.save`` / ``torch.load`` (also with
    ``weights_only=True``) handle it as long as ``extra`` holds plain Python values.
    """
    return {
        "epoch": int(epoch),
        "model": _cpu_copy(model.state_dict()),
        "optimizer": _cpu_copy(optimizer.state_dict()),
        **_plain(extra),
    }


@dataclass(eq=False)
class LeNetTrial:
    """One trial: its LeNet, its SGD optimizer and the number of epochs done so far.

    *step* chooses how epochs are executed (:mod:`ashasim.training.steps`): "auto" (CUDA graphs
    on a CUDA device, eager op-by-op elsewhere), "eager", "graph" or "compile". It is not part of
    the checkpoint: a trial saved under one step resumes under any other. The runner is built at
    the first epoch and rebuilt when the model or optimizer object is replaced or a checkpoint
    is loaded.
    """

    config: dict[str, Any]
    seed: int
    data: FashionData = field(repr=False)
    model: nn.Module = field(repr=False)
    optimizer: torch.optim.Optimizer = field(repr=False)
    batch_size: int
    epoch: int = 0
    step: str = "auto"
    _runner: StepRunner | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        resolve_step(self.step, self.data.device)  # a bad step fails here, not at epoch 1

    @property
    def runner(self) -> StepRunner:
        """The step runner for the current model and optimizer (built on first use)."""
        runner = self._runner
        if (
            runner is None
            or runner.model is not self.model
            or runner.optimizer is not self.optimizer
        ):
            runner = make_runner(self.step, self.model, self.optimizer, self.data, self.batch_size)
            self._runner = runner
        return runner

    def train_epoch(self) -> float:
        """Train epoch ``self.epoch + 1`` (shuffled by :func:`epoch_generator`); mean loss."""
        order = epoch_order(self.seed, self.epoch + 1, self.data)
        loss = self.runner.train_epoch(order)
        self.epoch += 1
        return loss

    def validation_error(self) -> float:
        """1 - accuracy on the test split (the chapter's validation error)."""
        return self.runner.validation_error()

    def state_dict(self) -> dict[str, Any]:
        """Everything :func:`restore_trial` needs, as a snapshot (see :func:`trial_state`)."""
        return trial_state(
            self.model, self.optimizer, self.epoch, config=self.config, seed=self.seed
        )

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Load weights, optimizer state and epoch from :meth:`state_dict` output."""
        self._runner = None  # the optimizer's state tensors are replaced: graphs would be stale
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.epoch = int(state["epoch"])


def epoch_order(seed: int, epoch: int, data: FashionData) -> torch.Tensor:
    """The permutation of the train indices for epoch ``epoch`` of a trial seeded ``seed``, on
    ``data.device``: drawn on the CPU from :func:`epoch_generator`, so equal on every device."""
    generator = epoch_generator(seed, epoch)
    return torch.randperm(data.n_train, generator=generator).to(data.device)


def make_trial(
    config: Mapping[str, Any], *, data: FashionData, seed: int, step: str = "auto"
) -> LeNetTrial:
    """A fresh trial: LeNet seeded from ``seed`` on ``data.device`` and SGD with the config's lr.

    ``config["learning_rate"]`` is required; ``config["batch_size"]`` defaults to
    :data:`DEFAULT_BATCH_SIZE`; other keys (such as ``max_epochs``) are kept but unused. The
    global torch RNG is neither used nor changed, so a trial depends on ``seed`` alone. *step*:
    see :class:`LeNetTrial`.
    """
    plain: dict[str, Any] = _plain(dict(config))
    learning_rate = float(plain["learning_rate"])
    batch_size = int(plain.get("batch_size", DEFAULT_BATCH_SIZE))
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    model = lenet(data.num_classes, generator=init_generator(seed), device=data.device)
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
    return LeNetTrial(
        config=plain,
        seed=int(seed),
        data=data,
        model=model,
        optimizer=optimizer,
        batch_size=batch_size,
        step=step,
    )


def restore_trial(state: Mapping[str, Any], *, data: FashionData, step: str = "auto") -> LeNetTrial:
    """The trial that :meth:`LeNetTrial.state_dict` saved, on ``data.device``, ready to go on
    (under *step*, whichever step saved it)."""
    missing = [key for key in ("config", "seed", "epoch", "model", "optimizer") if key not in state]
    if missing:
        raise ValueError(f"not a trial checkpoint: missing {', '.join(missing)}")
    trial = make_trial(state["config"], data=data, seed=state["seed"], step=step)
    trial.load_state_dict(state)
    return trial


def set_threads(n: int | None) -> None:
    """``torch.set_num_threads(n)`` (None: leave torch's default), e.g. cores // workers."""
    if n is None:
        return
    if n < 1:
        raise ValueError(f"the number of threads must be >= 1, got {n}")
    torch.set_num_threads(int(n))
