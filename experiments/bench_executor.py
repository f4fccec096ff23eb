"""Benchmark the real executor, side by side in one run:

* per-report round trip (objective -> driver -> scheduler -> journal -> objective), in µs: one
  trial reports 3,000 epochs with no work in between; the mean gap between journaled reports;
* job dispatch latency, in µs: 300 one-epoch trials on one worker; the time from the driver
  handing out a job to the job's end, minus one report round trip (so: sending the job, calling
  the objective, acknowledging its end);
* LeNet epoch time with device-resident index batching vs a torchvision-style DataLoader, and
  their ratio (``experiments/bench_lenet.py``), on the CPU here or on a GPU with --device cuda;
* job cycle, in µs: the median time from one job's start to the next job's start on that one
  worker: what a job costs end to end, independent of when the journal stamps its start and end;
* the same overheads with a durable journal (``Tuner(durable=True)``, ``--durable``: an fsync
  per event), in a column of their own, so the cost of surviving a machine crash is the
  difference;
* with --ray, the same two overheads through the Ray backend.

    python experiments/bench_executor.py [--device cpu|cuda] [--subset 10000] [--ray] [--no-lenet]
        [--journal-dir DIR]  (where the journals go: the disk whose fsync is measured)
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
from pathlib import Path

from ashasim.core import RandomSearch
from ashasim.events import JobEnded, JobStarted
from ashasim.run import Reporter, Tuner


def chatty(max_epochs: int) -> None:
    """Reports as fast as it can: the executor's overhead is all there is."""
    report = Reporter()
    for epoch in range(1, max_epochs + 1):
        report(epoch=epoch, loss=1.0 / epoch)


def chatty_run(
    backend: str, directory: Path, max_epochs: int, max_trials: int, durable: bool = False
):
    """A run of ``chatty`` on one worker: only the executor's overhead takes time."""
    space = {"max_epochs": max_epochs}
    scheduler = RandomSearch(space, max_t=max_epochs, max_trials=max_trials, metric="loss")
    return Tuner(
        chatty,
        space,
        scheduler,
        1,
        devices="cpu",
        experiment_dir=directory,
        backend=backend,
        quiet=True,
        outputs=False,
        durable=durable,
    ).run()


def overheads(backend: str, durable: bool = False, root: str | None = None) -> dict[str, float]:
    """Median report round trip and job dispatch latency, in microseconds."""
    results = {}
    with tempfile.TemporaryDirectory(dir=root) as directory:
        trace = chatty_run(
            backend, Path(directory) / "reports", max_epochs=3000, max_trials=1, durable=durable
        )
        times = [r.t for r in trace.results]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        results["report round trip (us)"] = 1e6 * statistics.median(gaps)
        trace = chatty_run(
            backend, Path(directory) / "jobs", max_epochs=1, max_trials=300, durable=durable
        )
        starts = {e.trial_id: e.t for e in trace.events if type(e) is JobStarted}
        cycles = [e.t - starts[e.trial_id] for e in trace.events if type(e) is JobEnded]
        results["job dispatch latency (us)"] = (
            1e6 * statistics.median(cycles) - results["report round trip (us)"]
        )
        # the whole cost of a job as the one worker sees it, whatever the journal stamps when
        started = sorted(starts.values())
        results["job cycle (us)"] = 1e6 * statistics.median(
            b - a for a, b in itertools.pairwise(started)
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--subset", type=int, help="LeNet train images (default: 10,000 on CPU)")
    parser.add_argument("--ray", action="store_true", help="also measure the Ray backend")
    parser.add_argument("--no-lenet", action="store_true")
    parser.add_argument("--journal-dir", help="where the runs' journals go (default: the temp dir)")
    args = parser.parse_args()
    columns = {
        "local": ("local", False),
        "local durable": ("local", True),
        **({"ray": ("ray", False), "ray durable": ("ray", True)} if args.ray else {}),
    }
    measured = {
        column: overheads(backend, durable, args.journal_dir)
        for column, (backend, durable) in columns.items()
    }
    print(f"{'executor overhead':<28}" + "".join(f"{c:>15}" for c in columns))
    for name in measured["local"]:
        print(f"{name:<28}" + "".join(f"{measured[c][name]:>15,.0f}" for c in columns))
    if not args.no_lenet:
        sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script
        from bench_lenet import measure_lenet_epochs

        print()
        print(f"LeNet epoch time on {args.device} (device-resident batches vs DataLoader)")
        print(f"{'batch':>6} {'resident s':>11} {'DataLoader s':>13} {'speed-up':>9}")
        for row in measure_lenet_epochs(device=args.device, subset=args.subset):
            print(
                f"{row['batch_size']:>6} {row['resident_s']:>11.2f} {row['dataloader_s']:>13.2f} "
                f"{row['dataloader_s'] / row['resident_s']:>8.2f}x"
            )


if __name__ == "__main__":
    main()
