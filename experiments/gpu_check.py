"""GPU check for issue 13 ("Saturate the GPU"), all in one run of at most 9 minutes.

1. **Correctness and profile** (main process, seconds): the same seeded trial for two epochs
   with the eager step and the CUDA-graph step: loss and weight differences; a checkpoint made
   by the graph step resumed by the eager one. Then ``experiments/profile_lenet.py``'s split of
   a step (Python, dispatch and launches, GPU time) for the old, eager and graph steps at batch
   32, 128 and 256 (``--no-profile`` skips it).
2. **Throughput** (``--workers``, default 1 2 4 8 processes on one device): each worker holds
   the data set on the device and one trial per step kind (``--steps``: ``old`` = the reference
   ``train_epoch``, what the H100 run used; ``eager``, ``graph``, ``compile``), same seed and
   config (``--batch-size``, default 108: the harmonic mean of the chapter's randint(32, 256), so
   as many steps per epoch as the average trial). After a warm-up of two epochs per kind (graph
   capture, compilation; their losses are compared across kinds), the first N workers train
   together for ``--window`` seconds, started on the same clock tick; a worker's rate is the
   tuner epochs (train + validation) it finished over the time to its last one.
3. **The chapter's experiment**: ASHA (promotion type, r_min = 2, η = 2, r_max = 10),
   learning_rate loguniform(1e-2, 1), batch_size randint(32, 256), max_epochs 10, on one device
   with the packing that gave the most epochs/s for ``--tune-step`` (``--tune-workers`` to force
   one), for ``--minutes`` (default 12, the chapter's), clamped so that the whole script ends
   within ``--max-total-minutes`` (default 8.5, so that with Python's start and a tar of the
   results it fits 9 minutes; 0 turns the clamp off). Trials, epochs, best validation error,
   idle fraction; journal, Gantt chart and curves under ``tune-<time>/``.

Everything is printed and saved under ``--out`` (default ``experiments/data/gpu_check/``):
``environment.json``, ``correctness.json``, ``profile.md``, ``throughput.json``, ``tune.json``,
``report.md`` and ``gpu_utilization.csv`` (nvidia-smi, when there is one), each written as soon
as it is known.

    python experiments/gpu_check.py --dry-run                 # the plan; touches nothing
    python experiments/gpu_check.py --device cpu --minutes 0.1 --subset 500 --window 0.5

On the project's lent GPU machine (no network: carry the data; only files under $OUT come back,
at most 8, so tar the results), from the repository root::

    mkdir -p .fmnist && cp /usr/share/datasets/fashion-mnist/*.gz .fmnist/
    echo /.fmnist/ >> .git/info/exclude
    # run(carry=[".fmnist"], timeout_s=600, command=...):
    PYTHONUNBUFFERED=1 PYTHONPATH=. python3 experiments/gpu_check.py --data .fmnist \
        2>&1 | tee $OUT/gpu_check.log; tar czf $OUT/gpu_check.tgz experiments/data/gpu_check
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import os
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

# run as a script, experiments/ is on the path and the repository root may not be
try:
    from experiments.gpu_throughput import best_packing, format_throughput, save, throughput
except ModuleNotFoundError:
    from gpu_throughput import (  # type: ignore[no-redef]
        best_packing,
        format_throughput,
        save,
        throughput,
    )

KINDS = ("old", "eager", "graph", "compile")
OUT = Path(__file__).resolve().parent / "data" / "gpu_check"
RESERVE_S = 45.0  # tuner start-up, writing its figures, shutting down
STARTUP_S, WARMUP_S, COMPILE_S = 40.0, 10.0, 90.0  # rough, for the plan only


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (default), cuda:1, or cpu")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--steps", nargs="+", choices=KINDS, default=None, help="kinds to time")
    parser.add_argument("--window", type=float, default=6.0, help="seconds per timed window")
    parser.add_argument("--batch-size", type=int, default=108)
    parser.add_argument("--minutes", type=float, default=12.0, help="the tuner's wall clock")
    parser.add_argument("--max-total-minutes", type=float, default=8.5)
    parser.add_argument("--tune-step", choices=["auto", *KINDS[1:]], default="auto")
    parser.add_argument("--tune-workers", type=int, default=None)
    parser.add_argument("--subset", type=int, default=None, help="train images (default all)")
    parser.add_argument("--data", default=None, help="directory of the IDX files")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--no-profile", action="store_true", help="skip the step profile")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and stop")
    args = parser.parse_args(argv)
    checks = [
        ("--workers", all(n >= 1 for n in args.workers), "every count must be >= 1"),
        ("--window", args.window > 0, "must be > 0 seconds"),
        ("--batch-size", args.batch_size >= 1, "must be >= 1"),
        ("--minutes", args.minutes > 0, "must be > 0"),
        ("--max-total-minutes", args.max_total_minutes >= 0, "must be >= 0 (0: no limit)"),
        ("--subset", args.subset is None or args.subset >= 1, "must be >= 1"),
        ("--tune-workers", args.tune_workers is None or args.tune_workers >= 1, "must be >= 1"),
    ]
    for flag, ok, why in checks:
        if not ok:
            parser.error(f"{flag} {why}")
    cpu = args.device == "cpu"
    if args.steps is None:
        args.steps = ["old", "eager"] if cpu else list(KINDS)
    if cpu and {"graph"} & set(args.steps):
        parser.error("--steps graph needs a CUDA device (--device cuda)")
    args.workers = sorted(set(args.workers))
    return args


def plan(args: argparse.Namespace) -> str:
    """What the run will do, with a rough duration (the --dry-run output)."""
    windows = len(args.steps) * len(args.workers)
    throughput = STARTUP_S + WARMUP_S * len(args.steps) + windows * (args.window + 2)
    if "compile" in args.steps:
        throughput += COMPILE_S
    tune = args.minutes * 60
    if args.max_total_minutes:
        tune = min(tune, args.max_total_minutes * 60 - throughput - RESERVE_S)
    return "\n".join(
        [
            f"device {args.device}; data {'all' if args.subset is None else args.subset} images",
            f"throughput: steps {' '.join(args.steps)} x workers "
            f"{' '.join(map(str, args.workers))} = {windows} windows of {args.window:g} s at "
            f"batch {args.batch_size} (~{throughput / 60:.1f} min with start-up and warm-up)",
            f"tune: ASHA promotion, r_min 2, eta 2, r_max 10, step {args.tune_step}, "
            f"{args.tune_workers or 'best'} workers, ~{max(tune, 0) / 60:.1f} min "
            f"(asked {args.minutes:g}, total capped at {args.max_total_minutes:g} min)",
            f"out: {args.out}",
        ]
    )


# -- throughput workers (spawned processes) -----------------------------------------------------


# -- correctness, tuning, reporting -------------------------------------------------------------


def correctness(args: argparse.Namespace) -> dict[str, Any]:
    """Eager vs graph on the same trial, and a graph checkpoint resumed eagerly (CUDA only)."""
    import torch

    from ashasim.training.fashion_data import load_fashion_mnist
    from ashasim.training.trial import make_trial, restore_trial

    data = load_fashion_mnist(args.data, device=args.device, subset=args.subset)
    config = {"learning_rate": 0.1, "batch_size": args.batch_size}
    eager, graph = (make_trial(config, data=data, seed=0, step=s) for s in ("eager", "graph"))
    losses = [(eager.train_epoch(), graph.train_epoch()) for _ in range(2)]
    errors = (eager.validation_error(), graph.validation_error())
    resumed = restore_trial(graph.state_dict(), data=data, step="eager")
    resumed_loss, graph_loss = resumed.train_epoch(), graph.train_epoch()

    def gap(a: Any, b: Any) -> float:
        pairs = zip(a.parameters(), b.parameters(), strict=True)
        return max((x - y).abs().max().item() for x, y in pairs)

    result = {
        "epoch_losses_eager_graph": losses,
        "validation_error_eager_graph": errors,
        "max_weight_diff_eager_graph": gap(eager.model, graph.model),
        "resumed_epoch3_loss_eager_vs_graph": (resumed_loss, graph_loss),
        "max_weight_diff_resumed": gap(resumed.model, graph.model),
    }
    del eager, graph, resumed, data
    torch.cuda.empty_cache()
    return result


def profile(
    args: argparse.Namespace,
    graph: bool,
    steps: int = 40,
    batch_sizes: tuple[int, ...] = (32, 128, 256),
) -> str:
    """experiments/profile_lenet.py's table on this device: the old, eager (and graph) steps,
    ``steps`` steps per batch size (seconds on a GPU; compile is left out: it compiles long)."""
    import torch

    from ashasim.training.fashion_data import load_fashion_mnist
    from experiments import profile_lenet

    subset = steps * max(batch_sizes)
    data = load_fashion_mnist(args.data, device=args.device, subset=subset)
    kinds = ["old", "eager", "graph"] if graph else ["old", "eager"]
    rows = [
        profile_lenet.profile_step(kind, data, batch_size, steps=steps)
        for batch_size in batch_sizes
        for kind in kinds
    ]
    del data
    torch.cuda.empty_cache()
    table = profile_lenet.format_table(rows, f"profile on {args.device}, us per step:")
    (args.out / "profile.md").write_text(table + "\n", encoding="utf-8")
    return table


def tune(args: argparse.Namespace, workers: int, seconds: float, step: str) -> dict[str, Any]:
    """The chapter's ASHA experiment on one device: ``workers`` workers, ``seconds``, ``step``.

    The trials' checkpoints are deleted afterwards (~250 kB each; the journal has the results).
    """
    from ashasim.core import ASHA
    from ashasim.outputs import write_figures
    from ashasim.run import StoppingCriterion, Tuner
    from ashasim.training import fashion_mnist

    space = fashion_mnist.chapter_space(max_epochs=10)
    scheduler = ASHA(
        space,
        type="promotion",
        max_t=10,
        grace_period=2,
        reduction_factor=2,
        metric="validation_error",
        mode="min",
    )
    objective = functools.partial(
        fashion_mnist.objective, data_dir=args.data, subset=args.subset, step=step
    )
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    directory = args.out / f"tune-{stamp}"
    devices = "cpu" if args.device == "cpu" else [args.device]
    trace = Tuner(
        objective,
        space,
        scheduler,
        workers,
        devices=devices,
        workers_per_device=workers,
        stop=StoppingCriterion(max_wallclock_time=seconds),
        experiment_dir=directory,
        quiet=True,
        print_every=30,
        name=f"gpu_check-{workers}workers",
    ).run()
    shutil.rmtree(directory / "checkpoints", ignore_errors=True)
    write_figures(
        trace, directory, title=f"ASHA on one {args.device}: {workers} workers, {step} step"
    )
    times = [r.t for r in trace.results]
    summary = trace.summary()
    steady = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else None
    return {
        "directory": str(directory),
        "workers": workers,
        "step": step,
        "seconds": seconds,
        "trials_started": summary["trials"],
        "epochs_trained": summary["reports"],
        "best_validation_error": summary["best_metric"],
        "idle_fraction": summary["idle_fraction"],
        "failed_jobs": summary["failed_jobs"],
        "epochs_per_s": summary["reports"] / summary["makespan"] if summary["makespan"] else 0,
        "steady_epochs_per_s": steady,
    }


def _environment(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    env = {
        "argv": sys.argv,
        "torch": torch.__version__,
        "cores": os.cpu_count(),
        "device": args.device,
        "time": dt.datetime.now(dt.timezone.utc).isoformat(),
    }
    if args.device != "cpu":
        env["gpu"] = torch.cuda.get_device_name(args.device)
        env["cuda"] = torch.version.cuda
    return env


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.dry_run:
        print(plan(args))
        return 0
    started = time.time()
    budget_end = started + (args.max_total_minutes * 60 or float("inf"))
    args.out.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []

    def report(line: str) -> None:
        print(line, flush=True)
        lines.append(line)
        (args.out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")

    report(plan(args))
    environment = _environment(args)
    save(args.out / "environment.json", environment)
    report(f"environment: {environment}")
    monitor = _monitor(args)
    step = args.tune_step
    if step == "auto":
        step = "eager" if args.device == "cpu" else "graph"
    try:
        if args.device != "cpu":
            try:
                checked = correctness(args)
                save(args.out / "correctness.json", checked)
                report(f"correctness: {checked}")
            except Exception:
                report(f"correctness FAILED:\n{traceback.format_exc()}")
                if args.tune_step == "auto":
                    step = "eager"  # the graph step is broken: tune eagerly
            if not args.no_profile:
                try:
                    report(profile(args, graph=step == "graph"))
                except Exception:
                    report(f"profile FAILED:\n{traceback.format_exc()}")
        rows = []
        try:
            rows = throughput(args, report, budget_end - RESERVE_S - 60)
            report(format_throughput(rows))
        except Exception:
            report(f"throughput FAILED:\n{traceback.format_exc()}")
        workers = args.tune_workers or best_packing(rows, step, fallback=2)
        seconds = args.minutes * 60
        if args.max_total_minutes:
            seconds = min(seconds, budget_end - time.time() - RESERVE_S)
        if seconds < 5:
            report("tune: skipped, no time left")
            return 1
        report(f"tune: {workers} workers, step {step}, {seconds:.0f} s")
        try:
            tuned = tune(args, workers, seconds, step)
        except Exception:
            report(f"tune FAILED:\n{traceback.format_exc()}")
            return 1
        save(args.out / "tune.json", tuned)
        report(f"tune: {tuned}")
    finally:
        if monitor is not None:
            monitor.terminate()
        report(f"total {time.time() - started:.0f} s")
    return 0


def _monitor(args: argparse.Namespace) -> subprocess.Popen | None:
    """nvidia-smi logging utilization and memory every 0.5 s, when on a GPU and installed."""
    if args.device == "cpu" or not shutil.which("nvidia-smi"):
        return None
    query = "--query-gpu=timestamp,utilization.gpu,memory.used"
    with open(args.out / "gpu_utilization.csv", "w") as log:
        return subprocess.Popen(["nvidia-smi", query, "--format=csv", "-lms", "500"], stdout=log)


if __name__ == "__main__":
    sys.exit(main())
