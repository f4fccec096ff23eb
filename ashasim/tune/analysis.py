"""``ExperimentAnalysis``: a finished (or interrupted) run, read back from its directory.

Everything comes from files, so an analysis can be loaded again after the process that ran the
experiment is gone: ``ExperimentAnalysis(path)``. The journal (``journal.jsonl``) says which
trials ran, in which jobs, how each ended and what the scheduler decided; each trial's
``result.json`` holds every report its trainable made (all metrics, ``training_iteration``,
``time_total_s``, ``timestamp``, ...); ``tune.json`` keeps what ``tune.run`` was given (metric,
mode, the trials' names). The journal's ``Trace`` is there too (``.trace``): Gantt chart,
idle time, best-so-far of the real run.

The trials' statuses and results are Ray Tune's (``ashasim.tune.trials``).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ashasim.events import JOURNAL, load_experiment
from ashasim.tune.checkpoints import Checkpoint, best_copy
from ashasim.tune.configs import flatten_result
from ashasim.tune.results import read_results
from ashasim.tune.trials import Trial, load_trials

__all__ = ["META_FILE", "SCOPES", "ExperimentAnalysis", "Trial", "load_trials", "read_results"]

META_FILE = "tune.json"
SCOPES = ("all", "last", "avg", "last-5-avg", "last-10-avg")


class ExperimentAnalysis:
    """A run's trials and results, from its directory (Ray Tune's ``ExperimentAnalysis``).

    *experiment_checkpoint_path*: the experiment directory (or a file in it). *default_metric*,
    *default_mode*: for ``best_*`` (default: the run's metric and mode).
    """

    def __init__(
        self,
        experiment_checkpoint_path: str | os.PathLike[str],
        *,
        default_metric: str | None = None,
        default_mode: str | None = None,
        trials: Sequence[Trial] | None = None,
    ) -> None:
        path = Path(experiment_checkpoint_path).expanduser()
        directory = path if path.is_dir() else path.parent
        if not (directory / JOURNAL).exists():
            raise ValueError(f"{directory} holds no run: no {JOURNAL}")
        self.experiment_path = str(directory.resolve())
        meta_path = directory / META_FILE
        self.meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        self.trace = load_experiment(directory)
        self.default_metric = default_metric or self.meta.get("metric")
        self.default_mode = default_mode or self.meta.get("mode")
        if self.default_mode is not None and self.default_mode not in ("min", "max"):
            raise ValueError(f"default_mode must be 'min' or 'max', got {self.default_mode!r}")
        self.trials = (
            list(trials) if trials is not None else load_trials(directory, self.trace, self.meta)
        )

    # -- best trial -----------------------------------------------------------------------------

    def _metric_mode(self, metric: str | None, mode: str | None, what: str) -> tuple[str, str]:
        metric, mode = metric or self.default_metric, mode or self.default_mode
        if metric is None or mode is None:
            raise ValueError(
                f"{what} needs a metric and a mode: pass them (metric=..., mode='min'|'max') "
                f"or give them to tune.run / ExperimentAnalysis(default_metric=..., "
                f"default_mode=...)"
            )
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        return metric, mode

    @staticmethod
    def _score(trial: Trial, metric: str, scope: str) -> float | None:
        values = [r[metric] for r in trial.results if isinstance(r.get(metric), (int, float))]
        if not values:
            return None
        if scope == "last":
            return float(values[-1])
        if scope == "all":
            return None  # decided by the caller, which knows the mode
        window = {"avg": len(values), "last-5-avg": 5, "last-10-avg": 10}[scope]
        return float(sum(values[-window:]) / len(values[-window:]))

    def get_best_trial(
        self,
        metric: str | None = None,
        mode: str | None = None,
        scope: str = "last",
        filter_nan_and_inf: bool = True,
    ) -> Trial | None:
        """The best trial by *metric*'s value in *scope*: "last" (its last result), "all" (its
        best result), "avg", "last-5-avg", "last-10-avg" (averages); None if no trial reported
        the metric."""
        metric, mode = self._metric_mode(metric, mode, "get_best_trial")
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)}; got {scope!r}")
        sign = 1.0 if mode == "min" else -1.0
        best, found = math.inf, None
        for trial in self.trials:
            if scope == "all":
                values = [
                    sign * r[metric]
                    for r in trial.results
                    if isinstance(r.get(metric), (int, float))
                    and (not filter_nan_and_inf or math.isfinite(r[metric]))
                ]
                value = min(values) if values else None
            else:
                raw = self._score(trial, metric, scope)
                value = None if raw is None else sign * raw
            if value is None or (filter_nan_and_inf and not math.isfinite(value)):
                continue
            if found is None or value < best:
                best, found = value, trial
        return found

    def get_best_config(
        self, metric: str | None = None, mode: str | None = None, scope: str = "last"
    ) -> dict[str, Any] | None:
        trial = self.get_best_trial(metric, mode, scope)
        return None if trial is None else trial.config

    def get_best_logdir(
        self, metric: str | None = None, mode: str | None = None, scope: str = "last"
    ) -> str | None:
        """The best trial's directory: the files it wrote (its working directory) are there."""
        trial = self.get_best_trial(metric, mode, scope)
        return None if trial is None else trial.logdir

    def get_best_checkpoint(
        self,
        trial: Trial | None = None,
        metric: str | None = None,
        mode: str | None = None,
        return_path: bool = False,
    ) -> Checkpoint | str | None:
        """The checkpoint of *trial* (default: the best trial) saved with its best *metric*
        (results of NaN or inf left out), among those its directory kept; None if none."""
        metric, mode = self._metric_mode(metric, mode, "get_best_checkpoint")
        if trial is None:
            trial = self.get_best_trial(metric, mode)
        checkpoint = None
        if trial is not None and trial.logdir is not None:
            checkpoint = best_copy(Path(trial.logdir), trial.results, metric, mode)
        if checkpoint is None or not return_path:
            return checkpoint
        return checkpoint.path

    def get_last_checkpoint(self, trial: Trial | None = None, **kwargs: Any) -> Checkpoint | None:
        """The newest checkpoint of *trial* (default: the best trial)."""
        trial = trial or self.get_best_trial(kwargs.get("metric"), kwargs.get("mode"))
        return None if trial is None else trial.checkpoint

    def get_all_configs(self) -> dict[int, dict[str, Any]]:
        """Every trial's config, by trial id (as Ray Tune keys them)."""
        return {trial.trial_id: trial.config for trial in self.trials}

    @property
    def best_trial(self) -> Trial | None:
        return self.get_best_trial(*self._metric_mode(None, None, "best_trial"))

    @property
    def best_config(self) -> dict[str, Any] | None:
        return self.get_best_config(*self._metric_mode(None, None, "best_config"))

    @property
    def best_logdir(self) -> str | None:
        return self.get_best_logdir(*self._metric_mode(None, None, "best_logdir"))

    @property
    def best_checkpoint(self) -> Checkpoint | None:
        """The best trial's checkpoint saved with its best result (Ray Tune's)."""
        found = self.get_best_checkpoint(self.best_trial)
        return found if isinstance(found, Checkpoint) else None

    @property
    def best_result(self) -> dict[str, Any] | None:
        trial = self.best_trial
        return None if trial is None else trial.last_result

    # -- tables ---------------------------------------------------------------------------------

    @property
    def results(self) -> dict[int, dict[str, Any]]:
        """Each trial's last result, by trial_id."""
        return {trial.trial_id: trial.last_result for trial in self.trials}

    def _row(self, trial: Trial, result: dict[str, Any]) -> dict[str, Any]:
        row = flatten_result(result)
        if trial.config:  # a trial the time budget left unstarted has none (NaN, as in Ray)
            row.update(flatten_result({"config": trial.config}))
        row["trial_id"] = trial.trial_id
        row["logdir"] = trial.logdir
        return row

    @property
    def results_df(self) -> Any:
        """One row per trial (its last result, config/... columns), indexed by trial_id."""
        import pandas as pd

        rows = [self._row(trial, trial.last_result) for trial in self.trials]
        return pd.DataFrame(rows).set_index("trial_id") if rows else pd.DataFrame()

    def dataframe(self, metric: str | None = None, mode: str | None = None) -> Any:
        """One row per trial: its best result by *metric* and *mode* when both are given, else
        its last result."""
        import pandas as pd

        rows = []
        for trial in self.trials:
            result = trial.last_result
            if metric is not None and mode is not None:
                scored = [r for r in trial.results if isinstance(r.get(metric), (int, float))]
                if scored:
                    pick = min if mode == "min" else max
                    result = pick(scored, key=lambda r: r[metric])
            rows.append(self._row(trial, result))
        return pd.DataFrame(rows)

    @property
    def trial_dataframes(self) -> dict[str, Any]:
        """Each trial's reports, one row per report, keyed by its logdir (Ray Tune 1.x)."""
        import pandas as pd

        return {
            trial.logdir or trial.name: pd.DataFrame(
                [self._row(trial, result) for result in trial.results]
            )
            for trial in self.trials
        }

    def fetch_trial_dataframes(self) -> dict[str, Any]:
        return self.trial_dataframes

    @property
    def best_dataframe(self) -> Any:
        trial = self.best_trial
        return None if trial is None else self.trial_dataframes[trial.logdir or trial.name]

    @property
    def best_result_df(self) -> Any:
        import pandas as pd

        trial = self.best_trial
        if trial is None:
            return pd.DataFrame()
        return pd.DataFrame([self._row(trial, trial.last_result)]).set_index("trial_id")

    def __repr__(self) -> str:
        return f"ExperimentAnalysis({self.experiment_path!r}, {len(self.trials)} trials)"
