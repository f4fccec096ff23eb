"""The throughput part of ``experiments/gpu_check.py``: worker processes on one device that
warm up each step kind, then train together for a timed window (its docstring, item 2, says what
is measured and why); and the table of the rates.

A module of its own so that gpu_check.py reads as the plan of the whole check.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import queue
import time
import traceback
from pathlib import Path
from typing import Any

__all__ = ["Pool", "best_packing", "format_throughput", "save", "throughput"]


def _epoch_function(kind: str, data: Any, batch_size: int, seed: int) -> Any:
    """``run()``: one tuner epoch (train, then validate) of a trial under step ``kind``."""
    from ashasim.training import trial as tr

    step = "eager" if kind == "old" else kind
    config = {"learning_rate": 0.1, "batch_size": batch_size}
    trial = tr.make_trial(config, data=data, seed=seed, step=step)

    def run() -> float:
        if kind != "old":
            loss = trial.train_epoch()
            trial.validation_error()
            return loss
        trial.epoch += 1
        generator = tr.epoch_generator(seed, trial.epoch)
        loss = tr.train_epoch(trial.model, trial.optimizer, data, batch_size, generator)
        tr.validation_error(trial.model, data)
        return loss

    return run


def _worker(rank: int, settings: dict[str, Any], commands: Any, results: Any) -> None:
    """A throughput worker: loads the data, then warms up or times kinds on command. A failing
    command is reported as ("error", rank, traceback) and the worker goes on."""
    import torch

    from ashasim.training.fashion_data import load_fashion_mnist
    from ashasim.training.trial import set_threads

    set_threads(settings["threads"])
    data = load_fashion_mnist(
        settings["data"], device=settings["device"], subset=settings["subset"]
    )
    runs: dict[str, Any] = {}
    results.put(("ready", rank, None))
    while (command := commands.get())[0] != "stop":
        try:
            results.put(_serve(command, runs, data, settings, rank))
        except Exception:
            results.put(("error", rank, traceback.format_exc()))
        if torch.device(settings["device"]).type == "cuda":
            torch.cuda.synchronize()


def _serve(command: tuple, runs: dict[str, Any], data: Any, settings: dict, rank: int) -> tuple:
    kind = command[1]
    if command[0] == "warmup":
        runs[kind] = _epoch_function(kind, data, settings["batch_size"], seed=rank)
        timings, losses = [], []
        for _ in range(2):  # the first captures or compiles; the second is steady
            start = time.perf_counter()
            losses.append(runs[kind]())  # ends with .item(): synchronized
            timings.append(time.perf_counter() - start)
        return ("warm", rank, {"kind": kind, "seconds": timings, "losses": losses})
    _, _, start_at, window = command  # ("measure", kind, start_at, window)
    time.sleep(max(0.0, start_at - time.time()))
    start, epochs = time.time(), 0
    while epochs == 0 or time.time() - start < window:
        runs[kind]()
        epochs += 1
    return ("measured", rank, (epochs, time.time() - start))


class Pool:
    """``n`` throughput workers and their command queues."""

    def __init__(self, n: int, settings: dict[str, Any]) -> None:
        context = multiprocessing.get_context("spawn")
        self.results = context.Queue()
        self.commands = [context.Queue() for _ in range(n)]
        self.processes = [
            context.Process(target=_worker, args=(r, settings, self.commands[r], self.results))
            for r in range(n)
        ]
        for process in self.processes:
            process.start()
        _, errors = self.collect(range(n), time.time() + 600)
        if errors:
            raise RuntimeError(f"workers failed to start: {errors}")

    def collect(self, ranks: Any, deadline: float) -> tuple[dict[int, Any], dict[int, str]]:
        """Every answer from ``ranks`` (values, errors) before ``deadline`` (time.time())."""
        expected, got, errors = set(ranks), {}, {}
        while expected - got.keys() - errors.keys():
            try:
                tag, rank, value = self.results.get(timeout=max(1.0, deadline - time.time()))
            except queue.Empty:
                missing = sorted(expected - got.keys() - errors.keys())
                raise TimeoutError(f"no answer from workers {missing}") from None
            (errors if tag == "error" else got)[rank] = value
        return got, errors

    def send(self, ranks: Any, command: tuple) -> None:
        for rank in ranks:
            self.commands[rank].put(command)

    def close(self) -> None:
        """Stop every worker; kill those still running 15 s later (e.g. stuck compiling)."""
        self.send(range(len(self.processes)), ("stop",))
        deadline = time.time() + 15
        for process in self.processes:
            process.join(timeout=max(0.1, deadline - time.time()))
            if process.is_alive():
                process.kill()
                process.join()


def throughput(args: argparse.Namespace, report: Any, budget_end: float) -> list[dict]:
    """Kind by kind: warm it up in every worker, then one timed window per worker count."""
    n = max(args.workers)
    threads = max(1, (os.cpu_count() or 1) // n)
    settings = {
        "device": args.device,
        "data": args.data,
        "subset": args.subset,
        "batch_size": args.batch_size,
        "threads": threads,
    }
    rows: list[dict] = []
    pool = Pool(n, settings)
    warm: dict[str, dict[int, Any]] = {}
    try:
        for kind in args.steps:  # kind by kind: a kind that fails or hangs costs only itself
            try:
                warm[kind] = _warm_up(pool, kind, n, budget_end)
            except RuntimeError as error:
                report(f"warm-up {kind} FAILED, not timed: {error}")
                continue
            except TimeoutError as error:  # a worker is stuck (compiling?): stop here
                report(f"warm-up {kind} TIMED OUT, throughput stops: {error}")
                break
            first = warm[kind][0]
            report(
                f"warm-up {kind}: first epoch {first['seconds'][0]:.2f} s, second "
                f"{first['seconds'][1]:.2f} s; worker 0 losses {first['losses']}"
            )
            for count in args.workers:
                if time.time() + args.window + 5 > budget_end:
                    report(f"skipped {kind} x {count}: out of time")
                    continue
                pool.send(range(count), ("measure", kind, time.time() + 0.5, args.window))
                measured, errors = pool.collect(range(count), budget_end + 60)
                if errors:
                    report(f"{kind} x {count} FAILED: {next(iter(errors.values()))}")
                    continue
                rates = [epochs / seconds for epochs, seconds in measured.values()]
                row = {
                    "step": kind,
                    "workers": count,
                    "threads": threads,
                    "epochs_per_s": sum(rates),
                    "per_worker": sum(rates) / count,
                    "epochs": sum(e for e, _ in measured.values()),
                    "warmup_s": first["seconds"],
                    "loss_vs_old": _loss_gap(warm, kind),
                }
                rows.append(row)
                report(
                    f"{kind:>7} x {count}: {row['epochs_per_s']:6.2f} epochs/s "
                    f"({row['per_worker']:.2f} per worker, {row['epochs']} epochs)"
                )
                save(args.out / "throughput.json", rows)
    finally:
        pool.close()
    return rows


def _warm_up(pool: Pool, kind: str, n: int, budget_end: float) -> dict[int, Any]:
    """Two epochs of ``kind`` in every worker; compile in one worker first, so that the others
    find Inductor's on-disk cache filled. RuntimeError if a worker failed."""
    got: dict[int, Any] = {}
    for ranks in ([0], range(1, n)) if kind == "compile" else (range(n),):
        pool.send(ranks, ("warmup", kind))
        answers, errors = pool.collect(ranks, budget_end)
        if errors:
            raise RuntimeError(next(iter(errors.values())))
        got |= answers
    return got


