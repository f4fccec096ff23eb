"""``ashasim simulate``: one simulated run, written to a run directory, summarized on screen."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ashasim.cli.common import (
    SCHEDULER_NAMES,
    UsageError,
    add_ladder,
    non_negative_int,
    positive_float,
    positive_int,
    prepare_out,
    scheduler_options,
    usage_errors,
)

__all__ = ["register"]


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "simulate", help="replay cost-modeled trials on N simulated workers"
    )
    parser.add_argument("--scheduler", choices=SCHEDULER_NAMES, default="asha")
    parser.add_argument("--workers", type=positive_int, default=4)
    parser.add_argument(
        "--workload",
        default="d2l",
        metavar="{d2l,synthetic,story,tabular:PATH}",
        help="d2l: LeNet/FashionMNIST-calibrated curves (default); synthetic: heavy-tailed "
        "epoch times; story: the chapter's schematic story; tabular:PATH: replay a table",
    )
    parser.add_argument("--max-trials", type=positive_int)
    parser.add_argument("--max-time", type=positive_float, help="simulated seconds")
    parser.add_argument("--seed", type=non_negative_int, default=0)
    parser.add_argument("--out", type=Path, help="run directory (default: runs/<scheduler>)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing run")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    add_ladder(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ashasim.core import make_scheduler
    from ashasim.outputs import format_summary, write_outputs
    from ashasim.sim import CostModelError, simulate
    from ashasim.sim.catalog import make_workload

    with usage_errors():
        costs = make_workload(args.workload, max_epochs=args.max_t)
        if costs.max_epochs is not None and args.max_t > costs.max_epochs:
            raise ValueError(
                f"--max-t {args.max_t} exceeds what workload {args.workload!r} has "
                f"(max_epochs={costs.max_epochs})"
            )
        scheduler = make_scheduler(
            args.scheduler,
            costs.config_space or {},
            seed=args.seed,
            max_trials=args.max_trials,
            **scheduler_options(args),
        )
        if args.max_time is None and args.max_trials is None:
            raise UsageError("give --max-time or --max-trials, otherwise the run never ends")
    out = prepare_out(args.out or Path("runs") / args.scheduler, force=args.force)
    with usage_errors(CostModelError):
        trace = simulate(
            scheduler,
            costs,
            args.workers,
            max_time=args.max_time,
            seed=args.seed,
            journal=out,
            progress=not args.quiet,
        )
    write_outputs(trace, out, title=f"{args.scheduler} on {args.workload}, {args.workers} workers")
    header = f"ashasim simulate: {args.scheduler} on {args.workload}, seed {args.seed}"
    print(format_summary(trace.summary(), header=header))
    print(f"  wrote      {out}/ (journal.jsonl, results.csv, summary.json, gantt, curves)")
    return 0
