"""Searchers compared in simulation: random, KDE and GP under ASHA, and BOHB sync vs async.

    python experiments/searchers.py [--seeds 20] [--workers 8 64] [--out experiments/figures]
    python experiments/searchers.py --redraw experiments/figures/searchers.json
    python experiments/searchers.py synthetic [--benchmarks ...] [--workers 4 16] [--seeds 10]
        [--save cells.json] [--load peers.json ...] [--suggest-costs]

``synthetic`` compares ashasim's searchers with Syne Tune's BOHB and MOBSTER and Optuna's TPE on
the multi-fidelity synthetic benchmarks in simulated time (``experiments/searchers_synthetic.py``).
The peers need environments of their own (MOBSTER an older Syne Tune than BOHB), so each run can
``--save`` its cells and a last run ``--load`` them into one table.

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


def synthetic(argv: list[str]) -> int:
    """The ``synthetic`` comparison (see ``searchers_synthetic``): prints its Markdown table."""
    from ashasim.sim.synthetic import BENCHMARKS

    try:
        from experiments import searchers_synthetic as study
    except ModuleNotFoundError:  # run as a script: experiments/ is on the path, the root may not be
        import searchers_synthetic as study  # type: ignore[no-redef]

    parser = argparse.ArgumentParser(description=study.__doc__.splitlines()[0])
    parser.add_argument(
        "--benchmarks", nargs="+", default=["hartmann3", "hartmann6"], choices=sorted(BENCHMARKS)
    )
    parser.add_argument("--workers", type=int, nargs="+", default=[4, 16])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=float, default=1500.0, help="simulated seconds")
    parser.add_argument("--max-t", type=int, default=27)
    parser.add_argument(
        "--contenders", nargs="*", default=list(study.CONTENDERS), choices=study.CONTENDERS
    )
    parser.add_argument("--save", type=Path, help="write this run's cells to a JSON file")
    parser.add_argument("--load", type=Path, nargs="+", default=[], help="cells saved earlier")
    parser.add_argument(
        "--suggest-costs",
        action="store_true",
        help="print the mean, median and 90th percentile of suggest times instead",
    )
    args = parser.parse_args(argv)
    cells = (args.benchmarks, args.workers, args.seeds, args.budget, args.max_t)
    if args.suggest_costs:
        print(study.suggest_costs(*cells, tuple(args.contenders)))
        return 0
    results = study.compare(
        *cells, tuple(args.contenders), on_cell=lambda line: print(line, file=sys.stderr)
    )
    if args.save is not None:
        study.save_cells(args.save, results)
    for path in args.load:
        results = {**study.load_cells(path), **results}
    print(study.format_table(study.ordered(results)))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["synthetic"]:
        return synthetic(argv[1:])
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
