"""The batches of one epoch, as the static shapes a captured training step needs.

A CUDA graph replays fixed kernels on fixed memory: every tensor it reads or writes, the batch
included, must have one shape and one address for the graph's whole life (PyTorch's notes on
CUDA graphs, "Constraints": https://pytorch.org/docs/stable/notes/cuda.html#cuda-graphs). An
epoch of ``n`` images at batch size ``b`` is ``n // b`` full batches and, when ``b`` does not
divide ``n``, one shorter remainder batch of ``n % b`` last: exactly what
:func:`ashasim.training.trial.train_epoch` draws (like ``DataLoader(drop_last=False)``). So one
graph per *shape* suffices, at most two: one for the full batches, one for the remainder.

Each step only changes *which* images its batch holds: the slice ``order[start:start + size]`` of
the epoch's permutation. :class:`BatchPlan` says, step by step, which slice and which static
shape; the step runners copy that slice into the index buffer of that shape (a few hundred bytes,
one device-to-device copy) and replay the graph, which gathers the images itself. This module is
plain Python (no torch), so the plan is tested on its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Batch", "BatchPlan", "plan_epoch"]


@dataclass(frozen=True)
class Batch:
    """One step: the indices ``order[start:start + size]`` of the epoch's permutation."""

    start: int
    size: int

    @property
    def stop(self) -> int:
        return self.start + self.size


@dataclass(frozen=True)
class BatchPlan:
    """The steps of one epoch over ``n`` images at batch size ``batch_size``, in order."""

    n: int
    batch_size: int

    @property
    def full_batches(self) -> int:
        """How many steps have ``batch_size`` images."""
        return self.n // self.batch_size

    @property
    def remainder(self) -> int:
        """Images in the last, shorter batch (0: ``batch_size`` divides ``n``, no such batch)."""
        return self.n % self.batch_size

    @property
    def shapes(self) -> tuple[int, ...]:
        """The batch sizes that need a static buffer (and a graph): the full size if there is a
        full batch, then the remainder if there is one; one or two sizes, never zero."""
        full = (self.batch_size,) if self.full_batches else ()
        return full + ((self.remainder,) if self.remainder else ())

    def __len__(self) -> int:
        return self.full_batches + (1 if self.remainder else 0)

    def __iter__(self) -> Iterator[Batch]:
        size = self.batch_size
        for start in range(0, self.full_batches * size, size):
            yield Batch(start, size)
        if self.remainder:
            yield Batch(self.full_batches * size, self.remainder)


def plan_epoch(n: int, batch_size: int) -> BatchPlan:
    """The plan of an epoch over ``n`` >= 1 images at ``batch_size`` >= 1.

    Raises:
        ValueError: ``n`` or ``batch_size`` is not an integer >= 1 (the message names which).
    """
    for name, value in (("n", n), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return BatchPlan(n, batch_size)
