"""Searchers compared in simulation: random, KDE and GP under ASHA, and BOHB sync vs async.

    python experiments/searchers.py [--seeds 20] [--workers 8 64] [--out experiments/figures]

Writes ``searchers.md`` (the table) and ``searchers.png/.svg`` (median best-so-far with the
interquartile band) into --out. See ``ashasim.studies.searchers`` for the setup.
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
    args = parser.parse_args(argv)
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
