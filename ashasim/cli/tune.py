"""``ashasim tune``: a real run of the built-in LeNet/FashionMNIST workload or your objective."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any

from ashasim.checks import MAX_WORKERS
from ashasim.cli.common import (
    MAX_SPACE_BYTES,
    SCHEDULER_NAMES,
    UsageError,
    add_ladder,
    add_stop_rules,
    make_directory,
    non_empty_path,
    non_negative_int,
    positive_float,
    positive_int,
    read_space,
    scheduler_options,
    stop_rules,
    usage_errors,
    worker_count,
)
from ashasim.core.defaults import GRACE_PERIOD, OVERLAP, REDUCTION_FACTOR
from ashasim.events.journal import MAX_ERROR_CHARS

__all__ = ["register"]

DEFAULT_MAX_T = 10

# What a new run takes when a flag is not given. The flags default to None, so that a resume can
# tell a flag given (refused: the resumed run keeps its saved value) from one left out.
NEW_RUN_DEFAULTS: dict[str, Any] = {
    "metric": "validation_error",
    "scheduler": "asha",
    "workers": 2,
    "devices": "auto",
    "backend": "local",
    "seed": 0,
    "max_retries": 0,
    "eta": REDUCTION_FACTOR,
    "grace_period": GRACE_PERIOD,
    "overlap": OVERLAP,
    "mode": "min",
}
# flags a resume cannot change (the saved run has them), besides those of NEW_RUN_DEFAULTS that
# it can (max_retries), and --out (the run directory is the one resumed)
FIXED_ON_RESUME = (
    *(name for name in NEW_RUN_DEFAULTS if name != "max_retries"),
    "workload",
    "objective",
    "space",
    "subset",
    "data",
    "workers_per_device",
    "max_t",
    "retrain",
    "searcher",
    "out",
)
LIMITS = (
    f"Limits: at most {MAX_WORKERS} workers; a --space file of at most {MAX_SPACE_BYTES // 2**20} "
    f"MiB; a failed job's error message is journaled up to {MAX_ERROR_CHARS // 1024} KiB (its "
    "middle cut out, marked). With --resume only the stop (--max-wallclock, --max-trials), the "
    "fault handling (--trial-timeout, --max-retries, --retry-on-error), --durable and where the "
    "workers are (--ray-address, --placement-timeout) may change."
)


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "tune", help="tune real models on this machine's GPUs or CPU", epilog=LIMITS
    )
    what = parser.add_argument_group("what to tune")
    what.add_argument(
        "--workload",
        choices=("fashion-mnist",),
        help="built-in: LeNet on FashionMNIST, the chapter's experiment (default)",
    )
    what.add_argument("--objective", metavar="MODULE:FUNCTION", help="your objective instead")
    what.add_argument(
        "--space",
        type=non_empty_path,
        metavar="SPACE.json",
        help=f"its search space (JSON, at most {MAX_SPACE_BYTES // 2**20} MiB)",
    )
    what.add_argument(
        "--metric", help="the reported metric (default validation_error); not the resource (epoch)"
    )
    what.add_argument("--subset", type=positive_int, help="fashion-mnist: train on N images")
    what.add_argument(
        "--data", type=non_empty_path, help="fashion-mnist: directory of the IDX files"
    )
    parser.add_argument("--scheduler", choices=SCHEDULER_NAMES, help="default asha")
    parser.add_argument("--workers", type=worker_count, help=f"1..{MAX_WORKERS} (default 2)")
    parser.add_argument("--max-wallclock", type=positive_float, help="seconds (default: none)")
    parser.add_argument("--max-trials", type=positive_int)
    add_stop_rules(parser)
    parser.add_argument("--devices", help="auto (default), cpu, or cuda:0,cuda:1,...")
    parser.add_argument("--workers-per-device", type=positive_int)
    parser.add_argument("--backend", choices=("local", "ray"), help="default local")
    parser.add_argument(
        "--ray-address",
        help="ray backend: auto, host:port or ray://host:port (with --resume: the cluster to "
        "continue on)",
    )
    parser.add_argument(
        "--max-retries",
        type=non_negative_int,
        metavar="N",
        help="retry a trial whose worker died (node lost, OOM kill) up to N times (default 0)",
    )
    parser.add_argument(
        "--retry-on-error",
        action="store_true",
        help="retry exceptions raised by the objective too",
    )
    parser.add_argument(
        "--placement-timeout",
        type=positive_float,
        metavar="SECONDS",
        help="stop (resumable) when no worker can be started for this long (default 600)",
    )
    parser.add_argument("--seed", type=non_negative_int, help="default 0")
    parser.add_argument("--out", type=non_empty_path, help="run directory (default: runs/<name>)")
    parser.add_argument(
        "--resume", type=non_empty_path, metavar="DIR", help="continue the run in DIR"
    )
    parser.add_argument(
        "--trial-timeout",
        type=positive_float,
        metavar="SECONDS",
        help="a job running longer fails and its worker is replaced (default: no limit)",
    )
    parser.add_argument(
        "--durable",
        action="store_true",
        help="fsync the journal after every event (survives a machine crash)",
    )
    parser.add_argument(
        "--trust-run-dir",
        action="store_true",
        help="allow pickled code: with --resume, read settings the run kept by value or a "
        "tuner.pkl of an older ashasim (unpickling runs code: only for directories you trust)",
    )
    parser.add_argument("--quiet", action="store_true")
    add_ladder(parser)
    # None: not given (the space's max_epochs, else 10); a --max-t the space contradicts is an error
    parser.set_defaults(handler=run, max_t=None, **dict.fromkeys(NEW_RUN_DEFAULTS))
    # --workload None: the built-in one when no --objective is given


def run(args: argparse.Namespace) -> int:
    from ashasim.outputs import format_summary, write_figures

    if args.resume is not None:
        out = args.resume
        trace = _interruptible(lambda: _resume(args), out)
    else:
        for name, default in NEW_RUN_DEFAULTS.items():
            if getattr(args, name) is None:
                setattr(args, name, default)
        with usage_errors():
            experiment, objective, backend = _experiment(args)
        out = experiment.directory
        created = make_directory(out, "--out")  # every check passed: the first thing written
        print(
            f"ashasim tune: {args.scheduler} on {args.workers} worker(s), run directory {out}",
            file=sys.stderr,
        )
        run = lambda: experiment.run(  # noqa: E731
            objective, backend=backend, quiet=args.quiet, allow_pickle=args.trust_run_dir
        )
        try:
            trace = _interruptible(run, out)
        except UsageError:  # refused before the run began: leave no empty directory behind
            if created:
                _remove_if_unused(out)
            raise
    write_figures(trace, out, title=out.name)
    print(format_summary(trace.summary(), header=f"ashasim tune: {out}"))
    print(
        f"  wrote      {out}/ (journal.jsonl, results.csv, summary.json, gantt, curves, replay.csv)"
    )
    return 0


def _stop(args: argparse.Namespace) -> Any:
    from ashasim.experiment import Stop

    with usage_errors():
        return Stop(time=args.max_wallclock, trials=args.max_trials, **stop_rules(args))


def _experiment(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """The run the command line frames: (experiment, objective, backend config)."""
    from ashasim.core import make_scheduler
    from ashasim.experiment import Experiment, Faults, Local, Ray
    from ashasim.frame import check_directory
    from ashasim.run.real_run import DEFAULT_ROOT, default_name

    if args.out is not None:
        check_directory("--out", args.out)
    objective, space, max_t = _tune_objective(args)
    scheduler = make_scheduler(
        args.scheduler,
        space,
        seed=args.seed,
        metric=args.metric,
        **{**scheduler_options(args), "max_t": max_t},
    )
    if scheduler.metric == scheduler.resource_attr:
        raise ValueError(
            f"--metric {args.metric} is the resource (what a report counts progress in), not a "
            f"result to rank trials by: name the metric the objective reports"
        )
    timeout = (
        {} if args.placement_timeout is None else {"placement_timeout": args.placement_timeout}
    )
    if args.backend == "ray":
        devices = "cpu" if args.devices == "cpu" else "auto"
        backend: Any = Ray(
            args.ray_address, devices=devices, workers_per_device=args.workers_per_device, **timeout
        )
    else:
        devices = args.devices if args.devices in ("auto", "cpu") else args.devices.split(",")
        backend = Local(devices, args.workers_per_device, **timeout)
    backend.slots(args.workers)  # the workers fit the devices, and the devices are here
    faults = Faults(
        max_retries=args.max_retries,
        retry_on_error=args.retry_on_error,
        trial_timeout=args.trial_timeout,
    )
    experiment = Experiment(
        scheduler,
        args.workers,
        stop=_stop(args),
        directory=args.out or DEFAULT_ROOT / default_name(scheduler),
        faults=faults,
        durable=args.durable,
    )
    return experiment, objective, backend


def _resume(args: argparse.Namespace) -> Any:
    """``--resume DIR`` with the flags given as changes to the saved run."""
    from ashasim.experiment import Experiment

    given = [name for name in FIXED_ON_RESUME if getattr(args, name) not in (None, False)]
    if given:
        flag = "--" + given[0].replace("_", "-")
        raise UsageError(
            f"{flag} cannot change on resume: the run in {args.resume} keeps its saved "
            f"settings (see ashasim tune --help for what a resume may change)"
        )
    changes: dict[str, Any] = {}
    if args.max_wallclock is not None or args.max_trials is not None or stop_rules(args):
        changes["stop"] = _stop(args)
    faults = {
        "trial_timeout": args.trial_timeout,
        "max_retries": args.max_retries,
        "retry_on_error": args.retry_on_error or None,
    }
    faults = {key: value for key, value in faults.items() if value is not None}
    if faults:
        changes["faults"] = faults
    if args.durable:
        changes["durable"] = True
    backend = {"address": args.ray_address, "placement_timeout": args.placement_timeout}
    backend = {key: value for key, value in backend.items() if value is not None}
    if backend:
        changes["backend"] = backend
    return Experiment.resume(
        args.resume, quiet=args.quiet, allow_pickle=args.trust_run_dir, **changes
    )


def _remove_if_unused(out: Path) -> None:
    """Remove the empty run directory this command made, unless a driver holds it: another
    driver started at the same moment may have won it and not written anything yet (removing it
    then made that driver's run fail on a directory that was gone)."""
    from ashasim.driver import RunError
    from ashasim.run.lock import RunLock

    with contextlib.suppress(RunError, OSError), RunLock(out):  # (busy: RunError)
        if not any(out.iterdir()):
            out.rmdir()


def _interruptible(run: Any, out: Path) -> Any:
    """Run; a refused resume or a busy directory is a usage error (exit 2, nothing written);
    Ctrl-C (exit 130) and SIGTERM (exit 143) say how to continue."""
    from ashasim.events.journal import JournalError
    from ashasim.run import ResumeError, RunDirectoryBusyError, Terminated
    from ashasim.run.executor import NoWorkersError
    from ashasim.run.ray_backend import ClusterUnreachableError

    try:
        return run()
    except (ResumeError, RunDirectoryBusyError, ClusterUnreachableError, JournalError) as error:
        raise UsageError(str(error)) from None
    except NoWorkersError as error:
        raise NoWorkersError(
            f"{error}. Continue with: ashasim tune --resume {out} [--ray-address ADDRESS]"
        ) from None
    except (KeyboardInterrupt, Terminated) as error:
        what = "interrupted" if isinstance(error, KeyboardInterrupt) else "terminated"
        print(
            f"\n{what}; the journal is intact. Continue with: ashasim tune --resume {out}",
            file=sys.stderr,
        )
        raise


def _tune_objective(args: argparse.Namespace) -> tuple[Any, dict[str, Any], int]:
    """(objective, space, max_t) from the command line."""
    import functools

    from ashasim.run.codec import import_from_folder
    from ashasim.run.signature import check_signature
    from ashasim.space import Domain

    if args.objective is None:
        from ashasim.training.fashion_mnist import chapter_space, objective

        if args.space is not None:
            raise ValueError("--space goes with --objective (the built-in workload has its own)")
        if args.metric != NEW_RUN_DEFAULTS["metric"]:
            raise ValueError(
                f"--metric {args.metric}: the built-in workload reports validation_error only"
            )
        max_t = args.max_t or DEFAULT_MAX_T
        space = chapter_space(max_epochs=max_t)
        return (
            functools.partial(objective, data_dir=args.data, subset=args.subset),
            space,
            max_t,
        )
    if args.space is None:
        raise ValueError("--objective needs --space SPACE.json (its search space)")
    _refuse_builtin_flags(args)
    module_name, _, function = args.objective.partition(":")
    if not module_name or not function:
        raise ValueError(f"--objective must look like module:function, got {args.objective!r}")
    space = read_space(args.space)  # before the import: a bad path is the cheaper error
    try:  # from the working directory, which goes after the standard library on sys.path
        module = import_from_folder(module_name, Path.cwd().resolve(), strict=False)
    except ImportError as error:
        raise ValueError(f"--objective: cannot import {module_name!r} ({error})") from None
    except Exception as error:
        raise ValueError(
            f"--objective: importing {module_name!r} raised {type(error).__name__}: {error}"
        ) from None
    found = getattr(module, function, None)
    if not callable(found):
        raise ValueError(f"--objective: {module_name} has no function {function!r}")
    objective = found
    try:
        check_signature(objective, space)
    except ValueError as error:
        raise ValueError(f"--objective {args.objective}: {error} (--space {args.space})") from None
    max_t = args.max_t or DEFAULT_MAX_T
    constant = space.get("max_epochs")
    if isinstance(constant, int) and not isinstance(constant, Domain):
        if args.max_t is not None and args.max_t != constant:
            raise ValueError(
                f"--max-t {args.max_t} contradicts the space's max_epochs = {constant} (the "
                f"epochs the objective trains for); drop --max-t or change the space"
            )
        max_t = constant  # the space fixes the epochs the objective trains for
    return objective, space, max_t


def _refuse_builtin_flags(args: argparse.Namespace) -> None:
    """The built-in workload's flags with --objective: your objective would never see them."""
    for flag, value in (("--data", args.data), ("--subset", args.subset)):
        if value is not None:
            raise ValueError(f"{flag} goes with the built-in workload, not with --objective")
    if args.workload is not None:
        raise ValueError("--workload and --objective are two choices of what to tune: give one")
