"""``tune.run``'s arguments checked as Ray Tune checks them, or refused in one line.

Every argument of Ray Tune's ``tune.run`` is here in one of three ways: taken by ``tune.run``
with Ray's meaning; in ``REFUSED_ARGUMENTS`` (refused at the call, with the reason and what to
use instead, whenever it is given a value other than Ray's default); or unknown to Ray Tune as
well, which Python's own ``TypeError`` reports. The guide docs/guides/coming-from-ray-tune.md
lists the same refusals (a test compares the two).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ashasim.checks import check_choice, check_int, check_number, check_optional_int
from ashasim.events.records import json_default
from ashasim.run.tuner import BACKENDS
from ashasim.space import GridSearch
from ashasim.tune.checkpoints import KeepPolicy
from ashasim.tune.reporter import CLIReporter
from ashasim.tune.schedulers import TrialScheduler
from ashasim.tune.search import SearchAlgorithm

__all__ = [
    "REFUSED_ARGUMENTS",
    "check_arguments",
    "check_config",
    "check_failures",
    "check_reporter_objective",
    "choose_seed",
    "keep_policy",
    "metric_and_mode",
    "refuse_arguments",
    "storage_root",
    "time_budget_seconds",
    "trial_budget",
]

RESUME = (True, False, None, "AUTO", "LOCAL")
SCHEDULERS = (
    "FIFOScheduler, ASHAScheduler/AsyncHyperBandScheduler, HyperBandScheduler, HyperBandForBOHB"
)

#: a "default" no value matches: the argument is refused whatever it is
ALWAYS: Any = object()

#: Ray Tune's tune.run arguments ashasim refuses, with the value it accepts and the reason
REFUSED_ARGUMENTS: dict[str, tuple[Any, str]] = {
    "storage_filesystem": (None, "pyarrow filesystems are not supported; give storage_path"),
    "checkpoint_config": (
        None,
        "CheckpointConfig is not supported; use keep_checkpoints_num and checkpoint_score_attr",
    ),
    "log_to_file": (False, "trials print to the console; write files from the trainable"),
    "sync_config": (None, "no syncing: trial directories are written under storage_path"),
    "export_formats": (None, "model export is for class Trainables; save the model yourself"),
    "restore": (None, "use resume=True with the run's name and storage_path"),
    "resume_config": (None, "use resume=True (errored trials are not restarted)"),
    "reuse_actors": (
        True,
        "ashasim's workers run trial after trial in one process (as reuse_actors=True does)",
    ),
    "checkpoint_freq": (
        0,
        "cannot be set for a function trainable (Ray Tune's rule); checkpoint in the trainable",
    ),
    "checkpoint_at_end": (
        False,
        "cannot be used with a function trainable (Ray Tune's rule); checkpoint in the trainable",
    ),
    "chdir_to_trial_dir": (
        ALWAYS,
        "deprecated in Ray Tune 2.8; trainables always run in their trial directory",
    ),
}


def refuse_arguments(given: Mapping[str, Any]) -> None:
    """One line for the first refused argument given a value other than Ray's default; Python's
    TypeError for a name Ray Tune's tune.run does not take either."""
    for name, value in given.items():
        if name not in REFUSED_ARGUMENTS:
            raise TypeError(f"tune.run() got an unexpected keyword argument {name!r}")
        default, reason = REFUSED_ARGUMENTS[name]
        if value is not default and value != default and not (default is None and not value):
            raise ValueError(f"tune.run(): {name} is not supported: {reason}")


def check_arguments(
    trainable: Any,
    scheduler: Any,
    progress_reporter: Any,
    backend: str,
    resume: Any,
    verbose: Any,
    objective: tuple[str | None, str | None] = (None, None),
) -> None:
    """Ray Tune's arguments whose values ashasim takes, checked at the call; *objective*:
    tune.run's own metric and mode."""
    metric, mode = objective
    if isinstance(trainable, (str, type)) or not callable(trainable):
        raise ValueError(
            f"tune.run() takes a function trainable (def train(config): ... tune.report(...)), "
            f"got {trainable!r}; class Trainables and registered names are not supported"
        )
    if scheduler is not None and not isinstance(scheduler, TrialScheduler):
        raise ValueError(
            f"scheduler {type(scheduler).__name__} is not supported; available: {SCHEDULERS} "
            f"(from ashasim.tune.schedulers)"
        )
    if progress_reporter is not None and not isinstance(progress_reporter, CLIReporter):
        raise ValueError(f"progress_reporter must be a CLIReporter, got {progress_reporter!r}")
    check_reporter_objective(progress_reporter, metric, mode)
    check_choice("backend", backend, BACKENDS)
    check_choice("resume", resume, RESUME)
    check_int("verbose", verbose, minimum=0)


def check_reporter_objective(reporter: Any, metric: str | None, mode: str | None) -> None:
    """Ray Tune's rule (``ProgressReporter.set_search_properties``): metric and mode go to the
    reporter or to tune.run, not to both."""
    if reporter is None:
        return
    if (reporter.metric and metric) or (reporter.mode and mode):
        raise ValueError(
            "metric/mode were given to tune.run() and to the progress reporter: give them in "
            "one place (remove them from the CLIReporter or from tune.run())"
        )


