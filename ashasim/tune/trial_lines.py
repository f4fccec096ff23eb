"""What Ray Tune prints about each trial at ``verbose=2`` and ``verbose=3`` (its default),
besides the status table: the classic output's ``TrialProgressCallback``.

``verbose=3``: "Result for <trial>:" and the result, one ``key: value`` line each (YAML, keys
sorted, without ``config``), then "Trial <trial> completed." when it ends. ``verbose=2``: one
line, "Trial <trial> reported loss=0.12 with parameters={...}." (the run's metric, else the
trainable's own keys), with " This trial completed." on its last. As in Ray Tune, a trial's
results are printed at most every 5 seconds, except its last and an error. The lines come from
the callbacks' hooks, so they follow the journal one loop step behind the trial.
"""

from __future__ import annotations

import json
import time
from typing import Any

from ashasim.events.records import json_default
from ashasim.tune.callbacks import Callback
from ashasim.tune.reporter import AUTO_KEYS
from ashasim.tune.trials import Trial

__all__ = ["PRINT_INTERVAL_S", "TrialLines"]

PRINT_INTERVAL_S = 5.0  # Ray Tune's DEBUG_PRINT_INTERVAL


class TrialLines(Callback):
    """Ray Tune's lines per trial result (module docstring) for *verbose* 2 or 3."""

    def __init__(self, verbose: int, metric: str | None) -> None:
        self.verbose, self.metric = verbose, metric
        self.last_print: dict[int, float] = {}
        self.completed: set[int] = set()

    def on_trial_result(
        self, iteration: int, trials: list[Trial], trial: Trial, result: dict[str, Any], **info: Any
    ) -> None:
        now = time.monotonic()
        done = result.get("done") is True
        if done or now - self.last_print.get(trial.trial_id, -PRINT_INTERVAL_S) > PRINT_INTERVAL_S:
            self.last_print[trial.trial_id] = now
            self._print(trial, result, done=done)

    def on_trial_complete(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        if trial.trial_id not in self.completed:
            self._print(trial, trial.last_result, done=True)

    def on_trial_error(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        print(f"The trial {trial} errored with parameters={trial.config}.")

    def _print(self, trial: Trial, result: dict[str, Any], *, done: bool) -> None:
        if done:
            if trial.trial_id in self.completed:
                return
            self.completed.add(trial.trial_id)
        if self.verbose >= 3:
            print(f"Result for {trial}:")
            print("  " + "\n  ".join(_yaml_lines(result)))
            if done:
                print(f"Trial {trial} completed.")
            return
        if self.metric:
            value = result.get(self.metric, -99.0)
            shown = f"{self.metric}={value:.2f}" if isinstance(value, float) else f"{value}"
        else:
            shown = ",".join(
                f"{k}={v}" for k, v in result.items() if k not in AUTO_KEYS and v is not None
            )
        info = " This trial completed." if done else ""
        print(f"Trial {trial} reported {shown} with parameters={trial.config}.{info}")


def _yaml_lines(result: dict[str, Any], indent: str = "") -> list[str]:
    """A result as YAML's block style writes it (keys sorted; ``config`` and None left out)."""
    plain = json.loads(json.dumps(result, default=json_default))
    lines = []
    for key in sorted(plain):
        value = plain[key]
        if value is None or (not indent and key == "config"):
            continue
        if isinstance(value, dict) and value:
            lines.append(f"{indent}{key}:")
            lines += _yaml_lines(value, indent + "  ")
        else:
            text = str(value).lower() if isinstance(value, bool) else value
            lines.append(f"{indent}{key}: {text}")
    return lines
