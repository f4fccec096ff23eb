"""A tiny stand-in for a clock: workers that finish in a random order (for core property tests).

``play`` hands work to free workers in worker-index order, then lets one running job (chosen by
``rnd``) train one epoch and report, or crash with probability ``fail_prob``. With ``lazy``
free workers sometimes wait before asking, so results pile up between suggestions. It returns the log
of every call as plain tuples, which the tests replay through brute-force models.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from ashasim.core import Decision, Job


def play(
    scheduler,
    *,
    n_workers: int,
    metric: Callable[[int, int], float],
    rnd: random.Random,
    fail_prob: float = 0.0,
    max_reports: int = 3000,
    extra_suggests: bool = False,
    lazy: bool = False,
) -> list[tuple]:
    free = list(range(n_workers))
    running: dict[int, list] = {}  # worker -> [job, resource]
    log: list[tuple] = []
    reports = 0
    while reports < max_reports:
        # A lazy driver lets results pile up before free workers ask (as when several workers
        # finish at the same instant), so several trials can be promotable at once.
        while free and not (lazy and running and rnd.random() < 0.5):
            job = scheduler.suggest()
            if job is None:
                log.append(("none",))
                for _ in range(rnd.randint(0, 2) if extra_suggests else 0):
                    assert scheduler.suggest() is None, "suggest() changed state after None"
                break
            worker = free.pop(0)
            running[worker] = [job, job.resume_from]
            log.append(("job", worker, job))
        if not running:
            log.append(("idle", scheduler.done))
            break
        worker = rnd.choice(sorted(running))
        job, resource = running[worker]
        if fail_prob and rnd.random() < fail_prob:
            scheduler.fail(job.trial_id)
            log.append(("fail", worker, job.trial_id))
            del running[worker]
            free = sorted([*free, worker])
            continue
        resource += 1
        value = metric(job.trial_id, resource)
        decision = scheduler.report(job.trial_id, resource, value)
        reports += 1
        log.append(("report", worker, job.trial_id, resource, value, decision))
        if decision is Decision.STOP or resource == job.milestone:
            del running[worker]
            free = sorted([*free, worker])
        else:
            running[worker][1] = resource
    return log


def jobs(log: list[tuple]) -> list[Job]:
    return [entry[2] for entry in log if entry[0] == "job"]


def decisions(log: list[tuple]) -> list[tuple]:
    """The scheduler's choices only (jobs and decisions), without metric values."""
    return [
        (e[0], e[2]) if e[0] == "job" else (e[0], e[2], e[3], e[5])
        for e in log
        if e[0] in ("job", "report")
    ]
