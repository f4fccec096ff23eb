"""The whole training step as a CUDA graph: one launch per step instead of ~30 plus Python.

A CUDA graph records the kernels a piece of code launches, with their arguments and memory
addresses, and replays them with one ``cudaGraphLaunch`` (PyTorch's notes on CUDA graphs,
https://pytorch.org/docs/stable/notes/cuda.html#cuda-graphs; "whole-network capture" there is
the recipe followed here). For LeNet, whose step spends ~2 ms on the CPU for microseconds of GPU
work, that turns a CPU-bound worker into a GPU-bound one.

How :class:`GraphRunner` does it:

- *Static shapes.* One graph per batch shape of the epoch (:mod:`ashasim.training.batching`):
  one for the full batches and one for the remainder batch, so an epoch is exactly the sequence
  of batches that the eager step draws. Each shape has a static index buffer
  (:class:`StaticIndices`); a step copies its slice of the epoch's permutation into it and
  replays the graph, which gathers the images and labels from the device-resident data set,
  runs forward, loss, backward and the SGD update, and adds ``loss * size`` to a static total
  (read once per epoch: one host synchronization).
- *Warm-up, then capture.* Before capture the step runs a few times on a side stream (cuDNN and
  cuBLAS initialize lazily, and SGD creates its momentum buffers at its first step; none of that
  may happen during capture). Those warm-up steps would change the trial, so the parameters
  and optimizer state are copied before and written back in place after, with a momentum buffer
  created during warm-up zeroed: for SGD with ``dampening=0``, a zero buffer gives the same first
  step as no buffer (``0 * momentum + grad = grad``). Gradients are set to None before each
  capture, so the backward pass allocates them from the graph's memory pool and each replay
  overwrites them (no zeroing needed inside the graph).
- *Validation* is captured once too, as one graph over the whole test split (forward passes of
  ``eval_batch_size`` images and an on-device count of correct answers).
- ``capture=False`` runs exactly the same step bodies, buffers and warm-up eagerly (it is the
  default off CUDA): the CPU tests check this path bit for bit against the eager step, so
  everything but the capture call itself is tested without a GPU.

What is and is not deterministic on a GPU: replaying a graph launches the same kernels with the
same arguments as the captured run, so graph and eager steps compute the same operations. They
are not guaranteed to be bitwise equal from run to run, as eager CUDA training is not: cuDNN may
pick convolution algorithms whose weight gradient accumulates with atomics (the order of the
additions varies), and ``torch.use_deterministic_algorithms(True)`` with
``torch.backends.cudnn.deterministic = True`` (and ``CUBLAS_WORKSPACE_CONFIG=:4096:8``) is needed
to rule that out. So on a GPU a resumed trial continues from exactly the saved parameters and
optimizer state and draws exactly the same batches, but its later epochs may differ from a run
straight through in the last bits, growing over epochs. On CPU everything is bit-exact.

Constraints: the data set's tensors, the parameters and the optimizer state must keep their
addresses while the runner lives (``load_state_dict`` copies in place, so loading weights is
fine; :class:`ashasim.training.trial.LeNetTrial` drops its runner whenever it loads a
checkpoint), and the learning rate is fixed when the graph is captured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from ashasim.training.batching import Batch, BatchPlan
from ashasim.training.runner_base import RunnerBase, check_order, count_correct

if TYPE_CHECKING:
    from ashasim.training.fashion_data import FashionData

__all__ = ["GraphRunner", "StaticIndices"]

#: Warm-up steps per shape before capture (PyTorch's example uses 3; DDP needs 11).
WARMUP_STEPS = 3


class StaticIndices:
    """One index buffer per static batch shape of ``plan``, on ``device``.

    ``load(order, batch)`` copies the batch's slice of the epoch's permutation into the buffer of
    its size (device to device, no synchronization) and returns that buffer: the only per-step
    input of a captured step.
    """

    def __init__(self, plan: BatchPlan, device: torch.device) -> None:
        self.buffers = {
            size: torch.zeros(size, dtype=torch.int64, device=device) for size in plan.shapes
        }

    def load(self, order: torch.Tensor, batch: Batch) -> torch.Tensor:
        buffer = self.buffers[batch.size]
        buffer.copy_(order[batch.start : batch.stop])
        return buffer


class GraphRunner(RunnerBase):
    """Training steps and validation replayed as CUDA graphs (see the module docstring).

    *capture*: record and replay graphs (default: on CUDA devices); False runs the same bodies
    eagerly. *warmup*: steps per shape before capture (default :data:`WARMUP_STEPS` when
    capturing, else 0).

    Raises:
        ValueError: the optimizer is not ``torch.optim.SGD``, or is SGD with momentum and
            ``dampening != 0`` (its first step cannot be reproduced after warm-up); or
            *capture* on a device that is not CUDA.
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        data: FashionData,
        batch_size: int,
        *,
        eval_batch_size: int | None = None,
        capture: bool | None = None,
        warmup: int | None = None,
    ) -> None:
        is_cuda = data.device.type == "cuda"
        self.capture = is_cuda if capture is None else bool(capture)
        if self.capture and not is_cuda:
            raise ValueError(f"capture=True needs a CUDA device, the data is on {data.device}")
        if warmup is None:
            warmup = WARMUP_STEPS if self.capture else 0
        if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
            raise ValueError(f"warmup must be an integer >= 0, got {warmup!r}")
        _check_optimizer(optimizer)
        super().__init__(model, optimizer, data, batch_size, eval_batch_size=eval_batch_size)
        self.warmup = warmup
        self.indices = StaticIndices(self.plan, data.device)
        self._total = torch.zeros((), device=data.device)
        self._correct = torch.zeros((), dtype=torch.int64, device=data.device)
        self._graphs: dict[int, Any] | None = None  # batch size -> torch.cuda.CUDAGraph
        self._eval_graph: Any = None

    # -- the captured bodies ---------------------------------------------------------------------

    def _step(self, size: int) -> None:
        """One training step on the batch in the static buffer of ``size`` (what is captured)."""
        index = self.indices.buffers[size]
        data = self.data
        logits = self.model(torch.index_select(data.train_x, 0, index))
        loss = nn.functional.cross_entropy(logits, torch.index_select(data.train_y, 0, index))
        loss.backward()
        self.update()
        self._total += loss.detach() * size

    def _validate(self) -> None:
        with torch.no_grad():
            count_correct(self.model, self.data, self._correct, self.eval_batch_size)

    # -- the contract ----------------------------------------------------------------------------

    def train_epoch(self, order: torch.Tensor) -> float:
        check_order(order, self.data)
        self.model.train()
        if self._graphs is None:
            self._prepare()
        self._total.zero_()
        for batch in self.plan:
            self.indices.load(order, batch)
            if self._graphs:
                self._graphs[batch.size].replay()
            else:
                self.update.clear_grads()
                self._step(batch.size)
        return self._total.item() / self.data.n_train

    def validation_error(self) -> float:
        was_training = self.model.training
        self.model.eval()
        if not self.capture:
            self._validate()
        else:
            if self._eval_graph is None:
                with _side_stream(self.data.device):  # warm-up: lazy cuDNN/cuBLAS set-up
                    self._validate()
                self._eval_graph = self._capture(self._validate)
            self._eval_graph.replay()
        self.model.train(was_training)
        return 1.0 - self._correct.item() / self.data.n_test

    # -- warm-up and capture ---------------------------------------------------------------------

    def _prepare(self) -> None:
        """Warm up every shape without changing the trial, then capture (if capturing)."""
        if self.warmup:
            saved = _snapshot(self.model, self.optimizer)
            with _side_stream(self.data.device):
                for size in self.plan.shapes:
                    self.indices.buffers[size].copy_(torch.arange(size, device=self.data.device))
                    for _ in range(self.warmup):
                        self.update.clear_grads()
                        self._step(size)
            _restore(saved, self.model, self.optimizer)
            self.update.clear_grads()
        graphs = {}
        if self.capture:
            for size in self.plan.shapes:
                self.update.clear_grads()  # backward allocates .grad inside the graph's pool
                graphs[size] = self._capture(lambda size=size: self._step(size))
        self._graphs = graphs

    def _capture(self, body: Any) -> Any:
        """``body`` recorded as a CUDA graph (in its own memory pool); nothing runs yet."""
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            body()
        return graph


