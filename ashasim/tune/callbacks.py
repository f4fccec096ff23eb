"""Ray Tune's ``tune.Callback``: hooks called in the driver's process as the run goes.

``tune.run(callbacks=[...])`` calls, with Ray Tune's arguments: ``setup(stop=, num_samples=,
total_num_samples=)`` once before the first trial; ``on_step_begin``/``on_step_end(iteration,
trials)`` around each step of the run's loop; ``on_trial_start(iteration, trials, trial)`` when a
trial first starts; ``on_trial_result(iteration, trials, trial, result)`` for each report (the
whole result, as written to ``result.json``); ``on_trial_complete`` when a trial ends (stopped,
at max_t, returned or met ``stop``) and ``on_trial_error`` when it fails; and
``on_experiment_end(trials)`` once the run is over. ``iteration`` counts the steps.

How: the callbacks ride on the Tuner's progress display (``Tuner(progress=...)``), which the
executor updates after each batch of worker messages; each update reads the events the journal
gained since the last one, in their order. So a hook runs one step of the loop after its event
(Ray Tune: within the same step), and ``trials`` are fresh ``Trial`` objects read from the run
directory at that step, not the live objects Ray Tune passes. A resumed run calls the hooks for
its new events only.

The display is also where the run hears a Stopper's ``stop_all`` (``StopAll``): its copy sees
each result here, and ``stop_reason`` tells the executor to end the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ashasim.events import JOURNAL, JobEnded, JobStarted, Reported, load_experiment
from ashasim.events.records import decode
from ashasim.tune.analysis import Trial, load_trials
from ashasim.tune.stopping import StopAll

__all__ = ["Callback", "CallbackList", "check_callbacks"]


class Callback:
    """Ray Tune's ``tune.Callback``: subclass it and define the hooks you need (module
    docstring); every hook does nothing by default and takes ``**info`` as Ray Tune's do."""

    def setup(self, stop: Any = None, num_samples: Any = None, **info: Any) -> None:
        """Once, before the first trial starts."""

    def on_step_begin(self, iteration: int, trials: list[Trial], **info: Any) -> None:
        """Before a step of the run's loop."""

    def on_step_end(self, iteration: int, trials: list[Trial], **info: Any) -> None:
        """After a step of the run's loop."""

    def on_trial_start(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        """A trial's first job started."""

    def on_trial_result(
        self, iteration: int, trials: list[Trial], trial: Trial, result: dict[str, Any], **info: Any
    ) -> None:
        """A trial reported *result*."""

    def on_trial_complete(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        """A trial ended without an error."""

    def on_trial_error(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        """A trial failed (after its retries)."""

    def on_experiment_end(self, trials: list[Trial], **info: Any) -> None:
        """The run is over."""


def check_callbacks(callbacks: Any) -> list[Callback]:
    """Ray Tune's rule: a list of ``tune.Callback`` instances."""
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback) or not isinstance(callbacks, Sequence):
        raise ValueError(f"callbacks must be a list of tune.Callback objects, got {callbacks!r}")
    for callback in callbacks:
        if not isinstance(callback, Callback):
            raise ValueError(f"callbacks: {callback!r} is not a tune.Callback")
    return list(callbacks)


class CallbackList:
    """A progress display (``update``/``close``) that calls the callbacks for the journal's new
    events, then updates the display it wraps (module docstring)."""

    enabled = True  # the executor skips disabled displays; the callbacks must always hear

    def __init__(
        self,
        callbacks: list[Callback],
        display: Any,
        directory: Path,
        meta: dict[str, Any],
        *,
        resuming: bool,
        stop_all: StopAll | None = None,
    ) -> None:
        self.callbacks, self.display = callbacks, display
        self.stop_all = stop_all
        self.stop_reason: str | None = None  # read by the executor after each update
        self.directory, self.meta = directory, meta
        journal = directory / JOURNAL
        self.offset = journal.stat().st_size if resuming and journal.exists() else 0
        self.iteration = 0
        self.started: set[int] = set()

    def call(self, hook: str, **arguments: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(**arguments)

    def update(self, fraction: float | None, text: str, *, now: bool = False) -> None:
        self.step()
        if self.stop_all is not None:
            self.stop_reason = self.stop_all.check()
        if self.display.enabled:
            self.display.update(fraction, text, now=now)

    def close(self) -> None:
        self.step()
        self.display.close()

    def final(self, trials: list[Trial]) -> None:
        self.display.final(trials)

    def step(self) -> None:
        """One step: the hooks for what the journal gained since the last step."""
        events = self._new_events()
        if not events:
            return
        self.iteration += 1
        trace = load_experiment(self.directory)
        trials = load_trials(self.directory, trace, self.meta, live=True)
        max_t = (trace.info.get("scheduler") or {}).get("max_t")
        by_id = {trial.trial_id: trial for trial in trials}
        self.call("on_step_begin", iteration=self.iteration, trials=trials)
        for event in events:
            trial = by_id.get(event.trial_id)
            if trial is not None:
                self._dispatch(event, trial, trials, max_t)
        self.call("on_step_end", iteration=self.iteration, trials=trials)

    def _dispatch(self, event: Any, trial: Trial, trials: list[Trial], max_t: Any) -> None:
        common = {"iteration": self.iteration, "trials": trials, "trial": trial}
        kind = type(event)
        if kind is JobStarted and trial.trial_id not in self.started:
            self.started.add(trial.trial_id)
            self.call("on_trial_start", **common)
        elif kind is Reported:
            attr = self.meta.get("time_attr", "training_iteration")
            found = [r for r in trial.results if r.get(attr) == event.resource]
            result = found[-1] if found else {}
            if self.stop_all is not None:
                self.stop_all.result(trial.trial_id, result)
            self.call("on_trial_result", **common, result=result)
        elif kind is JobEnded and event.reason == "failed":
            self.call("on_trial_error", **common)
        elif kind is JobEnded and _completes(event, max_t):
            self.call("on_trial_complete", **common)

    def _new_events(self) -> list[Any]:
        try:
            with open(self.directory / JOURNAL, "rb") as stream:
                stream.seek(self.offset)
                data = stream.read()
        except FileNotFoundError:
            return []
        complete = data[: data.rfind(b"\n") + 1]  # a line being written waits for the next step
        self.offset += len(complete)
        events = [decode(line) for line in complete.decode().splitlines() if line.strip()]
        return [event for event in events if not isinstance(event, dict)]


def _completes(event: JobEnded, max_t: Any) -> bool:
    """The job ended its trial without an error (not a pause at a rung, not a cut)."""
    if event.reason in ("stopped", "returned"):
        return True
    return event.reason == "milestone" and max_t is not None and event.resource >= max_t
