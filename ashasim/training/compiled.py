"""The training step through ``torch.compile``: the alternative to hand-captured CUDA graphs.

``torch.compile(mode="reduce-overhead")`` traces the gather, forward and loss with TorchDynamo,
has AOTAutograd derive the backward, lets Inductor generate fused kernels for both, and replays
them through CUDA graphs ("CUDA graph trees"; https://pytorch.org/docs/stable/torch.compiler_cudagraph_trees.html).
The SGD update stays eager: for plain SGD it is one ``_foreach_add_`` launch
(:class:`~ashasim.training.runner_base.SGDUpdate`). Validation stays eager too (three forward passes
per epoch; not worth a compilation).

Why it is kept beside :class:`~ashasim.training.graphs.GraphRunner`: both remove the per-step
launch overhead; compile also fuses kernels (fewer, larger ones), at the price of a compilation
per worker process (tens of seconds on the first trial; Inductor's on-disk cache shortens later
ones) and numerics that differ from eager in the last bits (other kernels, other summation
orders). ``experiments/gpu_check.py`` measures both on a GPU.

How recompilation is kept bounded in a long-lived worker that trains trial after trial:

- the compiled function takes the model as an argument; Dynamo treats its parameters as inputs,
  so a new trial's model (same architecture, new tensors) reuses the compiled code;
- a new batch size triggers one recompilation with a dynamic batch dimension, after which other
  sizes reuse it (a few more specializations, e.g. for batches of 1, are possible; Dynamo's
  ``recompile_limit`` caps them, falling back to eager beyond it);
- the data set's tensors are marked as static addresses, so the CUDA graphs read them in place
  instead of copying 188 MB of images into a graph input buffer at every step.

On CPU "reduce-overhead" only compiles (no graphs). The CPU tests pass a backend that runs
Dynamo's traced graph as it is (fast to build, bit-identical to eager on this model), which
checks the tracing, the guards and the runner without Inductor.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
from torch import nn

from ashasim.training.runner_base import RunnerBase, check_order

if TYPE_CHECKING:
    from ashasim.training.fashion_data import FashionData

__all__ = ["CompileRunner", "compiled_loss"]


def _loss_of(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, index: torch.Tensor
) -> torch.Tensor:
    """Mean cross-entropy of ``model`` on the images and labels at ``index`` (what is compiled)."""
    logits = model(torch.index_select(images, 0, index))
    return nn.functional.cross_entropy(logits, torch.index_select(labels, 0, index))


@functools.cache
def compiled_loss(mode: str | None, backend: str) -> Callable[..., torch.Tensor]:
    """The compiled :func:`_loss_of`, one per (mode, backend) per process, shared by trials."""
    if mode is None:
        return torch.compile(_loss_of, backend=backend)
    return torch.compile(_loss_of, mode=mode, backend=backend)


class CompileRunner(RunnerBase):
    """Training steps through ``torch.compile`` (see the module docstring).

    *mode*: ``torch.compile``'s mode (default "reduce-overhead": CUDA graphs on CUDA devices);
    *backend*: its backend (default "inductor"; a mode needs Inductor, so pass ``mode=None``
    with another backend).
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        data: FashionData,
        batch_size: int,
        *,
        mode: str | None = "reduce-overhead",
        backend: str = "inductor",
        eval_batch_size: int | None = None,
    ) -> None:
        if mode is not None and backend != "inductor":
            raise ValueError(f"mode={mode!r} needs backend='inductor', got backend={backend!r}")
        super().__init__(model, optimizer, data, batch_size, eval_batch_size=eval_batch_size)
        self.graphs = mode == "reduce-overhead" and data.device.type == "cuda"
        for tensor in (data.train_x, data.train_y):
            torch._dynamo.mark_static_address(tensor)
        self._loss = compiled_loss(mode, backend)

    def train_epoch(self, order: torch.Tensor) -> float:
        check_order(order, self.data)
        data, model, update = self.data, self.model, self.update
        model.train()
        total = torch.zeros((), device=data.device)
        for batch in self.plan:
            if self.graphs:  # the previous step's graph outputs may now be overwritten
                torch.compiler.cudagraph_mark_step_begin()
            update.clear_grads()  # before the forward pass, as CUDA graph trees expect
            loss = self._loss(model, data.train_x, data.train_y, order[batch.start : batch.stop])
            loss.backward()
            update()
            total += loss.detach() * batch.size
        return total.item() / data.n_train
