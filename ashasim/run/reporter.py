"""``Reporter``: how an objective reports, exactly as in the chapter's code.

    report = Reporter()
    for epoch in range(1, max_epochs + 1):
        ...
        report(epoch=epoch, validation_error=error)

Under a tuner each call goes to the driver, which journals it, asks the scheduler and answers
CONTINUE or STOP; when the job must end the call raises ``StopTrial``, which unwinds the
objective. The report at the job's milestone ends the job whatever the scheduler says, so it
waits for no answer: the driver holds it until the worker has let go of the trial, and journals
it then (no answer can reach the worker before its report is journaled). Called outside a tuner,
a report is kept in ``history`` and the objective simply goes on.

Older checkpoints of the trial are pruned only after a CONTINUE: that answer comes after the
driver journaled the report, so the scheduler will resume the trial from there or later. A STOP
may answer a report that was never journaled (a refused report, or one made after the job was
told to stop), so nothing is pruned on it: the trial's checkpoint at its last journaled report,
which a promotion resumes from, must stay.
"""

from __future__ import annotations

from typing import Any

from ashasim.run import checkpoint
from ashasim.run.context import StopTrial, current_context, refuse_forked_child
from ashasim.run.messages import CONTINUE, STOP, Report

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
        job = context.job
        resource = values.get(job.resource_attr)
        filed = resource if isinstance(resource, int) and not isinstance(resource, bool) else None
        saved = filed is not None and checkpoint.file_staged(filed, values)  # saved just before
        final = filed is not None and filed >= job.milestone
        context.channel.send(Report(job.trial_id, values, saved, final))
        if final:  # the job ends here in any case: let go of the trial, no answer comes
            raise StopTrial(STOP)
        reply = context.channel.recv()
        if reply != CONTINUE:
            raise StopTrial(reply)
        if filed is not None:
            checkpoint.prune(filed)  # the driver has journaled it: older states can go
