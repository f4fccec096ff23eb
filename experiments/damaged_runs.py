"""How a resume meets a damaged run directory: refused in one line, or resumed to the results of
a run never damaged; never a traceback, never a silently changed result (issue 25's fault suite).

A sync-SH run on the FakeBackend (virtual clock, in this process) is
cut halfway as a killed driver leaves it; each trial then damages a copy of that directory's
journal at random and resumes it:

* *edits*: one bit flipped, one digit changed, a line removed, duplicated, or swapped with its
  neighbour (anywhere but the last line) -- each must be refused;
* *crashes*: the journal cut at any byte (a torn last line) or after any line -- each must resume
  to the uninterrupted run's results.

    python -m experiments.damaged_runs [--trials 200] [--seed 0]

prints the outcomes per kind of damage, and exits 1 if any trial ended otherwise.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import warnings
from collections import Counter
from pathlib import Path

from ashasim import SyncSH, uniform
from ashasim.events import JOURNAL
from ashasim.run import Reporter, ResumeError, StoppingCriterion, Tuner, current_job

SPACE = {"x": uniform(0.0, 1.0), "max_epochs": 9}
EDITS = ("bit flip", "digit", "line removed", "line duplicated", "lines swapped")
CRASHES = ("torn at a byte", "cut after a line")


def objective(x: float, max_epochs: int) -> None:
    """A deterministic curve. It keeps no checkpoint: a copy of a directory cut at a line is then
    exactly what a driver killed there leaves (a checkpointing trial's files would be those of
    the later moment the copy was taken, which a resume rightly refuses as missing)."""
    report = Reporter()
    for epoch in range(current_job().resume_from + 1, max_epochs + 1):
        report(epoch=epoch, loss=round(x + 1.0 / epoch, 12))


def epoch_seconds(trial_id: int, config: dict, epoch: int) -> float:
    """Uneven epochs, so that reports of the two workers interleave."""
    return 1.0 + (trial_id % 4) * 0.5


def run(directory: Path, stop: StoppingCriterion) -> Tuner:
    # by its import path (run as ``-m``, this module is __main__, which a resume cannot import)
    from experiments.damaged_runs import epoch_seconds, objective

    scheduler = SyncSH(SPACE, metric="loss", max_t=9, seed=4, max_trials=18)
    return Tuner(
        objective,
        SPACE,
        scheduler,
        2,
        stop=stop,
        backend="fake",
        experiment_dir=directory,
        backend_options={"epoch_seconds": epoch_seconds},
        quiet=True,
        outputs=False,
    )


def results(trace) -> list[tuple[int, int, float]]:
    return sorted((r.trial_id, r.resource, r.metric) for r in trace.results)


def damage(lines: list[bytes], kind: str, rng: random.Random) -> list[bytes]:
    """*lines* (each with its newline) damaged as *kind* says."""
    lines = list(lines)
    i = rng.randrange(1, len(lines) - 1)  # never the header alone, never the last line
    if kind == "bit flip":
        line = bytearray(lines[i])
        at = rng.randrange(len(line) - 1)
        line[at] ^= 1 << rng.randrange(7)
        lines[i] = bytes(line)
    elif kind == "digit":
        digits = [k for k, c in enumerate(lines[i]) if chr(c).isdigit()]
        at = rng.choice(digits)
        new = str((int(chr(lines[i][at])) + rng.randrange(1, 10)) % 10).encode()
        lines[i] = lines[i][:at] + new + lines[i][at + 1 :]
    elif kind == "line removed":
        del lines[i]
    elif kind == "line duplicated":
        lines.insert(i, lines[i])
    elif kind == "lines swapped":
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
    elif kind == "torn at a byte":
        data = b"".join(lines)
        return [data[: rng.randrange(len(lines[0]) + 1, len(data))]]
    else:  # cut after a line
        return lines[: rng.randrange(2, len(lines) + 1)]
    return lines


def trial(base: Path, kind: str, rng: random.Random, expected, scratch: Path) -> str:
    directory = scratch / "run"
    shutil.rmtree(directory, ignore_errors=True)
    shutil.copytree(base, directory)
    journal = directory / JOURNAL
    journal.write_bytes(b"".join(damage(journal.read_bytes().splitlines(True), kind, rng)))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "dropping a torn last line"
            resumed = Tuner.resume(directory, quiet=True, outputs=False, stop=StoppingCriterion())
    except ResumeError as error:
        return "refused in one line" if "\n" not in str(error) else "refused, several lines"
    except Exception as error:  # what the experiment looks for
        return f"error: {type(error).__name__}"
    return "resumed, same results" if results(resumed) == expected else "RESUMED, CHANGED"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=200, help="damaged resumes (default 200)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        whole = run(scratch / "whole", StoppingCriterion()).run()
        half = whole.events[len(whole.events) // 2].t
        run(scratch / "base", StoppingCriterion(max_wallclock_time=half)).run()
        outcomes: Counter[tuple[str, str]] = Counter()
        for number in range(args.trials):
            kind = (EDITS + CRASHES)[number % (len(EDITS) + len(CRASHES))]
            outcome = trial(scratch / "base", kind, rng, results(whole), scratch)
            outcomes[kind, outcome] += 1
    wrong = 0
    for (kind, outcome), count in sorted(outcomes.items()):
        good = outcome == ("refused in one line" if kind in EDITS else "resumed, same results")
        wrong += 0 if good else count
        print(f"{kind:18} {outcome:24} {count:4}{'' if good else '   <- not as it should be'}")
    print(f"{args.trials} damaged resumes, {wrong} not as they should be")
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
