"""ashasim's searchers against Syne Tune's BOHB and MOBSTER and Optuna's TPE, on multi-fidelity
synthetic benchmarks (``ashasim.sim.synthetic``), in simulated time.

    python experiments/searchers.py synthetic [--benchmarks hartmann3 hartmann6] \\
        [--workers 4 16] [--seeds 10] [--budget 1500] [--max-t 27]

Every contender is stopping-type ASHA (the only type Syne Tune 0.16's ASHA and Optuna's pruner
have) with the same rungs (grace period 1, reduction factor 3, max_t), the same per-level costs
(the benchmark's runtime model, ``cost="resume"``) and the same simulated time budget per run;
only the searcher differs. ashasim runs in its own simulator; a peer runs in the small
event loop here (``run_peer``): workers take a new trial as soon as they are free, each level
costs the benchmark's seconds, the peer decides after every level. A peer that is not installed
is skipped with a message. MOBSTER left Syne Tune's baselines in 0.15: it runs from Syne Tune
0.14.2 (``pip install "syne-tune[gpsearchers]==0.14.2"``, in an environment of its own, since
BOHB runs from 0.16), and ``--save``/``--load`` put the environments' cells in one table.

Reported per (benchmark, workers, contender): the median true regret of the incumbent at the
budget (the best metric among the trials that reached the highest level reached, its config's
regret at the top fidelity) with its interquartile range, the median milliseconds per suggest
(measured inside this process, 2 shared cores), and two-sided Mann-Whitney U p-values of each
ashasim searcher against each peer.
"""

from __future__ import annotations

import heapq
import json
import logging
import statistics
import time
import warnings
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from ashasim.core import make_scheduler
from ashasim.events import JobStarted, Reported
from ashasim.search import make_searcher
from ashasim.sim import simulate
from ashasim.sim.synthetic import MultiFidelityFunction

__all__ = ["CONTENDERS", "compare", "format_table", "load_cells", "ordered", "save_cells"]

# name -> searcher of ashasim's stopping-type ASHA (name, options), or None for a peer
ASHASIM = {
    "ashasim random": ("random", {}),
    "ashasim KDE": ("kde", {}),
    "ashasim GP": ("gp", {}),
    "ashasim GP (fidelity)": ("gp", {"fidelity": True}),
}
PEERS = ("Syne Tune BOHB", "Syne Tune MOBSTER", "Optuna TPE + SH")
CONTENDERS = (*ASHASIM, *PEERS)
Outcome = tuple[float, float]  # (regret of the incumbent, median ms per suggest)


class PeerMissingError(Exception):
    """A peer that is not installed; the message says which."""


def incumbent(records: list[tuple[dict[str, Any], int, float]]) -> dict[str, Any]:
    """The best-metric config among the reports at the highest level reached."""
    top = max(level for _, level, _ in records)
    return min((r for r in records if r[1] == top), key=lambda r: r[2])[0]


def run_ashasim(
    bench: MultiFidelityFunction,
    contender: str,
    n_workers: int,
    budget: float,
    seed: int,
    spent: list[float] | None = None,
) -> Outcome:
    """*spent*: a list that also gets every suggest's seconds (``suggest_costs``)."""
    name, options = ASHASIM[contender]
    searcher = make_searcher(name, **options)
    spent = [] if spent is None else spent
    suggest = searcher.suggest

    def timed(trial_id: int) -> Any:
        start = time.perf_counter()
        config = suggest(trial_id)
        spent.append(time.perf_counter() - start)
        return config

    searcher.suggest = timed  # type: ignore[method-assign]
    scheduler = make_scheduler(
        "asha-stopping",
        bench.config_space,
        max_t=bench.max_epochs,
        grace_period=1,
        reduction_factor=3,
        seed=seed,
        searcher=searcher,
    )
    trace = simulate(scheduler, bench, n_workers, max_time=budget, seed=seed)
    configs = {e.trial_id: e.config for e in trace.events if type(e) is JobStarted}
    records = [
        (configs[e.trial_id], e.resource, e.metric) for e in trace.events if type(e) is Reported
    ]
    return bench.regret(incumbent(records)), 1e3 * statistics.median(spent)


