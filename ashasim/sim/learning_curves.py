"""``LearningCurves``: synthetic LeNet-on-FashionMNIST learning curves and epoch times.

Counter-based randomness (a hash of the noise seed, trial and epoch) makes a trial's curve the
same however the scheduler interleaves it with others, and costs no random generator per trial:
the simulator calls the epoch function once per simulated epoch. The defaults are calibrated to a
real run on an H100 (docs/background/calibration.md; ``experiments/calibrate_lenet.py``).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from ashasim.checks import check_fraction, check_int, check_number
from ashasim.sim.costs import CostModel, CostModelError, EpochFn
from ashasim.sim.randomness import GOLDEN, MASK64, mix64, uniforms
from ashasim.space import loguniform, randint

__all__ = ["LearningCurves", "escape_curve"]


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


class LearningCurves(CostModel):
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
    calibrated to a real run on an H100 (docs/background/calibration.md).
    ``cost="restart"`` (no checkpoints: every job retrains from scratch) makes level k cost its k
    epochs, each with the jitter it has under ``"resume"``.

    Randomness is counter-based (a hash of noise seed, trial, epoch), so a trial's curve is the same
    however the scheduler interleaves it with others, and costs no generator per trial: the
    simulator calls this once per simulated epoch.
    """

    max_epochs: int  # always bounded: the curves are defined up to it

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
        **overheads: Any,
    ) -> None:
        super().__init__(**overheads)
        self.max_epochs = check_int("max_epochs", max_epochs, minimum=1)
        check_fraction("straggler_prob", straggler_prob)
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
            check_number(name, value, minimum=0, strict=True)
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
            check_number(name, value, minimum=0)
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

    def _trial(self, noise_seed: int, trial_id: int, config: Mapping[str, Any]) -> tuple:
        """Per-trial constants: (key, ratio per epoch, escape shift, floor, seconds per epoch)."""
        p = self.params
        try:
            learning_rate = float(config["learning_rate"])
            batch_size = int(config["batch_size"])
        except KeyError as missing:
            raise CostModelError(
                f"LearningCurves needs config keys 'learning_rate' and 'batch_size'; "
                f"missing {missing}"
            ) from None
        if not learning_rate > 0 or batch_size < 1:
            raise CostModelError(
                f"LearningCurves needs learning_rate > 0 and batch_size >= 1, got {learning_rate}, "
                f"{batch_size}"
            )
        key = mix64((noise_seed * GOLDEN + trial_id) & MASK64)
        u1, u2 = uniforms(key, 0)
        u3, _ = uniforms(key, 1)
        radius, angle = math.sqrt(-2.0 * math.log(u1)), 2.0 * math.pi * u2  # Box-Muller's pair
        normal, normal2 = radius * math.cos(angle), radius * math.sin(angle)
        steps = math.ceil(p["n_samples"] / batch_size)
        shift = math.exp(p["trial_spread"] * normal)  # this trial's own escape point
        speed = math.exp(p["trial_speed_spread"] * normal2)
        if u3 < p["straggler_prob"]:
            speed *= p["straggler_factor"]
        too_large = max(0.0, math.log(learning_rate / p["lr_best"]))
        floor = min(p["floor_error"] + p["floor_slope"] * too_large**2, p["chance_error"])
        seconds = (p["seconds_per_step"] * steps + p["seconds_per_epoch"]) * speed
        return key, learning_rate * steps / p["escape_progress"], shift, floor, seconds

    def epoch_fn(self, noise_seed: int) -> EpochFn:
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
                constants = cache[trial_id] = self._trial(noise_seed, trial_id, config)
                if len(cache) > cache_size:
                    cache.popitem(last=False)
            if not 1 <= epoch <= max_epochs:
                raise CostModelError(
                    f"LearningCurves(max_epochs={max_epochs}) has no epoch {epoch}; "
                    f"raise max_epochs or lower the scheduler's max_t"
                )
            key, rate, shift, floor, seconds = constants
            u_metric, u_time = uniforms(key, epoch + 1)
            error = escape_curve(
                rate * epoch, shift, chance, floor, sharpness, tail_scale, tail_exponent
            )
            error += noise_scale * math.log(u_metric / (1.0 - u_metric))
            error = 0.0 if error < 0.0 else 1.0 if error > 1.0 else error
            if restart:  # level k from scratch: epochs 1..k, each with its own jitter
                total = 0.0
                for e in range(1, epoch + 1):
                    u = uniforms(key, e + 1)[1]
                    total += seconds * (u / (1.0 - u)) ** jitter
                return total, error
            return seconds * (u_time / (1.0 - u_time)) ** jitter, error

        restart = self.cost == "restart"
        return epoch

    def seconds_hint(self) -> float | None:
        """One epoch at the largest batch size of the default space (the cheapest epoch)."""
        p = self.params
        steps = math.ceil(p["n_samples"] / 256)
        return p["seconds_per_step"] * steps + p["seconds_per_epoch"]

    def curve(
        self, trial_id: int, config: Mapping[str, Any], *, noise_seed: int = 0
    ) -> list[tuple]:
        """(seconds, error) for epochs 1..max_epochs of one trial (for plots and calibration)."""
        epoch = self.epoch_fn(noise_seed)
        return [epoch(trial_id, dict(config), e) for e in range(1, self.max_epochs + 1)]