def _loss_gap(warm: dict[str, dict[int, Any]], kind: str) -> float | None:
    """Largest relative difference between ``kind``'s warm-up losses and the old step's."""
    if "old" not in warm:
        return None
    return max(
        abs(a - b) / abs(b)
        for rank, got in warm[kind].items()
        for a, b in zip(got["losses"], warm["old"][rank]["losses"], strict=True)
    )


def format_throughput(rows: list[dict]) -> str:
    """Epochs/s (all workers together) as a Markdown table: a row per step, a column per count."""
    counts = sorted({row["workers"] for row in rows})
    steps = list(dict.fromkeys(row["step"] for row in rows))
    cell = {(row["step"], row["workers"]): row["epochs_per_s"] for row in rows}
    lines = [
        "| epochs/s | " + " | ".join(f"{n} workers" for n in counts) + " |",
        "|---|" + "---:|" * len(counts),
    ]
    for step in steps:
        values = [f"{cell[(step, n)]:.2f}" if (step, n) in cell else "-" for n in counts]
        lines.append(f"| {step} | " + " | ".join(values) + " |")
    return "\n".join(lines)


def best_packing(rows: list[dict], step: str, fallback: int) -> int:
    """The worker count with the most epochs/s for ``step`` (``fallback`` if it was not timed)."""
    timed = [row for row in rows if row["step"] == step]
    return max(timed, key=lambda row: row["epochs_per_s"])["workers"] if timed else fallback


def save(path: Path, value: Any) -> None:
    """Write *value* as JSON now (each result is on disk as soon as it is known)."""
    path.write_text(json.dumps(value, indent=1, default=str) + "\n", encoding="utf-8")
