"""Cost models for the SimPy clock: how long an epoch takes, and the metric it reaches.

A workload answers ``epoch(trial_id, config, epoch) -> (seconds, metric)``. It must be a pure
function of its arguments and the run's seed, so that a trial retrained from scratch, or replayed in
another run, sees the same numbers; this is what makes simulated traces bit-for-bit reproducible.
The simulator asks for ``epoch_fn(seed)`` once and calls the returned function in its hot loop.

Per-job overheads (``startup_seconds`` for a fresh start, ``restore_seconds`` to load a checkpoint
when a paused trial resumes, ``checkpoint_seconds`` to save one when a job pauses below max_t) are
charged by the simulator to the job's worker. The save happens before the milestone report: the
scheduler may resume the trial on another worker as soon as it hears of it.

* ``Scripted``: explicit epoch times and metrics per trial (the chapter's schematic figures).
* ``LearningCurves``: synthetic, config-dependent learning curves and epoch times with
  heavy-tailed noise and stragglers, calibrated to LeNet on FashionMNIST (see ``calibration``).
* ``Tabular``: a table of (config, epoch) -> (seconds, metric) from CSV/JSON, e.g. a recorded run.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ashasim.space import loguniform, randint

__all__ = ["EpochFn", "LearningCurves", "Scripted", "Tabular", "Workload", "WorkloadError"]

EpochFn = Callable[[int, dict, int], tuple[float, float]]


class WorkloadError(ValueError):
    """The scheduler asked for something the workload cannot answer (an unscripted trial, ...)."""


def _non_negative(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


class Workload:
    """Base class: overheads, an optional default search space, and the epoch function."""

    #: the search space this workload is meant to be tuned over (None: any)
    config_space: dict[str, Any] | None = None
    #: the largest epoch the workload can answer (None: any)
    max_epochs: int | None = None

    def __init__(
        self,
        *,
        startup_seconds: float = 0.0,
        checkpoint_seconds: float = 0.0,
        restore_seconds: float = 0.0,
    ) -> None:
        self.startup_seconds = _non_negative("startup_seconds", startup_seconds)
        self.checkpoint_seconds = _non_negative("checkpoint_seconds", checkpoint_seconds)
        self.restore_seconds = _non_negative("restore_seconds", restore_seconds)

    def epoch_fn(self, seed: int) -> EpochFn:
        """The function the simulator calls per epoch, bound to the run's seed."""
        raise NotImplementedError

    def epoch(
        self, trial_id: int, config: dict, epoch: int, *, seed: int = 0
    ) -> tuple[float, float]:
        """(seconds, metric) of one epoch; convenience wrapper around ``epoch_fn``."""
        return self.epoch_fn(seed)(trial_id, config, epoch)

    def describe(self) -> dict[str, Any]:
        """Name and settings, JSON-able, for journal headers."""
        return {
            "name": type(self).__name__,
            "startup_seconds": self.startup_seconds,
            "checkpoint_seconds": self.checkpoint_seconds,
            "restore_seconds": self.restore_seconds,
        }


