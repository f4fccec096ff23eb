"""Searchers compared in simulation: random, KDE and GP under ASHA, and BOHB sync vs async.

    python experiments/searchers.py [--seeds 20] [--workers 8 64] [--out experiments/figures]
    python experiments/searchers.py --redraw experiments/figures/searchers.json

Writes ``searchers.md`` (the table), ``searchers.png/.svg`` (median best-so-far with the
interquartile band) and ``searchers.json`` (every run's steps, for --redraw) into --out. See
``ashasim.studies.searchers`` for the setup.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ashasim.progress import Progress
from ashasim.studies import searchers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--workers", type=int, nargs="+", default=[8, 64])
    parser.add_argument("--workloads", nargs="+", default=list(searchers.SETTINGS))
    parser.add_argument("--contenders", nargs="+", default=list(searchers.CONTENDERS))
    parser.add_argument("--processes", type=int)
    parser.add_argument("--out", type=Path, default=Path("experiments/figures"))
    parser.add_argument("--redraw", type=Path, help="redraw from a saved searchers.json")
    args = parser.parse_args(argv)
    if args.redraw is not None:
        paths = searchers.write(args.out, searchers.load_curves(args.redraw))
        print(paths["table"].read_text(encoding="utf-8"))
        return 0
    total = len(args.workloads) * len(args.workers) * len(args.contenders) * args.seeds
    progress, done = Progress("searchers", force=True, lines=not sys.stderr.isatty()), [0]

    def tick(_: object) -> None:
        done[0] += 1
        progress.update(done[0] / total, f"{done[0]}/{total} runs")

    curves = searchers.run(
        workloads=args.workloads,
        contenders=args.contenders,
        workers=args.workers,
        seeds=args.seeds,
        max_time=searchers.BUDGETS,
        processes=args.processes,
        on_result=tick,
    )
    progress.close()
    paths = searchers.write(args.out, curves)
    print(paths["table"].read_text(encoding="utf-8"))
    print(f"wrote {paths['table']}, {paths['figure']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
