"""How many trials run at once: Ray Tune's ``resources_per_trial`` against the machine's CPUs and
GPUs, as ashasim workers.

Ray Tune starts a trial whenever its resources are free; ashasim runs a fixed set of workers,
each pinned to one device. The same arithmetic gives both: with *c* CPUs and *g* GPUs per trial,
``floor(num_cpus / c)`` trials fit on the CPUs and, when g > 0, ``num_gpus * floor(1 / g)`` on
the GPUs (g = 0.5 packs two trials per GPU: ``workers_per_device`` = 2). The run gets the
smaller number of workers, never more than ``max_concurrent`` or the number of trials.
``num_cpus`` and ``num_gpus`` default to this machine's (``os.cpu_count()``, the GPUs torch
sees), and can be given like ``ray.init(num_cpus=..., num_gpus=...)`` to use less.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ashasim.checks import check_int, check_number
from ashasim.run.backend import visible_gpus

__all__ = ["WorkerPlan", "plan_workers"]

_EPSILON = 1e-9  # 1 / (1/3) is 2.9999999999999996


@dataclass(frozen=True)
class WorkerPlan:
    """Workers for ``ashasim.run.Tuner``: how many, on which devices, how many per device."""

    n_workers: int
    devices: str | list[str]
    workers_per_device: int | None


def _per_trial(resources: Mapping[str, Any] | None) -> tuple[float, float]:
    if resources is None:
        return 1.0, 0.0
    if not isinstance(resources, Mapping):
        raise ValueError(
            f"resources_per_trial must be a dict like {{'cpu': 2, 'gpu': 0.5}}, got "
            f"{resources!r} (placement groups are not supported)"
        )
    unknown = sorted(set(resources) - {"cpu", "gpu"})
    if unknown:
        raise ValueError(
            f"resources_per_trial: {unknown} not supported; ashasim plans trials by 'cpu' and "
            f"'gpu' only"
        )
    cpu = check_number("resources_per_trial['cpu']", resources.get("cpu", 1), minimum=0)
    gpu = check_number("resources_per_trial['gpu']", resources.get("gpu", 0), minimum=0)
    return cpu, gpu


def plan_workers(
    resources_per_trial: Mapping[str, Any] | None,
    *,
    num_cpus: int | None = None,
    num_gpus: int | None = None,
    max_concurrent: int | None = None,
    max_trials: int | None = None,
    check_visible: bool = True,
) -> WorkerPlan:
    """The workers a run gets (see the module docstring). *check_visible*: refuse ``num_gpus``
    above the GPUs this machine has (local workers must be pinned to real devices; a Ray
    cluster's GPUs are Ray's to count)."""
    cpu, gpu = _per_trial(resources_per_trial)
    cpus = (os.cpu_count() or 1) if num_cpus is None else check_int("num_cpus", num_cpus, minimum=1)
    gpus = 0 if num_gpus is None else check_int("num_gpus", num_gpus, minimum=0)
    if gpu > 0 or num_gpus is not None:  # only then ask torch (a slow import) what there is
        visible = visible_gpus() if (num_gpus is None or check_visible) else gpus
        if num_gpus is None:
            gpus = visible
        elif gpus > visible:
            raise ValueError(f"num_gpus={gpus}, but this machine has {visible} GPU(s)")
    if gpu > gpus:
        raise ValueError(
            f"resources_per_trial asks for {gpu:g} GPU(s) per trial, but there "
            f"{'is no GPU' if gpus == 0 else f'are only {gpus}'} (num_gpus={gpus})"
        )
    if gpu > 1:
        raise ValueError(
            f"resources_per_trial['gpu']={gpu:g}: a trial gets at most one GPU in ashasim "
            f"(each worker is pinned to one device)"
        )
    if cpu > cpus:
        raise ValueError(
            f"resources_per_trial asks for {cpu:g} CPU(s) per trial, but there are only {cpus} "
            f"(num_cpus={cpus})"
        )
    limits = [math.floor(cpus / cpu + _EPSILON) if cpu > 0 else math.inf]
    per_device = math.floor(1 / gpu + _EPSILON) if gpu > 0 else None
    if per_device is not None:
        limits.append(gpus * per_device)
    limits += [n for n in (max_concurrent, max_trials) if n is not None]
    n_workers = int(min(limits)) if min(limits) != math.inf else (os.cpu_count() or 1)
    if per_device is None:
        return WorkerPlan(max(n_workers, 1), "cpu", None)
    return WorkerPlan(max(n_workers, 1), [f"cuda:{k}" for k in range(gpus)], per_device)
