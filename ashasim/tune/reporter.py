"""``CLIReporter``: Ray Tune's status table, printed while a run goes and once at its end.

The table has a row per trial (its name, status, the parameters that vary, the chosen metric
columns from its last result) above a summary line (trials by status, the best so far). While
the run goes it is printed every ``max_report_frequency`` seconds; ``tune.run`` prints the final
one. The table is built from the journal and each trial's ``result.json``, the same files
``ExperimentAnalysis`` reads, so what is printed is what the analysis will say.
"""

from __future__ import annotations

import datetime as _dt
import math
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ashasim.checks import check_int, check_number, check_optional_int
from ashasim.errors import last_line
from ashasim.progress import format_seconds
from ashasim.tune.analysis import Trial
from ashasim.tune.configs import flatten_result

__all__ = ["AUTO_KEYS", "CLIReporter", "JupyterNotebookReporter", "LiveTable", "ProgressReporter"]

# Ray Tune's display names of the keys every result has
_SHORT = {"training_iteration": "iter", "time_total_s": "total time (s)"}
# what every result holds besides the trainable's own metrics (not inferred as metric columns)
AUTO_KEYS = frozenset(
    [
        "training_iteration",
        "time_this_iter_s",
        "time_total_s",
        "time_since_restore",
        "iterations_since_restore",
        "timestamp",
        "date",
        "trial_id",
        "pid",
        "hostname",
        "node_ip",
        "done",
        "config",
        "experiment_tag",
        "checkpoint_dir_name",
        "report",
    ]
)
_ORDER = {"RUNNING": 0, "PAUSED": 1, "PENDING": 2, "TERMINATED": 3, "ERROR": 4}


def _names(columns: Sequence[str] | Mapping[str, str] | None, what: str) -> dict[str, str] | None:
    if columns is None:
        return None
    if isinstance(columns, Mapping):
        return {str(k): str(v) for k, v in columns.items()}
    if isinstance(columns, str) or not isinstance(columns, Sequence):
        raise ValueError(f"{what} must be a list of names or a dict name -> header: {columns!r}")
    return {str(c): _SHORT.get(str(c), str(c)) for c in columns}


def _cell(value: Any, width: int) -> str:
    if isinstance(value, bool) or value is None:
        text = "" if value is None else str(value)
    elif isinstance(value, float):
        text = f"{value:.5g}" if math.isfinite(value) else str(value)
    else:
        text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


class ProgressReporter:
    """Base of the reporters; ``tune.run`` accepts any subclass of ``CLIReporter``."""


