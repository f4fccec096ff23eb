"""Command-line interface: argument parsing and output only; every command delegates.

Exit status: 0 on success, 2 on a usage error (bad flag, bad value, a file that is not there, a
workload that cannot answer the scheduler), 130 when interrupted (the journal keeps what was done),
1 on anything unexpected (with a traceback, since that is a bug).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ashasim import __version__
from ashasim.core.factory import SCHEDULER_NAMES

__all__ = ["main"]


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
}


@contextmanager
def usage_errors(*extra: type[BaseException]) -> Iterator[None]:
    """Turn the library's input errors into usage errors (one line, exit 2, no traceback)."""
    try:
        yield
    except (ValueError, KeyError, FileNotFoundError, *extra) as error:
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


_positive_int = _number(int, 1)
_non_negative_int = _number(int, 0)
_positive_float = _number(float, 0, strict=True)


def _add_ladder(parser: argparse.ArgumentParser, *, max_t: int = 10, grace: int = 1) -> None:
    group = parser.add_argument_group("successive halving")
    group.add_argument("--eta", type=_positive_int, default=2, help="reduction factor η >= 2")
    group.add_argument("--grace-period", type=_positive_int, default=grace, help="r_min (epochs)")
    group.add_argument("--max-t", type=_positive_int, default=max_t, help="r_max (epochs)")
    group.add_argument(
        "--overlap",
        choices=("none", "top-rung", "always"),
        default="top-rung",
        help="synchronous SH: when a free worker may open the next bracket",
    )
    group.add_argument(
        "--retrain",
        action="store_true",
        help="synchronous SH: retrain promoted trials from scratch (the chapter's SH)",
    )
    group.add_argument("--mode", choices=("min", "max"), default="min")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ashasim",
        description="Simulate and run synchronous SH, ASHA and Hyperband on N workers.",
    )
    parser.add_argument("--version", action="version", version=f"ashasim {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    simulate = commands.add_parser(
        "simulate", help="replay cost-modeled trials on N simulated workers"
    )
    simulate.add_argument("--scheduler", choices=SCHEDULER_NAMES, default="asha")
    simulate.add_argument("--workers", type=_positive_int, default=4)
    simulate.add_argument(
        "--workload",
        default="d2l",
        metavar="{d2l,synthetic,story,tabular:PATH}",
        help="d2l: LeNet/FashionMNIST-calibrated curves (default); synthetic: heavy-tailed "
        "epoch times; story: the chapter's schematic story; tabular:PATH: replay a table",
    )
    simulate.add_argument("--max-trials", type=_positive_int)
    simulate.add_argument("--max-time", type=_positive_float, help="simulated seconds")
    simulate.add_argument("--seed", type=_non_negative_int, default=0)
    simulate.add_argument("--out", type=Path, help="run directory (default: runs/<scheduler>)")
    simulate.add_argument("--force", action="store_true", help="overwrite an existing run")
    simulate.add_argument("--quiet", action="store_true", help="no progress line")
    _add_ladder(simulate)
    simulate.set_defaults(handler=_simulate)

    compare = commands.add_parser(
        "compare", help="schedulers side by side over seeds and worker counts"
    )
    compare.add_argument(
        "--schedulers", nargs="+", choices=SCHEDULER_NAMES, default=["sync-sh", "asha"]
    )
    compare.add_argument("--workers", nargs="+", type=_positive_int, default=[2, 8, 32])
    compare.add_argument("--seeds", type=_positive_int, default=5, help="seeds per cell")
    compare.add_argument("--max-time", type=_positive_float, default=1800.0)
    compare.add_argument("--target", type=float, default=0.15, help="metric to reach")
    compare.add_argument(
        "--workload",
        default="variance",
        metavar="{variance,d2l,synthetic,tabular:PATH}",
        help="variance: the d2l workload with low and with high epoch-time variance (default)",
    )
    compare.add_argument("--processes", type=_positive_int, help="parallel runs (default: CPUs)")
    compare.add_argument("--out", type=Path, default=Path("runs/compare"))
    _add_ladder(compare, grace=2)
    compare.set_defaults(handler=_compare)

    tune = commands.add_parser("tune", help="tune real models on this machine's GPUs or CPU")
    what = tune.add_argument_group("what to tune")
    what.add_argument(
        "--workload",
        choices=("fashion-mnist",),
        default="fashion-mnist",
        help="built-in: LeNet on FashionMNIST, the chapter's experiment (default)",
    )
    what.add_argument("--objective", metavar="MODULE:FUNCTION", help="your objective instead")
    what.add_argument("--space", type=Path, metavar="SPACE.json", help="its search space")
    what.add_argument("--metric", default="validation_error", help="the reported metric")
    what.add_argument("--subset", type=_positive_int, help="fashion-mnist: train on N images")
    what.add_argument("--data", type=Path, help="fashion-mnist: directory of the IDX files")
    tune.add_argument("--scheduler", choices=SCHEDULER_NAMES, default="asha")
    tune.add_argument("--workers", type=_positive_int, default=2)
    tune.add_argument("--max-wallclock", type=_positive_float, help="seconds (default: none)")
    tune.add_argument("--max-trials", type=_positive_int)
    tune.add_argument("--devices", default="auto", help="auto, cpu, or cuda:0,cuda:1,...")
    tune.add_argument("--workers-per-device", type=_positive_int)
    tune.add_argument("--backend", choices=("local", "ray"), default="local")
    tune.add_argument("--ray-address", help="ray backend: auto or ray://host:port")
    tune.add_argument("--seed", type=_non_negative_int, default=0)
    tune.add_argument("--out", type=Path, help="run directory (default: runs/<name>)")
    tune.add_argument("--resume", type=Path, metavar="DIR", help="continue the run in DIR")
    tune.add_argument("--quiet", action="store_true")
    _add_ladder(tune, grace=2)
    tune.set_defaults(handler=_tune)

    plot = commands.add_parser("plot", help="redraw a run directory's figures from its journal")
    plot.add_argument("directory", type=Path)
    plot.set_defaults(handler=_plot)

    reproduce = commands.add_parser(
        "reproduce", help="make every figure and table of the sync-vs-async story"
    )
    reproduce.add_argument("--out", type=Path, default=Path("figures"))
    reproduce.add_argument(
        "--quick", action="store_true", help="fewer seeds and worker counts (for smoke tests)"
    )
    reproduce.add_argument("--processes", type=_positive_int)
    reproduce.set_defaults(handler=_reproduce)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 on a bad flag
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.handler(args) or 0)
    except UsageError as error:
        print(f"ashasim {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\nashasim {args.command}: interrupted", file=sys.stderr)
        return 130
    except RuntimeError as error:
        from ashasim.run.tuner import TunerError

        if not isinstance(error, TunerError):
            raise
        print(f"ashasim {args.command}: error: {error}", file=sys.stderr)
        return 1


