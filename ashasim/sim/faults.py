"""Node loss in simulated time: workers that die at a rate and come back, trials retried.

``CostModel.drop_probability`` kills *jobs* (the scheduler hears ``fail``). ``WorkerLoss`` kills
*workers*, as a cluster loses nodes (preemption, hardware, OOM kills): each worker dies after an
exponentially distributed time of mean *mtbf* seconds, whatever it is doing, and comes back after
*downtime* seconds (0: a replacement at once). Its job goes through the one driver exactly as on
a real cluster (``Driver.lose_worker``): retried from its last report while the trial has
retries left (*max_retries*), journaled ``retried``; failed (the scheduler told) once they have
run out. So ``ashasim compare`` shows what node loss costs synchronous SH (a barrier waits for a
retried job) against ASHA.

Draws are counter-based (a hash of the noise seed, worker and the worker's loss count), so a run
is as deterministic under that seed as the rest; without a ``WorkerLoss`` nothing is drawn and
traces are exactly what they were.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ashasim.checks import check_int, check_number
from ashasim.sim.randomness import key_of, uniforms

__all__ = ["WorkerLoss"]

_STREAM = 0x1055  # keeps these draws apart from the cost models' own


@dataclass(frozen=True)
class WorkerLoss:
    """Each worker dies after Exp(mean *mtbf*) seconds of being up and is back *downtime*
    seconds later; a trial whose worker died is retried up to *max_retries* times."""

    mtbf: float
    downtime: float = 0.0
    max_retries: int = 0

    def __post_init__(self) -> None:
        check_number("mtbf", self.mtbf, minimum=0, strict=True)
        check_number("downtime", self.downtime, minimum=0)
        check_int("max_retries", self.max_retries, minimum=0)

    def uptime(self, noise_seed: int, worker: int, count: int) -> float:
        """Seconds ``worker`` stays up after its ``count``-th return (0: the start)."""
        u, _ = uniforms(key_of(noise_seed, _STREAM, worker), count)
        return -math.log(u) * self.mtbf

    def describe(self) -> dict[str, Any]:
        return {"mtbf": self.mtbf, "downtime": self.downtime, "max_retries": self.max_retries}
