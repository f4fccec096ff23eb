"""Benchmark: scheduler decisions per second as the number of trials grows, side by side.

A *decision* is one ``suggest()`` or ``report()`` call. ASHA (both types, eta = 3, grace 1,
max_t 81) is driven by 32 simulated workers that finish in a random order, on synthetic learning
curves, for 10^3, 10^4 and 10^5 trials. The calls of that run are recorded, then replayed on a
fresh scheduler and timed as a whole in CPU time (no timer around each microsecond call, no load
from other processes counted). Beside it, replaying the same calls in the same run:

* **bisect**: a plain stopping-type ASHA on sorted lists (``bisect.insort``, 25 lines, below) with
  the same stopping rule, returning the same ``Job``s; it makes the same decisions (checked), so
  the replay is the same work: the reference ashasim's core should stay within 2x of;
* **brute force**: the promotion rule re-sorting the rung on every call (what
  ``np.percentile``-per-report implementations cost), up to 10^4 trials, because it is quadratic;
* **peers** (``--peers``, skipped with a message when not installed): Ray Tune's
  ``AsyncHyperBandScheduler`` and Optuna's ``SuccessiveHalvingPruner`` through the same driver
  (``experiments/peers.py``). Their rules decide differently, so they are driven live, each call
  timed, capped at ``--peer-seconds`` of their own time (Optuna's pruner looks at every trial of
  the study on each call, so it slows down as trials accumulate); ashasim is driven the same way
  in that table.

Each cell is the best of ``--repeat`` replays, ashasim and the reference in alternation.

Two more tables, in the same run:

* **with suggest**: the same stopping-type replay on a one-parameter space (``uniform(0, 1)``),
  so each new trial draws a config, per *report* (suggests included), against the bisect
  reference drawing its config from a generator too (goal: within 2x at every size);
* **a new trial**: microseconds per ``suggest()`` that creates a trial (draw a config, make the
  trial and its first ``Job``) on that space: random search with its default searcher, with an
  explicit ``RandomSearcher`` instance, ASHA (stopping), and the floor (one generator draw, one
  dict, one ``Job``). Goal: <= 3 us.

    python experiments/bench_core.py [--trials 1000 10000 100000] [--repeat 3] [--peers]
"""

from __future__ import annotations

import argparse
import bisect
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ashasim.core import ASHA, Decision, Job, RandomSearch
from ashasim.core.rungs import Rung
from ashasim.search import RandomSearcher
from ashasim.space import uniform

# run as a script, experiments/ is on the path and the repository root may not be
try:
    from experiments import peers
except ModuleNotFoundError:
    import peers  # type: ignore[no-redef]

SPACE = {"x": 0}  # configs play no part in the cost of a decision
UNIFORM = {"x": uniform(0.0, 1.0)}  # ... except the draw of a new trial's config
_CURVES: dict[int, tuple[float, float]] = {}


def curve(trial_id: int, epoch: int) -> float:
    """A synthetic learning curve: a trial-dependent floor plus a power-law decay."""
    constants = _CURVES.get(trial_id)
    if constants is None:
        rng = np.random.default_rng(trial_id)
        constants = _CURVES[trial_id] = (rng.uniform(0.05, 0.5), rng.uniform(0.2, 1.0))
    floor, scale = constants
    return floor + scale * epoch**-0.5


def drive(
    scheduler: Any, n_workers: int = 32, seed: int = 0, budget: float = float("inf")
) -> tuple[int, float, int]:
    """Run until the scheduler is done (or ``budget`` seconds were spent inside it); return
    (decisions, seconds spent inside the scheduler, trials started)."""
    rng = np.random.default_rng(seed)
    running: list[list[int]] = []  # [trial_id, resource, milestone]
    decisions = trials = 0
    spent = 0.0
    while spent < budget:
        while len(running) < n_workers:
            start = time.perf_counter()
            job = scheduler.suggest()
            spent += time.perf_counter() - start
            decisions += 1
            if job is None:
                break
            trials = max(trials, job.trial_id + 1)
            running.append([job.trial_id, job.resume_from, job.milestone])
        if not running:
            break
        index = int(rng.integers(len(running)))
        entry = running[index]
        entry[1] += 1
        value = curve(entry[0], entry[1])
        start = time.perf_counter()
        decision = scheduler.report(entry[0], entry[1], value)
        spent += time.perf_counter() - start
        decisions += 1
        if decision is Decision.STOP or entry[1] == entry[2]:
            running[index] = running[-1]
            running.pop()
    return decisions, spent, trials


