"""Benchmark LeNet epochs: old step vs new, and device-resident batches vs a DataLoader.

**Steps** (``--compare steps``, the default): epochs per second per worker process for 1 and 2
(``--workers``) concurrent workers, each with ``cores // workers`` torch threads as the
executor gives them, training its own trial of the chapter's LeNet with the old step (the
reference :func:`ashasim.training.trial.train_epoch` and ``validation_error``: what the H100 run
used) and the new one (``LeNetTrial`` with ``step="auto"``: the trimmed eager runner on CPU, CUDA
graphs on a GPU). A worker's epoch is what a tuner's epoch is: training, then validation on the
test split. Old and new alternate in lock step (all workers start each timed epoch together
behind a barrier, ``--repeats`` rounds of old then new), so both see the same machine; each
worker's best epoch counts, and the table gives the mean over workers and the total. On a
machine shared with other jobs, pass ``--threads 1``: an OpenMP team of 2 threads on 2 busy
cores can spin for 20x the work (measured here: 22.6 s for a 0.5 s epoch). Both steps
train the same seeded trial, so on CPU their losses agree exactly: the last column is the
largest relative difference between their epoch losses (0 on CPU; small on a GPU).

**DataLoader** (``--compare dataloader``): both sides train the chapter's LeNet (same seed,
same SGD, same data) for one epoch per batch size. "resident" is
:func:`ashasim.training.trial.train_epoch`: the whole train split lives on the device and each
batch is ``train_x[permutation[i:i + b]]``. "dataloader" is the torchvision/d2l way:
``DataLoader(TensorDataset(x_cpu, y_cpu), batch_size, shuffle=True)`` with every batch copied
to the device. Both draw the same permutation (the shuffle's sampler gets the same seeded
generator), so their mean losses agree (exactly, on CPU): the same work. Each timing is the best
of ``repeats`` epochs, after a few warm-up steps; the ratio is DataLoader time / resident time
(> 1: resident is faster).

    python experiments/bench_lenet.py [--compare steps|dataloader] [--device cuda]
        [--subset 10000] [--batch-sizes 32 128 256] [--workers 1 2] [--repeats 3]

On CPU the default is a 10,000-image subset (``--subset 0``: all 60,000).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, RandomSampler, TensorDataset

from ashasim.training.fashion_data import FashionData, load_fashion_mnist
from ashasim.training.trial import (
    epoch_generator,
    make_trial,
    set_threads,
    train_epoch,
    validation_error,
)

CPU_SUBSET = 10_000
WARM_UP_STEPS = 5


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def dataloader_epoch(
    model: nn.Module, optimizer: torch.optim.Optimizer, loader: DataLoader, device: torch.device
) -> float:
    """The baseline epoch: batches come from the loader on the CPU and are copied over."""
    model.train()
    total = torch.zeros((), device=device)
    count = 0
    for x_cpu, y_cpu in loader:
        x, y = x_cpu.to(device, non_blocking=True), y_cpu.to(device, non_blocking=True)
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.detach() * len(y)
        count += len(y)
    return total.item() / count


def _warm_up(data: FashionData, batch_size: int) -> None:
    """A few steps at this batch size (kernel selection, allocator, lazy CUDA init)."""
    trial = make_trial({"learning_rate": 0.1, "batch_size": batch_size}, data=data, seed=0)
    x, y = data.train_x[: batch_size * WARM_UP_STEPS], data.train_y[: batch_size * WARM_UP_STEPS]
    for start in range(0, len(y), batch_size):
        loss = nn.functional.cross_entropy(
            trial.model(x[start : start + batch_size]), y[start : start + batch_size]
        )
        trial.optimizer.zero_grad()
        loss.backward()
        trial.optimizer.step()
    _sync(data.device)


def measure_lenet_epochs(
    device: str = "cpu",
    batch_sizes: tuple[int, ...] = (32, 128, 256),
    subset: int | None = None,
    repeats: int = 1,
    path: str | None = None,
) -> list[dict]:
    """Seconds per LeNet epoch, resident vs DataLoader, for each batch size (one dict each).

    ``subset=None`` means 10,000 images on CPU and all of them elsewhere; ``subset=0``: all.
    """
    target = torch.device(device)
    if subset is None:
        subset = CPU_SUBSET if target.type == "cpu" else 0
    data = load_fashion_mnist(path, device=target, subset=subset or None)
    dataset = TensorDataset(data.train_x.cpu(), data.train_y.cpu())
    pin = target.type == "cuda"
    rows = []
    for batch_size in batch_sizes:
        config = {"learning_rate": 0.1, "batch_size": batch_size}
        _warm_up(data, batch_size)
        resident_times, loader_times = [], []
        resident_loss = loader_loss = float("nan")
        for repeat in range(repeats):
            trial = make_trial(config, data=data, seed=repeat)
            _sync(target)
            start = time.perf_counter()
            resident_loss = train_epoch(
                trial.model, trial.optimizer, data, batch_size, epoch_generator(repeat, 1)
            )
            _sync(target)
            resident_times.append(time.perf_counter() - start)

            trial = make_trial(config, data=data, seed=repeat)
            # shuffle=True, with the sampler's generator given so that the order is the same
            sampler = RandomSampler(dataset, generator=epoch_generator(repeat, 1))
            loader = DataLoader(dataset, batch_size=batch_size, sampler=sampler, pin_memory=pin)
            _sync(target)
            start = time.perf_counter()
            loader_loss = dataloader_epoch(trial.model, trial.optimizer, loader, target)
            _sync(target)
            loader_times.append(time.perf_counter() - start)
        resident_s, loader_s = min(resident_times), min(loader_times)
        rows.append(
            {
                "device": str(target),
                "n_train": data.n_train,
                "batch_size": batch_size,
                "resident_s": resident_s,
                "dataloader_s": loader_s,
                "ratio": loader_s / resident_s,
                "resident_loss": resident_loss,
                "dataloader_loss": loader_loss,
            }
        )
    return rows


# -- old step vs new step, 1 and 2 concurrent workers -------------------------------------------

STEPS = ("old", "new")


def _trial_epochs(data: FashionData, batch_size: int, seed: int) -> dict[str, Any]:
    """For each step, a function that runs one tuner epoch (train, validate) of its own trial."""
    config = {"learning_rate": 0.1, "batch_size": batch_size}
    old = make_trial(config, data=data, seed=seed, step="eager")
    new = make_trial(config, data=data, seed=seed)  # "auto": graph on CUDA, eager on CPU

    def old_epoch() -> float:
        old.epoch += 1
        generator = epoch_generator(seed, old.epoch)
        loss = train_epoch(old.model, old.optimizer, data, batch_size, generator)
        validation_error(old.model, data)
        return loss

    def new_epoch() -> float:
        loss = new.train_epoch()
        new.validation_error()
        return loss

    return {"old": old_epoch, "new": new_epoch}


def _worker(rank: int, settings: dict[str, Any], barrier: Any, results: Any) -> None:
    """One worker process: for each batch size, warm both steps up, then time them in rounds."""
    set_threads(settings["threads"])
    device = torch.device(settings["device"])
    data = load_fashion_mnist(settings["path"], device=device, subset=settings["subset"])
    for batch_size in settings["batch_sizes"]:
        epochs = _trial_epochs(data, batch_size, seed=rank)
        losses: dict[str, list[float]] = {step: [epochs[step]()] for step in STEPS}  # warm-up
        for _ in range(settings["repeats"]):
            for step in STEPS:
                barrier.wait(timeout=600)
                start = time.perf_counter()
                losses[step].append(epochs[step]())  # ends with .item(): synchronized
                results.put((rank, batch_size, step, time.perf_counter() - start))
        results.put((rank, batch_size, "losses", losses))


def measure_steps(
    device: str = "cpu",
    batch_sizes: tuple[int, ...] = (32, 128, 256),
    workers: tuple[int, ...] = (1, 2),
    subset: int | None = None,
    repeats: int = 3,
    path: str | None = None,
    threads: int | None = None,
) -> list[dict[str, Any]]:
    """Epochs/s per worker with the old and the new step, for each worker count and batch size
    (one dict each; see the module docstring). *threads*: torch threads per worker (None:
    ``cores // workers``, as the executor sets them)."""
    target = torch.device(device)
    if subset is None:
        subset = CPU_SUBSET if target.type == "cpu" else 0
    context = multiprocessing.get_context("spawn")
    rows = []
    for n_workers in workers:
        settings = {
            "device": str(target),
            "path": path,
            "subset": subset or None,
            "batch_sizes": tuple(batch_sizes),
            "repeats": repeats,
            "threads": threads or max(1, (os.cpu_count() or 1) // n_workers),
        }
        barrier, results = context.Barrier(n_workers), context.Queue()
        processes = [
            context.Process(target=_worker, args=(rank, settings, barrier, results))
            for rank in range(n_workers)
        ]
        for process in processes:
            process.start()
        expected = n_workers * len(batch_sizes) * (len(STEPS) * repeats + 1)
        times: dict[tuple[int, str], dict[int, list[float]]] = {}
        losses: dict[tuple[int, int], dict[str, list[float]]] = {}
        for _ in range(expected):
            rank, batch_size, step, value = results.get(timeout=3600)
            if step == "losses":
                losses[(batch_size, rank)] = value
            else:
                times.setdefault((batch_size, step), {}).setdefault(rank, []).append(value)
        for process in processes:
            process.join()
            if process.exitcode != 0:
                raise RuntimeError(f"a benchmark worker failed (exit code {process.exitcode})")
        for batch_size in batch_sizes:
            row: dict[str, Any] = {"batch_size": batch_size, "workers": n_workers}
            for step in STEPS:
                per_worker = [1.0 / min(ts) for ts in times[(batch_size, step)].values()]
                row[f"{step}_per_worker"] = statistics.mean(per_worker)
                row[f"{step}_total"] = sum(per_worker)
            row["speedup"] = row["new_per_worker"] / row["old_per_worker"]
            row["loss_diff"] = max(
                abs(old - new) / abs(old)
                for (size, _), history in losses.items()
                if size == batch_size
                for old, new in zip(history["old"], history["new"], strict=True)
            )
            row["threads"] = settings["threads"]
            rows.append(row)
    return rows


def format_steps(rows: list[dict[str, Any]], title: str) -> str:
    lines = [
        title,
        "| batch | workers x threads | old ep/s per worker | new ep/s per worker | speed-up "
        "| old ep/s total | new ep/s total | loss difference |",
        "|---:|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for r in sorted(rows, key=lambda r: (r["batch_size"], r["workers"])):
        lines.append(
            f"| {r['batch_size']} | {r['workers']} x {r['threads']} | {r['old_per_worker']:.3f} "
            f"| {r['new_per_worker']:.3f} | {r['speedup']:.2f}x | {r['old_total']:.3f} "
            f"| {r['new_total']:.3f} | {r['loss_diff']:.1g} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--compare",
        choices=["steps", "dataloader"],
        default="steps",
        help="old vs new step per worker (default), or resident batches vs a DataLoader",
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ... (default cpu)")
    parser.add_argument(
        "--subset",
        type=int,
        default=None,
        help=f"train images to use (default {CPU_SUBSET:,} on CPU, all elsewhere; 0: all)",
    )
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 128, 256])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="(steps)")
    parser.add_argument("--repeats", type=int, default=None, help="timed epochs; best is kept")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads (steps: per worker, default cores // workers)",
    )
    parser.add_argument("--data", default=None, help="directory of the IDX files")
    args = parser.parse_args(argv)

    name = args.device
    if name.startswith("cuda"):
        name += f" ({torch.cuda.get_device_name(name)})"
    if args.compare == "steps":
        repeats = args.repeats or 3
        rows = measure_steps(
            args.device,
            tuple(args.batch_sizes),
            tuple(args.workers),
            args.subset,
            repeats,
            path=args.data,
            threads=args.threads,
        )
        subset = args.subset if args.subset is not None else CPU_SUBSET
        images = f"{subset:,} train images" if subset else "all 60,000 train images"
        print(
            format_steps(
                rows,
                f"LeNet tuner epochs (train + validate) on {name}, {images}, "
                f"{os.cpu_count()} cores, best of {repeats} per worker, old and new in lock step",
            )
        )
        return

    set_threads(args.threads)
    repeats = args.repeats or 1
    rows = measure_lenet_epochs(
        args.device, tuple(args.batch_sizes), args.subset, repeats, path=args.data
    )
    print(
        f"LeNet epoch on {name}, {rows[0]['n_train']:,} train images, "
        f"{torch.get_num_threads()} CPU threads, best of {repeats}"
    )
    print(f"{'batch':>6} {'resident s':>11} {'DataLoader s':>13} {'ratio':>7}  mean loss (both)")
    for row in rows:
        print(
            f"{row['batch_size']:>6} {row['resident_s']:>11.3f} {row['dataloader_s']:>13.3f}"
            f" {row['ratio']:>6.2f}x  {row['resident_loss']:.4f} / {row['dataloader_loss']:.4f}"
        )


if __name__ == "__main__":
    main()
