"""The contract between the real-time loop and a backend, and how worker slots map onto devices.

A backend starts workers, carries messages both ways (``ashasim.run.messages``), says when a
worker died, and keeps the time; it knows nothing of schedulers, journals or trials. The loop
(``ashasim.run.executor``) and the driver are the same for every backend, so fault handling and
resume are written once.
"""

from __future__ import annotations

import importlib.util
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ashasim.checks import check_int, check_optional_int

__all__ = ["Backend", "WorkerSlot", "check_devices", "plan_slots", "visible_gpus"]


@dataclass(frozen=True)
class WorkerSlot:
    """Worker ``index`` on ``device`` ("cpu" or "cuda:k"), with its CPU thread budget."""

    index: int
    device: str
    threads: int | None

    @property
    def visible_devices(self) -> str:
        """CUDA_VISIBLE_DEVICES for this worker: its one GPU, or none."""
        return self.device.split(":", 1)[1] if self.device.startswith("cuda:") else ""


class Backend(ABC):
    """Workers somewhere, and the clock the run is timed by (wall-clock, except ``FakeBackend``)."""

    @abstractmethod
    def start(self, slot: WorkerSlot, objective: bytes) -> None:
        """Start (or restart) the worker for ``slot``; it announces itself with ``Ready()``."""

    @abstractmethod
    def send(self, index: int, message: Any) -> None:
        """Send a message to worker ``index`` (silently dropped if it is dead: wait() says so)."""

    @abstractmethod
    def wait(self, until: float) -> list[tuple[int, Any]]:
        """Messages that arrive before ``clock()`` reaches ``until``, as (worker, message); a
        worker that died yields ``Died(detail)`` once, after its last messages."""

    def clock(self) -> float:
        """Seconds on the clock the run is timed by (any origin)."""
        return time.monotonic()

    def quiescent(self) -> bool:
        """True when no message of the current instant is still to come. A virtual clock
        dispatches only then, as the SimPy clock does; real time is always past its instant."""
        return True

    @abstractmethod
    def kill(self, index: int) -> None:
        """Kill worker ``index`` now (the job it runs is lost; no ``Died`` follows: the loop
        asked for it)."""

    @abstractmethod
    def close(self) -> None:
        """Ask every worker to exit, then make sure they did."""

    def pid(self, index: int) -> int | None:
        """The worker's process id, where it has one on this machine."""
        return None


def visible_gpus() -> int:
    """GPUs torch can see (0 without torch or CUDA); imports torch only when it is installed."""
    if importlib.util.find_spec("torch") is None:
        return 0
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _check_gpus_exist(names: Sequence[str]) -> None:
    """Refuse GPUs this machine does not have (when torch can tell: it is the one library the
    project asks to count them), rather than pinning workers to a device that is not there."""
    wanted = sorted({int(name[5:]) for name in names if name.startswith("cuda:")})
    if not wanted or importlib.util.find_spec("torch") is None:
        return
    count = visible_gpus()
    missing = [index for index in wanted if index >= count]
    if missing:
        others = f", or cuda:0 to cuda:{count - 1}" if count else ""
        raise ValueError(
            f"devices: cuda:{missing[0]} is not a GPU of this machine (it has {count} visible "
            f"GPU(s)); use devices='cpu' or 'auto'{others}"
        )


def check_devices(devices: str | Sequence[str]) -> list[str]:
    """Device names: "auto" (every visible GPU, else the CPU), "cpu", or a list of names."""
    if devices == "auto":
        count = visible_gpus()
        return [f"cuda:{k}" for k in range(count)] if count else ["cpu"]
    if devices == "cpu":
        return ["cpu"]
    if isinstance(devices, str) or not isinstance(devices, Sequence) or not devices:
        raise ValueError(
            f"devices must be 'auto', 'cpu' or a list like ['cuda:0', 'cuda:1'], got {devices!r}"
        )
    checked = []
    for device in devices:
        if device == "cpu" or (
            isinstance(device, str) and device.startswith("cuda:") and device[5:].isdigit()
        ):
            checked.append(device)
        else:
            raise ValueError(f"devices: {device!r} is neither 'cpu' nor 'cuda:<index>'")
    return checked


def plan_slots(
    n_workers: int, devices: str | Sequence[str], workers_per_device: int | None
) -> list[WorkerSlot]:
    """Spread ``n_workers`` round-robin over the devices, at most ``workers_per_device`` each
    (None: as many as needed). CPU workers share the cores evenly for their math threads."""
    check_int("n_workers", n_workers, minimum=1)
    names = check_devices(devices)
    per_device = check_optional_int("workers_per_device", workers_per_device, minimum=1)
    if per_device is not None:
        capacity = per_device * len(names)
        if n_workers > capacity:
            raise ValueError(
                f"n_workers={n_workers} does not fit on {len(names)} device(s) {names} with "
                f"workers_per_device={workers_per_device}; raise workers_per_device or add devices"
            )
    _check_gpus_exist(names)
    assigned = [names[index % len(names)] for index in range(n_workers)]
    cpu_workers = assigned.count("cpu")
    cores = os.cpu_count() or 1
    threads = max(1, cores // cpu_workers) if cpu_workers else None
    return [
        WorkerSlot(index, device, threads if device == "cpu" else max(1, cores // n_workers))
        for index, device in enumerate(assigned)
    ]