def check_failures(max_failures: Any, fail_fast: Any) -> tuple[int, bool]:
    """Ray Tune's ``max_failures`` (retries per trial) and ``fail_fast``, checked."""
    if max_failures == -1:
        raise ValueError(
            "max_failures=-1 (retry a failed trial for ever) is not supported: a trial that "
            "fails deterministically would run for ever; give a number of retries"
        )
    check_int("max_failures", max_failures, minimum=0)
    if fail_fast == "raise":
        raise ValueError(
            "fail_fast='raise' is not supported: the error happens in a worker process; "
            "fail_fast=True stops the run at the first failed trial and names its error"
        )
    if not isinstance(fail_fast, bool):
        raise ValueError(f"fail_fast must be True or False, got {fail_fast!r}")
    return max_failures, fail_fast


def metric_and_mode(
    metric: str | None, mode: str | None, scheduler: TrialScheduler, search: SearchAlgorithm
) -> tuple[str | None, str | None]:
    """Where the metric comes from: tune.run, or the scheduler and/or search algorithm; never
    tune.run and one of them (Ray Tune's rule), never half of the pair."""
    if metric is not None or mode is not None:
        if metric is None or mode is None:
            raise ValueError("tune.run(): give metric and mode together (mode 'min' or 'max')")
        for owner in (scheduler, search):
            if owner.metric is not None or owner.mode is not None:
                raise ValueError(
                    f"metric/mode were given to tune.run() and to the {owner.ray_name} already: "
                    f"give them in one place (remove them from tune.run() or from the "
                    f"{owner.ray_name})"
                )
        check_choice("mode", mode, ("min", "max"))
        return metric, mode
    found = []
    for owner in (scheduler, search):
        if owner.metric is not None or owner.mode is not None:
            if owner.metric is None or owner.mode is None:
                raise ValueError(f"{owner.ray_name}: give metric and mode together")
            found.append((owner.metric, owner.mode))
    if len(found) == 2 and found[0] != found[1]:
        raise ValueError(
            f"the scheduler optimizes {found[0]} but the search algorithm {found[1]}: give "
            f"metric and mode once (e.g. to tune.run())"
        )
    return found[0] if found else (None, None)


def trial_budget(
    flat: Mapping[str, Any], num_samples: int, search: SearchAlgorithm, time_budget_s: Any
) -> int | None:
    """Trials to start: num_samples, times the grid's size under the basic variant generator;
    None for Ray Tune's num_samples=-1 (until the time budget)."""
    if num_samples == -1:
        if time_budget_s is None:
            raise ValueError("num_samples=-1 (no limit) needs time_budget_s")
        return None
    check_int("num_samples", num_samples, minimum=1)
    grid = [d for d in flat.values() if isinstance(d, GridSearch)]
    if grid and search.models:
        raise ValueError(
            f"{search.ray_name} cannot use tune.grid_search (only the default "
            f"BasicVariantGenerator sweeps grids); use tune.choice instead"
        )
    return num_samples * (1 if search.models else math.prod(len(d.values) for d in grid))


def check_config(config: Mapping[str, Any]) -> None:
    """A config the journal can keep: it writes every trial's config as JSON."""
    for key, value in config.items():
        try:
            json.dumps(value, default=json_default)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"config[{key!r}]: {error}; the journal keeps every config as JSON, so pass "
                f"other objects with tune.with_parameters(trainable, {key.split('/')[-1]}=...)"
            ) from None


def choose_seed(seed: int | None, search: SearchAlgorithm) -> int:
    """The run's seed: *seed*, else the search algorithm's, else a fresh one (Ray Tune draws
    new configs on every run; ashasim prints and keeps the seed it drew, so that
    ``seed=`` reproduces the run)."""
    seed = check_optional_int("seed", seed, minimum=0)
    if seed is not None and search.seed is not None and seed != search.seed:
        raise ValueError(f"seed={seed} disagrees with the search algorithm's seed {search.seed}")
    if seed is not None:
        return seed
    return search.seed if search.seed is not None else secrets.randbelow(2**31)


def keep_policy(keep_checkpoints_num: Any, checkpoint_score_attr: Any) -> KeepPolicy | None:
    """Ray Tune's checkpoint retention: the best N checkpoints by the attribute ("min-attr"
    for lower is better), or the newest N without one."""
    keep = check_optional_int("keep_checkpoints_num", keep_checkpoints_num, minimum=1)
    if checkpoint_score_attr is not None and not (
        isinstance(checkpoint_score_attr, str) and checkpoint_score_attr.removeprefix("min-")
    ):
        raise ValueError(
            f"checkpoint_score_attr must be a result name (or 'min-<name>'), got "
            f"{checkpoint_score_attr!r}"
        )
    return None if keep is None else KeepPolicy(keep, checkpoint_score_attr)


def time_budget_seconds(time_budget_s: Any) -> float | None:
    """``time_budget_s`` in seconds (Ray Tune also takes a timedelta), checked."""
    if isinstance(time_budget_s, _dt.timedelta):
        time_budget_s = time_budget_s.total_seconds()
    if time_budget_s is not None:
        check_number("time_budget_s", time_budget_s, minimum=0, strict=True)
    return time_budget_s


def storage_root(storage_path: Any, local_dir: Any, default: str) -> Path:
    """Where runs go: *storage_path*, or Ray Tune's older name *local_dir*, else *default*."""
    if storage_path is not None and local_dir is not None:
        raise ValueError("give storage_path or local_dir (its older name), not both")
    return Path(storage_path or local_dir or default).expanduser().resolve()
