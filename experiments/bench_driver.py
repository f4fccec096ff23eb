"""Driver capacity: how many reports per second one driver sustains, to plan runs past one machine.

N workers whose objective does no work report as fast as the driver answers; the driver's
throughput is then all there is (scheduler decision, journal line, the reply, the transport).
Random search with a huge max_t keeps every worker busy in one long job, so no dispatch is
counted. The rate is journaled reports per second from the moment the last worker began
reporting (the workers' start-up is left out; "workers that reported" -1: not all of them
started in time, give more --seconds), and "serves" turns it into the number of workers one
driver keeps up with when each reports every 10 s (an epoch of real training every 10 s is
fast):

    workers served = reports per second x seconds between a worker's reports

    python experiments/bench_driver.py --backend ray --workers 8 64 256 --seconds 15
    python experiments/bench_driver.py --backend local --workers 8 32 --seconds 15
    python experiments/bench_driver.py --backend fake --workers 8 64 256 --seconds 10

Ray actors ask for ``--num-cpus`` of a CPU each (0.01 by default), so hundreds fit on a small
machine; every actor is still a process (about 140 MB resident here), so memory bounds how many
fit, and Ray starts about one actor per second per core, so hundreds need minutes of --seconds.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from ashasim.core import RandomSearch
from ashasim.events import Reported
from ashasim.run import Reporter, StoppingCriterion, Tuner

MAX_T = 10**9  # never reached: every job runs until the time budget
FAKE_EPOCHS = 2000


def chatty(max_epochs: int) -> None:
    """No work between reports: the driver is the only thing that takes time."""
    report = Reporter()
    for epoch in range(1, max_epochs + 1):
        report(epoch=epoch, loss=1.0 / epoch)


def measure(backend: str, n_workers: int, seconds: float, num_cpus: float) -> dict[str, float]:
    """One run of ``n_workers`` chatty workers; its report rate."""
    if backend == "fake":
        # virtual clock: it does not move when epochs cost nothing, so the run is bounded by
        # reports (FAKE_EPOCHS per worker) and timed on the wall clock
        max_t, stop, options = FAKE_EPOCHS, None, {"epoch_seconds": 0.001}
    else:
        max_t, stop = MAX_T, StoppingCriterion(max_wallclock_time=seconds)
        options = {"num_cpus": num_cpus} if backend == "ray" else {}
    space = {"max_epochs": max_t}
    scheduler = RandomSearch(space, max_t=max_t, max_trials=n_workers, metric="loss")
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        trace = Tuner(
            chatty,
            space,
            scheduler,
            n_workers,
            devices="cpu",
            backend=backend,
            backend_options=options,
            experiment_dir=Path(folder) / "run",
            stop=stop,
            quiet=True,
            outputs=False,
        ).run()
        wall = time.perf_counter() - started
    reports = [e for e in trace.events if type(e) is Reported]
    started_all = len({e.worker for e in reports}) == n_workers
    if backend != "fake" and started_all:  # from the moment the last worker began reporting
        first: dict[int, float] = {}
        for event in reports:
            first.setdefault(event.worker, event.t)
        since = max(first.values())
        reports = [e for e in reports if e.t >= since]
    span = wall if backend == "fake" else reports[-1].t - reports[0].t
    rate = len(reports) / span
    return {
        "reports": len(reports),
        "span": span,
        "rate": rate,
        "per_report_us": 1e6 / rate,
        "workers_reporting": len({e.worker for e in reports}) if started_all else -1,
        "serves_at_10s": rate * 10,
    }


def checkpoint_costs(megabytes: float, folder: str, repeats: int = 20) -> dict[str, float]:
    """ms per checkpoint (save, file it with its report, load it back) of a state of
    *megabytes*, through a plain path and through fsspec (memory://: the library's own cost,
    without a network; an object store adds its PUT and GET times)."""
    import uuid

    from ashasim.run import checkpoint
    from ashasim.run.context import JobContext, JobSpec, reset_context, set_context

    state = {"weights": bytes(int(megabytes * 2**20))}
    costs = {}
    for name, location in (
        ("path", str(Path(folder) / "trial_0")),
        ("memory://", f"memory://bench-{uuid.uuid4().hex}/trial_0"),
    ):
        spec = JobSpec(0, {}, 10**6, 10**6 + 1, location)
        token = set_context(JobContext(spec, None))  # type: ignore[arg-type]
        try:
            checkpoint.save(state)  # warm: torch's import and the folder are not the cost
            checkpoint.file_staged(0)
            started = time.perf_counter()
            for resource in range(1, repeats + 1):
                checkpoint.save(state)
                checkpoint.file_staged(resource)
                assert checkpoint.load() is not None
                checkpoint.prune(resource)
            costs[name] = (time.perf_counter() - started) / repeats * 1e3
        finally:
            reset_context(token)
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("ray", "local", "fake"), default="ray")
    parser.add_argument("--workers", type=int, nargs="+", default=[8, 64, 256])
    parser.add_argument("--seconds", type=float, default=15.0, help="time budget per run")
    parser.add_argument("--num-cpus", type=float, default=0.01, help="CPU share per Ray actor")
    parser.add_argument(
        "--checkpoint-mb", type=float, help="instead: ms per checkpoint of a state this large"
    )
    args = parser.parse_args()
    if args.checkpoint_mb is not None:
        with tempfile.TemporaryDirectory() as folder:
            costs = checkpoint_costs(args.checkpoint_mb, folder)
        for name, ms in costs.items():
            print(f"{args.checkpoint_mb:g} MB through {name}: {ms:.1f} ms per checkpoint")
        return
    if args.backend == "ray":
        import ray

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    print(
        "| backend | workers | workers that reported | reports | seconds | reports/s | "
        "µs per report | workers served at 1 report / 10 s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.workers:
        row = measure(args.backend, n, args.seconds, args.num_cpus)
        print(
            f"| {args.backend} | {n} | {row['workers_reporting']} | {row['reports']} | "
            f"{row['span']:.1f} | {row['rate']:,.0f} | {row['per_report_us']:,.0f} | "
            f"{row['serves_at_10s']:,.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
