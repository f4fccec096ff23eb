"""The tie order: how a run orders events that happen at the same instant.

Events at the same instant are handled in the order of a stated key, not in
the order some event queue happened to create them: first the time; then what happens, a
worker's epoch ending (its report, and the job's end when it is the job's last epoch or its
worker's job dies in it: ``EPOCH``), then a worker's death (``LOSS``), then a worker's return
(``RETURN``), and last the dispatch (``DISPATCH``: free workers get jobs once everything else of
the instant is known); then the worker's index. ``tie_key`` gives the key's part after the
time. The SimPy clock schedules every event with it (so it may batch the epochs of a job between
two decision points into one timeout: the trace is the same), the real executor's
``FakeBackend`` delivers its messages in the same order (so both clocks give the same trace); a
real worker pool has no exact ties: its messages are handled as they arrive.
"""

from __future__ import annotations

__all__ = ["DISPATCH", "EPOCH", "LOSS", "RETURN", "tie_key"]

#: what happens at an instant, in the order the tie order handles it (see the module docstring)
EPOCH, LOSS, RETURN, DISPATCH = 1, 2, 3, 4
_WORKER_BITS = 24  # room for 16 million workers below the kind


def tie_key(kind: int, worker: int = 0) -> int:
    """The tie order after the time: *kind* (``EPOCH`` ... ``DISPATCH``), then *worker*; one
    integer (a SimPy priority: above SimPy's URGENT 0, so a run's time limit comes first)."""
    return kind << _WORKER_BITS | worker
