"""The trainable's side of a run: ``tune.report``, the trial directory, checkpoints.

``FunctionTrainable`` is what the executor's workers call for each job of a trial. It gives the
user's function its config (nested again) and a *session*: the trial's directory, made the
working directory for the job (so ``torch.save(model, "model.pth")`` lands there); the count of
reports so far, ``training_iteration``, which is the trial's resource unless the scheduler's
``time_attr`` names a key of the reports; and the checkpoint it resumes from, if any.

``tune.report(**metrics)`` adds what Ray Tune adds to a result (``training_iteration``,
``time_this_iter_s``, ``time_total_s``, ``timestamp``, ...), appends it to the trial's
``result.json``, and sends it through ashasim's ``Reporter`` to the driver; a STOP (or the job's
milestone) unwinds the function there, exactly as ashasim's own objectives are stopped.

A promoted trial resumes through its checkpoint: the function gets the restored directory as its
``checkpoint_dir`` argument (Ray Tune 1.x) or from ``tune.get_checkpoint()`` (2.x), and the
iteration count and total time continue from the checkpoint. Without one it retrains from the
start; its reports up to the point it paused at are not recorded twice.

Working directory and threads: the local and Ray backends run one job per process at a time, so
a chdir for the job is safe (it is undone when the job ends). The in-process ``FakeBackend``
runs its workers as threads that take turns: every time a trainable gets control back (its
start, and the return of each report) it changes into its own trial directory again, so files
it writes still land in the right place, and ``tune.run`` restores the caller's directory at the
end. Paths the driver uses are absolute.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import inspect
import json
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from numbers import Number
from pathlib import Path
from typing import Any

from ashasim.checks import RecordsArguments
from ashasim.events.records import json_default
from ashasim.run import checkpoint as store
from ashasim.run.context import current_job
from ashasim.run.reporter import Reporter
from ashasim.tune.checkpoints import (
    MARK,
    Checkpoint,
    KeepPolicy,
    copy_name,
    materialize,
    pack,
    prune_copies,
    unpack,
)
from ashasim.tune.configs import flatten_result, unflatten
from ashasim.tune.errors import TuneError
from ashasim.tune.naming import TrialNaming
from ashasim.tune.results import RESULT_FILE, read_results
from ashasim.tune.stopping import TrialStop

__all__ = [
    "RESULT_FILE",
    "FunctionTrainable",
    "checkpoint_dir",
    "get_checkpoint",
    "get_trial_dir",
    "get_trial_id",
    "get_trial_name",
    "report",
]

PARAMS_FILE = "params.json"
DEFAULT_METRIC = "_metric"  # Ray Tune's key for a number a trainable returns or yields


class _StopRequested(BaseException):
    """A result met ``stop``: unwinds the trainable (not caught by ``except Exception``) so
    that the job ends as if the function had returned."""


class _Session:
    """One job of one trial, as its trainable sees it."""

    def __init__(
        self,
        trainable: FunctionTrainable,
        trial_id: int,
        trial_dir: Path,
        resume_from: int,
        restored: dict[str, Any] | None,
        name: str,
    ) -> None:
        self.trainable = trainable
        self.trial_id = trial_id
        self.trial_dir = trial_dir
        self.name = name
        self.resume_from = resume_from
        self.iteration = int(restored["training_iteration"]) if restored else 0
        self.time_before = float(restored["time_total_s"]) if restored else 0.0
        self.checkpoint = materialize(restored, trial_dir) if restored else None
        self.started = self.last = time.time()
        self.reports = 0
        self.stop = trainable.stop and trainable.stop.for_trial(trial_id, self._earlier())

    def _earlier(self) -> list[dict[str, Any]]:
        """The trial's results up to the point this job resumes from, flattened (a Stopper is
        shown them: ``TrialStop.for_trial``)."""
        time_attr = self.trainable.time_attr
        return [
            flatten_result(row)
            for row in read_results(self.trial_dir)
            if isinstance(row.get(time_attr), (int, float)) and row[time_attr] <= self.resume_from
        ]

    def report(self, metrics: dict[str, Any], checkpoint: Checkpoint | None) -> None:
        trainable = self.trainable
        metric = trainable.metric
        if metric is not None and metric not in metrics:
            raise TuneError(
                f"tune.report() got no {metric!r}, the metric the run optimizes; it reported "
                f"{sorted(metrics)}"
            )
        now = time.time()
        self.iteration += 1
        self.reports += 1
        result = dict(metrics)
        result.update(
            training_iteration=self.iteration,
            time_this_iter_s=now - self.last,
            time_total_s=self.time_before + (now - self.started),
            time_since_restore=now - self.started,
            iterations_since_restore=self.reports,
            timestamp=int(now),
            date=_dt.datetime.fromtimestamp(now).strftime("%Y-%m-%d_%H-%M-%S"),
            trial_id=self.trial_id,
            pid=os.getpid(),
            hostname=socket.gethostname(),
            node_ip=_node_ip(),
        )
        self.last = now
        resource = result.get(trainable.time_attr)
        if resource is None:
            raise TuneError(
                f"tune.report() got no {trainable.time_attr!r}, the scheduler's time_attr; "
                f"report it every time (e.g. tune.report(..., {trainable.time_attr}=...))"
            )
        new = isinstance(resource, (int, float)) and resource > self.resume_from
        stop = self.stop if new else None  # (a retrained result was checked the first time)
        why = None if stop is None else stop.reason(self.trial_id, flatten_result(result))
        result["done"] = why is not None
        if checkpoint is not None:
            self.stage(pack(checkpoint.path), self.iteration)
        if new:
            with open(self.trial_dir / RESULT_FILE, "a", encoding="utf-8") as stream:
                stream.write(json.dumps(result, default=_jsonable) + "\n")
            if trainable.keep is not None:
                prune_copies(self.trial_dir, read_results(self.trial_dir), trainable.keep)
        try:
            Reporter()(**result)
        finally:
            os.chdir(self.trial_dir)  # the FakeBackend's threads take turns (module docstring)
        if why is not None:
            raise _StopRequested(why)

    def stage(self, files: dict[str, bytes], iteration: int) -> None:
        """A checkpoint for the report of *iteration*, the next one (ashasim files it under that
        report's resource)."""
        state = {
            MARK: 1,
            "training_iteration": iteration,
            "time_total_s": self.time_before + (time.time() - self.started),
            "files": files,
        }
        store.save(state)
        unpack(files, self.trial_dir / copy_name(iteration))  # the copy Ray Tune's layout keeps


@functools.cache
def _node_ip() -> str:
    """This machine's address, as Ray Tune's ``node_ip`` (the loopback one when offline)."""
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"


def _jsonable(value: Any) -> Any:
    try:
        return json_default(value)
    except TypeError:
        return repr(value)


_SESSION: ContextVar[_Session | None] = ContextVar("ashasim_tune_session", default=None)
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _calling_style(fn: Callable[..., Any], keys: list[str]) -> tuple[bool, bool]:
    """(call as fn(config), pass checkpoint_dir=): Ray Tune's ``train(config)`` or the chapter's
    ``objective(learning_rate, batch_size, ...)``."""
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return True, False
    takes_checkpoint = "checkpoint_dir" in parameters
    positional = [p for p in parameters.values() if p.kind in _POSITIONAL]
    if not positional and any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return False, takes_checkpoint  # objective(**config)
    required = [p.name for p in positional if p.default is p.empty and p.name != "checkpoint_dir"]
    by_name = bool(required) and all(name in keys for name in required) and "config" not in keys
    return not by_name or "config" in parameters, takes_checkpoint


class FunctionTrainable(RecordsArguments):
    """The objective the executor runs for a Ray Tune function trainable (module docstring).

    *experiment_dir*: absolute; trial ``k`` lives in ``<experiment_dir>/<prefix>_<k:05d>``,
    unless *naming*'s ``trial_dirname_creator`` names its directory (``ashasim.tune.naming``).
    *metric*: required in every report (None: not checked). *time_attr*: the resource key.
    *stop*: what ends a trial by its results (``ashasim.tune.stopping``). *keep*: how many
    checkpoint copies the trial directory keeps (``keep_checkpoints_num``; None: all).
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        keys: list[str],
        experiment_dir: str,
        naming: TrialNaming,
        metric: str | None,
        time_attr: str,
        stop: TrialStop | None = None,
        keep: KeepPolicy | None = None,
    ) -> None:
        self.fn = fn
        self.stop = stop
        self.keep = keep
        self.experiment_dir = experiment_dir
        self.naming = naming
        self.metric = metric
        self.time_attr = time_attr
        self.with_config, self.takes_checkpoint = _calling_style(fn, keys)

    def __call__(self, **flat: Any) -> None:
        job = current_job()
        if job is None:  # called directly, not by a worker: just the function
            self._call(flat, None)
            return
        # <experiment>/checkpoints/trial_<id> (ashasim.run.checkpoint's layout): the run's
        # directory now, even if it was moved before a resume
        root = Path(job.checkpoint_dir).parents[1] if job.checkpoint_dir else self.experiment_dir
        name, dirname = self.naming.names(Path(root), job.trial_id, flat)
        trial_dir = Path(root) / dirname
        trial_dir.mkdir(parents=True, exist_ok=True)
        params = trial_dir / PARAMS_FILE
        if not params.exists():
            params.write_text(json.dumps(unflatten(flat), default=_jsonable, indent=1) + "\n")
        restored = store.load()
        if not (isinstance(restored, dict) and MARK in restored):
            restored = None
        session = _Session(self, job.trial_id, trial_dir, job.resume_from, restored, name)
        previous = os.getcwd()
        token = _SESSION.set(session)
        os.chdir(trial_dir)
        try:
            with contextlib.suppress(_StopRequested):
                self._call(flat, session.checkpoint)
            if session.reports == 0 and job.resume_from == 0:
                raise TuneError(
                    "the trainable returned without calling tune.report(); report at least "
                    "once (e.g. tune.report(loss=...) after each epoch)"
                )
        finally:
            _SESSION.reset(token)
            os.chdir(previous)

    def _call(self, flat: Mapping[str, Any], restored: Checkpoint | None) -> None:
        """Call the function; what it returns or yields is reported, as Ray Tune does."""
        extra = {"checkpoint_dir": restored.path if restored else None}
        extra = extra if self.takes_checkpoint else {}
        if self.with_config:
            output = self.fn(unflatten(flat), **extra)
        else:
            output = self.fn(**flat, **extra)
        if inspect.isgenerator(output):
            for value in output:
                _report_output(value)
        else:
            _report_output(output)


def _report_output(output: Any) -> None:
    """A returned (or yielded) dict is a report, a number a report of ``_metric`` (Ray Tune's
    function trainables); anything else is refused with Ray Tune's message."""
    if not output:
        return
    if isinstance(output, Mapping):
        report(dict(output))
    elif isinstance(output, Number):
        report({DEFAULT_METRIC: output})
    else:
        raise ValueError(
            "Invalid return or yield value. Either return/yield a single number or a "
            "dictionary object in your trainable function."
        )


# -- what a trainable calls ---------------------------------------------------------------------


def report(
    metrics: Mapping[str, Any] | None = None, *, checkpoint: Any = None, **kwargs: Any
) -> None:
    """Report this iteration's results: ``tune.report(loss=0.3, accuracy=0.9)`` (Ray Tune 1.x)
    or ``tune.report({"loss": 0.3}, checkpoint=Checkpoint.from_directory(d))`` (2.x).

    Inside a run it may stop the trainable (a STOP, or the end of its job): that unwinds it
    with ashasim's ``StopTrial``, which ``except Exception`` does not catch. Outside a run it
    does nothing, so a trainable can be called as a plain function.
    """
    if metrics is not None and not isinstance(metrics, Mapping):
        raise TypeError(
            f"tune.report() takes a dict or keyword arguments (tune.report(loss=0.3)), got "
            f"{metrics!r}"
        )
    if checkpoint is not None and not isinstance(checkpoint, Checkpoint):
        raise TypeError(f"checkpoint must be a tune.Checkpoint, got {checkpoint!r}")
    values = {**(metrics or {}), **kwargs}
    if not values:
        raise TypeError("tune.report() needs at least one metric, e.g. tune.report(loss=0.3)")
    session = _SESSION.get()
    if session is not None:
        session.report(values, checkpoint)


@contextlib.contextmanager
def checkpoint_dir(step: int | None = None) -> Iterator[str]:
    """``with tune.checkpoint_dir(step) as d:`` write the checkpoint's files into ``d``; they
    become the checkpoint of the next ``tune.report`` (Ray Tune 1.x). Outside a run: a
    temporary directory, discarded."""
    session = _SESSION.get()
    if session is None:
        with tempfile.TemporaryDirectory(prefix="tune-checkpoint-") as folder:
            yield folder
        return
    staging = Path(session.trial_dir) / ".checkpoint_staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        yield str(staging)
        session.stage(pack(staging), session.iteration + 1)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def get_checkpoint() -> Checkpoint | None:
    """The checkpoint this trial resumes from (Ray Tune 2.x), or None on a fresh start."""
    session = _SESSION.get()
    return None if session is None else session.checkpoint


def get_trial_dir() -> str | None:
    """The trial's directory (also the working directory while it runs); None outside a run."""
    session = _SESSION.get()
    return None if session is None else str(session.trial_dir)


def get_trial_name() -> str | None:
    session = _SESSION.get()
    return None if session is None else session.name


def get_trial_id() -> int | None:
    session = _SESSION.get()
    return None if session is None else session.trial_id