def run_peer(
    bench: MultiFidelityFunction,
    contender: str,
    n_workers: int,
    budget: float,
    seed: int,
    spent: list[float] | None = None,
) -> Outcome:
    """A peer's ASHA in simulated time: free workers start new trials; after each level the
    peer says whether the trial goes on; the run stops at ``budget`` seconds. *spent*: as for
    ``run_ashasim``."""
    ask, report = _peer(contender, bench, seed)
    epoch = bench.epoch_fn(seed)
    events: list[tuple[float, int, int, dict[str, Any], int]] = []  # (t, seq, trial, config, lvl)
    records: list[tuple[dict[str, Any], int, float]] = []
    spent = [] if spent is None else spent
    counter = [0]

    def start(now: float, trial_id: int, config: dict[str, Any], level: int) -> None:
        seconds, _ = epoch(trial_id, config, level)
        counter[0] += 1
        heapq.heappush(events, (now + seconds, counter[0], trial_id, config, level))

    def new_trial(now: float) -> None:
        clock = time.perf_counter()
        trial_id, config = ask()
        spent.append(time.perf_counter() - clock)
        start(now, trial_id, config, 1)

    for _ in range(n_workers):
        new_trial(0.0)
    while events:
        now, _, trial_id, config, level = heapq.heappop(events)
        if now > budget:
            break
        metric = epoch(trial_id, config, level)[1]
        records.append((config, level, metric))
        if report(trial_id, level, metric) and level < bench.max_epochs:
            start(now, trial_id, config, level + 1)
        else:
            new_trial(now)
    return bench.regret(incumbent(records)), 1e3 * statistics.median(spent)


def _peer(contender: str, bench: MultiFidelityFunction, seed: int) -> tuple[Callable, Callable]:
    """(ask() -> (trial_id, config), report(trial_id, level, metric) -> go on?) of a peer."""
    if contender == "Syne Tune BOHB":
        return _syne_tune_bohb(bench, seed)
    if contender == "Syne Tune MOBSTER":
        return _syne_tune_mobster(bench, seed)
    return _optuna_tpe(bench, seed)


def _syne_tune_bohb(bench: MultiFidelityFunction, seed: int) -> tuple[Callable, Callable]:
    try:
        import numpy as np
        from syne_tune.backend.trial_status import Trial
        from syne_tune.config_space import uniform
        from syne_tune.optimizer.baselines import BOHB
        from syne_tune.optimizer.scheduler import SchedulerDecision
    except ImportError as error:
        raise PeerMissingError(f"Syne Tune is not installed ({error})") from None
    logging.getLogger("syne_tune").setLevel(logging.ERROR)
    np.random.seed(seed)  # its ASHA draws brackets from numpy's global generator
    space = {name: uniform(d.lo, d.hi) for name, d in bench.config_space.items()}
    scheduler = BOHB(
        space,
        metric="metric",
        time_attr="epoch",
        max_t=bench.max_epochs,
        random_seed=seed,
        grace_period=1,
        reduction_factor=3,
    )
    trials: dict[int, Any] = {}

    def ask() -> tuple[int, dict[str, Any]]:
        suggestion = scheduler.suggest()
        trial = Trial(trial_id=len(trials), config=suggestion.config, creation_time=datetime.now())
        trials[trial.trial_id] = trial
        scheduler.on_trial_add(trial)
        return trial.trial_id, dict(suggestion.config)

    def report(trial_id: int, level: int, metric: float) -> bool:
        trial = trials[trial_id]
        decision = scheduler.on_trial_result(trial, {"metric": metric, "epoch": level})
        if decision == SchedulerDecision.STOP or level >= bench.max_epochs:
            scheduler.on_trial_remove(trial)
            return False
        return True

    return ask, report


