"""``Reporter``: how an objective reports, exactly as in the chapter's code.

    report = Reporter()
    for epoch in range(1, max_epochs + 1):
        ...
        report(epoch=epoch, validation_error=error)

Under a tuner each call goes to the driver, which asks the scheduler and answers CONTINUE or
STOP; when the job must end (STOP, or the job's milestone reached) the call raises ``StopTrial``,
which unwinds the objective. Called outside a tuner, a report is kept in ``history`` and the
objective simply goes on.
"""

from __future__ import annotations

from typing import Any

from ashasim.run import checkpoint
from ashasim.run.context import StopTrial, current_context, refuse_forked_child
from ashasim.run.messages import CONTINUE, Report

__all__ = ["Reporter", "StopTrial"]


def _plain(value: Any) -> Any:
    """Numbers from numpy or torch (0-d tensors) as plain Python numbers, so they travel cheaply."""
    item = getattr(value, "item", None)
    if item is not None:
        try:
            return item()
        except (TypeError, ValueError, RuntimeError):
            return value
    return value


class Reporter:
    """Send ``report(epoch=..., <metric>=...)`` to the tuner; raises StopTrial when told to stop."""

    def __init__(self) -> None:
        self.history: list[dict[str, Any]] = []

    def __call__(self, **values: Any) -> None:
        refuse_forked_child(current_context())
        if not values:
            raise ValueError("report() needs keyword arguments, e.g. report(epoch=1, error=0.3)")
        values = {name: _plain(value) for name, value in values.items()}
        context = current_context()
        if context is None:
            self.history.append(values)
            return
        resource = values.get(context.job.resource_attr)
        filed = isinstance(resource, int) and not isinstance(resource, bool)
        saved = filed and checkpoint.file_staged(resource, values)  # the state saved before
        context.channel.send(Report(context.job.trial_id, values, saved))
        reply = context.channel.recv()
        if filed:
            checkpoint.prune(resource)  # the driver has journaled it: older states can go
        if reply != CONTINUE:
            raise StopTrial(reply)
