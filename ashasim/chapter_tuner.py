"""Syne Tune's ``Tuner`` arguments for the chapter façade (``ashasim.chapter.Tuner``).

Each of Syne Tune's arguments (0.14) either means the same on ashasim's ``Tuner`` and is
translated, or changes nothing a run produces and is taken at any value, or is refused in one
line when it asks for what ashasim does not do:

* ``max_failures`` (Syne Tune's default 1): the run stops once more trials than this have failed
  (ashasim's ``max_failed_trials``; ashasim's own stop after 10 failures in a row stays too).
* ``tuner_name``: the run's name, with the time appended unless ``suffix_tuner_name=False``, as
  Syne Tune names its experiments.
* ``sleep_time`` and ``results_update_interval``: Syne Tune's polling and results-writing
  periods. ashasim's loop reacts to each worker message as it comes and journals every result at
  once, which any period would only delay; so any value is taken.
* ``asynchronous_scheduling=True``, ``wait_trial_completion_when_stopping=False``,
  ``start_jobs_without_delay=True``, ``save_tuner=True`` and ``callbacks``, ``metadata``,
  ``trial_backend_path``, ``output_logger`` left None: what ashasim does; anything else is
  refused, naming the argument.
"""

from __future__ import annotations

from typing import Any

from ashasim.checks import check_flag, check_optional_int
from ashasim.run.real_run import default_name

__all__ = ["tuner_options"]

# Syne Tune's arguments ashasim behaves as at one value only: (that value, what ashasim does)
_ONLY = {
    "asynchronous_scheduling": (
        True,
        "ashasim's executor starts a job as soon as a worker is free",
    ),
    "wait_trial_completion_when_stopping": (False, "the run's end cancels running jobs"),
    "start_jobs_without_delay": (True, "jobs start as soon as a worker is free"),
    "save_tuner": (True, "every run saves its settings and journal for a resume"),
    "callbacks": (None, "Syne Tune's TunerCallback has no counterpart"),
    "metadata": (None, "no metadata file is written"),
    "trial_backend_path": (None, "trial files live in the run directory"),
    "output_logger": (None, "the progress line is ashasim's"),
}
_ANY_VALUE = ("sleep_time", "results_update_interval")


def tuner_options(scheduler: Any, options: dict[str, Any]) -> dict[str, Any]:
    """ashasim ``Tuner`` options from Syne Tune's (and ashasim's own, passed as they are)."""
    options = dict(options)
    for name, (value, why) in _ONLY.items():
        if name in options and options.pop(name) != value:
            raise ValueError(f"{name}: only {value!r} is supported ({why})")
    for name in _ANY_VALUE:
        options.pop(name, None)
    failures = check_optional_int("max_failures", options.pop("max_failures", 1), minimum=0)
    suffix = check_flag("suffix_tuner_name", options.pop("suffix_tuner_name", True))
    tuner_name = options.pop("tuner_name", None)
    if tuner_name is not None:
        if "name" in options:
            raise ValueError("give tuner_name (Syne Tune's) or name (ashasim's), not both")
        options["name"] = default_name(scheduler, tuner_name) if suffix else tuner_name
    return {"max_failed_trials": failures, **options}