def _syne_tune_mobster(bench: MultiFidelityFunction, seed: int) -> tuple[Callable, Callable]:
    """MOBSTER (Klein et al. 2020): stopping-type ASHA with Syne Tune's multi-task GP searcher
    (``searcher="bayesopt"``, model ``gp_multitask``). Syne Tune 0.15 dropped it from its
    baselines; 0.14 has it in ``legacy_baselines``."""
    try:
        import numpy as np
        from syne_tune.backend.trial_status import Trial
        from syne_tune.config_space import uniform
        from syne_tune.optimizer.legacy_baselines import MOBSTER
        from syne_tune.optimizer.scheduler import SchedulerDecision
    except ImportError as error:
        raise PeerMissingError(f"Syne Tune <= 0.14 with gpsearchers is needed ({error})") from None
    logging.getLogger("syne_tune").setLevel(logging.ERROR)
    np.random.seed(seed)
    space = {name: uniform(d.lo, d.hi) for name, d in bench.config_space.items()}
    space["epochs"] = bench.max_epochs
    scheduler = MOBSTER(
        space,
        metric="metric",
        mode="min",
        resource_attr="epoch",
        max_resource_attr="epochs",
        type="stopping",
        grace_period=1,
        reduction_factor=3,
        random_seed=seed,
    )
    trials: dict[int, Any] = {}

    def ask() -> tuple[int, dict[str, Any]]:
        trial_id = len(trials)
        suggestion = scheduler.suggest(trial_id)
        config = {name: suggestion.config[name] for name in bench.config_space}
        trial = Trial(trial_id=trial_id, config=suggestion.config, creation_time=datetime.now())
        trials[trial_id] = trial
        scheduler.on_trial_add(trial)
        return trial_id, config

    def report(trial_id: int, level: int, metric: float) -> bool:
        trial = trials[trial_id]
        result = {"metric": metric, "epoch": level}
        decision = scheduler.on_trial_result(trial, result)
        if decision == SchedulerDecision.STOP or level >= bench.max_epochs:
            scheduler.on_trial_complete(trial, result)
            return False
        return True

    return ask, report


def _optuna_tpe(bench: MultiFidelityFunction, seed: int) -> tuple[Callable, Callable]:
    try:
        import optuna
    except ImportError as error:
        raise PeerMissingError(f"Optuna is not installed ({error})") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    study = optuna.create_study(
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3),
    )
    running: dict[int, Any] = {}

    def ask() -> tuple[int, dict[str, Any]]:
        trial = study.ask()
        config = {
            name: trial.suggest_float(name, d.lo, d.hi) for name, d in bench.config_space.items()
        }
        running[trial.number] = trial
        return trial.number, config

    def report(trial_id: int, level: int, metric: float) -> bool:
        trial = running[trial_id]
        trial.report(metric, level)
        if level >= bench.max_epochs:
            study.tell(trial, metric)
            return False
        if trial.should_prune():
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            return False
        return True

    return ask, report


