"""``ashasim compare``: schedulers side by side over seeds and worker counts (simulated)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ashasim.checks import MAX_WORKERS
from ashasim.cli.common import (
    SCHEDULER_NAMES,
    add_ladder,
    make_directory,
    non_empty_path,
    positive_float,
    positive_int,
    scheduler_options,
    usage_errors,
    worker_count,
)

__all__ = ["register"]


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "compare", help="schedulers side by side over seeds and worker counts"
    )
    parser.add_argument(
        "--schedulers",
        nargs="+",
        default=["sync-sh", "asha"],
        metavar="NAME[:OVERLAP]",
        help=f"from {', '.join(SCHEDULER_NAMES)}; the synchronous ones may name their overlap "
        "policy, e.g. sync-sh:none sync-sh:top-rung sync-sh:always",
    )
    parser.add_argument(
        "--workers",
        nargs="+",
        type=worker_count,
        default=[2, 8, 32],
        help=f"worker counts, each 1..{MAX_WORKERS} (default 2 8 32)",
    )
    parser.add_argument("--seeds", type=positive_int, default=5, help="seeds per cell")
    parser.add_argument("--max-time", type=positive_float, default=1800.0)
    parser.add_argument("--target", type=float, default=0.15, help="metric to reach")
    parser.add_argument(
        "--workload",
        default="variance",
        metavar="{variance,d2l,synthetic,tabular:PATH}",
        help="variance: the d2l workload with low and with high epoch-time variance (default)",
    )
    parser.add_argument(
        "--drop-probability",
        type=float,
        default=0.0,
        metavar="P",
        help="fault model: each job dies at a random point with probability P",
    )
    parser.add_argument(
        "--worker-mtbf",
        type=positive_float,
        metavar="SECONDS",
        help="node loss: each worker dies after a random uptime of this mean (default: never)",
    )
    parser.add_argument(
        "--worker-downtime",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="node loss: a lost worker is back after this long (default 0: replaced at once)",
    )
    parser.add_argument(
        "--max-retries",
        type=int,
        default=0,
        metavar="N",
        help="node loss: retry a lost worker's trial up to N times before it fails (default 0)",
    )
    parser.add_argument("--processes", type=positive_int, help="parallel runs (default: CPUs)")
    parser.add_argument("--out", type=non_empty_path, default=Path("runs/compare"))
    parser.add_argument(
        "--journals",
        action="store_true",
        help="also journal every run under OUT/runs/<setting>/<contender>_w<N>_s<seed>/, to draw "
        "it (ashasim plot) or watch it (ashasim dashboard OUT/runs)",
    )
    add_ladder(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ashasim.core import make_scheduler
    from ashasim.plot import idle_comparison, save
    from ashasim.progress import Progress
    from ashasim.sim import CostModel, CostModelError
    from ashasim.sim.catalog import make_workload
    from ashasim.studies.compare import (
        as_rows,
        compare,
        format_costs_table,
        format_table,
        parse_contender,
        summarize,
        variance_settings,
    )

    options = scheduler_options(args)
    model: dict[str, Any] = {"drop_probability": args.drop_probability}
    with usage_errors():
        if args.worker_mtbf is not None:
            from ashasim.sim.faults import WorkerLoss

            model["worker_loss"] = WorkerLoss(
                args.worker_mtbf, args.worker_downtime, args.max_retries
            )
        elif args.worker_downtime or args.max_retries:
            raise ValueError("--worker-downtime and --max-retries go with --worker-mtbf")
        settings: dict[str, CostModel]
        if args.workload == "variance":
            settings = dict(variance_settings(args.max_t, **model))
        else:
            settings = {args.workload: make_workload(args.workload, max_epochs=args.max_t, **model)}
        # Build each scheduler once now, so a bad option fails before any run starts.
        for spec in args.schedulers:
            try:
                name, policy = parse_contender(spec)
            except ValueError as error:
                raise ValueError(f"--schedulers: {error}") from None
            for costs in settings.values():
                make_scheduler(name, costs.config_space or {}, **{**options, **policy})
    make_directory(args.out, "--out")  # before the runs: a bad --out is not found after an hour
    total = len(settings) * len(args.schedulers) * len(args.workers) * args.seeds
    progress = Progress("compare")
    done = [0]

    def tick(_: object) -> None:
        done[0] += 1
        progress.update(done[0] / total, f"{done[0]}/{total} runs")

    with usage_errors(CostModelError):
        results = compare(
            args.schedulers,
            args.workers,
            args.seeds,
            settings=settings,
            max_time=args.max_time,
            target=args.target,
            processes=args.processes,
            on_result=tick,
            journals=args.out / "runs" if args.journals else None,
            **options,
        )
    progress.close()
    summaries = summarize(results)
    table = (
        format_table(summaries, target=args.target)
        + "\n\nWhat synchronisation costs:\n\n"
        + format_costs_table(summaries)
    )
    (args.out / "compare.md").write_text(table + "\n", encoding="utf-8")
    save(
        idle_comparison(as_rows(summaries), title="Idle fraction (mean ± std over seeds)"),
        args.out / "compare",
    )
    print(table)
    print(f"wrote {args.out}/ (compare.md, compare.png, compare.svg)")
    return 0
