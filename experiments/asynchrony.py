"""The price of asynchrony: ASHA's promotions that synchronous SH would not have made, and the
best config each finds at equal budget, as eta, workers and curve-crossing noise vary (see
ashasim.studies.asynchrony).

    python experiments/asynchrony.py [--seeds 20] [--out experiments/figures]
"""

import argparse
from pathlib import Path

from ashasim.studies import asynchrony

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--processes", type=int)
    parser.add_argument("--out", type=Path, default=Path("experiments/figures"))
    args = parser.parse_args()
    pairs = asynchrony.run(seeds=args.seeds, processes=args.processes)
    print(asynchrony.write(args.out, pairs)["table"].read_text(encoding="utf-8"))
