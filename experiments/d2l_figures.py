"""The chapter's two schematic Gantt charts, simulated (see ashasim.studies.chapter_story).

python experiments/d2l_figures.py [--out figures]
"""

import argparse
from pathlib import Path

from ashasim.studies import chapter_story

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("figures"))
    out = parser.parse_args().out
    for name, trace in chapter_story.write(out).items():
        print(f"{name}: idle {trace.idle_fraction:.1%}, makespan {trace.makespan:g} s")
    print(f"wrote {out}/gantt_sync.png, {out}/gantt_async.png (+ .svg, journals)")