class Scripted(Workload):
    """Explicit per-trial epoch times and metrics.

    *epoch_seconds*: ``epoch_seconds[trial_id]`` is one number (every epoch of that trial) or a
    sequence (per epoch). A sequence or a mapping keyed by trial id. *metrics*:
    ``metrics[trial_id][epoch - 1]``, or a callable ``(trial_id, epoch) -> float``.
    """

    def __init__(
        self,
        epoch_seconds: Sequence[float | Sequence[float]] | Mapping[int, float | Sequence[float]],
        metrics: Sequence[Sequence[float]]
        | Mapping[int, Sequence[float]]
        | Callable[[int, int], float],
        **overheads: float,
    ) -> None:
        super().__init__(**overheads)
        self._seconds = dict(
            epoch_seconds.items()
            if isinstance(epoch_seconds, Mapping)
            else enumerate(epoch_seconds)
        )
        for trial_id, seconds in self._seconds.items():
            for value in [seconds] if isinstance(seconds, (int, float)) else seconds:
                _non_negative(f"epoch_seconds[{trial_id}]", value)
        if callable(metrics):
            self._metric_fn: Callable[[int, int], float] | None = metrics
            self._metrics: dict[int, Sequence[float]] = {}
        else:
            self._metric_fn = None
            self._metrics = dict(
                metrics.items() if isinstance(metrics, Mapping) else enumerate(metrics)
            )

    @property
    def trial_ids(self) -> list[int]:
        return sorted(self._seconds)

    def epoch_fn(self, seed: int) -> EpochFn:
        return self._epoch

    def _epoch(self, trial_id: int, config: dict, epoch: int) -> tuple[float, float]:
        if epoch < 1:
            raise WorkloadError(f"Scripted workload: epochs start at 1, got {epoch}")
        seconds = self._seconds.get(trial_id)
        if seconds is None:
            raise WorkloadError(
                f"Scripted workload has no trial {trial_id} (it scripts trials "
                f"{self.trial_ids}); script more trials or cap max_trials at {len(self._seconds)}"
            )
        if not isinstance(seconds, (int, float)):
            if epoch > len(seconds):
                raise WorkloadError(
                    f"Scripted workload: trial {trial_id} has epoch times for epochs "
                    f"1..{len(seconds)}, the scheduler asked for epoch {epoch}"
                )
            seconds = seconds[epoch - 1]
        if self._metric_fn is not None:
            return float(seconds), float(self._metric_fn(trial_id, epoch))
        curve = self._metrics.get(trial_id)
        if curve is None or epoch > len(curve):
            known = 0 if curve is None else len(curve)
            raise WorkloadError(
                f"Scripted workload: trial {trial_id} has metrics for epochs 1..{known}, "
                f"the scheduler asked for epoch {epoch}"
            )
        return float(seconds), float(curve[epoch - 1])


_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def _mix64(value: int) -> int:
    """SplitMix64's finalizer: a fast, well-mixed 64-bit hash (Steele, Lea & Flood, 2014)."""
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


def _uniforms(key: int, counter: int) -> tuple[float, float]:
    """Two independent uniforms in (0, 1) from one hash of (key, counter): counter-based
    randomness, so a draw depends only on what it is for, never on the order of the calls."""
    bits = _mix64((key + counter * _GOLDEN) & _MASK64)
    return ((bits >> 32) + 0.5) * 2.0**-32, ((bits & 0xFFFFFFFF) + 0.5) * 2.0**-32


def escape_curve(
    ratio: Any,
    shift: Any,
    chance: float,
    floor: Any,
    sharpness: float,
    tail_scale: float,
    tail_exponent: float,
    minimum: Callable[[Any, Any], Any] = min,
) -> Any:
    """LeNet's validation error at ``ratio`` = progress / escape_progress (> 0): at chance level
    until the trial escapes (at ratio ``shift``, its own, seed-dependent point), then along the
    power-law tail (capped at chance), which the seed does not move. It never rises with
    progress. Plain arithmetic, so the calibration can pass numpy arrays (with
    ``minimum=np.minimum``; ``experiments/calibrate_lenet.py``)."""
    escaped = 1.0 - 1.0 / (1.0 + (ratio / shift) ** sharpness)
    tail = minimum(floor + tail_scale * ratio**-tail_exponent, chance)
    return chance - escaped * (chance - tail)


