"""What every command shares: usage errors, number flags, the SH ladder flags, run directories.

Exit status: 0 on success, 2 on a usage error (bad flag, bad value, a file that is not there, a
workload that cannot answer the scheduler), 130 when interrupted (the journal keeps what was done),
1 when a run cannot go on (``RunError``: one line), and 1 with a traceback on anything else, since
that is a bug.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ashasim.core.defaults import GRACE_PERIOD, OVERLAP, OVERLAPS, REDUCTION_FACTOR
from ashasim.core.factory import SCHEDULER_NAMES
from ashasim.search import SEARCHER_NAMES

__all__ = [
    "FLAGS",
    "SCHEDULER_NAMES",
    "UsageError",
    "add_ladder",
    "non_negative_float",
    "non_negative_int",
    "positive_float",
    "positive_int",
    "prepare_out",
    "scheduler_options",
    "usage_errors",
]


class UsageError(Exception):
    """Bad input from the command line: reported in one line, exit status 2."""


# library parameter -> the flag that sets it, so errors name what the user typed
FLAGS = {
    "reduction_factor": "--eta",
    "grace_period": "--grace-period",
    "max_t": "--max-t",
    "max_trials": "--max-trials",
    "n_workers": "--workers",
    "max_time": "--max-time",
    "rung_levels": "--rung-levels",
    "missing": "--missing",
    "config_columns": "--config-columns",
    "drop_probability": "--drop-probability",
    "mtbf": "--worker-mtbf",
    "downtime": "--worker-downtime",
    "max_retries": "--max-retries",
}


@contextmanager
def usage_errors(*extra: type[BaseException]) -> Iterator[None]:
    """Turn the library's input errors into usage errors (one line, exit 2, no traceback)."""
    try:
        yield
    except (ValueError, KeyError, FileNotFoundError, *extra) as error:
        if isinstance(error, OSError) and error.strerror:  # not its errno alone
            message = f"{error.filename}: {error.strerror}" if error.filename else error.strerror
        else:
            message = str(error.args[0] if error.args else error)
        name = message.split(" ", 1)[0]
        if name in FLAGS:
            message = f"{FLAGS[name]} ({name}){message[len(name) :]}"
        raise UsageError(message) from error


def _number(cast: type, minimum: float, *, strict: bool = False) -> Any:
    """An argparse type: ``cast(text)`` >= minimum (> minimum and finite when ``strict``)."""
    relation = ">" if strict else ">="
    kind = "an integer" if cast is int else "a finite number"

    def parse(text: str) -> Any:
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {kind} {relation} {minimum:g}, got {text!r}"
            ) from None
        if not (value > minimum if strict else value >= minimum) or value == float("inf"):
            raise argparse.ArgumentTypeError(f"expected {kind} {relation} {minimum:g}, got {text}")
        return value

    return parse


positive_int = _number(int, 1)
non_negative_int = _number(int, 0)
positive_float = _number(float, 0, strict=True)
non_negative_float = _number(float, 0)


def add_ladder(parser: argparse.ArgumentParser) -> None:
    """The successive-halving flags; defaults are the core's (``ashasim.core.defaults``)."""
    group = parser.add_argument_group("successive halving")
    group.add_argument(
        "--eta", type=positive_int, default=REDUCTION_FACTOR, help="reduction factor η >= 2"
    )
    group.add_argument(
        "--grace-period",
        type=positive_int,
        default=GRACE_PERIOD,
        help=f"r_min (epochs; default {GRACE_PERIOD})",
    )
    group.add_argument("--max-t", type=positive_int, default=10, help="r_max (epochs; default 10)")
    group.add_argument(
        "--overlap",
        choices=OVERLAPS,
        default=OVERLAP,
        help="synchronous SH: when a free worker may open the next bracket",
    )
    group.add_argument(
        "--retrain",
        action="store_true",
        help="synchronous SH: retrain promoted trials from scratch (the chapter's SH)",
    )
    group.add_argument("--mode", choices=("min", "max"), default="min")
    parser.add_argument(
        "--searcher",
        choices=SEARCHER_NAMES,
        help="how new configs are chosen: random (default), grid, kde (BOHB's model) or gp "
        "(Bayesian optimisation); bohb, async-bohb and asha-bo come with their own",
    )


def scheduler_options(args: argparse.Namespace) -> dict[str, Any]:
    """The ladder flags as ``make_scheduler`` options."""
    return {
        "max_t": args.max_t,
        "grace_period": args.grace_period,
        "reduction_factor": args.eta,
        "overlap": args.overlap,
        "resume": not args.retrain,
        "mode": args.mode,
        "searcher": args.searcher,
    }


def prepare_out(out: Path, *, force: bool) -> Path:
    """A run directory to write into: refused when it holds a run (unless ``force``)."""
    from ashasim.events import JOURNAL

    if (out / JOURNAL).exists() and not force:
        raise UsageError(
            f"{out} already holds a run ({JOURNAL}); pass --force to overwrite it or choose "
            f"another --out"
        )
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    return out