class BisectASHA:
    """The reference: stopping-type ASHA on plain sorted lists, the rule of ``continues_at_rung``
    (a result continues iff fewer than n/eta results of its rung beat it; ties by trial id)."""

    def __init__(
        self,
        max_t: int,
        grace_period: int,
        reduction_factor: int,
        max_trials: int,
        draws: bool = False,
    ):
        self.eta, self.max_t, self.max_trials = reduction_factor, max_t, max_trials
        self.n_trials = 0
        self.random = np.random.default_rng(0).random if draws else None  # config draws
        self.rungs: dict[int, list[tuple[float, int]]] = {}
        level = grace_period
        while level < max_t:
            self.rungs[level] = []
            level *= reduction_factor

    def suggest(self) -> Job | None:
        if self.n_trials >= self.max_trials:
            return None
        self.n_trials += 1
        config = {"x": 0.0 if self.random is None else self.random()}
        return Job(self.n_trials - 1, config, 0, self.max_t)

    def report(self, trial_id: int, resource: int, metric: float) -> Decision:
        rung = self.rungs.get(resource)
        if rung is None:
            return Decision.CONTINUE
        key = (metric, trial_id)
        bisect.insort(rung, key)
        if bisect.bisect_left(rung, key) * self.eta < len(rung):
            return Decision.CONTINUE
        return Decision.STOP


class NaiveRung(Rung):
    """The same rule computed the slow way: sort the whole rung at every check (O(n log n))."""

    def promotable(self) -> int | None:
        ranked = sorted(self._keys.values())
        quota = len(ranked) // self.reduction_factor
        live = [key for key in ranked[:quota] if key[1] in self._candidate_ids]
        return live[0][1] if live else None

    def add(self, trial_id: int, trial_score: float, *, candidate: bool) -> bool:
        continues = super().add(trial_id, trial_score, candidate=candidate)
        ranked = sorted(self._keys.values())
        rank = ranked.index((trial_score, trial_id))
        assert continues == (rank * self.reduction_factor < len(ranked))
        return continues


LADDER = {"max_t": 81, "grace_period": 1, "reduction_factor": 3}


def make(kind: str, trials: int, naive: bool = False, space: dict = SPACE) -> ASHA:
    scheduler = ASHA(space, type=kind, max_trials=trials, **LADDER)
    if naive:
        for bracket in scheduler._brackets:
            bracket.rungs = [NaiveRung(rung.level, rung.reduction_factor) for rung in bracket.rungs]
            bracket.at_level = {
                rung.level: (rung, bracket.levels[i + 1]) for i, rung in enumerate(bracket.rungs)
            }
    return scheduler


def record(scheduler: Any, n_workers: int = 32, seed: int = 0) -> list[Any]:
    """The calls ``drive`` makes: None for a suggest, (trial_id, resource, metric) for a report."""
    calls: list[Any] = []

    class Recorder:
        def suggest(self) -> Job | None:
            calls.append(None)
            return scheduler.suggest()

        def report(self, trial_id: int, resource: int, metric: float) -> Decision:
            calls.append((trial_id, resource, metric))
            return scheduler.report(trial_id, resource, metric)

    drive(Recorder(), n_workers, seed)
    return calls


def replay(scheduler: Any, calls: list[Any]) -> float:
    """CPU seconds the scheduler takes to answer ``calls``."""
    suggest, report = scheduler.suggest, scheduler.report
    start = time.process_time()
    for call in calls:
        if call is None:
            suggest()
        else:
            report(*call)
    return time.process_time() - start


def decisions_of(scheduler: Any, calls: list[Any]) -> list[Any]:
    """What the scheduler answers: (trial, start, milestone) per job, the decision per report."""
    answers: list[Any] = []
    for call in calls:
        if call is None:
            job = scheduler.suggest()
            answers.append(None if job is None else (job.trial_id, job.resume_from, job.milestone))
        else:
            answers.append(scheduler.report(*call))
    return answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-naive", action="store_true", help="skip the brute-force baseline")
    parser.add_argument("--peers", action="store_true", help="Ray Tune and Optuna beside ashasim")
    parser.add_argument("--peer-seconds", type=float, default=30.0)
    args = parser.parse_args()
    decision_table(args)
    with_suggest_table(args)
    new_trial_table()