# -- commands -----------------------------------------------------------------------------------


def _prepare_out(out: Path, *, force: bool) -> Path:
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


def _scheduler_options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "max_t": args.max_t,
        "grace_period": args.grace_period,
        "reduction_factor": args.eta,
        "overlap": args.overlap,
        "resume": not args.retrain,
        "mode": args.mode,
    }


def _simulate(args: argparse.Namespace) -> int:
    from ashasim.core import make_scheduler
    from ashasim.outputs import format_summary, write_outputs
    from ashasim.sim import WorkloadError, simulate
    from ashasim.sim.catalog import make_workload

    with usage_errors():
        workload = make_workload(args.workload, max_epochs=args.max_t)
        if workload.max_epochs is not None and args.max_t > workload.max_epochs:
            raise ValueError(
                f"--max-t {args.max_t} exceeds what workload {args.workload!r} has "
                f"(max_epochs={workload.max_epochs})"
            )
        scheduler = make_scheduler(
            args.scheduler,
            workload.config_space or {},
            seed=args.seed,
            max_trials=args.max_trials,
            **_scheduler_options(args),
        )
        if args.max_time is None and args.max_trials is None:
            raise ValueError("give --max-time or --max-trials, otherwise the run never ends")
    out = _prepare_out(args.out or Path("runs") / args.scheduler, force=args.force)
    with usage_errors(WorkloadError):
        trace = simulate(
            scheduler,
            workload,
            args.workers,
            max_time=args.max_time,
            seed=args.seed,
            journal=out,
            progress=not args.quiet,
        )
    write_outputs(trace, out, title=f"{args.scheduler} on {args.workload}, {args.workers} workers")
    header = f"ashasim simulate: {args.scheduler} on {args.workload}, seed {args.seed}"
    print(format_summary(trace.summary(), header=header))
    print(f"  wrote      {out}/ (journal.jsonl, results.csv, summary.json, gantt, curves)")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from ashasim.plot import idle_comparison, save
    from ashasim.progress import Progress
    from ashasim.sim import WorkloadError
    from ashasim.sim.catalog import make_workload
    from ashasim.studies.compare import as_rows, compare, format_table, summarize, variance_settings

    with usage_errors():
        if args.workload == "variance":
            settings = dict(variance_settings(args.max_t))
        else:
            settings = {args.workload: make_workload(args.workload, max_epochs=args.max_t)}
        # Build each scheduler once now, so a bad option fails before any run starts.
        from ashasim.core import make_scheduler

        for name in args.schedulers:
            for workload in settings.values():
                make_scheduler(name, workload.config_space or {}, **_scheduler_options(args))
    total = len(settings) * len(args.schedulers) * len(args.workers) * args.seeds
    progress = Progress("compare")
    done = [0]

    def tick(_: object) -> None:
        done[0] += 1
        progress.update(done[0] / total, f"{done[0]}/{total} runs")

    with usage_errors(WorkloadError):
        results = compare(
            args.schedulers,
            args.workers,
            args.seeds,
            settings=settings,
            max_time=args.max_time,
            target=args.target,
            processes=args.processes,
            on_result=tick,
            **_scheduler_options(args),
        )
    progress.close()
    summaries = summarize(results)
    table = format_table(summaries, target=args.target)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "compare.md").write_text(table + "\n", encoding="utf-8")
    save(
        idle_comparison(as_rows(summaries), title="Idle fraction (mean ± std over seeds)"),
        args.out / "compare",
    )
    print(table)
    print(f"wrote {args.out}/ (compare.md, compare.png, compare.svg)")
    return 0


