"""Stopping a run on what it has journaled: so many results, so many trials completed or
finished, a metric past a threshold (``Stop(results=, completed=, finished=, metric_below=,
metric_above=)``; Syne Tune's ``StoppingCriterion`` counts map onto them).

Both clocks stop the same way. ``StopRules`` sees every event the run's trace records (a
resumed run's earlier events first, so the counts go on across a resume) and, the first time a
rule is met, keeps the reason and calls ``on_met`` with it. The SimPy clock then ends the run at
that instant, after the event that met the rule; the real executor at its next turn (the reports
that arrive meanwhile are journaled too). Either way the running jobs are cancelled with the
reason, as when the time budget runs out, and a resume with a new ``Stop`` continues them.

What counts: a result is a report (``Reported``); a trial *completes* when a job of it ends at
max_t or returns by itself, and *finishes* when it completes, is stopped by the scheduler or
fails (a retried job is neither). Each trial counts once. Thresholds are strict (below, above)
and compare the scheduler's metric; a NaN result meets none.
"""

from __future__ import annotations

from collections.abc import Callable

from ashasim.events import Trace
from ashasim.events.records import Event, JobEnded, Reported
from ashasim.frame import Stop

__all__ = ["StopRules"]


class StopRules:
    """The journal-watching rules of one run's ``Stop``; see the module docstring."""

    def __init__(self, stop: Stop, max_t: int) -> None:
        self.stop = stop
        self.max_t = max_t
        self.results = 0
        self.completed: set[int] = set()
        self.finished: set[int] = set()
        self.reason: str | None = None  # set the first time a rule is met
        self.on_met: Callable[[str, float], None] | None = None

    @classmethod
    def attach(cls, stop: Stop, trace: Trace, max_t: int) -> StopRules | None:
        """Rules watching *trace* from now on, having counted its events so far; None when
        *stop* has no rule of this kind (the trace then records as fast as ever). Attach
        before a ``Driver`` is made on the trace: it keeps the trace's recorder."""
        if not stop.watches_journal:
            return None
        rules = cls(stop, max_t)
        for event in trace.events:
            rules.see(event)
        trace.observe(rules.see)
        return rules

    def see(self, event: Event) -> None:
        """Count one recorded event; the first rule it meets sets ``reason`` and calls
        ``on_met(reason, t)`` with the event's time."""
        reason = None
        if type(event) is Reported:
            self.results += 1
            reason = self._past_threshold(event.metric)
        elif type(event) is JobEnded:
            if event.reason == "returned" or (
                event.reason == "milestone" and event.resource >= self.max_t
            ):
                self.completed.add(event.trial_id)
                self.finished.add(event.trial_id)
            elif event.reason in ("stopped", "failed"):
                self.finished.add(event.trial_id)
        else:
            return
        if self.reason is not None:
            return
        self.reason = reason or self._count_met()
        if self.reason is not None and self.on_met is not None:
            self.on_met(self.reason, event.t)

    def _past_threshold(self, metric: float) -> str | None:
        stop = self.stop
        if stop.metric_below is not None and metric < stop.metric_below:
            return f"a result of {metric:g} is below Stop(metric_below={stop.metric_below:g})"
        if stop.metric_above is not None and metric > stop.metric_above:
            return f"a result of {metric:g} is above Stop(metric_above={stop.metric_above:g})"
        return None

    def _count_met(self) -> str | None:
        counts = (
            ("results", self.results, "results reported"),
            ("completed", len(self.completed), "trials completed"),
            ("finished", len(self.finished), "trials finished"),
        )
        for name, count, what in counts:
            limit = getattr(self.stop, name)
            if limit is not None and count >= limit:
                return f"{count} {what} (Stop({name}={limit}))"
        return None
