"""Profile one LeNet SGD step: where its time goes, for each step runner and batch size.

For each (runner, batch size) the script trains an epoch of exactly ``--steps`` full batches of
real FashionMNIST images (after one warm-up epoch, which also captures graphs or compiles),
times the best of ``--repeats`` epochs without the profiler (``wall``), then profiles one epoch
with ``torch.profiler`` (CPU activity, plus CUDA on a GPU) and splits the profiled time per step:

- ``python``: time outside every ATen operator: the interpreter, ``nn.Module`` calls, the
  autograd engine's bookkeeping, the optimizer's Python, and CUDA-graph replay calls;
- ``dispatch``: time inside operators that is not arithmetic: the dispatcher, composite
  wrappers (``linear`` -> ``addmm``), views, allocation, and on a GPU the kernel launches
  (``cudaLaunchKernel``, ``cudaGraphLaunch``, ...);
- ``device``: the arithmetic. On a GPU, the kernels' time on the GPU (asynchronous: the step is
  GPU-bound when it exceeds ``python + dispatch``). On CPU, the self time of the operators that
  compute or move data (everything but :data:`NOT_ARITHMETIC`), which includes each kernel's own
  fixed set-up cost, so it is an upper bound.

The profiler adds a fixed cost to every operator, so the table gives each part's *share* of the
profiled time and, in microseconds, that share of the unprofiled ``wall`` time. ``ops`` is the
number of outermost operator calls per step (forward ones from Python, backward ones from the
autograd engine); ``kernels`` the launches per step on a GPU (a graph replay counts one), the
arithmetic operators per step on CPU. The runners:
``old`` is the reference :func:`ashasim.training.trial.train_epoch` (what the H100 run used),
``eager`` :class:`~ashasim.training.steps.EagerRunner`, ``graph``
:class:`~ashasim.training.graphs.GraphRunner` (CUDA only), ``compile``
:class:`~ashasim.training.compiled.CompileRunner`.

    python experiments/profile_lenet.py [--device cpu|cuda] [--runners old eager]
        [--batch-sizes 32 128 256] [--steps 40] [--threads 1]

Runs on CPU and CUDA; on CUDA the default runners are old, eager, graph and compile.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.autograd import DeviceType
from torch.profiler import ProfilerActivity, profile

from ashasim.training.fashion_data import FashionData, load_fashion_mnist
from ashasim.training.trial import (
    epoch_generator,
    epoch_order,
    make_trial,
    set_threads,
    train_epoch,
)

#: Operators that do no arithmetic: views, allocation, composite wrappers around other
#: operators (whose own self time is dispatch), and scalar reads.
NOT_ARITHMETIC = frozenset(
    f"aten::{name}"
    for name in [
        "empty",
        "empty_strided",
        "empty_like",
        "zeros",
        "zeros_like",
        "ones_like",
        "view",
        "_reshape_alias",
        "reshape",
        "as_strided",
        "as_strided_",
        "t",
        "transpose",
        "permute",
        "expand",
        "detach",
        "alias",
        "unsqueeze",
        "squeeze",
        "flatten",
        "slice",
        "select",
        "resolve_conj",
        "resolve_neg",
        "lift_fresh",
        "_unsafe_view",
        "contiguous",
        "to",
        "_to_copy",
        "clone",
        "linear",
        "conv2d",
        "convolution",
        "_convolution",
        "cross_entropy_loss",
        "nll_loss",
        "nll_loss_nd",
        "log_softmax",
        "result_type",
        "item",
        "_local_scalar_dense",
        "set_",
        "numpy_T",
    ]
)
#: Name prefixes of the CUDA runtime/driver calls that put work on the GPU (versions add
#: suffixes such as ``cudaLaunchKernelExC_v11060``).
LAUNCH_PREFIXES = ("cudaLaunch", "cuLaunch", "cudaGraphLaunch", "cudaMemcpy", "cudaMemset")


@dataclass(frozen=True)
class Row:
    runner: str
    batch_size: int
    wall_us: float  # per step, no profiler
    profiled_us: float  # per step, under the profiler
    python_us: float
    dispatch_us: float
    device_us: float
    ops: float
    kernels: float


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _epoch_function(kind: str, data: FashionData, batch_size: int) -> Callable[[int], float]:
    """``run(epoch)``: one epoch of a fresh seed-0 trial under runner ``kind``."""
    trial = make_trial({"learning_rate": 0.1, "batch_size": batch_size}, data=data, seed=0)
    if kind == "old":
        return lambda epoch: train_epoch(
            trial.model, trial.optimizer, data, batch_size, epoch_generator(0, epoch)
        )
    if kind == "eager":
        from ashasim.training.steps import EagerRunner

        runner = EagerRunner(trial.model, trial.optimizer, data, batch_size)
    elif kind == "graph":
        from ashasim.training.graphs import GraphRunner

        runner = GraphRunner(trial.model, trial.optimizer, data, batch_size)
    elif kind == "compile":
        from ashasim.training.compiled import CompileRunner

        mode = "reduce-overhead" if data.device.type == "cuda" else None
        runner = CompileRunner(trial.model, trial.optimizer, data, batch_size, mode=mode)
    else:
        raise ValueError(f"runner must be old, eager, graph or compile, got {kind!r}")
    return lambda epoch: runner.train_epoch(epoch_order(0, epoch, data))


def _has_aten_ancestor(event) -> bool:
    parent = event.cpu_parent
    while parent is not None:
        if parent.name.startswith("aten::"):
            return True
        parent = parent.cpu_parent
    return False


def breakdown(events, steps: int, wall_us: float, device: torch.device) -> dict[str, float]:
    """Per-step python/dispatch/device split of a profiled epoch (see the module docstring)."""
    cpu = [e for e in events if e.device_type == DeviceType.CPU]
    top = [e for e in cpu if e.name.startswith("aten::") and not _has_aten_ancestor(e)]
    in_ops = sum(e.cpu_time_total for e in top)
    launches = [e for e in cpu if e.name.startswith(LAUNCH_PREFIXES)]
    outside_launch = sum(e.cpu_time_total for e in launches if not _has_aten_ancestor(e))
    if device.type == "cuda":
        on_gpu = [e for e in events if e.device_type == DeviceType.CUDA]
        if on_gpu:
            device_us = sum(e.time_range.elapsed_us() for e in on_gpu)
        else:  # older layouts attach kernels to the operators that launched them
            device_us = sum(k.duration for e in cpu for k in e.kernels)
        dispatch_us = in_ops + outside_launch
        kernels = len(launches)
    else:
        arithmetic = [
            e for e in cpu if e.name.startswith("aten::") and e.name not in NOT_ARITHMETIC
        ]
        device_us = sum(e.self_cpu_time_total for e in arithmetic)
        dispatch_us = in_ops - device_us
        kernels = len(arithmetic)
    return {
        "python_us": (wall_us - in_ops - outside_launch) / steps,
        "dispatch_us": dispatch_us / steps,
        "device_us": device_us / steps,
        "ops": len(top) / steps,
        "kernels": kernels / steps,
    }


def profile_step(
    kind: str, data: FashionData, batch_size: int, steps: int, repeats: int = 3
) -> Row:
    """Time and profile ``steps`` steps of runner ``kind`` at ``batch_size``."""
    device = data.device
    n = steps * batch_size
    if n > data.n_train:
        raise ValueError(f"steps: {steps} x {batch_size} images > the {data.n_train} loaded")
    epoch_data = FashionData(data.train_x[:n], data.train_y[:n], data.test_x, data.test_y)
    run = _epoch_function(kind, epoch_data, batch_size)
    run(1)  # warm-up: kernel selection, allocator, graph capture, compilation
    _sync(device)
    times = []
    for epoch in range(2, 2 + repeats):
        start = time.perf_counter()
        run(epoch)
        _sync(device)
        times.append(time.perf_counter() - start)
    activities = [ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(ProfilerActivity.CUDA)
    with profile(activities=activities) as prof:
        start = time.perf_counter()
        run(2 + repeats)
        _sync(device)
        profiled_us = (time.perf_counter() - start) * 1e6
    split = breakdown(prof.events(), steps, profiled_us, device)
    return Row(kind, batch_size, min(times) * 1e6 / steps, profiled_us / steps, **split)


def format_table(rows: list[Row], title: str) -> str:
    lines = [
        title,
        "| runner | batch | wall us/step | profiled | python | dispatch | device | ops | kernels |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        total = r.profiled_us

        def share(value: float, total: float = total, wall: float = r.wall_us) -> str:
            # the profiler slows every operator down: scale its shares to the unprofiled wall
            return f"{value / total * wall:,.0f} ({value / total:.0%})"

        lines.append(
            f"| {r.runner} | {r.batch_size} | {r.wall_us:,.0f} | {r.profiled_us:,.0f} | "
            f"{share(r.python_us)} | {share(r.dispatch_us)} | {share(r.device_us)} | "
            f"{r.ops:.0f} | {r.kernels:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ... (default cpu)")
    parser.add_argument("--runners", nargs="+", default=None, help="old eager graph compile")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 128, 256])
    parser.add_argument("--steps", type=int, default=40, help="steps per profiled epoch")
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs; best is kept")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--data", default=None, help="directory of the IDX files")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error("--steps must be >= 1")
    device = torch.device(args.device)
    runners = args.runners or (
        ["old", "eager", "graph", "compile"] if device.type == "cuda" else ["old", "eager"]
    )
    set_threads(args.threads)
    data = load_fashion_mnist(args.data, device=device, subset=args.steps * max(args.batch_sizes))
    rows = [
        profile_step(kind, data, batch_size, args.steps, args.repeats)
        for batch_size in args.batch_sizes
        for kind in runners
    ]
    name = str(device)
    if device.type == "cuda":
        name += f" ({torch.cuda.get_device_name(device)})"
    title = (
        f"LeNet step on {name}, {torch.get_num_threads()} CPU threads, {args.steps} steps per "
        f"epoch, torch {torch.__version__}; profiled time split per step (us, share):"
    )
    print(format_table(rows, title))
    return rows


if __name__ == "__main__":
    main()
