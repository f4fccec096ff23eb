"""``Tuner``'s arguments, checked and turned into the ``RunSettings`` a run saves; and the
settings a resume may replace, checked and applied to the saved ones.

Every check runs before anything is written, so bad input is one clear ``ValueError`` naming the
parameter and what it accepts, and a run directory is never left half made.
"""

from __future__ import annotations

import datetime as _dt
import importlib.util
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ashasim.checks import check_choice, check_int, check_number, check_optional_int
from ashasim.core.jobs import Scheduler
from ashasim.driver import check_bounded, check_scheduler
from ashasim.run.backend import WorkerSlot, plan_slots
from ashasim.run.resume import ResumeError
from ashasim.run.settings import (
    RunSettings,
    StoppingCriterion,
    objective_name,
    objective_origin,
    why_taken,
)
from ashasim.run.storage import is_uri
from ashasim.run.worker import dumps_objective

__all__ = [
    "BACKENDS",
    "DEFAULT_PLACEMENT_TIMEOUT",
    "DEFAULT_ROOT",
    "KEEP",
    "apply_overrides",
    "check_overrides",
    "new_settings",
    "plan_workers",
]

DEFAULT_ROOT = Path("runs")
DEFAULT_PLACEMENT_TIMEOUT = 600.0  # seconds without any worker before a run gives up
KEEP: Any = object()  # Tuner.resume: keep the saved value
BACKENDS = ("local", "ray", "fake")


def new_settings(
    objective: Callable[..., Any],
    config_space: Mapping[str, Any] | None,
    scheduler: Scheduler,
    n_workers: int,
    *,
    stop: StoppingCriterion | None,
    devices: str | Sequence[str],
    workers_per_device: int | None,
    experiment_dir: str | Path | None,
    backend: str,
    ray_address: str | None,
    backend_options: Mapping[str, Any] | None,
    name: str | None,
    print_every: float | None,
    max_failures: int | None,
    trial_timeout: float | None,
    durable: bool,
    return_ends_trial: bool,
    max_retries: int,
    retry_on_error: bool,
    placement_timeout: float | None,
    checkpoint_storage: str | Path | None,
    retrain_on_miss: bool,
) -> tuple[RunSettings, Path]:
    """Check every argument of ``Tuner`` (see its docstring) and return the settings to save
    and the run directory."""
    if not callable(objective):
        raise ValueError(f"objective must be a function of the config, got {objective!r}")
    check_scheduler(scheduler)
    if scheduler.n_trials:
        raise ValueError(
            "scheduler has been used already; give the Tuner a fresh one (a run directory "
            "keeps it as it was before its first call, to resume)"
        )
    if config_space is None:
        config_space = scheduler.config_space
    elif dict(config_space) != dict(scheduler.config_space):
        raise ValueError("config_space differs from the scheduler's config_space")
    check_choice("backend", backend, BACKENDS)
    stop = stop if stop is not None else StoppingCriterion()
    if not isinstance(stop, StoppingCriterion):
        raise ValueError(f"stop must be a StoppingCriterion, got {stop!r}")
    plan_workers(backend, n_workers, devices, workers_per_device)  # validates the three
    if stop.trials is not None:
        scheduler.limit_trials(stop.trials)
    check_bounded(
        scheduler,
        time_limit=stop.max_wallclock_time,
        what="stop=StoppingCriterion(max_wallclock_time=...)",
    )
    name = name or default_name(scheduler)
    directory = Path(experiment_dir) if experiment_dir else DEFAULT_ROOT / name
    taken = why_taken(directory)
    if taken:
        raise ValueError(f"experiment_dir {taken}")
    if print_every is not None:
        check_number("print_every", print_every, minimum=0, strict=True)
    check_optional_int("max_failures", max_failures, minimum=1)
    check_int("max_retries", max_retries, minimum=0)
    check_placement_timeout(placement_timeout)
    storage = check_storage(checkpoint_storage)
    if not isinstance(retrain_on_miss, bool):
        raise ValueError(f"retrain_on_miss must be True or False, got {retrain_on_miss!r}")
    if not isinstance(retry_on_error, bool):
        raise ValueError(f"retry_on_error must be True or False, got {retry_on_error!r}")
    check_trial_timeout(trial_timeout)
    if not isinstance(durable, bool):
        raise ValueError(f"durable must be True or False, got {durable!r}")
    options = dict(backend_options or {})
    if backend == "ray":
        if importlib.util.find_spec("ray") is None:
            raise ValueError(
                "backend='ray' needs Ray, which is not installed: pip install 'ashasim[ray]'"
            )
        options.update(
            ray_address=ray_address,
            workers_per_device=workers_per_device,
            use_gpus=devices != "cpu",
        )
    try:
        objective_bytes = dumps_objective(objective, ship=backend == "ray")
    except Exception as error:
        raise ValueError(
            f"objective cannot be sent to workers (cloudpickle: {type(error).__name__}: "
            f"{error}); define it at module level or make what it refers to picklable"
        ) from None
    settings = RunSettings(
        objective=objective_bytes,
        config_space=dict(config_space),
        scheduler=scheduler,
        n_workers=n_workers,
        devices=devices if isinstance(devices, str) else list(devices),
        workers_per_device=workers_per_device,
        backend=backend,
        backend_options=options,
        name=name,
        stop=stop,
        max_failures=max_failures,
        print_every=print_every,
        objective_name=objective_name(objective),
        origin=objective_origin(objective),
        trial_timeout=trial_timeout,
        durable=durable,
        return_ends_trial=bool(return_ends_trial),
        max_retries=max_retries,
        retry_on_error=retry_on_error,
        placement_timeout=placement_timeout,
        checkpoint_storage=storage,
        retrain_on_miss=retrain_on_miss,
    )
    return settings, directory


