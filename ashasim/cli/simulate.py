"""``ashasim simulate``: one simulated run, written to a run directory, summarized on screen.

A run replays a built-in workload (``--workload``) or the user's own learning-curve table
(``--table PATH`` with its column roles). With a table, ``--grace-period``, ``--max-t`` and
``--rung-levels`` are in the fidelity's own units (training-set sizes, fractions, epochs), its
configs are drawn without replacement unless ``--searcher random`` says otherwise (``kde`` and
``gp`` model the table's config columns and propose each config once), and the table's size
bounds the run. Everything is checked before the run directory is touched, a time budget that could
start absurdly many trials is refused (``BudgetWarning``: give --max-trials), and a run that fails
half-way leaves no journal behind, so the same command runs again without ``--force``.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any

from ashasim.checks import MAX_WORKERS
from ashasim.cli.common import (
    SCHEDULER_NAMES,
    UsageError,
    add_ladder,
    add_stop_rules,
    non_empty_path,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    prepare_out,
    scheduler_options,
    stop_rules,
    usage_errors,
    worker_count,
)

__all__ = ["register"]


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "simulate", help="replay cost-modeled trials on N simulated workers"
    )
    parser.add_argument("--scheduler", choices=SCHEDULER_NAMES, default="asha")
    parser.add_argument("--workers", type=worker_count, default=4, help=f"1..{MAX_WORKERS}")
    parser.add_argument(
        "--workload",
        default="d2l",
        metavar="{d2l,synthetic,story,tabular:PATH}",
        help="d2l: LeNet/FashionMNIST-calibrated curves (default); synthetic: heavy-tailed "
        "epoch times; story: the chapter's schematic story; tabular:PATH: replay a table of "
        "epochs (see --table for any other)",
    )
    parser.add_argument("--max-trials", type=positive_int)
    parser.add_argument("--max-time", type=positive_float, help="simulated seconds")
    parser.add_argument("--seed", type=non_negative_int, default=0)
    parser.add_argument(
        "--out", type=non_empty_path, help="run directory (default: runs/<scheduler>)"
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing run")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    add_stop_rules(parser)
    add_ladder(parser)
    # None = not given: a table's defaults are its own levels (see _ladder)
    parser.set_defaults(max_t=None, grace_period=None)
    parser.add_argument(
        "--rung-levels",
        type=float,
        nargs="+",
        metavar="LEVEL",
        help="explicit rung levels instead of grace-period * eta**k (a table's fidelity values)",
    )
    costs = parser.add_argument_group("cost model")
    costs.add_argument(
        "--cost",
        choices=("resume", "restart"),
        default="resume",
        help="resume: a job continues from a checkpoint and pays each level on the way; "
        "restart: reaching a level costs that level's time alone (a learner refit from scratch)",
    )
    for name, what in (
        ("startup", "to start a trial from scratch"),
        ("checkpoint", "to save a checkpoint when a job pauses"),
        ("restore", "to load a checkpoint when a paused trial resumes"),
    ):
        costs.add_argument(
            f"--{name}-seconds", type=non_negative_float, default=0.0, help=f"seconds {what}"
        )
    costs.add_argument(
        "--drop-probability",
        type=float,
        default=0.0,
        metavar="P",
        help="fault model: each job dies at a random point with probability P (journaled failed)",
    )
    table = parser.add_argument_group("your own table (--table)")
    table.add_argument(
        "--table",
        type=Path,
        metavar="PATH",
        help="a learning-curve table: .csv, .csv.gz, .json, .jsonl(.gz), .parquet",
    )
    table.add_argument(
        "--config-columns", nargs="+", metavar="COLUMN", help="the columns that make a config"
    )
    table.add_argument(
        "--fidelity", metavar="COLUMN", help="the fidelity column (epochs, sizes, fractions)"
    )
    table.add_argument("--seconds", metavar="COLUMN", help="the seconds column (default seconds)")
    table.add_argument("--metric", metavar="COLUMN", help="the metric column (default metric)")
    table.add_argument("--label", metavar="COLUMN", help="a column naming configs in plots")
    table.add_argument(
        "--missing",
        choices=("error", "hold"),
        default="error",
        help="a gap in a curve is an error, or holds the level below it",
    )
    parser.set_defaults(handler=run)


def _workload(args: argparse.Namespace) -> Any:
    from ashasim.sim import Tabular
    from ashasim.sim.catalog import make_workload

    model = {
        "cost": args.cost,
        "startup_seconds": args.startup_seconds,
        "checkpoint_seconds": args.checkpoint_seconds,
        "restore_seconds": args.restore_seconds,
        "drop_probability": args.drop_probability,
    }
    if args.table is None:
        table_flags = ("config_columns", "fidelity", "seconds", "metric", "label")
        given = [name for name in table_flags if getattr(args, name)]
        if given:
            flags = ", ".join("--" + name.replace("_", "-") for name in given)
            raise UsageError(f"{flags} describe a table: give it with --table PATH")
        return make_workload(args.workload, max_epochs=args.max_t or 10, **model)
    return Tabular(
        args.table,
        config_columns=args.config_columns,
        fidelity=args.fidelity,
        seconds=args.seconds,
        metric=args.metric or "metric",
        label=args.label,
        missing=args.missing,
        **model,
    )


def _ladder(args: argparse.Namespace, costs: Any) -> dict[str, Any]:
    """The ladder flags as scheduler options; for a table, converted from fidelity values to
    levels, and max_t defaulting to the table's top level."""
    from ashasim.sim import Tabular

    options = scheduler_options(args)
    if isinstance(costs, Tabular):
        top = costs.max_epochs
        options["max_t"] = top if args.max_t is None else costs.levels_of([args.max_t])[0]
        if args.grace_period is not None:
            options["grace_period"] = costs.levels_of([args.grace_period])[0]
        if args.rung_levels is not None:
            options["rung_levels"] = costs.levels_of(args.rung_levels)
        if costs.fidelity_values is not None:
            options["resource_attr"] = "level"
        options["metric"] = costs.metric
    else:
        options["max_t"] = 10 if args.max_t is None else args.max_t
        if args.rung_levels is not None:
            levels = [int(v) for v in args.rung_levels]
            if levels != args.rung_levels:
                raise UsageError(f"--rung-levels must be whole epochs, got {args.rung_levels}")
            options["rung_levels"] = levels
        if costs.max_epochs is not None and options["max_t"] > costs.max_epochs:
            raise ValueError(
                f"--max-t {options['max_t']} exceeds what workload {args.workload!r} has "
                f"(max_epochs={costs.max_epochs})"
            )
    return options


