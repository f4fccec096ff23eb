"""The ASHA paper's simulated-workload measures: time to the first trial at r_max as the spread
of training times grows, trials at r_max over time as jobs are dropped (see
ashasim.studies.paper_measures for what is reproduced and what is ours).

    python experiments/paper_measures.py [--seeds 20] [--out experiments/figures]
"""

import argparse
from pathlib import Path

from ashasim.studies import paper_measures

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--processes", type=int)
    parser.add_argument("--out", type=Path, default=Path("experiments/figures"))
    args = parser.parse_args()
    points = paper_measures.run(seeds=args.seeds, processes=args.processes)
    paths = paper_measures.write(args.out, points)
    print(paths["table"].read_text(encoding="utf-8"))