class LearningCurves(Workload):
    """Synthetic learning curves and epoch times for LeNet-like training on FashionMNIST.

    The validation error depends on *progress*, the learning rate times the SGD steps taken
    (``e * ceil(n_samples / batch_size)`` after e epochs), through ``escape_curve``: the chapter's
    sigmoid LeNet sits at chance level (0.9) until progress nears ``escape_progress``, escapes
    sharply (``escape_sharpness``), then improves slowly along a power-law tail
    ``floor + tail_scale * (progress / escape_progress) ** -tail_exponent``. The floor rises for
    learning rates above ``lr_best`` (too large a step hurts). Each trial draws a log-normal shift
    of its escape point (``trial_spread``: seeds differ most in when they leave the plateau).
    Epoch time is ``seconds_per_step * steps_per_epoch + seconds_per_epoch``, times a per-trial
    log-normal speed factor, times a per-epoch log-logistic jitter ``(u / (1 - u)) **
    time_jitter`` (power-law tails: the odd very slow epoch); with probability
    ``straggler_prob`` a trial is a straggler whose epochs take ``straggler_factor`` times longer.
    The metric noise is logistic with standard deviation ``metric_noise``. The defaults are
    calibrated to a real run on an H100 (README, "How the cost models were calibrated").

    Randomness is counter-based (a hash of seed, trial, epoch), so a trial's curve is the same
    however the scheduler interleaves it with others, and costs no generator per trial: the
    simulator calls this once per simulated epoch.
    """

    def __init__(
        self,
        *,
        max_epochs: int = 10,
        n_samples: int = 60_000,
        chance_error: float = 0.9,
        floor_error: float = 0.06,
        lr_best: float = 0.3,
        floor_slope: float = 0.0,
        escape_progress: float = 255.0,
        escape_sharpness: float = 8.0,
        tail_scale: float = 0.321,
        tail_exponent: float = 0.4,
        trial_spread: float = 0.65,
        metric_noise: float = 0.01,
        seconds_per_step: float = 0.00183,
        seconds_per_epoch: float = 0.011,
        time_jitter: float = 0.085,
        trial_speed_spread: float = 0.144,
        straggler_prob: float = 0.0,
        straggler_factor: float = 3.0,
        cache_size: int = 65_536,
        **overheads: float,
    ) -> None:
        super().__init__(**overheads)
        if isinstance(max_epochs, bool) or not isinstance(max_epochs, int) or max_epochs < 1:
            raise ValueError(f"max_epochs must be an integer >= 1, got {max_epochs!r}")
        self.max_epochs = max_epochs
        if not 0 <= straggler_prob <= 1:
            raise ValueError(f"straggler_prob must be in [0, 1], got {straggler_prob!r}")
        if not 0 <= floor_error < chance_error <= 1:
            raise ValueError(
                f"need 0 <= floor_error < chance_error <= 1, got {floor_error}, {chance_error}"
            )
        positive = {
            "n_samples": n_samples,
            "lr_best": lr_best,
            "escape_progress": escape_progress,
            "escape_sharpness": escape_sharpness,
            "tail_scale": tail_scale,
            "tail_exponent": tail_exponent,
            "straggler_factor": straggler_factor,
            "cache_size": cache_size,
        }
        for name, value in positive.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{name} must be a number > 0, got {value!r}")
        non_negative = {
            "floor_slope": floor_slope,
            "trial_spread": trial_spread,
            "metric_noise": metric_noise,
            "seconds_per_step": seconds_per_step,
            "seconds_per_epoch": seconds_per_epoch,
            "time_jitter": time_jitter,
            "trial_speed_spread": trial_speed_spread,
        }
        for name, value in non_negative.items():
            _non_negative(name, value)
        if time_jitter >= 1:
            raise ValueError(f"time_jitter must be < 1 (finite mean epoch time), got {time_jitter}")
        self.params = {
            "n_samples": n_samples,
            "chance_error": chance_error,
            "floor_error": floor_error,
            **positive,
            **non_negative,
            "straggler_prob": straggler_prob,
        }
        del self.params["cache_size"]
        self.cache_size = int(cache_size)
        self.config_space = {
            "learning_rate": loguniform(1e-2, 1.0),
            "batch_size": randint(32, 256),
            "max_epochs": max_epochs,
        }

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "max_epochs": self.max_epochs, **self.params}

    def _trial(self, seed: int, trial_id: int, config: Mapping[str, Any]) -> tuple:
        """Per-trial constants: (key, ratio per epoch, escape shift, floor, seconds per epoch)."""
        p = self.params
        try:
            learning_rate = float(config["learning_rate"])
            batch_size = int(config["batch_size"])
        except KeyError as missing:
            raise WorkloadError(
                f"LearningCurves needs config keys 'learning_rate' and 'batch_size'; "
                f"missing {missing}"
            ) from None
        if not learning_rate > 0 or batch_size < 1:
            raise WorkloadError(
                f"LearningCurves needs learning_rate > 0 and batch_size >= 1, got {learning_rate}, "
                f"{batch_size}"
            )
        key = _mix64((seed * _GOLDEN + trial_id) & _MASK64)
        u1, u2 = _uniforms(key, 0)
        u3, _ = _uniforms(key, 1)
        normal = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
        normal2 = math.sqrt(-2.0 * math.log(u1)) * math.sin(2.0 * math.pi * u2)
        steps = math.ceil(p["n_samples"] / batch_size)
        shift = math.exp(p["trial_spread"] * normal)  # this trial's own escape point
        speed = math.exp(p["trial_speed_spread"] * normal2)
        if u3 < p["straggler_prob"]:
            speed *= p["straggler_factor"]
        too_large = max(0.0, math.log(learning_rate / p["lr_best"]))
        floor = min(p["floor_error"] + p["floor_slope"] * too_large**2, p["chance_error"])
        seconds = (p["seconds_per_step"] * steps + p["seconds_per_epoch"]) * speed
        return key, learning_rate * steps / p["escape_progress"], shift, floor, seconds

    def epoch_fn(self, seed: int) -> EpochFn:
        cache: OrderedDict[int, tuple] = OrderedDict()
        p = self.params
        chance, sharpness = p["chance_error"], p["escape_sharpness"]
        tail_scale, tail_exponent = p["tail_scale"], p["tail_exponent"]
        jitter = p["time_jitter"]
        noise_scale = p["metric_noise"] * math.sqrt(3.0) / math.pi  # logistic scale for that std
        max_epochs, cache_size = self.max_epochs, self.cache_size

        def epoch(trial_id: int, config: dict, epoch: int) -> tuple[float, float]:
            constants = cache.get(trial_id)
            if constants is None:
                constants = cache[trial_id] = self._trial(seed, trial_id, config)
                if len(cache) > cache_size:
                    cache.popitem(last=False)
            if not 1 <= epoch <= max_epochs:
                raise WorkloadError(
                    f"LearningCurves(max_epochs={max_epochs}) has no epoch {epoch}; "
                    f"raise max_epochs or lower the scheduler's max_t"
                )
            key, rate, shift, floor, seconds = constants
            u_metric, u_time = _uniforms(key, epoch + 1)
            error = escape_curve(
                rate * epoch, shift, chance, floor, sharpness, tail_scale, tail_exponent
            )
            error += noise_scale * math.log(u_metric / (1.0 - u_metric))
            error = 0.0 if error < 0.0 else 1.0 if error > 1.0 else error
            return seconds * (u_time / (1.0 - u_time)) ** jitter, error

        return epoch

    def curve(self, trial_id: int, config: Mapping[str, Any], *, seed: int = 0) -> list[tuple]:
        """(seconds, error) for epochs 1..max_epochs of one trial (for plots and calibration)."""
        epoch = self.epoch_fn(seed)
        return [epoch(trial_id, dict(config), e) for e in range(1, self.max_epochs + 1)]