def run(args: argparse.Namespace) -> int:
    from ashasim.core import make_scheduler
    from ashasim.experiment import Experiment, Stop
    from ashasim.outputs import format_summary, write_figures
    from ashasim.sim import BudgetWarning, CostModelError, Tabular

    with usage_errors(CostModelError, ImportError):
        costs = _workload(args)
        options = _ladder(args, costs)
        if isinstance(costs, Tabular) and options.get("searcher") in (None, "kde", "gp"):
            # each of the table's configs once; a model sees its columns, not the row index
            options["searcher"] = costs.searcher(options.get("searcher"))
        scheduler = make_scheduler(
            args.scheduler,
            costs.config_space or {},
            seed=args.seed,
            max_trials=args.max_trials,
            **options,
        )
        stop = Stop(time=args.max_time, **stop_rules(args))
        if not stop.bounded and scheduler.max_trials is None:
            raise UsageError(
                "give --max-time, --max-trials, --max-results, --max-completed or "
                "--max-finished, otherwise the run never ends"
            )
    out = args.out or Path("runs") / args.scheduler
    created = not out.exists()
    out = prepare_out(out, force=args.force)
    journal = out / "journal.jsonl"
    workload = args.table.name if args.table is not None else args.workload
    try:
        with usage_errors(CostModelError, BudgetWarning), warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.simplefilter("error", BudgetWarning)  # refused before the run starts
            warnings.showwarning = _show_warning
            experiment = Experiment(scheduler, args.workers, stop=stop, directory=out)
            trace = experiment.simulate(costs, seed=args.seed, progress=not args.quiet)
    except BaseException:
        # A run that did not finish (an error, an interrupt) is not a run: a simulation is cheap
        # to repeat, so leave nothing behind that a rerun would have to --force over.
        journal.unlink(missing_ok=True)
        if created and not any(out.iterdir()):
            out.rmdir()
        raise
    write_figures(trace, out, title=f"{args.scheduler} on {workload}, {args.workers} workers")
    header = f"ashasim simulate: {args.scheduler} on {workload}, seed {args.seed}"
    print(format_summary(trace.summary(), header=header))
    print(
        f"  wrote      {out}/ (journal.jsonl, results.csv, summary.json, replay.csv, gantt, curves)"
    )
    return 0


def _show_warning(message: Any, category: Any, *_: Any, **__: Any) -> None:
    print(f"ashasim simulate: warning: {message}", file=sys.stderr, flush=True)