class CLIReporter(ProgressReporter):
    """Ray Tune's CLIReporter.

    *metric_columns*: result keys to show (a list, or a dict key -> header; default, as Ray
    Tune infers them: the run's metric and up to *infer_limit* (3) reported metrics, then
    iterations and total time). *parameter_columns*: config keys (default: those the
    search space varies). *max_progress_rows* (20), *max_error_rows* (20), *max_column_length*
    (20), *max_report_frequency* (5 s between tables while the run goes), *metric*/*mode*/
    *sort_by_metric* (rows best first) as in Ray Tune. *print_intermediate_tables*:
    the table of trials in the reports while the run goes (None, Ray's default: only at
    ``verbose=3``; the final report has it from ``verbose=2``). *total_samples*: the trials
    the run will start, shown as "Number of trials: 3/10"; as in Ray Tune, ``tune.run`` sets
    it to its own count (``setup``), "infinite" for ``num_samples=-1``.
    """

    def __init__(
        self,
        metric_columns: Sequence[str] | Mapping[str, str] | None = None,
        parameter_columns: Sequence[str] | Mapping[str, str] | None = None,
        total_samples: int | None = None,
        max_progress_rows: int = 20,
        max_error_rows: int = 20,
        max_column_length: int = 20,
        max_report_frequency: float = 5,
        infer_limit: int = 3,
        print_intermediate_tables: bool | None = None,
        metric: str | None = None,
        mode: str | None = None,
        sort_by_metric: bool = False,
    ) -> None:
        self.metric_columns = _names(metric_columns, "metric_columns")
        self.parameter_columns = _names(parameter_columns, "parameter_columns")
        self.max_progress_rows = check_int("max_progress_rows", max_progress_rows, minimum=1)
        self.max_error_rows = check_int("max_error_rows", max_error_rows, minimum=0)
        self.max_column_length = check_int("max_column_length", max_column_length, minimum=4)
        self.max_report_frequency = check_number(
            "max_report_frequency", max_report_frequency, minimum=0
        )
        self.metric, self.mode, self.sort_by_metric = metric, mode, bool(sort_by_metric)
        self.infer_limit = check_int("infer_limit", infer_limit, minimum=0)
        self.print_intermediate_tables = print_intermediate_tables
        self.set_total_samples(total_samples)

    def set_total_samples(self, total_samples: int | None) -> None:
        """The trials the run will start (None: not shown; ``sys.maxsize``: "infinite")."""
        self.total_samples = check_optional_int("total_samples", total_samples, minimum=0)

    def add_metric_column(self, metric: str, representation: str | None = None) -> None:
        self.metric_columns = dict(self.metric_columns or {})
        self.metric_columns[metric] = representation or _SHORT.get(metric, metric)

    def add_parameter_column(self, parameter: str, representation: str | None = None) -> None:
        self.parameter_columns = dict(self.parameter_columns or {})
        self.parameter_columns[parameter] = representation or parameter

    def report(self, text: str) -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    # -- the table ------------------------------------------------------------------------------

    def table(
        self,
        trials: Sequence[Trial],
        *,
        metric: str | None,
        mode: str | None,
        varying: Sequence[str],
        header: str,
        elapsed: float,
        final: bool = False,
        rows: bool = True,
    ) -> str:
        """The status text for *trials* (see the module docstring); *rows*: with the table of
        trials (Ray Tune leaves it out of some reports, see ``LiveTable``)."""
        metric, mode = self.metric or metric, self.mode or mode
        metrics = self.metric_columns
        if metrics is None:
            shown = self._inferred(trials, metric)
            metrics = {k: _SHORT.get(k, k) for k in [*shown, "training_iteration", "time_total_s"]}
        params = self.parameter_columns or {name: name for name in varying}
        counts: dict[str, int] = {}
        for trial in trials:
            counts[trial.status] = counts.get(trial.status, 0) + 1
        by_status = ", ".join(f"{n} {s}" for s, n in sorted(counts.items(), key=_by_order))
        stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        lines = [
            "== Status ==" + (" (final)" if final else ""),
            f"Current time: {stamp} (running for {format_seconds(elapsed)})",
            header,
            f"Number of trials: {len(trials)}{self._out_of()} ({by_status or 'none yet'})",
        ]
        best = _best(trials, metric, mode)
        if best is not None:
            lines.append(f"Current best trial: {best[1].name} with {metric}={best[0]:.5g}")
        if rows:
            lines += self._rows(trials, metric, mode, params, metrics)
        errors = [t for t in trials if t.status == "ERROR"]
        if errors and self.max_error_rows:
            lines.append(f"Number of errored trials: {len(errors)}")
            for trial in errors[: self.max_error_rows]:
                lines.append(f"  {trial.name}: {last_line(trial.error)}")
        return "\n".join(lines)

    def _rows(
        self,
        trials: Sequence[Trial],
        metric: str | None,
        mode: str | None,
        params: dict[str, str],
        metrics: dict[str, str],
    ) -> list[str]:
        """The table of trials: a row each (at most *max_progress_rows*)."""
        ordered = self._ordered(trials, metric, mode)
        shown = ordered[: self.max_progress_rows]
        columns = ["Trial name", "status", *params.values(), *metrics.values()]
        cells = []
        for trial in shown:
            config = flatten_result(trial.config)
            result = flatten_result(trial.last_result)
            cells.append(
                [trial.name, trial.status]
                + [config.get(k) for k in params]
                + [result.get(k) for k in metrics]
            )
        lines = _grid(columns, cells, self.max_column_length)
        if len(ordered) > len(shown):
            lines.append(f"... {len(ordered) - len(shown)} more trials not shown")
        return lines

    def _out_of(self) -> str:
        """Ray Tune's "/total" after the count of trials (nothing when the total is unknown)."""
        total = self.total_samples
        if not total:
            return ""
        return "/infinite" if total >= sys.maxsize else f"/{total}"

    def _inferred(self, trials: Sequence[Trial], metric: str | None) -> list[str]:
        """The run's metric and the first *infer_limit* metrics the trials reported."""
        found = [metric] if metric else []
        for trial in trials:
            for key in flatten_result(trial.last_result):
                if key not in AUTO_KEYS and key not in found:
                    found.append(key)
        return found[: max(self.infer_limit, len(found[:1]))]

    def _ordered(self, trials: Sequence[Trial], metric: str | None, mode: str | None) -> list:
        if self.sort_by_metric and metric and mode:
            sign = 1.0 if mode == "min" else -1.0

            def key(trial: Trial) -> float:
                value = trial.last_result.get(metric)
                if isinstance(value, (int, float)) and math.isfinite(value):
                    return sign * value
                return math.inf

            return sorted(trials, key=key)
        return sorted(trials, key=lambda t: (_ORDER.get(t.status, 9), t.trial_id))