class Tabular(Workload):
    """Replay a table of (config, epoch) -> (seconds, metric).

    Rows come from a CSV or JSON file (a list of objects) or directly as dicts. Columns: the
    config's hyperparameters, ``resource_attr`` (epoch), ``time_attr`` (seconds of that epoch) and
    ``metric``. Distinct hyperparameter combinations become configs 0..n-1; the scheduler samples
    ``config_id`` from ``config_space`` = {"config_id": randint(0, n-1)} and the replay looks the
    rows up. A recorded real run has only the (config, epoch) pairs it observed: asking for an epoch
    the table lacks is an error (``missing="error"``) or repeats the config's last recorded epoch
    (``missing="hold"``), which is only an approximation.
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | Sequence[Mapping[str, Any]],
        *,
        metric: str = "metric",
        resource_attr: str = "epoch",
        time_attr: str = "seconds",
        missing: str = "error",
        **overheads: float,
    ) -> None:
        super().__init__(**overheads)
        if missing not in ("error", "hold"):
            raise ValueError(f"missing must be 'error' or 'hold', got {missing!r}")
        self.missing = missing
        self.metric, self.resource_attr, self.time_attr = metric, resource_attr, time_attr
        self.source = str(source) if isinstance(source, (str, os.PathLike)) else "<rows>"
        rows = _read_rows(source) if isinstance(source, (str, os.PathLike)) else list(source)
        if not rows:
            raise ValueError(f"Tabular: {self.source} has no rows")
        needed = {metric, resource_attr, time_attr}
        index: dict[tuple, int] = {}
        self.configs: list[dict[str, Any]] = []
        self._table: list[dict[int, tuple[float, float]]] = []
        for number, row in enumerate(rows, start=1):
            absent = needed - set(row)
            if absent:
                raise ValueError(
                    f"Tabular: row {number} of {self.source} lacks column(s) {sorted(absent)}; "
                    f"columns are the hyperparameters plus {sorted(needed)}"
                )
            config = {k: v for k, v in row.items() if k not in needed}
            key = tuple(sorted((k, json.dumps(v, sort_keys=True)) for k, v in config.items()))
            if key not in index:
                index[key] = len(self.configs)
                self.configs.append(config)
                self._table.append({})
            try:
                raw_epoch = float(row[resource_attr])
                epoch = int(raw_epoch)
                seconds = float(row[time_attr])
                value = float(row[metric])
            except (TypeError, ValueError, OverflowError) as error:
                raise ValueError(f"Tabular: row {number} of {self.source}: {error}") from None
            if epoch != raw_epoch or epoch < 1 or not seconds >= 0 or not math.isfinite(seconds):
                raise ValueError(
                    f"Tabular: row {number} of {self.source}: need an integer {resource_attr} >= 1 "
                    f"and a finite {time_attr} >= 0, got {row[resource_attr]!r}, {seconds}"
                )
            if epoch in self._table[index[key]]:
                raise ValueError(
                    f"Tabular: row {number} of {self.source} repeats {resource_attr}={epoch} of "
                    f"config {index[key]} ({config})"
                )
            self._table[index[key]][epoch] = (seconds, value)
        self.max_epochs = max(max(epochs) for epochs in self._table)
        self.config_space = {"config_id": randint(0, len(self.configs) - 1)}

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "source": self.source,
            "configs": len(self.configs),
            "missing": self.missing,
        }

    def epoch_fn(self, seed: int) -> EpochFn:
        return self._epoch

    def _epoch(self, trial_id: int, config: dict, epoch: int) -> tuple[float, float]:
        config_id = config.get("config_id")
        if not isinstance(config_id, int) or not 0 <= config_id < len(self._table):
            raise WorkloadError(
                f"Tabular: trial {trial_id} has config_id={config_id!r}; the table has configs "
                f"0..{len(self._table) - 1} (tune over Tabular.config_space)"
            )
        epochs = self._table[config_id]
        found = epochs.get(epoch)
        if found is not None:
            return found
        if self.missing == "hold":
            below = [e for e in epochs if e < epoch]
            if below:
                return epochs[max(below)]
        raise WorkloadError(
            f"Tabular: config {config_id} has no row for {self.resource_attr}={epoch} "
            f"(recorded: {sorted(epochs)}); a recorded run only holds the epochs it observed "
            f"(missing='hold' repeats the last one)"
        )


def _read_rows(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Tabular: no file {path}")
    if path.suffix.lower() == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
            raise ValueError(f"Tabular: {path} must hold a JSON list of objects")
        return data
    if path.suffix.lower() == ".csv":
        rows = []
        with open(path, newline="", encoding="utf-8") as handle:
            for number, row in enumerate(csv.DictReader(handle), start=1):
                # DictReader files extra cells under None and fills missing ones with None
                if None in row or None in row.values():
                    raise ValueError(
                        f"Tabular: row {number} of {path} has "
                        f"{'more' if None in row else 'fewer'} cells than the header"
                    )
                rows.append({k: _parse_cell(v) for k, v in row.items()})
        return rows
    raise ValueError(f"Tabular: {path} must be .csv or .json")


def _parse_cell(text: str) -> Any:
    """CSV cells back to numbers where they are numbers."""
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            continue
    return text
