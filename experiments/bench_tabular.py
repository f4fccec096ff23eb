"""Benchmark: how long ``Tabular`` takes to load and check a large learning-curve table.

A table shaped like a learning-curve database: 50,000 configs (learner, C, gamma) x 20
training-set-size anchors = 10^6 rows, plus two information columns (a per-row timestamp and a
per-config dataset name), written as CSV and gzipped CSV, then loaded with explicit column roles
(every check of ``Tabular`` runs: empty cells, number parsing, mixed 1/1.0, gaps, repeats).

    python experiments/bench_tabular.py [--configs 50000] [--anchors 20]
"""

from __future__ import annotations

import argparse
import gzip
import tempfile
import time
from pathlib import Path

from ashasim.sim import Tabular

LEARNERS = ("svm", "knn", "tree", "forest", "mlp")


def write_table(path: Path, n_configs: int, n_anchors: int) -> int:
    sizes = [round(16 * 2 ** (k / 2)) for k in range(n_anchors)]
    opener = gzip.open if path.suffix == ".gz" else open
    rows = 0
    with opener(path, "wt", encoding="utf-8", newline="") as handle:
        handle.write("learner,C,gamma,train_size,fit_time,error,run_at,dataset\n")
        for config in range(n_configs):
            learner = LEARNERS[config % len(LEARNERS)]
            c, gamma = 10 ** (config % 7 - 3), round(0.001 * (1 + config // 7), 6)
            for size in sizes:
                fit = round(1e-5 * size * (1 + config % 11), 6)
                error = round(0.5 * size**-0.3 + 0.01 * (config % 13), 6)
                handle.write(f"{learner},{c},{gamma},{size},{fit},{error},{rows},d{config % 3}\n")
                rows += 1
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=int, default=50_000)
    parser.add_argument("--anchors", type=int, default=20)
    args = parser.parse_args()
    print(f"{'file':<14} {'rows':>9} {'configs':>8} {'MB':>6} {'load s':>7} {'CPU s':>6}")
    with tempfile.TemporaryDirectory() as folder:
        for name in ("table.csv", "table.csv.gz"):
            path = Path(folder) / name
            rows = write_table(path, args.configs, args.anchors)
            wall, cpu = time.perf_counter(), time.process_time()
            table = Tabular(
                path,
                config_columns=["learner", "C", "gamma"],
                fidelity="train_size",
                seconds="fit_time",
                metric="error",
            )
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            megabytes = path.stat().st_size / 1e6
            print(
                f"{name:<14} {rows:>9,} {len(table.configs):>8,} {megabytes:>6.1f} {wall:>7.1f} "
                f"{cpu:>6.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