def _check_optimizer(optimizer: torch.optim.Optimizer) -> None:
    if type(optimizer) is not torch.optim.SGD:
        raise ValueError(
            f"optimizer: the graph step supports torch.optim.SGD, got {type(optimizer).__name__}"
        )
    for group in optimizer.param_groups:
        if group["momentum"] != 0 and group["dampening"] != 0:
            raise ValueError(
                "optimizer: SGD with momentum and dampening != 0 is not supported by the graph "
                "step (its first step cannot be replayed after warm-up)"
            )


class _side_stream:  # noqa: N801 - used like torch.cuda.stream
    """On CUDA, run the block on a side stream that waits for and is waited on by the current
    one (warm-up must not run on the default stream before capture); elsewhere, nothing."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.context: Any = None

    def __enter__(self) -> None:
        if self.device.type == "cuda":
            stream = torch.cuda.Stream(self.device)
            stream.wait_stream(torch.cuda.current_stream(self.device))
            self.context = torch.cuda.stream(stream)
            self.context.__enter__()

    def __exit__(self, *exc: object) -> None:
        if self.context is not None:
            stream = torch.cuda.current_stream(self.device)
            self.context.__exit__(*exc)
            torch.cuda.current_stream(self.device).wait_stream(stream)


def _snapshot(model: nn.Module, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """Copies of the parameters, buffers and optimizer state tensors, to write back in place."""
    with torch.no_grad():
        return {
            "model": [t.detach().clone() for t in model.state_dict().values()],
            "state": {
                param: {k: v.clone() for k, v in state.items() if isinstance(v, torch.Tensor)}
                for param, state in optimizer.state.items()
            },
        }


def _restore(saved: dict[str, Any], model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
    """Write ``saved`` back in place (addresses unchanged); zero state created since."""
    with torch.no_grad():
        for tensor, value in zip(model.state_dict().values(), saved["model"], strict=True):
            tensor.copy_(value)
        for param, state in optimizer.state.items():
            before = saved["state"].get(param, {})
            for key, value in state.items():
                if not isinstance(value, torch.Tensor):
                    continue
                if key in before:
                    value.copy_(before[key])
                else:
                    value.zero_()  # e.g. SGD's momentum buffer: zero acts as "none yet"
