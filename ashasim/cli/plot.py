"""``ashasim plot DIR`` (redraw a run's figures) and ``ashasim reproduce`` (every study figure)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ashasim.cli.common import make_directory, non_empty_path, positive_int, usage_errors

__all__ = ["REPRODUCE_SEEDS", "REPRODUCE_WORKERS", "register"]

# ashasim reproduce: enough seeds for mean ± std, in about three minutes on two cores
REPRODUCE_SEEDS = 5
REPRODUCE_WORKERS = (2, 8, 32, 128)


def register(commands: Any) -> None:
    plot = commands.add_parser("plot", help="redraw a run directory's figures from its journal")
    plot.add_argument("directory", type=Path)
    plot.set_defaults(handler=run_plot)

    reproduce = commands.add_parser(
        "reproduce", help="make every figure and table of the sync-vs-async story"
    )
    reproduce.add_argument("--out", type=non_empty_path, default=Path("figures"))
    reproduce.add_argument(
        "--quick", action="store_true", help="fewer seeds and worker counts (for smoke tests)"
    )
    reproduce.add_argument("--processes", type=positive_int)
    reproduce.set_defaults(handler=run_reproduce)


def run_plot(args: argparse.Namespace) -> int:
    from ashasim.events import load_experiment
    from ashasim.outputs import write_outputs

    with usage_errors():
        trace = load_experiment(args.directory)
    written = write_outputs(trace, args.directory)
    print("wrote " + ", ".join(str(path) for path in written))
    return 0


def run_reproduce(args: argparse.Namespace) -> int:
    """The chapter's schedules, the LeNet curves, and the sync-vs-async study (every overlap
    policy, the paper's measures, the price of asynchrony) with a few seeds each; the full
    studies are ``experiments/sync_vs_async.py``, ``paper_measures.py`` and ``asynchrony.py``."""
    from ashasim.studies import (
        asynchrony,
        chapter_story,
        lenet_curves,
        paper_measures,
        sync_vs_async,
    )

    out: Path = args.out
    make_directory(out, "--out")
    chapter_story.write(out)
    print(f"chapter story: {out}/gantt_sync.png, {out}/gantt_async.png")
    lenet_curves.write(out)
    print(f"LeNet curves:  {out}/curves_asha-stopping.png, {out}/curves_random.png")
    seeds = 2 if args.quick else REPRODUCE_SEEDS
    workers = (2, 8, 32) if args.quick else REPRODUCE_WORKERS
    target = 0.15
    results = sync_vs_async.run(
        workers=workers, seeds=seeds, target=target, processes=args.processes
    )
    paths = sync_vs_async.write(out, results, target=target)
    print(paths["table"].read_text(encoding="utf-8"))
    print(paths["costs"].read_text(encoding="utf-8"))
    points = paper_measures.run(seeds=seeds, processes=args.processes)
    paper = paper_measures.write(out, points)
    print(paper["table"].read_text(encoding="utf-8"))
    pairs = asynchrony.run(seeds=seeds, processes=args.processes)
    price = asynchrony.write(out, pairs)
    print(price["table"].read_text(encoding="utf-8"))
    print(f"wrote {out}/")
    return 0
