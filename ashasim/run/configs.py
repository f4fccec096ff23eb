"""Where a real run's workers live, as typed, checked values: ``Local``, ``Ray`` and ``Fake``.

A config is data (frozen, checked at construction, so a bad value is one line before anything
is written) with two methods: ``slots(n_workers)`` plans the workers (which device each one
uses), and ``build(slots, resource_attr)`` starts nothing but returns the ``Backend`` that will
(``ashasim.run.backend``). httpx's transports are the model: one small class per way of
carrying the work, chosen by passing an instance rather than a string and an options dict.
This module imports the backends only inside ``build``, so that Ray is loaded only for a Ray
run, and the backends never import this module: no cycle.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ashasim.checks import check_flag, check_number, check_optional_int, check_workers
from ashasim.run.backend import Backend, WorkerSlot, check_devices, plan_slots
from ashasim.run.storage import is_uri

__all__ = [
    "DEFAULT_PLACEMENT_TIMEOUT",
    "BackendConfig",
    "Checkpoints",
    "Fake",
    "Local",
    "Ray",
    "check_storage",
]

DEFAULT_PLACEMENT_TIMEOUT = 600.0  # seconds without any worker before a run gives up


def _check_placement_timeout(value: float | None) -> None:
    if value is not None:
        check_number("placement_timeout", value, minimum=0, strict=True)


def _devices(devices: str | Sequence[str]) -> str | tuple[str, ...]:
    """``devices`` checked, as a hashable value ("auto", "cpu" or a tuple of names)."""
    if devices in ("auto", "cpu"):
        return devices
    return tuple(check_devices(devices))


@dataclass(frozen=True)
class Local:
    """Worker processes on this machine, pinned round-robin to *devices* ("auto": every visible
    GPU, else the CPU; "cpu"; or a list like ["cuda:0", "cuda:1"]), at most *workers_per_device*
    each (None: as many as needed). *placement_timeout*: seconds the run waits when no worker at
    all can be started before it stops with ``NoWorkersError`` (None: for ever)."""

    devices: str | Sequence[str] = "auto"
    workers_per_device: int | None = None
    placement_timeout: float | None = DEFAULT_PLACEMENT_TIMEOUT

    remote = False  # workers share this machine's disk

    def __post_init__(self) -> None:
        object.__setattr__(self, "devices", _devices(self.devices))
        check_optional_int("workers_per_device", self.workers_per_device, minimum=1)
        _check_placement_timeout(self.placement_timeout)

    def slots(self, n_workers: int) -> list[WorkerSlot]:
        check_workers("n_workers", n_workers)
        return plan_slots(n_workers, self.devices, self.workers_per_device)

    def build(self, slots: Sequence[WorkerSlot], resource_attr: str) -> Backend:
        from ashasim.run.local import LocalBackend

        return LocalBackend()


@dataclass(frozen=True)
class Ray:
    """Workers as Ray actors (``pip install 'ashasim[ray]'``). *address*: None for a Ray started
    here, "auto" or "ray://host:port" for a cluster. *num_cpus*: CPUs each actor reserves
    (fractions pack actors that do little CPU work). *devices*: "auto" lets actors use the
    cluster's GPUs, "cpu" keeps them off. *workers_per_device*: actors sharing one GPU (None: as
    many as needed). *placement_timeout*: as in ``Local``, e.g. when the cluster lost its nodes."""

    address: str | None = None
    num_cpus: float = 1.0
    placement_timeout: float | None = DEFAULT_PLACEMENT_TIMEOUT
    devices: str = "auto"
    workers_per_device: int | None = None

    remote = True  # the objective travels by value; storage is checked from a worker

    def __post_init__(self) -> None:
        if self.address is not None and not isinstance(self.address, str):
            raise ValueError(f"address must be a string like 'host:6379', got {self.address!r}")
        check_number("num_cpus", self.num_cpus, minimum=0, strict=True)
        _check_placement_timeout(self.placement_timeout)
        if self.devices not in ("auto", "cpu"):
            raise ValueError(f"devices must be 'auto' or 'cpu' on Ray, got {self.devices!r}")
        check_optional_int("workers_per_device", self.workers_per_device, minimum=1)
        if importlib.util.find_spec("ray") is None:
            raise ValueError(
                "backend='ray' needs Ray, which is not installed: pip install 'ashasim[ray]'"
            )

    def slots(self, n_workers: int) -> list[WorkerSlot]:
        check_workers("n_workers", n_workers)
        return [WorkerSlot(index, "ray", None) for index in range(n_workers)]

    def build(self, slots: Sequence[WorkerSlot], resource_attr: str) -> Backend:
        from ashasim.run.ray_backend import RayBackend

        return RayBackend(
            list(slots),
            ray_address=self.address,
            workers_per_device=self.workers_per_device,
            use_gpus=self.devices != "cpu",
            num_cpus=self.num_cpus,
        )


@dataclass(frozen=True)
class Fake:
    """In this process, on a virtual clock (``ashasim.run.fake.FakeBackend``): for tests and for
    debugging an objective. *epoch_seconds*: virtual seconds per reported epoch, a number or
    ``(trial_id, config, epoch) -> seconds``; *unwind_seconds*: virtual seconds between a job's
    end and the message saying so; *dies*: ``(trial_id, config, epoch) -> bool``, True when the
    worker dies in that epoch. *backend*: a ``FakeBackend`` subclass, for tests of faults."""

    epoch_seconds: float | Callable[[int, dict, int], float] = 1.0
    unwind_seconds: float = 0.0
    dies: Callable[[int, dict, int], bool] | None = None
    placement_timeout: float | None = DEFAULT_PLACEMENT_TIMEOUT
    backend: Any = None

    remote = False

    def __post_init__(self) -> None:
        if not callable(self.epoch_seconds):
            check_number("epoch_seconds", self.epoch_seconds, minimum=0)
        check_number("unwind_seconds", self.unwind_seconds, minimum=0)
        if self.dies is not None and not callable(self.dies):
            raise ValueError("dies must be a function (trial_id, config, epoch) -> bool or None")
        _check_placement_timeout(self.placement_timeout)

    def slots(self, n_workers: int) -> list[WorkerSlot]:
        check_workers("n_workers", n_workers)
        return [WorkerSlot(index, "fake", None) for index in range(n_workers)]

    def build(self, slots: Sequence[WorkerSlot], resource_attr: str) -> Backend:
        from ashasim.run.fake import FakeBackend

        kind = self.backend or FakeBackend
        return kind(
            self.epoch_seconds,
            resource_attr=resource_attr,
            unwind_seconds=self.unwind_seconds,
            dies=self.dies,
        )


BackendConfig = Local | Ray | Fake


@dataclass(frozen=True)
class Checkpoints:
    """Where trials keep their checkpoints (``ashasim.run.checkpoint``). *storage*: a path, or a
    URI such as ``s3://bucket/run`` (fsspec) that needs no shared disk; None: the run
    directory's ``checkpoints`` folder. On Ray (or with a URI) every worker checks at start-up
    that it sees the location as the driver does. *retrain_on_miss*: a promoted or retried trial
    whose checkpoint its worker cannot find retrains from scratch (with a warning) instead of
    failing. *allow_pickle*: read checkpoints that only unpickling can read (arbitrary objects
    saved without torch, or objects torch's safe loader refuses); unpickling runs code, so allow it
    only for checkpoints you trust (``ashasim.run.state_format``)."""

    storage: str | None = None
    retrain_on_miss: bool = False
    allow_pickle: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "storage", check_storage(self.storage))
        check_flag("retrain_on_miss", self.retrain_on_miss)
        check_flag("allow_pickle", self.allow_pickle)

    def root(self, directory: Path) -> str:
        """The location for a run in *directory*, resolved once (not per job)."""
        return self.storage or str((directory / "checkpoints").resolve())


def check_storage(location: str | os.PathLike[str] | None) -> str | None:
    """A checkpoint location as saved: an absolute path, or a URI fsspec can open here."""
    if location is None:
        return None
    if not isinstance(location, (str, os.PathLike)) or not str(location):
        raise ValueError(
            f"checkpoint_storage must be a path or a URI like 's3://bucket/run', got {location!r}"
        )
    text = str(location)
    if not is_uri(text):
        return str(Path(text.removeprefix("file://")).expanduser().resolve())
    try:
        import fsspec

        fsspec.get_filesystem_class(text.split("://", 1)[0])
    except ImportError as error:
        raise ValueError(
            f"checkpoint_storage {text!r} needs fsspec and the protocol's package "
            f"(pip install fsspec s3fs, ...): {error}"
        ) from None
    except ValueError as error:
        raise ValueError(f"checkpoint_storage {text!r}: {error}") from None
    return text
