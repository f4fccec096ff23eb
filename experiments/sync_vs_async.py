"""Idle fraction, time-to-solution and what synchronisation costs, every overlap policy of
synchronous SH and Hyperband against ASHA and asynchronous Hyperband, 2 ... 256 workers, low/high
epoch-time variance, >= 10 seeds per cell (see ashasim.studies.sync_vs_async).

    python experiments/sync_vs_async.py [--out figures] [--seeds 10] [--workers 2 4 ... 256]
"""

import argparse
from pathlib import Path

from ashasim.studies import sync_vs_async

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("figures"))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument(
        "--workers", type=int, nargs="+", default=list(sync_vs_async.DEFAULT_WORKERS)
    )
    parser.add_argument("--max-time", type=float, default=1800.0)
    parser.add_argument("--target", type=float, default=0.15)
    parser.add_argument("--processes", type=int)
    args = parser.parse_args()
    results = sync_vs_async.run(
        workers=args.workers,
        seeds=args.seeds,
        max_time=args.max_time,
        target=args.target,
        processes=args.processes,
    )
    paths = sync_vs_async.write(args.out, results, target=args.target)
    print(paths["table"].read_text(encoding="utf-8"))
    print(paths["costs"].read_text(encoding="utf-8"))
    print(f"wrote {paths['table']}, {paths['costs']}, {paths['data']}, {paths['figure']}")
