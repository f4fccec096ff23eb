"""What every command shares: usage errors, number flags, the SH ladder flags, run directories.

Exit status: 0 on success, 2 on a usage error (bad flag, bad value, a file that is not there, a
workload that cannot answer the scheduler), 130 when interrupted (the journal keeps what was done),
1 when a run cannot go on (``RunError``: one line), and 1 with a traceback on anything else, since
that is a bug.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ashasim.checks import MAX_WORKERS
from ashasim.core.defaults import GRACE_PERIOD, OVERLAP, OVERLAPS, REDUCTION_FACTOR
from ashasim.core.factory import SCHEDULER_NAMES
from ashasim.search import SEARCHER_NAMES

__all__ = [
    "FLAGS",
    "MAX_SPACE_BYTES",
    "SCHEDULER_NAMES",
    "Parser",
    "UsageError",
    "add_ladder",
    "make_directory",
    "non_empty_path",
    "non_negative_float",
    "non_negative_int",
    "positive_float",
    "positive_int",
    "prepare_out",
    "read_space",
    "scheduler_options",
    "usage_errors",
    "worker_count",
]

MAX_SPACE_BYTES = 1024 * 1024  # a search space is a few lines; /dev/zero is not one


class UsageError(Exception):
    """Bad input from the command line: reported in one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse, with a bad flag told in one line (argparse prints the whole usage first, which
    for ``tune`` is a screenful above the line that says what is wrong)."""

    def error(self, message: str) -> Any:  # argparse's hook; never returns
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


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
    "metric": "--metric",
}


@contextmanager
def usage_errors(*extra: type[BaseException]) -> Iterator[None]:
    """Turn the library's input errors into usage errors (one line, exit 2, no traceback)."""
    try:
        yield
    except (ValueError, KeyError, FileNotFoundError, *extra) as error:  # type: ignore[misc]
        if isinstance(error, OSError) and error.strerror:  # not its errno alone
            message = f"{error.filename}: {error.strerror}" if error.filename else error.strerror
        else:
            message = str(error.args[0] if error.args else error)
        name = message.split(" ", 1)[0]
        if name in FLAGS:
            message = f"{FLAGS[name]} ({name}){message[len(name) :]}"
        raise UsageError(message) from error


def _number(
    cast: type, minimum: float, *, strict: bool = False, maximum: float | None = None
) -> Any:
    """An argparse type: ``cast(text)`` >= minimum (> minimum and finite when ``strict``), and
    <= maximum when one is given."""
    relation = ">" if strict else ">="
    kind = "an integer" if cast is int else "a finite number"
    wanted = f"{kind} {relation} {minimum:g}"
    if maximum is not None:
        wanted = f"{kind} in {minimum:g}..{maximum:g}"

    def parse(text: str) -> Any:
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}") from None
        too_big = value == float("inf") or (maximum is not None and value > maximum)
        if not (value > minimum if strict else value >= minimum) or too_big:
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text}")
        return value

    return parse


positive_int = _number(int, 1)
non_negative_int = _number(int, 0)
positive_float = _number(float, 0, strict=True)
non_negative_float = _number(float, 0)


def finite_float(text: str) -> float:
    """An argparse type: any finite number (a metric's threshold)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


#: workers of one run: more would exhaust the machine before the first job
worker_count = _number(int, 1, maximum=MAX_WORKERS)


def non_empty_path(text: str) -> Path:
    """An argparse type: a path, not the empty string (which ``Path`` reads as ``.``, the working
    directory, where a run would then write its files)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a path, got an empty string")
    return Path(text)


def make_directory(directory: Path, flag: str) -> bool:
    """Create *directory* (and its parents) for *flag*, or a usage error in one line (a file in
    the way, a read-only or virtual file system such as /proc). True when it was created."""
    from ashasim.frame import check_directory

    with usage_errors():
        check_directory(flag, directory)
    if directory.is_dir():
        return False
    try:
        directory.mkdir(parents=True)
    except OSError as error:
        raise UsageError(
            f"{flag} {directory}: cannot create it ({error.strerror or error})"
        ) from None
    return True


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


#: ``Stop`` rules on the journal (``ashasim.stop_rules``) -> their flags, in both commands
STOP_RULE_FLAGS = {
    "results": "--max-results",
    "completed": "--max-completed",
    "finished": "--max-finished",
    "metric_below": "--stop-below",
    "metric_above": "--stop-above",
}


def add_stop_rules(parser: argparse.ArgumentParser) -> None:
    """The flags of the ``Stop`` rules that watch the journal (``stop_rules`` reads them)."""
    group = parser.add_argument_group("stop rules (the first met ends the run)")
    group.add_argument("--max-results", type=positive_int, help="after this many results")
    group.add_argument(
        "--max-completed", type=positive_int, help="once this many trials are trained to max_t"
    )
    group.add_argument(
        "--max-finished", type=positive_int, help="once this many completed, stopped or failed"
    )
    group.add_argument("--stop-below", type=finite_float, help="at a result of the metric below")
    group.add_argument("--stop-above", type=finite_float, help="at a result of the metric above")


def stop_rules(args: argparse.Namespace) -> dict[str, Any]:
    """The stop-rule flags given, as ``Stop`` fields."""
    values = {
        field: getattr(args, flag[2:].replace("-", "_")) for field, flag in STOP_RULE_FLAGS.items()
    }
    return {field: value for field, value in values.items() if value is not None}


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
    make_directory(out, "--out")
    if not os.access(out, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: cannot write there (permission denied)")
    return out


def read_space(path: Path) -> dict[str, Any]:
    """The search space in ``path`` (JSON), or a ValueError in one line."""
    import json

    from ashasim.space import space_from_json

    if path.is_dir():
        raise ValueError(f"--space {path} is a directory; give the JSON file of the space")
    try:
        with open(path, "rb") as stream:  # bounded: /dev/zero or a huge file is refused
            data = stream.read(MAX_SPACE_BYTES + 1)
    except FileNotFoundError:
        raise ValueError(f"--space {path}: no such file") from None
    except OSError as error:
        raise ValueError(f"--space {path}: cannot read it ({error.strerror or error})") from None
    if len(data) > MAX_SPACE_BYTES:
        raise ValueError(
            f"--space {path}: larger than {MAX_SPACE_BYTES // 2**20} MiB; a search space is a "
            f"small JSON object"
        )
    try:
        data = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError(f"--space {path}: not UTF-8 text") from None
    except (json.JSONDecodeError, RecursionError) as error:
        why = "nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise ValueError(f"--space {path}: not JSON ({why})") from None
    if not isinstance(data, dict):
        raise ValueError(f"--space {path}: must hold a JSON object of parameter -> domain")
    return space_from_json(data)
