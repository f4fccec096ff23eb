"""Brute-force reference models of the promotion and stopping rules, on plain dicts.

They recompute everything from scratch at each step (the opposite of the sorted rung store), so a
disagreement points at a bookkeeping bug in ``ashasim.core``.
"""

from __future__ import annotations

import itertools

from ashasim.core import Decision, Job
from ashasim.core.rungs import continues_at_rung, rung_levels, score


class AshaModel:
    """The paper's get_job over one or several brackets; bracket b judges from levels[b] upwards."""

    def __init__(self, scheduler, kind: str) -> None:
        self.s = scheduler
        self.kind = kind
        self.levels = rung_levels(
            scheduler.grace_period, scheduler.max_t, scheduler.reduction_factor
        )
        self.eta = scheduler.reduction_factor
        self.results: dict[tuple[int, int], dict[int, float]] = {}
        self.promoted: dict[tuple[int, int], set[int]] = {}
        self.paused_at: dict[int, int] = {}
        self.failed: set[int] = set()
        self.recorded: dict[int, int] = {}
        self.milestone: dict[int, int] = {}
        self.n_trials = 0
        self.n_brackets = len(scheduler._brackets)

    def ranked(self, key: tuple[int, int]) -> list[int]:
        rung = self.results.get(key, {})
        return [t for _, t in sorted((s, t) for t, s in rung.items())]

    def expected_promotion(self) -> tuple[int, int, int] | None:
        for g in reversed(range(len(self.levels) - 1)):
            for b in range(min(g, self.n_brackets - 1) + 1):
                key = (b, self.levels[g])
                ranked = self.ranked(key)
                for t in ranked[: len(ranked) // self.eta]:
                    if t in self.promoted.get(key, set()) or t in self.failed:
                        continue
                    assert self.paused_at.get(t) == self.levels[g], "unpromoted winner not paused"
                    return t, self.levels[g], self.levels[g + 1]
        return None

    def may_start(self) -> bool:
        return self.s.max_trials is None or self.n_trials < self.s.max_trials

    def check_none(self) -> None:
        assert self.kind == "stopping" or self.expected_promotion() is None
        assert not self.may_start(), "suggest() returned None while a new trial could start"

    def check_job(self, job: Job) -> None:
        promotion = self.expected_promotion() if self.kind == "promotion" else None
        if promotion is not None:
            t, level, nxt = promotion
            assert (job.trial_id, job.resume_from, job.milestone) == (t, level, nxt)
            key = (self.s.trial_bracket(t), level)
            quota = len(self.results[key]) // self.eta
            assert t in self.ranked(key)[:quota]
            self.promoted.setdefault(key, set()).add(t)
            # The paper's rule can exceed floor(n/eta) over time, never n - eta + 1.
            assert len(self.promoted[key]) <= len(self.results[key]) - self.eta + 1
            del self.paused_at[t]
        else:
            assert self.may_start()
            assert job.trial_id == self.n_trials and job.resume_from == 0
            bracket = self.s.trial_bracket(job.trial_id)
            first = self.levels[bracket] if self.kind == "promotion" else self.s.max_t
            assert job.milestone == first
            self.n_trials += 1
            self.recorded[job.trial_id] = 0
        self.milestone[job.trial_id] = job.milestone

    def check_report(self, t: int, resource: int, metric: float, decision: Decision) -> None:
        expected = Decision.CONTINUE
        bracket = self.s.trial_bracket(t)
        for level in self.levels[bracket:-1]:
            if self.recorded[t] < level <= resource:
                rung = self.results.setdefault((bracket, level), {})
                rung[t] = score(metric, self.s.mode)
                self.recorded[t] = level
                rank = self.ranked((bracket, level)).index(t)
                if self.kind == "stopping" and not continues_at_rung(rank, len(rung), self.eta):
                    expected = Decision.STOP
        assert decision is expected, (t, resource, decision, expected)
        if decision is Decision.CONTINUE and resource == self.milestone[t] < self.s.max_t:
            self.paused_at[t] = resource

    def check_idle(self, done: bool) -> None:
        # Nothing runs and nothing was suggested: the scheduler must say it is done.
        assert done
        self.check_none()

    def fail(self, t: int) -> None:
        self.failed.add(t)
        self.paused_at.pop(t, None)

    def replay(self, log: list[tuple]) -> None:
        for entry in log:
            kind = entry[0]
            if kind == "job":
                self.check_job(entry[2])
            elif kind == "report":
                self.check_report(*entry[2:])
            elif kind == "fail":
                self.fail(entry[2])
            elif kind == "none":
                self.check_none()
            elif kind == "idle":
                self.check_idle(entry[1])


class SyncModel:
    """Checks synchronous SH / Hyperband logs: barriers, exact promoted sets, overlap, resume."""

    def __init__(self, scheduler) -> None:
        self.s = scheduler
        self.levels = rung_levels(
            scheduler.grace_period, scheduler.max_t, scheduler.reduction_factor
        )
        self.eta = scheduler.reduction_factor
        self.dispatched: dict[tuple[int, int], list[int]] = {}  # (bracket, milestone) -> trials
        self.reported: dict[tuple[int, int], dict[int, float]] = {}
        self.failed: set[int] = set()
        self.failed_before_dispatch: set[int] = set()
        self.running: dict[int, tuple[int, int]] = {}  # trial -> (bracket, milestone)
        self.first_job: dict[int, int] = {}  # bracket -> index of its first job in the log
        self.last_job: dict[int, int] = {}
        self.reached_top: dict[int, int] = {}  # bracket -> index of its first top-rung job
        self.busy_at_open: dict[int, set[int]] = {}  # bracket -> older brackets still running
        self.index = 0

    def levels_of(self, bracket: int) -> tuple[int, ...]:
        start, _ = self.s._bracket_plan(bracket)
        return self.levels[start:]

    def quota(self, bracket: int, rung: int, n_results: int) -> int:
        """How many of rung ``rung``'s results go on: floor(n/eta), or, in a bracket the trial
        budget cut short (fewer than n0 trials started) with ``planned_quota``, the full bracket's n0 // eta**(rung+1)
        of those there are."""
        levels = self.levels_of(bracket)
        _, n0 = self.s._bracket_plan(bracket)
        started = len(self.dispatched.get((bracket, levels[0]), []))
        if self.s.planned_quota and started < n0:
            return min(n_results, n0 // self.eta ** (rung + 1))
        return n_results // self.eta

    def check_job(self, job: Job) -> None:
        b = self.s.trial_bracket(job.trial_id)
        levels = self.levels_of(b)
        k = levels.index(job.milestone)
        if k == 0:
            assert job.resume_from == 0
        else:
            below = (b, levels[k - 1])
            # The barrier: every rung-k job of the bracket has reported or failed.
            for t in self.dispatched[below]:
                assert t in self.reported[below] or t in self.failed, (job, t)
            results = {t: v for t, v in self.reported[below].items() if t not in self.failed}
            ranked = [t for _, t in sorted((v, t) for t, v in results.items())]
            assert job.trial_id in ranked[: self.quota(b, k - 1, len(ranked))]
            assert job.resume_from == (levels[k - 1] if self.s.resume else 0)
        self.dispatched.setdefault((b, job.milestone), []).append(job.trial_id)
        self.running[job.trial_id] = (b, job.milestone)
        if b not in self.first_job:
            self.busy_at_open[b] = {ob for ob, _ in self.running.values() if ob < b}
        self.first_job.setdefault(b, self.index)
        self.last_job[b] = self.index
        if job.milestone == levels[-1]:
            self.reached_top.setdefault(b, self.index)

    def check_report(self, t: int, resource: int, metric: float, decision: Decision) -> None:
        assert decision is Decision.CONTINUE  # synchronous SH never stops a job early
        b, milestone = self.running[t]
        if resource == milestone:
            self.reported.setdefault((b, milestone), {})[t] = score(metric, self.s.mode)
            del self.running[t]

    def fail(self, t: int) -> None:
        self.failed.add(t)
        self.running.pop(t, None)

    def replay(self, log: list[tuple]) -> None:
        for self.index, entry in enumerate(log):
            if entry[0] == "job":
                self.check_job(entry[2])
            elif entry[0] == "report":
                self.check_report(*entry[2:])
            elif entry[0] == "fail":
                self.fail(entry[2])
            elif entry[0] == "idle":
                assert entry[1], "every worker idle, nothing suggested, yet not done: deadlock"
        self.check_overlap()

    def check_overlap(self) -> None:
        brackets = sorted(self.first_job)
        for older, newer in itertools.pairwise(brackets):
            opened = self.first_job[newer]
            finished = self.last_job[older] < opened and older not in self.busy_at_open[newer]
            if self.s.overlap == "none":
                assert finished
            elif self.s.overlap == "top-rung":
                assert finished or self.reached_top.get(older, opened) < opened

    def check_exact_promotions(self) -> None:
        """Without failures: rung k+1 of a bracket holds exactly the top floor(n_k/eta) of rung k
        (a bracket cut short: its planned quota, see ``quota``)."""
        for (b, level), results in self.reported.items():
            levels = self.levels_of(b)
            k = levels.index(level)
            if k + 1 >= len(levels) or len(results) < len(self.dispatched[(b, level)]):
                continue  # top rung, or the rung never completed
            ranked = [t for _, t in sorted((v, t) for t, v in results.items())]
            promoted = self.dispatched.get((b, levels[k + 1]), [])
            assert promoted == ranked[: self.quota(b, k, len(ranked))]
