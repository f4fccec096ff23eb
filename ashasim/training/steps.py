"""Step runners: how a trial executes its epochs, behind one small contract.

A LeNet step is tiny: on an H100 the GPU finishes its kernels in microseconds while the CPU spends
~2 ms issuing them (Python, autograd, the optimizer, ~30 kernel launches), so a worker process is
CPU-bound and several must share a GPU to keep it busy. A step runner decides how the same
arithmetic is issued:

- ``"eager"`` (:class:`EagerRunner`): op by op, as :func:`ashasim.training.trial.train_epoch` does,
  with the Python around it trimmed (see ``runner_base``). The default on CPU; bit-identical to
  ``train_epoch``.
- ``"graph"`` (:class:`ashasim.training.graphs.GraphRunner`): the whole step captured as a CUDA
  graph per batch shape and replayed (one launch per step). The default on CUDA.
- ``"compile"`` (:class:`ashasim.training.compiled.CompileRunner`):
  ``torch.compile(mode="reduce-overhead")``, Inductor's kernels replayed through CUDA graphs.

Every runner has the contract of :class:`StepRunner`: ``train_epoch(order)`` trains one epoch on
the batches ``order[0:b], order[b:2b], ...`` (the last one shorter) and returns the mean loss;
``validation_error()`` is 1 - accuracy on the test split. Runners hold no state of their own
that a checkpoint needs: the model's parameters and the optimizer's ``state_dict`` are the same
objects, in the same format, whichever runner trained them, so a trial checkpointed by one runner
resumes under another.

The pieces every runner shares (the SGD update, validation, the checks, the plan of batches)
live in :mod:`ashasim.training.runner_base`; this module picks the runner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import torch
from torch import nn

from ashasim.training.compiled import CompileRunner
from ashasim.training.graphs import GraphRunner
from ashasim.training.runner_base import RunnerBase, check_order

if TYPE_CHECKING:
    from ashasim.training.fashion_data import FashionData

__all__ = ["STEPS", "EagerRunner", "StepRunner", "make_runner", "resolve_step"]

#: The accepted values of ``step``: "auto" is "graph" on CUDA devices and "eager" elsewhere.
STEPS = ("auto", "eager", "graph", "compile")


class StepRunner(Protocol):
    """Trains one model with one optimizer on one data set at one batch size, epoch by epoch."""

    model: nn.Module
    optimizer: torch.optim.Optimizer

    def train_epoch(self, order: torch.Tensor) -> float:
        """Train on the batches of ``order`` (a permutation of the train indices, on the data's
        device) in order; return the mean cross-entropy over the images."""
        ...

    def validation_error(self) -> float:
        """1 - accuracy on the test split."""
        ...


def resolve_step(step: str, device: torch.device | str) -> str:
    """The runner kind ``step`` means on ``device``: "auto" becomes "graph" on CUDA, else "eager".

    Raises:
        ValueError: ``step`` is not one of :data:`STEPS`, or it is "graph" off CUDA.
    """
    if step not in STEPS:
        raise ValueError(f"step must be one of {', '.join(STEPS)}, got {step!r}")
    is_cuda = torch.device(device).type == "cuda"
    if step == "auto":
        return "graph" if is_cuda else "eager"
    if step == "graph" and not is_cuda:
        raise ValueError(f"step='graph' captures CUDA graphs: it needs a CUDA device, not {device}")
    return step


def make_runner(
    step: str,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    data: FashionData,
    batch_size: int,
) -> StepRunner:
    """A runner of kind ``step`` (see :func:`resolve_step`) for this model and data."""
    kind = resolve_step(step, data.device)
    if kind == "graph":
        return GraphRunner(model, optimizer, data, batch_size)
    if kind == "compile":
        return CompileRunner(model, optimizer, data, batch_size)
    return EagerRunner(model, optimizer, data, batch_size)


class EagerRunner(RunnerBase):
    """Op-by-op execution, bit-identical to :func:`ashasim.training.trial.train_epoch` (see
    :mod:`ashasim.training.runner_base` for what it trims); works on every device."""

    def train_epoch(self, order: torch.Tensor) -> float:
        check_order(order, self.data)
        data, model, update = self.data, self.model, self.update
        model.train()
        total = torch.zeros((), device=data.device)
        for batch in self.plan:
            index = order[batch.start : batch.stop]
            logits = model(torch.index_select(data.train_x, 0, index))
            loss = nn.functional.cross_entropy(logits, torch.index_select(data.train_y, 0, index))
            update.clear_grads()
            loss.backward()
            update()
            total += loss.detach() * batch.size
        return total.item() / data.n_train
