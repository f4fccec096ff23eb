"""``ashasim import SOURCE --out DIR``: a Ray Tune, Syne Tune or Optuna run as a run directory.

The journal, results, Gantt chart, curves, measures and ``replay.csv`` of the imported run (see
``ashasim.imports``), and the command that replays it under another scheduler.
"""

from __future__ import annotations

import argparse
from typing import Any

from ashasim.cli.common import non_empty_path, prepare_out, usage_errors

__all__ = ["register"]


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "import",
        help="turn a Ray Tune, Syne Tune or Optuna run into a run directory",
        description="Import a Ray Tune experiment folder, a Syne Tune results folder, or an "
        "Optuna storage (sqlite:///study.db, another database URL, or a journal file).",
    )
    parser.add_argument("source", metavar="PATH_OR_URL")
    parser.add_argument(
        "--out", type=non_empty_path, required=True, help="the run directory to write"
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing run")
    parser.add_argument("--metric", help="the metric to import (default: the run's own)")
    parser.add_argument(
        "--mode", choices=("min", "max"), help="minimise or maximise (default: the run's own)"
    )
    parser.add_argument("--study", help="Optuna: the study to import, when there are several")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ashasim.imports import read_run, write_run
    from ashasim.outputs import format_summary

    with usage_errors():
        imported = read_run(args.source, metric=args.metric, mode=args.mode, study=args.study)
    out = prepare_out(args.out, force=args.force)
    write_run(imported, out)
    print(imported.describe())
    print(format_summary(imported.trace.summary(), header=f"ashasim import: {args.source}"))
    print(f"  wrote      {out}/ (journal.jsonl, results.csv, gantt, curves, measures.json, ")
    print("             replay.csv, import.json)")
    workers = imported.trace.n_workers
    print(
        f"  what if:   ashasim simulate --table {out}/replay.csv --missing hold --workers "
        f"{workers} --scheduler sync-sh --max-trials {len(imported.trace.trial_ids)} --out ..."
    )
    return 0
