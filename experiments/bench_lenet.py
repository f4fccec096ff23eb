"""Benchmark: one LeNet epoch with device-resident batching vs a DataLoader.

Both sides train the chapter's LeNet (same seed, same SGD, same data) for one epoch per batch
size. "resident" is :func:`ashasim.training.trial.train_epoch`: the whole train split
lives on the device and each batch is ``train_x[permutation[i:i + b]]``. "dataloader" is the
torchvision/d2l way: ``DataLoader(TensorDataset(x_cpu, y_cpu), batch_size, shuffle=True)`` with
every batch copied to the device. Both draw the same permutation (the shuffle's sampler gets the
same seeded generator), so their mean losses agree (exactly, on CPU): the same work. Each timing
is the best of ``repeats`` epochs, after a few warm-up steps; the ratio is DataLoader time /
resident time (> 1: resident is faster).

    python experiments/bench_lenet.py [--device cuda] [--subset 10000] [--batch-sizes 32 128 256]

On CPU the default is a 10,000-image subset (``--subset 0``: all 60,000).
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, RandomSampler, TensorDataset

from ashasim.training.fashion_data import FashionData, load_fashion_mnist
from ashasim.training.trial import epoch_generator, make_trial, set_threads, train_epoch

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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ... (default cpu)")
    parser.add_argument(
        "--subset",
        type=int,
        default=None,
        help=f"train images to use (default {CPU_SUBSET:,} on CPU, all elsewhere; 0: all)",
    )
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 128, 256])
    parser.add_argument("--repeats", type=int, default=1, help="epochs per timing; best is kept")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--data", default=None, help="directory of the IDX files")
    args = parser.parse_args(argv)

    set_threads(args.threads)
    rows = measure_lenet_epochs(
        args.device, tuple(args.batch_sizes), args.subset, args.repeats, path=args.data
    )
    device = rows[0]["device"]
    if device.startswith("cuda"):
        device += f" ({torch.cuda.get_device_name(device)})"
    print(
        f"LeNet epoch on {device}, {rows[0]['n_train']:,} train images, "
        f"{torch.get_num_threads()} CPU threads, best of {args.repeats}"
    )
    print(f"{'batch':>6} {'resident s':>11} {'DataLoader s':>13} {'ratio':>7}  mean loss (both)")
    for row in rows:
        print(
            f"{row['batch_size']:>6} {row['resident_s']:>11.3f} {row['dataloader_s']:>13.3f}"
            f" {row['ratio']:>6.2f}x  {row['resident_loss']:.4f} / {row['dataloader_loss']:.4f}"
        )


if __name__ == "__main__":
    main()