def check_overrides(
    *,
    stop: StoppingCriterion | None,
    trial_timeout: float | None,
    durable: bool | None,
    placement_timeout: float | None,
    ray_address: str | None,
) -> dict[str, Any]:
    """Check what ``Tuner.resume`` may replace (``KEEP``/None: keep the saved value)."""
    if stop is not None and not isinstance(stop, StoppingCriterion):
        raise ValueError(f"stop must be a StoppingCriterion, got {stop!r}")
    if trial_timeout is not KEEP:
        check_trial_timeout(trial_timeout)
    if durable is not None and not isinstance(durable, bool):
        raise ValueError(f"durable must be True, False or None, got {durable!r}")
    if placement_timeout is not KEEP:
        check_placement_timeout(placement_timeout)
    if ray_address is not None and not isinstance(ray_address, str):
        raise ValueError(f"ray_address must be a string like 'host:6379', got {ray_address!r}")
    return {
        "stop": stop,
        "trial_timeout": trial_timeout,
        "durable": durable,
        "placement_timeout": placement_timeout,
        "ray_address": ray_address,
    }


def apply_overrides(settings: RunSettings, overrides: dict[str, Any], directory: Path) -> None:
    """Replace the saved settings a resume was given new values for."""
    if overrides["stop"] is not None:
        settings.stop = overrides["stop"]
    if overrides["trial_timeout"] is not KEEP:
        settings.trial_timeout = overrides["trial_timeout"]
    if overrides["durable"] is not None:
        settings.durable = overrides["durable"]
    if overrides["placement_timeout"] is not KEEP:
        settings.placement_timeout = overrides["placement_timeout"]
    if overrides["ray_address"] is not None:
        if settings.backend != "ray":
            raise ResumeError(
                f"ray_address: the run in {directory} uses the {settings.backend!r} backend, "
                f"not Ray"
            )
        settings.backend_options = {
            **settings.backend_options,
            "ray_address": overrides["ray_address"],
        }


def plan_workers(
    backend: str, n_workers: int, devices: Any, workers_per_device: int | None
) -> list[WorkerSlot]:
    """Worker slots: pinned to local devices, or (Ray) placed by Ray across the cluster, or (the
    fake backend) threads of this process."""
    if backend == "local":
        return plan_slots(n_workers, devices, workers_per_device)
    plan_slots(n_workers, "cpu", None)  # validates n_workers
    check_optional_int("workers_per_device", workers_per_device, minimum=1)
    return [WorkerSlot(index, backend, None) for index in range(n_workers)]


def check_storage(location: str | Path | None) -> str | None:
    """A checkpoint location as saved: an absolute path, or a URI fsspec can open here."""
    if location is None:
        return None
    if not isinstance(location, (str, Path)) or not str(location):
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


def check_placement_timeout(placement_timeout: float | None) -> None:
    if placement_timeout is not None:
        check_number("placement_timeout", placement_timeout, minimum=0, strict=True)


def check_trial_timeout(trial_timeout: float | None) -> None:
    if trial_timeout is not None:
        check_number("trial_timeout", trial_timeout, minimum=0, strict=True)


def default_name(scheduler: Scheduler) -> str:
    stamp = _dt.datetime.now().strftime("%Y-%m-%d-%H-%M-%S-%f")[:-3]
    return f"{type(scheduler).__name__.lower()}-{stamp}"