def decision_table(args: argparse.Namespace) -> None:
    """The first table. A function of its own so that its schedulers and recorded calls (10^5
    trials' worth) are gone before the next tables: the cycle collector would walk them on
    every full collection and bill their walk to whatever is timed next."""
    print(
        f"{'trials':>7} {'decisions':>9} {'promotion':>10} {'stopping':>9} {'bisect':>7} "
        f"{'stopping/bisect':>15} {'brute force':>11}   (us per decision, CPU)"
    )
    for trials in args.trials:
        promotion_calls = record(make("promotion", trials))
        calls = record(make("stopping", trials))
        reference = BisectASHA(max_trials=trials, **LADDER)
        ours = make("stopping", trials)
        assert decisions_of(ours, calls) == decisions_of(reference, calls), "same rule, same run"
        promotion = min(
            replay(make("promotion", trials), promotion_calls) for _ in range(args.repeat)
        )
        stopping, bisected = [], []
        for _ in range(args.repeat):  # in alternation: the same load on both
            stopping.append(replay(make("stopping", trials), calls))
            bisected.append(replay(BisectASHA(max_trials=trials, **LADDER), calls))
        naive = ""
        if not args.no_naive and trials <= 10_000:
            slow = replay(make("promotion", trials, naive=True), promotion_calls)
            naive = f"{1e6 * slow / len(promotion_calls):.1f}"
        us = [
            1e6 * promotion / len(promotion_calls),
            1e6 * min(stopping) / len(calls),
            1e6 * min(bisected) / len(calls),
        ]
        print(
            f"{trials:>7} {len(calls):>9} {us[0]:>10.2f} {us[1]:>9.2f} {us[2]:>7.2f} "
            f"{us[1] / us[2]:>15.2f} {naive:>11}",
            flush=True,
        )
    if args.peers:
        peer_table(args)


def with_suggest_table(args: argparse.Namespace) -> None:
    """Stopping-type ASHA on a one-parameter space against the bisect reference that draws its
    configs too: CPU microseconds per report, the suggests included."""
    print(f"\n{'trials':>7} {'reports':>9} {'stopping':>9} {'bisect':>7} {'ratio':>6}")
    print("  (us per report incl. suggest, CPU; a uniform(0, 1) config drawn per trial)")
    for trials in args.trials:
        calls = record(make("stopping", trials, space=UNIFORM))
        reports = sum(call is not None for call in calls)
        ours, reference = [], []
        for _ in range(args.repeat):
            ours.append(replay(make("stopping", trials, space=UNIFORM), calls))
            bisect_asha = BisectASHA(max_trials=trials, draws=True, **LADDER)
            reference.append(replay(bisect_asha, calls))
        us = 1e6 * min(ours) / reports, 1e6 * min(reference) / reports
        print(f"{trials:>7} {reports:>9} {us[0]:>9.2f} {us[1]:>7.2f} {us[0] / us[1]:>6.2f}")


def new_trial_table(n: int = 200_000, repeat: int = 5) -> None:
    """CPU microseconds per suggest() that creates a trial, on a one-parameter space."""
    random = np.random.default_rng(0).random

    def floor() -> Job:
        return Job._make(0, {"x": random()}, 0, 1, 0, False, (1,))

    rows: list[tuple[str, Callable[[], Any]]] = [
        ("random search (default searcher)", lambda: RandomSearch(UNIFORM, max_t=1).suggest),
        (
            "random search (a RandomSearcher given)",
            lambda: RandomSearch(UNIFORM, max_t=1, searcher=RandomSearcher()).suggest,
        ),
        (
            "ASHA stopping (default searcher)",
            lambda: make("stopping", 10 * n, space=UNIFORM).suggest,
        ),
        ("floor: one draw, one dict, one Job", lambda: floor),
    ]
    print(f"\n{'a new trial (suggest)':<40} {'us':>6}")
    for name, build in rows:
        best = float("inf")
        for _ in range(repeat):
            suggest = build()
            start = time.process_time()
            for _ in range(n):
                suggest()
            best = min(best, time.process_time() - start)
        print(f"{name:<40} {1e6 * best / n:>6.2f}", flush=True)


def peer_table(args: argparse.Namespace) -> None:

    print(f"\n{'library (driven live)':<44} {'trials':>7} {'reached':>7} {'decisions/s':>12}")
    for trials in [n for n in args.trials if n >= 10_000] or args.trials:
        rows: list[tuple[str, Callable[[], Any]]] = [
            ("ashasim ASHA (stopping)", lambda n=trials: make("stopping", n)),
            ("ashasim ASHA (promotion)", lambda n=trials: make("promotion", n)),
            (
                "Ray Tune AsyncHyperBandScheduler",
                lambda n=trials: peers.RayAsyncHyperBand(trials=n, **LADDER),
            ),
            (
                "Optuna SuccessiveHalvingPruner",
                lambda n=trials: peers.OptunaSuccessiveHalving(trials=n, **LADDER),
            ),
        ]
        for name, build in rows:
            try:
                scheduler = build()
            except peers.PeerMissingError as skipped:
                print(f"{name:<44} {trials:>7}  skipped: {skipped}")
                continue
            decisions, spent, reached = drive(scheduler, budget=args.peer_seconds)
            print(f"{name:<44} {trials:>7} {reached:>7} {decisions / spent:>12,.0f}", flush=True)


if __name__ == "__main__":
    main()