class JupyterNotebookReporter(CLIReporter):
    """Ray Tune's notebook reporter: the same table, shown in one output that each report
    updates in place; *overwrite* (True) clears the cell's output first, as Ray Tune's does.
    Outside a notebook (no IPython kernel) it prints like ``CLIReporter``."""

    def __init__(self, overwrite: bool = True, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.overwrite = bool(overwrite)
        self._handle: Any = None

    def report(self, text: str) -> None:
        try:
            from IPython import get_ipython
            from IPython.display import Pretty, clear_output, display
        except ImportError:  # no IPython, so no notebook to show it in
            super().report(text)
            return
        shell = get_ipython()
        if shell is None or not hasattr(shell, "kernel"):
            super().report(text)
        elif self._handle is None:
            if self.overwrite:
                clear_output(wait=True)
            self._handle = display(Pretty(text), display_id=True)
        else:
            self._handle.update(Pretty(text))


def _by_order(item: tuple[str, int]) -> int:
    return _ORDER.get(item[0], 9)


def _best(trials: Sequence[Trial], metric: str | None, mode: str | None) -> tuple | None:
    if not metric or not mode:
        return None
    sign = 1.0 if mode == "min" else -1.0
    best = None
    for trial in trials:
        value = trial.last_result.get(metric)
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            continue
        if best is None or sign * value < sign * best[0]:
            best = (float(value), trial)
    return best


def _grid(columns: list[str], cells: list[list[Any]], width: int) -> list[str]:
    texts = [[_cell(v, width) for v in row] for row in cells]
    widths = [max([len(c), *(len(row[i]) for row in texts)]) for i, c in enumerate(columns)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(values: list[str], numeric: list[bool]) -> str:
        parts = [
            (v.rjust(w) if right else v.ljust(w))
            for v, w, right in zip(values, widths, numeric, strict=True)
        ]
        return "| " + " | ".join(parts) + " |"

    numeric = [
        i >= 2 and all(isinstance(row[i], (int, float)) or row[i] is None for row in cells)
        for i in range(len(columns))
    ]
    out = [rule, line(columns, [False] * len(columns)), rule]
    out += [line(row, numeric) for row in texts]
    return [*out, rule]


class LiveTable:
    """The Tuner's progress display (``Tuner(progress=...)``): the reporter's status every
    ``max_report_frequency`` seconds of wall-clock time while the run goes, and at its end.

    *trials*: a function giving the current trials (from the running Trace and the trial
    directories); the rest goes to ``CLIReporter.table``. As in Ray Tune, with *verbose* >= 1
    the status is printed, its table of trials only where ``print_intermediate_tables`` says
    (None: at *verbose* 3), and at the end with *verbose* >= 2 as well.
    """

    def __init__(
        self,
        reporter: CLIReporter,
        trials: Callable[[], list[Trial]],
        *,
        metric: str | None,
        mode: str | None,
        varying: Sequence[str],
        header: str,
        verbose: int = 3,
    ) -> None:
        self.reporter, self.trials = reporter, trials
        self.options: dict[str, Any] = {
            "metric": metric,
            "mode": mode,
            "varying": varying,
            "header": header,
        }
        self.enabled = verbose >= 1
        tables = reporter.print_intermediate_tables
        self.intermediate_rows = verbose >= 3 if tables is None else bool(tables)
        self.final_rows = self.intermediate_rows or verbose >= 2
        self.started = self._last = time.monotonic()

    def update(self, fraction: float | None, text: str, *, now: bool = False) -> None:
        clock = time.monotonic()
        due = now or clock - self._last >= self.reporter.max_report_frequency
        if not self.enabled or not due:
            return
        self._last = clock
        trials = self.trials()
        if trials:
            elapsed = clock - self.started
            self.reporter.report(
                self.reporter.table(
                    trials, elapsed=elapsed, rows=self.intermediate_rows, **self.options
                )
            )

    def final(self, trials: list[Trial]) -> None:
        if self.enabled:
            elapsed = time.monotonic() - self.started
            self.reporter.report(
                self.reporter.table(
                    trials, elapsed=elapsed, final=True, rows=self.final_rows, **self.options
                )
            )

    def close(self) -> None:
        """Nothing to tidy: tables are whole lines."""
