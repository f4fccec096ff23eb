"""What every step runner shares: the SGD update, validation, the input checks, the batches.

A runner (:mod:`ashasim.training.steps`) decides how a training step is issued; the rest is the
same for all of them and lives here, in one piece, so that the runners import it and nothing
imports back (``steps`` picks among the runners, the runners build on this module).

What :class:`EagerRunner` trims, each bit-exact (the tests compare with ``train_epoch``):
``torch.optim.SGD.step`` costs ~120 us of Python per call on this project's CPU (profiler hooks,
parameter grouping, flag checks); for plain SGD (no momentum, weight decay, nesterov or maximize)
the update is ``param -= lr * grad``, which one ``torch._foreach_add_`` call does with the same
arithmetic (:class:`SGDUpdate`). ``zero_grad`` becomes a loop that sets ``.grad = None``;
batches are gathered with ``index_select`` rather than advanced indexing (the same copy, a
cheaper dispatch). Validation runs under ``torch.inference_mode`` and, on CPU, in passes of 512
test images instead of 4,096 (:data:`EVAL_BATCH_SIZE`): it does not touch the trial's state, and
on this project's CPU the logits are bitwise those of 4,096-image passes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from ashasim.training.batching import plan_epoch

if TYPE_CHECKING:
    from ashasim.training.fashion_data import FashionData

__all__ = [
    "EVAL_BATCH_SIZE",
    "RunnerBase",
    "SGDUpdate",
    "check_order",
    "count_correct",
    "default_eval_batch_size",
    "eager_validation_error",
    "is_plain_sgd",
]

#: Test images per forward pass in validation, by device type. On a GPU large passes keep it
#: busy (LeNet's activations for 4,096 images: ~80 MB); on CPU that much overflows the caches,
#: and 512 validates 10,000 images 2.4x faster (0.33 s vs 0.81 s, one thread, this project's CPU).
EVAL_BATCH_SIZE = {"cpu": 512}
DEFAULT_EVAL_BATCH_SIZE = 4096


def default_eval_batch_size(device: torch.device) -> int:
    """The validation batch size for ``device`` (see :data:`EVAL_BATCH_SIZE`)."""
    return EVAL_BATCH_SIZE.get(device.type, DEFAULT_EVAL_BATCH_SIZE)


class RunnerBase:
    """The state every runner holds: the model, its optimizer, the data, the epoch's batch plan,
    the validation batch size and the optimizer's update; validation op by op (a runner may
    replace it, as the CUDA-graph runner does)."""

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        data: FashionData,
        batch_size: int,
        *,
        eval_batch_size: int | None = None,
    ) -> None:
        self.model, self.optimizer, self.data = model, optimizer, data
        self.plan = plan_epoch(data.n_train, batch_size)
        self.eval_batch_size = eval_batch_size or default_eval_batch_size(data.device)
        self.update = SGDUpdate(optimizer)

    def validation_error(self) -> float:
        """1 - accuracy on the test split."""
        return eager_validation_error(self.model, self.data, self.eval_batch_size)


class SGDUpdate:
    """The optimizer's update, with a fast path for plain SGD.

    Plain SGD (``torch.optim.SGD`` without momentum, weight decay, nesterov, maximize or
    differentiable) keeps no state, and its step is ``param.add_(grad, alpha=-lr)`` for every
    parameter with a gradient; one ``torch._foreach_add_`` does the same arithmetic in one call
    (on CPU a C++ loop of the same ``add_``; on CUDA one fused kernel, which is also what SGD
    picks there). Anything else calls ``optimizer.step()``. The learning rate is read at every
    call, so a scheduler that changes it still works eagerly (a captured graph fixes it).
    """

    def __init__(self, optimizer: torch.optim.Optimizer) -> None:
        self.optimizer = optimizer
        self.plain = is_plain_sgd(optimizer)
        self.params = [p for group in optimizer.param_groups for p in group["params"]]

    def __call__(self) -> None:
        if not self.plain:
            self.optimizer.step()
            return
        with torch.no_grad():
            params = [p for p in self.params if p.grad is not None]
            if params:
                lr = self.optimizer.param_groups[0]["lr"]
                torch._foreach_add_(params, [p.grad for p in params], alpha=-lr)

    def clear_grads(self) -> None:
        """``optimizer.zero_grad(set_to_none=True)`` without its Python overhead."""
        for p in self.params:
            p.grad = None


def is_plain_sgd(optimizer: torch.optim.Optimizer) -> bool:
    """Whether ``optimizer`` is one-group SGD whose step is exactly ``p -= lr * grad``."""
    if type(optimizer) is not torch.optim.SGD or len(optimizer.param_groups) != 1:
        return False
    group = optimizer.param_groups[0]
    return (
        group["momentum"] == 0
        and group["weight_decay"] == 0
        and not group["nesterov"]
        and not group.get("maximize", False)
        and not group.get("differentiable", False)
        and not isinstance(group["lr"], torch.Tensor)
    )


def count_correct(
    model: nn.Module, data: FashionData, correct: torch.Tensor, batch_size: int
) -> None:
    """Set ``correct`` (an int64 scalar on the device) to the number of test images ``model``
    classifies right, in batches of ``batch_size``; no host synchronization."""
    correct.zero_()
    for start in range(0, data.n_test, batch_size):
        logits = model(data.test_x[start : start + batch_size])
        correct += (logits.argmax(dim=1) == data.test_y[start : start + batch_size]).sum()


def eager_validation_error(model: nn.Module, data: FashionData, batch_size: int) -> float:
    """1 - accuracy on the test split, op by op, in batches of ``batch_size``."""
    was_training = model.training
    model.eval()
    correct = torch.zeros((), dtype=torch.int64, device=data.device)
    with torch.inference_mode():
        count_correct(model, data, correct, batch_size)
    model.train(was_training)
    return 1.0 - correct.item() / data.n_test


def check_order(order: torch.Tensor, data: FashionData) -> None:
    """``order`` must be a 1-D index tensor over the train split on the data's device."""
    if order.ndim != 1 or order.shape[0] != data.n_train or order.device != data.device:
        raise ValueError(
            f"order must be a permutation of the {data.n_train} train indices on {data.device}, "
            f"got shape {tuple(order.shape)} on {order.device}"
        )