def _tune(args: argparse.Namespace) -> int:
    from ashasim.core import make_scheduler
    from ashasim.outputs import format_summary
    from ashasim.run import StoppingCriterion, Tuner

    stop = None
    with usage_errors():
        if args.max_wallclock is not None or args.max_trials is not None:
            stop = StoppingCriterion(
                max_wallclock_time=args.max_wallclock, max_trials=args.max_trials
            )
    if args.resume is not None:
        from ashasim.run.tuner import STATE_FILE

        if not (args.resume / STATE_FILE).exists():
            raise UsageError(f"--resume {args.resume} holds no resumable run (no {STATE_FILE})")
        trace = _interruptible(
            lambda: Tuner.resume(args.resume, stop=stop, quiet=args.quiet), args.resume
        )
        out = args.resume
    else:
        with usage_errors():
            objective, space, max_t = _tune_objective(args)
            scheduler = make_scheduler(
                args.scheduler,
                space,
                seed=args.seed,
                metric=args.metric,
                **{**_scheduler_options(args), "max_t": max_t},
            )
            devices = args.devices if args.devices in ("auto", "cpu") else args.devices.split(",")
            tuner = Tuner(
                objective,
                space,
                scheduler,
                args.workers,
                stop=stop,
                devices=devices,
                workers_per_device=args.workers_per_device,
                experiment_dir=args.out,
                backend=args.backend,
                ray_address=args.ray_address,
                quiet=args.quiet,
            )
        out = tuner.experiment_dir
        print(
            f"ashasim tune: {args.scheduler} on {args.workers} worker(s), run directory {out}",
            file=sys.stderr,
        )
        trace = _interruptible(tuner.run, out)
    print(format_summary(trace.summary(), header=f"ashasim tune: {out}"))
    print(
        f"  wrote      {out}/ (journal.jsonl, results.csv, summary.json, gantt, curves, replay.csv)"
    )
    return 0


def _interruptible(run: Any, out: Path) -> Any:
    try:
        return run()
    except KeyboardInterrupt:
        print(
            f"\ninterrupted; the journal is intact. Continue with: ashasim tune --resume {out}",
            file=sys.stderr,
        )
        raise


def _tune_objective(args: argparse.Namespace) -> tuple[Any, dict[str, Any], int]:
    """(objective, space, max_t) from the command line."""
    import functools
    import importlib
    import json

    from ashasim.space import Domain, space_from_json

    if args.objective is None:
        from ashasim.training.fashion_mnist import chapter_space, objective

        if args.space is not None:
            raise ValueError("--space goes with --objective (the built-in workload has its own)")
        space = chapter_space(max_epochs=args.max_t)
        return (
            functools.partial(objective, data_dir=args.data, subset=args.subset),
            space,
            args.max_t,
        )
    if args.space is None:
        raise ValueError("--objective needs --space SPACE.json (its search space)")
    module_name, _, function = args.objective.partition(":")
    if not module_name or not function:
        raise ValueError(f"--objective must look like module:function, got {args.objective!r}")
    sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"--objective: cannot import {module_name!r} ({error})") from None
    objective = getattr(module, function, None)
    if not callable(objective):
        raise ValueError(f"--objective: {module_name} has no function {function!r}")
    try:
        space = space_from_json(json.loads(args.space.read_text(encoding="utf-8")))
    except json.JSONDecodeError as error:
        raise ValueError(f"--space {args.space}: not JSON ({error})") from None
    max_t = args.max_t
    constant = space.get("max_epochs")
    if isinstance(constant, int) and not isinstance(constant, Domain):
        max_t = constant  # the space fixes the epochs the objective trains for
    return objective, space, max_t


def _plot(args: argparse.Namespace) -> int:
    from ashasim.events import load_experiment
    from ashasim.outputs import write_outputs

    with usage_errors():
        trace = load_experiment(args.directory)
    written = write_outputs(trace, args.directory)
    print("wrote " + ", ".join(str(path) for path in written))
    return 0


def _reproduce(args: argparse.Namespace) -> int:
    from ashasim.studies import chapter_story, lenet_curves, sync_vs_async

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    chapter_story.write(out)
    print(f"chapter story: {out}/gantt_sync.png, {out}/gantt_async.png")
    lenet_curves.write(out)
    print(f"LeNet curves:  {out}/curves_asha-stopping.png, {out}/curves_random.png")
    workers = (2, 8, 32) if args.quick else sync_vs_async.DEFAULT_WORKERS
    seeds = 2 if args.quick else 10
    target = 0.15
    results = sync_vs_async.run(
        workers=workers, seeds=seeds, target=target, processes=args.processes
    )
    paths = sync_vs_async.write(out, results, target=target)
    print(paths["table"].read_text(encoding="utf-8"))
    print(f"sync vs async: {paths['table']}, {paths['figure']}")
    return 0
