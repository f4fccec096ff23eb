"""The chapter's learning curves of every trial over wall-clock time: ASHA vs random search on
the LeNet-calibrated workload (see ashasim.studies.lenet_curves).

    python experiments/lenet_curves.py [--out figures] [--seed 0]
"""

import argparse
from pathlib import Path

from ashasim.studies import lenet_curves

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("figures"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for name, trace in lenet_curves.write(args.out, seed=args.seed).items():
        summary = trace.summary()
        print(f"{name}: {summary['trials']} trials, best {summary['best_metric']:.4f}")
    print(f"wrote {args.out}/curves_asha-stopping.png, {args.out}/curves_random.png")
