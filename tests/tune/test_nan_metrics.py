"""A NaN metric under the Ray Tune façade: as in Ray Tune, a result, not a failure.

Ray Tune's ASHA records a NaN reward and never stops on it (``nan < cutoff`` is false), so a
diverging trial does not fail the run; ashasim's schedulers rank a NaN last. Outside the façade a
NaN metric still fails its job (``Driver(allow_nan=False)``, the default)."""

from __future__ import annotations

import math

from ashasim import tune
from ashasim.events import Reported
from ashasim.tune import ASHAScheduler
from tests.tune import trainables


def _run(tmp_path, scheduler, **options):
    return tune.run(
        trainables.diverges,
        config={"x": tune.uniform(0.0, 1.0)},
        num_samples=8,
        scheduler=scheduler,
        name="nan",
        storage_path=tmp_path,
        backend="fake",
        verbose=0,
        num_cpus=2,
        seed=0,
        **options,
    )


def test_a_diverging_trial_is_a_result_and_the_best_trial_skips_it(tmp_path):
    analysis = _run(tmp_path, ASHAScheduler(metric="loss", mode="min", max_t=10))
    assert {t.status for t in analysis.trials} == {"TERMINATED"}
    diverged = [t for t in analysis.trials if t.config["x"] > 0.6]
    assert diverged, "seed 0 draws some x > 0.6"
    nan_reports = [e for e in analysis.trace.events if type(e) is Reported and e.metric != e.metric]
    assert {e.trial_id for e in nan_reports} <= {int(t.trial_id) for t in diverged}
    assert nan_reports, "the NaN results are journaled, not dropped"
    best = analysis.get_best_trial("loss", "min", "last")
    assert best.config["x"] <= 0.6 and math.isfinite(best.last_result["loss"])


def test_fifo_runs_a_diverging_trial_to_its_end_as_ray_tune_does(tmp_path):
    analysis = _run(tmp_path, None, metric="loss", mode="min")
    for trial in analysis.trials:
        assert trial.status == "TERMINATED"
        assert trial.last_result["training_iteration"] == 10