def suggest_costs(
    benchmarks: list[str],
    workers: list[int],
    seeds: int,
    budget: float,
    max_t: int,
    contenders: tuple[str, ...] = CONTENDERS,
) -> str:
    """A Markdown table of what suggesting costs per (benchmark, workers, contender), over every
    suggest of ``seeds`` runs: the mean (what a run pays: total over calls), the median (the
    comparison's figure) and the 90th percentile, in ms. Why the mean: a model-based searcher's
    calls are bimodal (cheap random draws, costly model proposals) and libraries model at
    different rates, so medians may compare one's random draws with the other's model
    proposals. A missing peer is left out."""
    lines = [
        "| benchmark | workers | contender | suggests | mean ms | median ms | p90 ms |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for name in benchmarks:
        bench = MultiFidelityFunction(name, max_epochs=max_t)
        for n_workers in workers:
            for contender in contenders:
                run = run_ashasim if contender in ASHASIM else run_peer
                spent: list[float] = []
                try:
                    for seed in range(seeds):
                        run(bench, contender, n_workers, budget, seed, spent)
                except PeerMissingError:
                    continue
                ms = sorted(1e3 * x for x in spent)
                p90 = ms[min(len(ms) - 1, int(0.9 * len(ms)))]
                lines.append(
                    f"| {name} | {n_workers} | {contender} | {len(ms)} | "
                    f"{statistics.fmean(ms):.3g} | {statistics.median(ms):.3g} | {p90:.3g} |"
                )
    return "\n".join(lines)


def compare(
    benchmarks: list[str],
    workers: list[int],
    seeds: int,
    budget: float,
    max_t: int,
    contenders: tuple[str, ...] = CONTENDERS,
    on_cell: Callable[[str], None] = print,
) -> dict[tuple[str, int, str], list[Outcome]]:
    """Every (benchmark, workers, contender) over ``seeds`` seeds; a missing peer is skipped."""
    results: dict[tuple[str, int, str], list[Outcome]] = {}
    missing: set[str] = set()
    for name in benchmarks:
        bench = MultiFidelityFunction(name, max_epochs=max_t)
        for n_workers in workers:
            for contender in contenders:
                if contender in missing:
                    continue
                run = run_ashasim if contender in ASHASIM else run_peer
                try:
                    outcomes = [run(bench, contender, n_workers, budget, s) for s in range(seeds)]
                except PeerMissingError as error:
                    on_cell(f"skipped {contender}: {error}")
                    missing.add(contender)
                    continue
                results[(name, n_workers, contender)] = outcomes
                regrets = ", ".join(f"{r:.4g}" for r, _ in outcomes)
                on_cell(f"{name} {n_workers} workers {contender}: regrets {regrets}")
    return results


def format_table(results: dict[tuple[str, int, str], list[Outcome]]) -> str:
    """A Markdown table: median regret [IQR], ms per suggest, p-values against the peers."""
    from scipy.stats import mannwhitneyu

    lines = [
        "| benchmark | workers | contender | regret median [IQR] | ms / suggest | p vs peers |",
        "|---|---|---|---|---|---|",
    ]
    for (name, n_workers, contender), outcomes in results.items():
        regrets = sorted(r for r, _ in outcomes)
        q1, q2, q3 = statistics.quantiles(regrets, n=4) if len(regrets) > 1 else regrets * 3
        ms = statistics.median(m for _, m in outcomes)
        tests = []
        for peer in PEERS:
            other = results.get((name, n_workers, peer))
            if contender in ASHASIM and other:
                p = mannwhitneyu(regrets, [r for r, _ in other], alternative="two-sided").pvalue
                tests.append(f"{peer}: {p:.3f}")
        lines.append(
            f"| {name} | {n_workers} | {contender} | {q2:.3g} [{q1:.3g}, {q3:.3g}] | {ms:.2f} | "
            f"{'; '.join(tests)} |"
        )
    return "\n".join(lines)


Cells = dict[tuple[str, int, str], list[Outcome]]


def save_cells(path: Path, results: Cells) -> None:
    """Write ``compare``'s cells as JSON (plain data: loading it runs no code)."""
    rows = [[name, n, contender, outcomes] for (name, n, contender), outcomes in results.items()]
    path.write_text(json.dumps(rows, indent=1), encoding="utf-8")


def load_cells(path: Path) -> Cells:
    """Cells written by ``save_cells``."""
    rows = json.loads(path.read_text(encoding="utf-8"))
    return {
        (name, n, contender): [tuple(o) for o in outcomes] for name, n, contender, outcomes in rows
    }


def ordered(results: Cells) -> Cells:
    """Cells by benchmark and workers as given, contenders in ``CONTENDERS`` order."""
    rank = {contender: i for i, contender in enumerate(CONTENDERS)}
    keys = sorted(results, key=lambda k: (k[0], k[1], rank.get(k[2], len(rank)), k[2]))
    return {key: results[key] for key in keys}
