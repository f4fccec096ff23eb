"""Fit the ``LearningCurves`` cost model to a real LeNet/FashionMNIST run's journal.

Epoch time: every gap between two reports of the same job is one epoch (the first report of a
job also carries the job's start-up, so it is left out); a least-squares line in the number of SGD
steps, seconds = seconds_per_step * ceil(60000 / batch_size) + seconds_per_epoch, and the spread
of the log-residuals per trial (trial_speed_spread) and per epoch (time_jitter).

Job overheads: a job's first report minus the epoch time the line predicts, for fresh jobs
(startup_seconds) and for promoted jobs that load a checkpoint (restore_seconds).

Validation error: a grid search over the shape of ``ashasim.sim.learning_curves.escape_curve``
(escape_progress, escape_sharpness, floor_error, tail_scale, tail_exponent, lr_best,
floor_slope). As in the model, each trial may leave the plateau earlier or later (a log-normal
shift of its escape point): for every shape, each trial gets its best shift, the loss is the
squared error left, and trial_spread is the spread of the chosen shifts.

    python experiments/calibrate_lenet.py [experiments/data/h100_asha_2workers]
"""

from __future__ import annotations

import argparse
import itertools
import math
from pathlib import Path

import numpy as np

from ashasim.events import JobStarted, Reported, load_experiment
from ashasim.sim.learning_curves import escape_curve

N_TRAIN = 60_000


def observations(run: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Epoch times [steps, seconds, trial], first reports [steps, seconds, resumed], and
    errors [lr, batch, epoch, error, trial]."""
    trace = load_experiment(run)
    last: dict[int, tuple[float, dict, bool, bool]] = {}  # worker -> (time, config, seen, resumed)
    times, firsts, errors = [], [], []
    for event in trace.events:
        if type(event) is JobStarted:
            last[event.worker] = (event.t, event.config, False, event.resume_from > 0)
        elif type(event) is Reported:
            t, config, seen, resumed = last[event.worker]
            steps = math.ceil(N_TRAIN / config["batch_size"])
            (times if seen else firsts).append(
                (steps, event.t - t, event.trial_id if seen else resumed)
            )
            errors.append(
                (
                    config["learning_rate"],
                    config["batch_size"],
                    event.resource,
                    event.metric,
                    event.trial_id,
                )
            )
            last[event.worker] = (event.t, config, True, resumed)
    return np.array(times), np.array(firsts), np.array(errors)


def fit_times(times: np.ndarray, firsts: np.ndarray) -> dict[str, float]:
    steps, seconds, trials = times[:, 0], times[:, 1], times[:, 2]
    slope, intercept = np.polyfit(steps, seconds, 1)
    predicted = slope * steps + intercept
    residual = np.log(seconds / predicted)
    per_trial = {t: residual[trials == t].mean() for t in np.unique(trials)}
    trial_effect = np.array([per_trial[t] for t in trials])
    overhead = firsts[:, 1] - (slope * firsts[:, 0] + intercept)
    resumed = firsts[:, 2] > 0
    return {
        "seconds_per_step": float(slope),
        "seconds_per_epoch": float(intercept),
        "trial_speed_spread": float(np.std(list(per_trial.values()))),
        "time_jitter": float(np.std(residual - trial_effect)),
        "startup_seconds": float(max(0.0, np.median(overhead[~resumed]))),
        "restore_seconds": float(max(0.0, np.median(overhead[resumed]))) if resumed.any() else 0.0,
    }


SHIFTS = np.linspace(-2.0, 2.0, 33)  # log-shifts of a trial's escape point


def predict(params: tuple, lr, batch, epoch, shift=0.0) -> np.ndarray:
    escape, sharpness, floor_error, tail_scale, tail_exponent, lr_best, floor_slope = params
    floor = floor_error + floor_slope * np.maximum(0.0, np.log(lr / lr_best)) ** 2
    ratio = lr * epoch * np.ceil(N_TRAIN / batch) / escape
    return escape_curve(
        ratio, np.exp(shift), 0.9, floor, sharpness, tail_scale, tail_exponent, np.minimum
    )


NAMES = (
    "escape_progress",
    "escape_sharpness",
    "floor_error",
    "tail_scale",
    "tail_exponent",
    "lr_best",
    "floor_slope",
)


def fit_errors(errors: np.ndarray) -> tuple[dict[str, float], float, float]:
    lr, batch, epoch, observed, trial = errors.T
    _, trial_index = np.unique(trial, return_inverse=True)
    n_trials = trial_index.max() + 1
    shifts = SHIFTS[:, None]
    grid = itertools.product(
        np.geomspace(60, 800, 16),  # escape_progress
        [3.0, 4.0, 6.0, 8.0],  # escape_sharpness
        np.linspace(0.04, 0.16, 7),  # floor_error
        np.linspace(0.15, 0.5, 8),  # tail_scale
        [0.4, 0.5, 0.6],  # tail_exponent
        [0.3, 1.0],  # lr_best
        [0.0, 0.08],  # floor_slope
    )
    best, best_loss, best_shifts = None, math.inf, None
    for params in grid:
        squared = (predict(params, lr, batch, epoch, shifts) - observed) ** 2  # shifts x points
        per_trial = np.stack([np.bincount(trial_index, row, n_trials) for row in squared])
        loss = float(per_trial.min(axis=0).sum() / len(observed))
        if loss < best_loss:
            best, best_loss, best_shifts = params, loss, SHIFTS[per_trial.argmin(axis=0)]
    # trial_spread: the spread of the escapes. Only trials seen to leave the plateau tell where
    # they escape (ASHA stops most of the rest at epoch 2, still at 0.9, which any later escape
    # explains: censored). Their median is the typical escape; the shape keeps escape_progress.
    escaped = np.bincount(trial_index, observed < 0.8, n_trials) > 0
    fitted = dict(zip(NAMES, map(float, best), strict=True))
    typical = float(np.median(best_shifts[escaped]))
    # LearningCurves measures progress from the typical escape: move the tail's reference there.
    fitted["escape_progress"] *= math.exp(typical)
    fitted["tail_scale"] *= math.exp(-typical * fitted["tail_exponent"])
    spread = float(np.std(best_shifts[escaped]))
    return fitted, math.sqrt(best_loss), spread


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "run", type=Path, nargs="?", default=Path("experiments/data/h100_asha_2workers")
    )
    args = parser.parse_args()
    times, firsts, errors = observations(args.run)
    print(f"{len(times)} epoch times, {len(errors)} validation errors from {args.run}")
    timing = fit_times(times, firsts)
    shape, rmse, spread = fit_errors(errors)
    for name, value in {**timing, **shape, "trial_spread": spread}.items():
        print(f"  {name:<20} {value:.4g}")
    print(f"  validation error RMSE of the fit (with each trial's own escape): {rmse:.4f}")


if __name__ == "__main__":
    main()
