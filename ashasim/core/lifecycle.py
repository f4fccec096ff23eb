"""The trial lifecycle as a table, so an illegal move is an error and not a silent corruption.

A trial is RUNNING while a worker trains it. Reaching the job's milestone pauses it (PAUSED) or, at
max_t, completes it (COMPLETED). A STOP decision ends it (STOPPED). A crash fails it (FAILED); a
paused trial may fail too (its checkpoint may be lost). Only a PAUSED trial can be resumed.
"""

from __future__ import annotations

from enum import Enum

from ashasim.core.jobs import TrialState

__all__ = ["Move", "next_state"]


class Move(Enum):
    RESUME = "resume"
    CONTINUE = "continue"
    PAUSE = "pause"
    COMPLETE = "complete"
    STOP = "stop"
    FAIL = "fail"


_R, _P = TrialState.RUNNING, TrialState.PAUSED
TRANSITIONS: dict[tuple[TrialState, Move], TrialState] = {
    (_P, Move.RESUME): _R,
    (_R, Move.CONTINUE): _R,
    (_R, Move.PAUSE): _P,
    (_R, Move.COMPLETE): TrialState.COMPLETED,
    (_R, Move.STOP): TrialState.STOPPED,
    (_R, Move.FAIL): TrialState.FAILED,
    (_P, Move.FAIL): TrialState.FAILED,
}

FINISHED = frozenset({TrialState.STOPPED, TrialState.COMPLETED, TrialState.FAILED})


def next_state(trial_id: int, state: TrialState, move: Move) -> TrialState:
    """The state after ``move``; ``ValueError`` naming the trial when the move is illegal."""
    try:
        return TRANSITIONS[(state, move)]
    except KeyError:
        raise ValueError(f"trial {trial_id} is {state.value}; it cannot {move.value}") from None
